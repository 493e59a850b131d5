// Markdown output for experiment summaries: pipe tables and the summary
// file, written atomically.

import ArrayIO
import Foundation

/// A GitHub-flavoured Markdown pipe table.
public struct MarkdownTable: Sendable {
    public var header: [String]
    public var rows: [[String]]
    /// Per column: right-align (numbers) or not.
    public var rightAligned: [Bool]

    public init(header: [String], rightAligned: [Bool]? = nil) {
        self.header = header
        self.rows = []
        self.rightAligned = rightAligned ?? [Bool](repeating: false, count: header.count)
    }

    /// Appends a row; it must have one cell per column.
    public mutating func append(_ row: [String]) {
        precondition(row.count == header.count, "a row of \(row.count) cells in a table of \(header.count) columns")
        rows.append(row)
    }

    /// The table's text, ending in a newline.
    public var text: String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        var lines = [line(header)]
        lines.append("| " + rightAligned.map { $0 ? "---:" : "---" }.joined(separator: " | ") + " |")
        lines += rows.map(line)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A number with a fixed count of decimals ("-" for NaN).
public func fixed(_ x: Double, _ digits: Int) -> String {
    x.isNaN ? "-" : String(format: "%.\(digits)f", x)
}

/// Writes a Markdown summary atomically and returns the report for it.
public func writeSummary(_ markdown: String, title: String, context: ExperimentContext,
                         name: String, outputs: [String]) throws -> ExperimentReport {
    let path = try context.figurePath(name)
    try AtomicFile.write(markdown, to: path)
    return ExperimentReport(title: title, markdown: markdown, summaryPath: path, outputs: outputs)
}
