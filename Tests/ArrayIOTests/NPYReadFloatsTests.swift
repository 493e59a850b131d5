// NPY.readFloats, the one-copy reader of float32 files: the same values,
// shape, dtype and errors as NPY.read(path:).floats(), for every dtype and
// layout, long headers, and every malformed file of NPYTests.

import Testing
@testable import ArrayIO

@Suite struct NPYReadFloatsTests {
    /// Writes `bytes` to a fresh file and returns its path.
    func file(_ bytes: [UInt8], _ name: String = "a.npy") throws -> String {
        let path = try makeTemporaryDirectory() + "/" + name
        try AtomicFile.write(bytes, to: path)
        return path
    }

    @Test(arguments: sampleShapes)
    func sameAsReadThenFloatsForEveryDType(shape: [Int]) throws {
        for array in sampleArrays(shape: shape) {
            let path = try file(NPY.encode(array))
            let fast = try NPY.readFloats(path: path)
            let slow = try NPY.read(path: path)
            #expect(fast.shape == slow.shape)
            #expect(fast.dtype == array.dtype)
            // Bit patterns, so NaN and -0 would count too.
            #expect(fast.values.map(\.bitPattern) == slow.floats().map(\.bitPattern), "\(array.dtype) \(shape)")
        }
    }

    @Test func float32ValuesByHand() throws {
        let values: [Float] = [1.5, -0.0, .infinity, -3.25e-38, .greatestFiniteMagnitude, 7]
        let path = try file(NPY.encode(floats: values, shape: [2, 3]))
        let read = try NPY.readFloats(path: path)
        #expect(read.shape == [2, 3])
        #expect(read.dtype == .float32)
        #expect(read.values.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func fortranOrderFloat32IsTransposed() throws {
        // A 2 x 3 array stored column by column: C order is 1 2 3 / 4 5 6.
        let bytes = handBuiltNPY(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n",
                                 data: float32Bytes([1, 4, 2, 5, 3, 6]))
        let read = try NPY.readFloats(path: try file(bytes))
        #expect(read.values == [1, 2, 3, 4, 5, 6])
    }

    @Test(arguments: [100, 4090, 4096, 5000, 70000])
    func headersOfAnyLength(paddedLength: Int) throws {
        // The reader looks at the first 4096 bytes first; longer headers need a
        // second read. Version 2.0 allows headers past 65535 bytes.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
        let header = dict + String(repeating: " ", count: paddedLength - dict.utf8.count - 1) + "\n"
        let version: (UInt8, UInt8) = paddedLength > 65535 ? (2, 0) : (1, 0)
        let bytes = handBuiltNPY(version: version, header: header, data: float32Bytes([0.5, -2, 9]))
        let read = try NPY.readFloats(path: try file(bytes))
        #expect(read.values == [0.5, -2, 9])
        #expect(read.shape == [3])
    }

    @Test(arguments: NPYTests.malformed)
    func malformedFilesGiveTheSameErrors(label: String, bytes: [UInt8], reason: String) throws {
        let path = try file(bytes, "bad.npy")
        let error = try #require(throws: FileError.self, "\(label)") { try NPY.readFloats(path: path) }
        let expected = try #require(throws: FileError.self) { try NPY.read(path: path) }
        #expect(error.path == path)
        #expect(error.reason == expected.reason, "\(label)")
        #expect(error.reason.hasPrefix(reason), "\(label): \(error.reason)")
    }

    @Test func everyTruncationIsAnError() throws {
        let valid = NPY.encode(floats: (0..<24).map(Float.init), shape: [2, 3, 4])
        let dir = try makeTemporaryDirectory()
        for length in 0..<valid.count {
            let path = dir + "/t\(length).npy"
            try AtomicFile.write(Array(valid.prefix(length)), to: path)
            let error = try #require(throws: FileError.self) { try NPY.readFloats(path: path) }
            #expect(error.path == path)
        }
    }

    @Test func missingFileAndDirectoryAreNamed() throws {
        let dir = try makeTemporaryDirectory()
        let missing = try #require(throws: FileError.self) { try NPY.readFloats(path: dir + "/nope.npy") }
        #expect(missing.path == dir + "/nope.npy")
        #expect(missing.reason.hasPrefix("cannot open file"))
        let directory = try #require(throws: FileError.self) { try NPY.readFloats(path: dir) }
        #expect(directory.reason == "is a directory, not a file")
    }
}
