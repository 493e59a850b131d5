// Mutual-information tables: the CSV `infoplane estimate` writes and
// `infoplane plot` reads, with the estimator's parameters in a JSON file
// beside it. The CSV is written first, then the JSON, which carries a
// fingerprint of the CSV's bytes (`csv_fnv1a64`): parameters are read only
// when the fingerprint matches, so a kill between the two writes (or a CSV
// replaced by hand) never pairs a table with another estimate's parameters.
//
//   epoch,layer,I_XT,I_TY,H_T                                 (bits)
//   epoch,layer,I_XT_lower,I_XT_upper,I_TY_lower,I_TY_upper   (KDE, both bounds)
//
// Lines starting with `#` are comments; extra columns are kept but not
// required, so tables from other tools with `epoch,layer,I_XT,I_TY` read too.

import ArrayIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An (epoch, layer) → values table of information estimates, in bits.
public struct InformationTable: Sendable, Equatable {
    /// One row: an epoch, a 1-based layer, and values in `columns` order.
    public struct Row: Sendable, Equatable {
        public var epoch: Int
        public var layer: Int
        public var values: [Double]
        public init(epoch: Int, layer: Int, values: [Double]) {
            self.epoch = epoch
            self.layer = layer
            self.values = values
        }
    }

    /// The value columns after `epoch,layer`.
    public var columns: [String]
    /// The rows, in file order.
    public var rows: [Row]
    /// The estimator and its parameters, written to the JSON file beside the CSV.
    public var parameters: [String: String]

    public init(columns: [String], rows: [Row], parameters: [String: String] = [:]) {
        precondition(rows.allSatisfy { $0.values.count == columns.count }, "InformationTable: row width differs from columns")
        self.columns = columns
        self.rows = rows
        self.parameters = parameters
    }

    /// The JSON file beside a CSV: `name.csv` → `name.json`.
    public static func parametersPath(for csvPath: String) -> String {
        (csvPath.hasSuffix(".csv") ? String(csvPath.dropLast(4)) : csvPath) + ".json"
    }

    /// The CSV text, numbers in shortest round-trip form.
    public var csvText: String {
        var lines = ["epoch,layer," + columns.joined(separator: ",")]
        for row in rows {
            lines.append("\(row.epoch),\(row.layer)," + row.values.map { "\($0)" }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The key of the CSV fingerprint in the parameters file.
    static let fingerprintKey = "csv_fnv1a64"

    /// FNV-1a (64-bit) of `bytes`, as 16 hex digits.
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Writes the CSV, then its parameters file with the CSV's fingerprint, each
    /// atomically.
    public func write(to path: String) throws {
        let csv = Array(csvText.utf8)
        try AtomicFile.write(csv, to: path)
        var sidecar = parameters
        sidecar[Self.fingerprintKey] = Self.fingerprint(csv)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Array(encoder.encode(sidecar)) + [10], to: Self.parametersPath(for: path))
    }

    /// Reads a table written by `write(to:)` or by another tool.
    ///
    /// - Throws: `FileError` naming `path` (and the line) for a missing file,
    ///   an empty table, a header without `epoch`, `layer` and either
    ///   `I_XT,I_TY` or the four KDE bound columns, or a malformed number.
    ///   NaN values are kept (plots skip and count them).
    public static func read(path: String) throws -> InformationTable {
        let bytes = try AtomicFile.read(path)
        // Bytes, not Characters: String splitting, trimming and Double(Substring)
        // cost more than the rest of `infoplane plot` for tables of thousands of rows.
        if bytes.contains(where: { $0 >= 0x80 }) && String(validating: bytes, as: UTF8.self) == nil {
            throw FileError(path: path, reason: "not valid UTF-8 text")
        }
        return try bytes.withUnsafeBufferPointer { buffer in
            var lines = CSVLines(buffer)
            guard let (headerLine, header) = lines.next() else {
                throw FileError(path: path, reason: "empty table (no header)")
            }
            let headerText = String(decoding: header, as: UTF8.self)
            let names = fields(of: header).map { String(decoding: $0, as: UTF8.self) }
            guard let epochColumn = names.firstIndex(of: "epoch"), let layerColumn = names.firstIndex(of: "layer") else {
                throw FileError(path: path, reason: "line \(headerLine): header \"\(headerText)\" lacks epoch and layer columns")
            }
            let valueNames = names.enumerated().filter { $0.offset != epochColumn && $0.offset != layerColumn }
            let known = Set(valueNames.map(\.element))
            guard known.isSuperset(of: ["I_XT", "I_TY"]) || known.isSuperset(of: ["I_XT_lower", "I_XT_upper", "I_TY_lower", "I_TY_upper"]) else {
                throw FileError(path: path, reason: "line \(headerLine): header \"\(headerText)\" has neither I_XT,I_TY nor the KDE bound columns")
            }
            var rows = [Row]()
            rows.reserveCapacity(buffer.count / 32)
            var row = [UnsafeBufferPointer<UInt8>]()
            row.reserveCapacity(names.count)
            while let (number, line) = lines.next() {
                row.removeAll(keepingCapacity: true)
                fields(of: line, into: &row)
                guard row.count == names.count else {
                    throw FileError(path: path, reason: "line \(number): \(row.count) columns, the header has \(names.count)")
                }
                guard let epoch = parseInt(row[epochColumn]), let layer = parseInt(row[layerColumn]) else {
                    throw FileError(path: path, reason: "line \(number): epoch and layer must be integers")
                }
                var values = [Double]()
                values.reserveCapacity(valueNames.count)
                for column in valueNames {
                    guard let v = parseDouble(row[column.offset]) else {
                        let field = String(decoding: row[column.offset], as: UTF8.self)
                        throw FileError(path: path, reason: "line \(number): \(column.element) \"\(field)\" is not a number")
                    }
                    values.append(v)
                }
                rows.append(Row(epoch: epoch, layer: layer, values: values))
            }
            guard !rows.isEmpty else { throw FileError(path: path, reason: "empty table (a header and no rows)") }
            return InformationTable(columns: valueNames.map(\.element), rows: rows,
                                    parameters: parameters(for: path, csv: bytes))
        }
    }

    /// The parameters in the JSON file beside `path` when its fingerprint matches the
    /// CSV's bytes; none otherwise (no file, another estimate's file, or unreadable).
    private static func parameters(for path: String, csv: [UInt8]) -> [String: String] {
        let sidecar = parametersPath(for: path)
        guard AtomicFile.exists(sidecar),
              var decoded = try? JSONDecoder().decode([String: String].self, from: Data(JSONLimits.read(sidecar))),
              decoded.removeValue(forKey: fingerprintKey) == fingerprint(csv) else { return [:] }
        return decoded
    }

    /// The values of one column for every row, or nil if there is no such column.
    public func column(_ name: String) -> [Double]? {
        columns.firstIndex(of: name).map { i in rows.map { $0.values[i] } }
    }
}

/// The non-empty, non-comment lines of a CSV buffer, trimmed, with their 1-based
/// line numbers (lines end at LF; a CR before it is trimmed like other blanks).
private struct CSVLines {
    let base: UnsafePointer<UInt8>?
    let count: Int
    var offset = 0
    var number = 0

    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        base = buffer.baseAddress
        count = buffer.count
    }

    mutating func next() -> (number: Int, text: UnsafeBufferPointer<UInt8>)? {
        guard let base else { return nil }
        while offset <= count {
            var end = offset
            while end < count && base[end] != 10 { end += 1 }
            number += 1
            let line = trimmed(UnsafeBufferPointer(start: base + offset, count: end - offset))
            offset = end + 1
            if !line.isEmpty && line[0] != UInt8(ascii: "#") { return (number, line) }
        }
        return nil
    }
}

/// The comma-separated fields of `line`, each trimmed.
private func fields(of line: UnsafeBufferPointer<UInt8>) -> [UnsafeBufferPointer<UInt8>] {
    var result = [UnsafeBufferPointer<UInt8>]()
    fields(of: line, into: &result)
    return result
}

private func fields(of line: UnsafeBufferPointer<UInt8>, into result: inout [UnsafeBufferPointer<UInt8>]) {
    guard let base = line.baseAddress else { result.append(line); return }
    var start = 0
    for i in 0...line.count where i == line.count || base[i] == UInt8(ascii: ",") {
        result.append(trimmed(UnsafeBufferPointer(start: base + start, count: i - start)))
        start = i + 1
    }
}

/// `text` without leading and trailing spaces, tabs and carriage returns.
private func trimmed(_ text: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    guard let base = text.baseAddress else { return text }
    var lo = 0, hi = text.count
    @inline(__always) func blank(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 13 }
    while lo < hi && blank(base[lo]) { lo += 1 }
    while hi > lo && blank(base[hi - 1]) { hi -= 1 }
    return UnsafeBufferPointer(start: base + lo, count: hi - lo)
}

/// `Int(field)`'s result for ASCII text: an optional sign, then decimal digits,
/// nil on anything else or overflow.
private func parseInt(_ field: UnsafeBufferPointer<UInt8>) -> Int? {
    var i = 0
    var negative = false
    if i < field.count && (field[i] == UInt8(ascii: "+") || field[i] == UInt8(ascii: "-")) {
        negative = field[i] == UInt8(ascii: "-")
        i += 1
    }
    guard i < field.count else { return nil }
    var value = 0
    while i < field.count {
        let d = Int(field[i]) &- 48
        guard d >= 0 && d <= 9 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (v, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
        if o1 || o2 { return nil }
        value = v
        i += 1
    }
    return value
}

/// `Double(field)`'s result. Swift parses with the C library's strtod (in the C
/// locale) over the whole field, which is what this does on a stack copy (InfoPlane
/// never calls setlocale, so strtod's locale is C too); the rare fields strtod
/// rejects or finds out of range go to `Double(String)` itself, so every verdict
/// is Swift's.
private func parseDouble(_ field: UnsafeBufferPointer<UInt8>) -> Double? {
    guard !field.isEmpty, field.count < 64 else { return Double(String(decoding: field, as: UTF8.self)) }
    let parsed: Double? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
        let text = buffer.baseAddress!
        for i in 0..<field.count { text[i] = CChar(bitPattern: field[i]) }
        text[field.count] = 0
        var end: UnsafeMutablePointer<CChar>?
        errno = 0
        let value = strtod(text, &end)
        return end == text + field.count && errno == 0 ? value : nil
    }
    return parsed ?? Double(String(decoding: field, as: UTF8.self))
}
