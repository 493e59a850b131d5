// The JSON limits: depth counted outside strings only, exactly at the
// limit accepted and one past it refused, and the size refused from the
// file's size.

import Testing
@testable import ArrayIO
#if canImport(Glibc)
import Glibc
#endif

@Suite struct JSONLimitsTests {
    func nested(_ levels: Int) -> [UInt8] {
        Array((String(repeating: "[", count: levels) + String(repeating: "]", count: levels)).utf8)
    }

    @Test func depthAtTheLimitPassesAndOneMoreIsRefused() throws {
        try JSONLimits.check(nested(JSONLimits.maximumDepth), path: "ok.json")
        let error = try #require(throws: FileError.self) { try JSONLimits.check(nested(JSONLimits.maximumDepth + 1), path: "deep.json") }
        #expect(error.description == "deep.json: JSON nested deeper than 64 levels")
        // Objects count as arrays do.
        let objects = String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(throws: FileError.self) { try JSONLimits.check(Array(objects.utf8), path: "o.json") }
    }

    @Test func bracketsInStringsDoNotCount() throws {
        // 100 brackets inside a string, escaped quotes and backslashes included.
        let text = "{\"name\": \"" + String(repeating: "[{", count: 50) + "\\\" \\\\\", \"b\": [1, [2]]}"
        try JSONLimits.check(Array(text.utf8), path: "s.json")
    }

    @Test func aFileLargerThanTheLimitIsRefusedFromItsSize() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/big.json"
        // A sparse file: its size says 65 MiB without the bytes being written.
        try AtomicFile.write([UInt8(ascii: "[")], to: path)
        #expect(truncate(path, off_t(JSONLimits.maximumBytes + 1)) == 0)
        let error = try #require(throws: FileError.self) { try JSONLimits.read(path) }
        #expect(error.description == "\(path): a JSON file of \(JSONLimits.maximumBytes + 1) bytes (the limit is \(JSONLimits.maximumBytes))")
        try AtomicFile.write(Array("[[1], {\"a\": []}]".utf8), to: path)
        #expect(try JSONLimits.read(path) == Array("[[1], {\"a\": []}]".utf8))
    }
}
