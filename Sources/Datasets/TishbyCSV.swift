// Reader for the original 12-bit data set of Shwartz-Ziv & Tishby as CSV.
//
// `x.csv`: one sample per line, 12 comma-separated 0/1 values, no header;
// `y.csv`: one 0/1 label per line (converted from IDNNs' `var_u.mat`). The
// reader is strict: any other value, a wrong column count or a row-count
// mismatch is an error naming the file and the line. It is not a general
// CSV parser (no quoting, no header detection).

import ArrayIO
import Tensors

/// Reading the 12-bit task's original inputs and labels from CSV files.
public enum TishbyCSV {
    /// Reads `x.csv` and `y.csv` and returns the samples with the given split.
    ///
    /// - Parameters:
    ///   - xPath: the inputs, N lines of `TishbyTask.inputCount` values 0/1.
    ///   - yPath: the labels, N lines of one value 0/1.
    ///   - split: how to split the N rows; `nil` uses `Split.leading(count: N)`.
    /// - Returns: a two-class `Dataset` named "tishby-original".
    /// - Throws: `FileError` naming the file (and line) if a file is missing or
    ///   unreadable, a line has the wrong number of values, a value is not 0
    ///   or 1, a file is empty, or the two files have different row counts.
    public static func read(x xPath: String, y yPath: String, split: Split? = nil) throws -> Dataset {
        let x = try readBinaryRows(path: xPath, columns: TishbyTask.inputCount)
        let y = try readBinaryRows(path: yPath, columns: 1)
        guard x.count == y.count else {
            throw FileError(path: yPath, reason: "has \(y.count) rows but \(xPath) has \(x.count); "
                + "line i of the two files must be the same sample")
        }
        let inputs = Tensor(shape: [x.count, TishbyTask.inputCount], scalars: x.flatMap { $0.map { Float($0) } })
        return Dataset(name: "tishby-original", inputs: inputs, labels: y.map { $0[0] }, classCount: 2,
                       split: split ?? Split.leading(count: x.count))
    }

    /// Reads `x.csv` and `y.csv` from `directory`.
    public static func read(directory: String, split: Split? = nil) throws -> Dataset {
        try read(x: directory + "/x.csv", y: directory + "/y.csv", split: split)
    }

    /// Parses a CSV of 0/1 integers with exactly `columns` values per line.
    ///
    /// Spaces and tabs around values and a final newline (also "\r\n") are
    /// allowed; blank lines are allowed only at the end of the file.
    /// - Throws: `FileError(path:reason:)` with the 1-based line number.
    static func readBinaryRows(path: String, columns: Int) throws -> [[Int]] {
        let bytes = try AtomicFile.read(path)
        var rows = [[Int]]()
        var lineNumber = 0
        var blankLine: Int? = nil
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.filter { $0 != UInt8(ascii: "\r") && $0 != 0x20 && $0 != 0x09 }
            if trimmed.isEmpty {
                if blankLine == nil { blankLine = lineNumber }
                continue
            }
            if let blank = blankLine {
                throw FileError(path: path, reason: "line \(blank): empty line before more data")
            }
            let fields = trimmed.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            guard fields.count == columns else {
                throw FileError(path: path, reason: "line \(lineNumber): expected \(columns) "
                    + "comma-separated value\(columns == 1 ? "" : "s"), found \(fields.count)")
            }
            var row = [Int]()
            row.reserveCapacity(columns)
            for (column, field) in fields.enumerated() {
                switch Array(field) {
                case [UInt8(ascii: "0")]: row.append(0)
                case [UInt8(ascii: "1")]: row.append(1)
                default:
                    let text = String(decoding: field.prefix(20), as: UTF8.self)
                    throw FileError(path: path, reason: "line \(lineNumber), column \(column + 1): "
                        + "'\(text)' is not 0 or 1")
                }
            }
            rows.append(row)
        }
        guard !rows.isEmpty else { throw FileError(path: path, reason: "the file has no data rows") }
        return rows
    }
}
