// The CSV reader for the original 12-bit data: a valid pair of files and
// every error case naming the file and line.

import Testing
import Foundation
import ArrayIO
@testable import Datasets

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "datasets-\(UUID().uuidString)"
    try AtomicFile.createDirectory(path)
    return path
}

func binaryRow(_ i: Int) -> String {
    (0..<12).map { String((i >> (11 - $0)) & 1) }.joined(separator: ",")
}

@Suite struct TishbyCSVTests {
    @Test func readsAValidPair() throws {
        let dir = try temporaryDirectory()
        try AtomicFile.write((0..<10).map(binaryRow).joined(separator: "\n") + "\n", to: dir + "/x.csv")
        try AtomicFile.write((0..<10).map { String($0 % 2) }.joined(separator: "\r\n") + "\r\n", to: dir + "/y.csv")
        let d = try TishbyCSV.read(directory: dir)
        #expect(d.inputs.shape == [10, 12])
        #expect(Array(d.inputs.scalars[(3 * 12)...(3 * 12 + 11)]) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
        #expect(d.labels == [0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
        #expect(d.split == Split.leading(count: 10))
    }

    /// (x.csv text, y.csv text, file at fault, expected reason)
    static let cases: [(String, String, String, String)] = [
        ("0,1,0,1,0,1,0,1,0,1,0\n", "1\n", "x.csv", "line 1: expected 12 comma-separated values, found 11"),
        (binaryRow(1) + "\n" + binaryRow(2) + ",1\n", "1\n0\n", "x.csv", "line 2: expected 12 comma-separated values, found 13"),
        (binaryRow(1) + "\n0,0,2,0,0,0,0,0,0,0,0,0\n", "1\n0\n", "x.csv", "line 2, column 3: '2' is not 0 or 1"),
        (binaryRow(1) + "\n", "0.5\n", "y.csv", "line 1, column 1: '0.5' is not 0 or 1"),
        (binaryRow(1) + "\n", "1,0\n", "y.csv", "line 1: expected 1 comma-separated value, found 2"),
        (binaryRow(1) + "\n" + binaryRow(2) + "\n", "1\n", "y.csv", "has 1 rows but"),
        (binaryRow(1) + "\n\n" + binaryRow(2) + "\n", "1\n0\n", "x.csv", "line 2: empty line before more data"),
        ("", "1\n", "x.csv", "the file has no data rows"),
        (binaryRow(1) + "\n", "yes\n", "y.csv", "line 1, column 1: 'yes' is not 0 or 1"),
    ]

    @Test(arguments: cases)
    func errorsNameFileAndLine(x: String, y: String, file: String, reason: String) throws {
        let dir = try temporaryDirectory()
        try AtomicFile.write(x, to: dir + "/x.csv")
        try AtomicFile.write(y, to: dir + "/y.csv")
        let error = try #require(throws: FileError.self) { try TishbyCSV.read(directory: dir) }
        #expect(error.path == dir + "/" + file)
        #expect(error.reason.hasPrefix(reason), "\(error)")
    }

    @Test func missingFile() throws {
        let dir = try temporaryDirectory()
        try AtomicFile.write(binaryRow(0) + "\n", to: dir + "/x.csv")
        let error = try #require(throws: FileError.self) { try TishbyCSV.read(directory: dir) }
        #expect(error.path == dir + "/y.csv")
        #expect(error.description.contains("cannot open file"))
    }
}
