// AtomicFile: replacement without leftovers, errors naming the path, and
// the directory helper used for the post-rename fsync.

import Testing
@testable import ArrayIO

@Suite struct AtomicFileTests {
    @Test func replacesContentAndLeavesNoTemporaryFiles() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/f.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        try AtomicFile.write("hello", to: path)
        #expect(try AtomicFile.readText(path) == "hello")
        try AtomicFile.write([UInt8](), to: path)
        #expect(try AtomicFile.read(path) == [])
        #expect(try AtomicFile.listDirectory(dir) == ["f.bin"])
    }

    @Test func errorsNameThePath() throws {
        let dir = try makeTemporaryDirectory()
        let missing = dir + "/no/such/dir/f.bin"
        let error = try #require(throws: FileError.self) { try AtomicFile.write([1], to: missing) }
        #expect(error.path == missing && error.reason.hasPrefix("cannot create file"))
        let directoryRead = try #require(throws: FileError.self) { try AtomicFile.read(dir) }
        #expect(directoryRead.description == dir + ": is a directory, not a file")
        try AtomicFile.write([0xFF, 0xFE], to: dir + "/bad.txt")
        #expect(throws: FileError(path: dir + "/bad.txt", reason: "not valid UTF-8 text")) {
            try AtomicFile.readText(dir + "/bad.txt")
        }
    }

    @Test(arguments: [("a/b/c.npy", "a/b"), ("c.npy", "."), ("/c.npy", "/"), ("/x/y", "/x")])
    func fileDirectory(path: String, directory: String) {
        #expect(AtomicFile.fileDirectory(path) == directory)
    }
}
