// Mutual-information tables: the CSV `infoplane estimate` writes and
// `infoplane plot` reads, with the estimator's parameters in a JSON file
// beside it.
//
//   epoch,layer,I_XT,I_TY,H_T                                 (bits)
//   epoch,layer,I_XT_lower,I_XT_upper,I_TY_lower,I_TY_upper   (KDE, both bounds)
//
// Lines starting with `#` are comments; extra columns are kept but not
// required, so tables from other tools with `epoch,layer,I_XT,I_TY` read too.

import ArrayIO
import Foundation

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

    /// Writes the CSV and its parameters file, each atomically.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Array(encoder.encode(parameters)) + [10], to: Self.parametersPath(for: path))
        try AtomicFile.write(csvText, to: path)
    }

    /// Reads a table written by `write(to:)` or by another tool.
    ///
    /// - Throws: `FileError` naming `path` (and the line) for a missing file,
    ///   an empty table, a header without `epoch`, `layer` and either
    ///   `I_XT,I_TY` or the four KDE bound columns, or a malformed number.
    ///   NaN values are kept (plots skip and count them).
    public static func read(path: String) throws -> InformationTable {
        let text = try AtomicFile.readText(path)
        // Plain byte-level splitting: Foundation's trimming and substring
        // routines cost more than the rest of a plot for tables of thousands of rows.
        var lines = [(number: Int, text: Substring)]()
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = trimmed(raw)
            if !line.isEmpty && !line.hasPrefix("#") { lines.append((offset + 1, line)) }
        }
        guard !lines.isEmpty else { throw FileError(path: path, reason: "empty table (no header)") }
        let (headerLine, header) = lines.removeFirst()
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map { String(trimmed($0)) }
        guard let epochColumn = names.firstIndex(of: "epoch"), let layerColumn = names.firstIndex(of: "layer") else {
            throw FileError(path: path, reason: "line \(headerLine): header \"\(header)\" lacks epoch and layer columns")
        }
        let valueNames = names.enumerated().filter { $0.offset != epochColumn && $0.offset != layerColumn }
        let known = Set(valueNames.map(\.element))
        guard known.isSuperset(of: ["I_XT", "I_TY"]) || known.isSuperset(of: ["I_XT_lower", "I_XT_upper", "I_TY_lower", "I_TY_upper"]) else {
            throw FileError(path: path, reason: "line \(headerLine): header \"\(header)\" has neither I_XT,I_TY nor the KDE bound columns")
        }
        guard !lines.isEmpty else { throw FileError(path: path, reason: "empty table (a header and no rows)") }
        var rows = [Row]()
        rows.reserveCapacity(lines.count)
        for (number, line) in lines {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(trimmed)
            guard fields.count == names.count else {
                throw FileError(path: path, reason: "line \(number): \(fields.count) columns, the header has \(names.count)")
            }
            guard let epoch = Int(fields[epochColumn]), let layer = Int(fields[layerColumn]) else {
                throw FileError(path: path, reason: "line \(number): epoch and layer must be integers")
            }
            let values = try valueNames.map { column -> Double in
                let field = fields[column.offset]
                guard let v = Double(field) ?? (field.lowercased() == "nan" ? Double.nan : nil) else {
                    throw FileError(path: path, reason: "line \(number): \(column.element) \"\(field)\" is not a number")
                }
                return v
            }
            rows.append(Row(epoch: epoch, layer: layer, values: values))
        }
        var parameters = [String: String]()
        let sidecar = parametersPath(for: path)
        if AtomicFile.exists(sidecar),
           let decoded = try? JSONDecoder().decode([String: String].self, from: Data(AtomicFile.read(sidecar))) {
            parameters = decoded
        }
        return InformationTable(columns: valueNames.map(\.element), rows: rows, parameters: parameters)
    }

    /// The values of one column for every row, or nil if there is no such column.
    public func column(_ name: String) -> [Double]? {
        columns.firstIndex(of: name).map { i in rows.map { $0.values[i] } }
    }
}

/// `text` without leading and trailing spaces, tabs and carriage returns.
private func trimmed(_ text: Substring) -> Substring {
    var t = text
    while let c = t.first, c == " " || c == "\t" || c == "\r" { t = t.dropFirst() }
    while let c = t.last, c == " " || c == "\t" || c == "\r" { t = t.dropLast() }
    return t
}
