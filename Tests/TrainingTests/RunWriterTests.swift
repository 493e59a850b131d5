// The run directory's writer thread: jobs run in submission order (also
// when `submit` waits for room), and the first failure stops it and is reported.

import Foundation
import Testing
@testable import Training

/// A log the writer's jobs append to (they run on the writer's thread).
private final class Log: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [Int] = []
    func append(_ value: Int) { lock.lock(); entries.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return entries }
}

private struct DiskFull: Error, Equatable {}

@Test func jobsRunInTheOrderTheyWereSubmitted() throws {
    let writer = RunWriter(capacity: 10)
    let log = Log()
    for i in 0..<500 {
        // Jobs of 3 "bytes" against a capacity of 10: submit waits for room
        // most of the time, and a job larger than the capacity still runs.
        try writer.submit(bytes: i == 250 ? 50 : 3) {
            if i % 7 == 0 { usleep(50) }
            log.append(i)
        }
    }
    try writer.drain()
    #expect(log.values == Array(0..<500))
}

@Test func theFirstFailureStopsTheWriterAndIsReported() throws {
    let writer = RunWriter()
    let log = Log()
    try writer.submit(bytes: 1) { log.append(1) }
    try writer.submit(bytes: 1) { throw DiskFull() }
    // Queued behind the failure: never runs.
    try? writer.submit(bytes: 1) { log.append(3) }
    #expect(throws: DiskFull.self) { try writer.drain() }
    #expect(throws: DiskFull.self) { try writer.submit(bytes: 1) { log.append(4) } }
    #expect(log.values == [1])
}

@Test func csvTextHasTheBytesOfTheWholeTable() {
    var text = CSVText(header: "epoch,loss")
    text.append(["0,1.5", "1,0.25"])
    text.append(["2,0.125"])
    #expect(text.rowCount == 3)
    #expect(String(decoding: text.bytes, as: UTF8.self) == "epoch,loss\n0,1.5\n1,0.25\n2,0.125\n")
}
