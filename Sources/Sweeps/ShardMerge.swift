// Merging the tables that estimate shards wrote into the table one process
// writes over all epochs: the same rows in the same order, the same
// parameters, so the same bytes.

import ActivationStore
import ArrayIO

/// A shard table that does not fit with the others.
public struct MergeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The table of all shards: their rows one after the other, in the order given.
///
/// - Parameters:
///   - shards: each shard's path and table, in epoch order.
///   - epochs: the recorded epochs each shard was to cover, in the same order.
/// - Throws: `MergeError` naming the shard whose columns or parameters differ
///   from the first's, or whose rows are not the epochs it was to cover.
public func mergeShardTables(_ shards: [(path: String, table: InformationTable)], epochs: [[Int]]) throws -> InformationTable {
    guard let first = shards.first else { throw MergeError("no shard tables to merge") }
    precondition(shards.count == epochs.count, "mergeShardTables: \(shards.count) shards, \(epochs.count) epoch lists")
    if first.table.parameters.isEmpty {
        throw MergeError("\(first.path): its parameters file is missing or does not match it")
    }
    var rows = [InformationTable.Row]()
    for (shard, wanted) in zip(shards, epochs) {
        if shard.table.columns != first.table.columns {
            throw MergeError("\(shard.path): columns \(shard.table.columns.joined(separator: ",")) differ from \(first.path)'s "
                             + first.table.columns.joined(separator: ","))
        }
        if shard.table.parameters != first.table.parameters {
            let keys = Set(shard.table.parameters.keys).union(first.table.parameters.keys)
                .filter { shard.table.parameters[$0] != first.table.parameters[$0] }.sorted()
            throw MergeError("\(shard.path): parameters differ from \(first.path)'s (\(keys.joined(separator: ", ")))")
        }
        var seen = [Int]()
        for row in shard.table.rows where seen.last != row.epoch { seen.append(row.epoch) }
        if seen != wanted {
            throw MergeError("\(shard.path): holds epochs \(seen.first.map(String.init) ?? "none")…\(seen.last.map(String.init) ?? "none") "
                             + "(\(seen.count)), expected \(wanted.first!)…\(wanted.last!) (\(wanted.count))")
        }
        rows += shard.table.rows
    }
    return InformationTable(columns: first.table.columns, rows: rows, parameters: first.table.parameters)
}

/// Whether `path` holds a complete table: the CSV and its parameters file, whose
/// fingerprint matches the CSV (both are written atomically, CSV first).
public func isCompleteTable(_ path: String) -> Bool {
    guard AtomicFile.exists(path), AtomicFile.exists(InformationTable.parametersPath(for: path)),
          let table = try? InformationTable.read(path: path) else { return false }
    return !table.parameters.isEmpty
}
