// The run directory's writer: one thread of its own that performs a run's
// file writes in the order they were submitted, so that training does not
// wait for encoding, file creation or the disk.
//
// Order is the whole of the crash-safety argument: the writer executes the
// commit protocol of `InstrumentedRun` step by step, exactly as the training
// thread used to, so whatever moment a kill falls on, the files on disk are a
// prefix of that sequence. Work still queued when the process dies is lost
// like any uncommitted work, and a resume redoes it byte for byte. The
// training thread hands over values (tensors and rows are copy-on-write
// values), never storage it goes on mutating.

import Dispatch
import Foundation

/// A serial background writer with a bound on the bytes it holds queued.
///
/// `submit` returns as soon as the job is queued (or waits while more than
/// `capacity` bytes are queued); the first job that throws stops the writer:
/// later jobs are dropped and the error is rethrown by the next `submit` or
/// by `drain`.
final class RunWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "infoplane.run-writer")
    private let condition = NSCondition()
    /// Bytes held by jobs submitted and not yet finished (guarded by `condition`).
    private var queuedBytes = 0
    /// The first error a job threw (guarded by `condition`).
    private var failure: (any Error)?
    /// The most bytes held queued before `submit` waits; a single larger job
    /// is still accepted once the queue is empty.
    let capacity: Int

    init(capacity: Int = 64 << 20) {
        self.capacity = capacity
    }

    /// Queues `job`, which holds about `bytes` bytes of data until it runs.
    ///
    /// - Throws: the error of an earlier job, if one failed (nothing is queued).
    func submit(bytes: Int, _ job: @escaping @Sendable () throws -> Void) throws {
        condition.lock()
        while failure == nil && queuedBytes > 0 && queuedBytes + bytes > capacity {
            condition.wait()
        }
        if let failure {
            condition.unlock()
            throw failure
        }
        queuedBytes += bytes
        condition.unlock()
        queue.async { [self] in
            condition.lock()
            let failed = failure != nil
            condition.unlock()
            var error: (any Error)?
            if !failed {
                do { try job() } catch let e { error = e }
            }
            condition.lock()
            queuedBytes -= bytes
            if let error, failure == nil { failure = error }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits until every queued job has run.
    ///
    /// - Throws: the first error a job threw.
    func drain() throws {
        queue.sync {}
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
    }
}

/// The rows of a CSV table as the file holds them: the header line and one
/// line per row, each ending in a newline (the bytes of `RunCSV.text`), kept
/// so that a commit appends the new rows instead of formatting every row again.
struct CSVText {
    private(set) var bytes: [UInt8]
    private(set) var rowCount = 0

    init(header: String) {
        bytes = Array(header.utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    mutating func append<S: Sequence<String>>(_ rows: S) {
        for row in rows {
            bytes.append(contentsOf: row.utf8)
            bytes.append(UInt8(ascii: "\n"))
            rowCount += 1
        }
    }
}
