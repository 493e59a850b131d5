// The .npz reader and writer: round trips (stored, deflated, forced ZIP64),
// a hand-checked archive layout, CRC and truncation errors, and corruption
// at every byte never crashing.

import Testing
@testable import ArrayIO

@Suite struct NPZTests {
    static let arrays: [(String, NPYArray)] = [
        ("weights", NPYArray(floats: (0..<24).map { Float($0).squareRoot() }, shape: [2, 3, 4])),
        ("labels", NPYArray(int64s: [0, 1, 1, 0], shape: [4])),
        ("mask", NPYArray(bools: [true, false, true], shape: [3])),
        ("empty", NPYArray(floats: [], shape: [0, 5], as: .float16)),
        ("scalar", NPYArray(doubles: [2.5], shape: [])),
    ]

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func roundTrip(compressed: Bool, zip64: Bool) throws {
        let bytes = try NPZ.encode(Self.arrays, compressed: compressed, forceZip64: zip64)
        let back = try NPZ.decode(bytes, name: "a.npz")
        #expect(back.map(\.name) == Self.arrays.map(\.0))
        #expect(back.map(\.array) == Self.arrays.map(\.1))
    }

    @Test func writeAndReadAFile() throws {
        let dir = try makeTemporaryDirectory()
        try NPZ.write(Self.arrays, to: dir + "/run.npz", compressed: true)
        #expect(try NPZ.read(path: dir + "/run.npz", member: "labels").int64s() == [0, 1, 1, 0])
        let error = try #require(throws: FileError.self) { try NPZ.read(path: dir + "/run.npz", member: "nope") }
        #expect(error.description == dir + "/run.npz: no array named 'nope' in the archive")
        // Deterministic: writing again gives the same bytes.
        try NPZ.write(Self.arrays, to: dir + "/again.npz", compressed: true)
        #expect(try AtomicFile.read(dir + "/run.npz") == AtomicFile.read(dir + "/again.npz"))
    }

    @Test func storedLayoutByHand() throws {
        let array = NPYArray(uint8s: [7], shape: [1])
        let bytes = try NPZ.encode([("a", array)])
        let npy = NPY.encode(array)
        // Local header (30) + "a.npy" (5) + data, central header (46) + name, end record (22).
        #expect(bytes.count == 30 + 5 + npy.count + 46 + 5 + 22)
        #expect(Array(bytes[0..<4]) == [0x50, 0x4B, 0x03, 0x04])
        #expect(Array(bytes[30..<35]) == ascii("a.npy"))
        #expect(Array(bytes[35..<(35 + npy.count)]) == npy)
        let crc = Zlib.crc32(npy)
        #expect(Array(bytes[14..<18]) == (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) })
        #expect(Array(bytes.suffix(22).prefix(4)) == [0x50, 0x4B, 0x05, 0x06])
    }

    @Test func crc32KnownValue() {
        // The standard check value of CRC-32 (ISO 3309).
        #expect(Zlib.crc32(ascii("123456789")) == 0xCBF4_3926)
    }

    @Test func inflatingAPrefixStopsThere() throws {
        let data = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 / 3) }
        let stream = try Zlib.deflate(data, format: .raw)
        for count in [0, 1, 10, 4096, 299_999] {
            #expect(try Zlib.inflatePrefix(stream, format: .raw, count: count) == Array(data[0..<count]))
        }
        #expect(try Zlib.inflatePrefix(stream, format: .raw, count: 400_000) == data)
    }

    @Test func headersAndArraysAboveTheLimitsAreRefused() throws {
        let text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }" + String(repeating: " ", count: 1_100_000) + "\n"
        let n = text.utf8.count
        let long = NPY.magic + [2, 0] + (0..<4).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } + Array(text.utf8) + [UInt8](repeating: 0, count: 16)
        let error = try #require(throws: FileError.self) { try NPY.decode(long, name: "h.npy") }
        #expect(error.reason == "a header of \(n) bytes (the limit is 1048576)")
        // 2^31 float64 = 16 GiB: refused from the header alone.
        let huge = NPY.header(dtype: .float64, shape: [1 << 16, 1 << 15])
        let big = try #require(throws: FileError.self) { try NPY.decode(huge, name: "b.npy") }
        #expect(big.reason.contains("above the limit of 8589934592 (8 GiB)"), "\(big.reason)")
    }

    @Test func corruptDataFailsTheCRC() throws {
        var bytes = try NPZ.encode([("x", NPYArray(floats: [1, 2, 3], shape: [3]))])
        bytes[30 + 5 + 128 + 2] ^= 0x01  // inside the float data of the stored member
        let error = try #require(throws: FileError.self) { try NPZ.decode(bytes, name: "/d/c.npz") }
        #expect(error.description.hasPrefix("/d/c.npz: CRC-32 mismatch in member 'x.npy'"))
    }

    @Test func badMemberIsNamed() throws {
        var bytes = try NPZ.encode([("x", NPYArray(floats: [1], shape: [1]))])
        // Make the member's descr big-endian and fix up the CRCs so only the .npy check can object.
        let start = 35
        let npyLength = 128 + 4
        var npy = Array(bytes[start..<(start + npyLength)])
        let descr = npy.firstIndex(of: UInt8(ascii: "<"))!
        npy[descr] = UInt8(ascii: ">")
        bytes.replaceSubrange(start..<(start + npyLength), with: npy)
        let crc = Zlib.crc32(npy)
        let crcBytes = (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
        bytes.replaceSubrange(14..<18, with: crcBytes)
        let central = start + npyLength
        bytes.replaceSubrange((central + 16)..<(central + 20), with: crcBytes)
        let error = try #require(throws: FileError.self) { try NPZ.decode(bytes, name: "m.npz") }
        #expect(error.description == "m.npz: member 'x.npy': big-endian dtype '>f4' is not supported")
    }

    /// An archive of one deflated member `name` holding `content`, whose ZIP
    /// entries declare `declaredSize` bytes.
    static func deflatedArchive(name: String, content: [UInt8], declaredSize: Int) throws -> [UInt8] {
        let data = try Zlib.deflate(content, format: .raw)
        let crc = Zlib.crc32(content)
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let nameBytes = Array(name.utf8)
        let sizes = le32(Int(crc)) + le32(data.count) + le32(declaredSize) + le16(nameBytes.count) + le16(0)
        let local: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + le16(20) + le16(0) + le16(8) + le16(0) + le16(0) + sizes + nameBytes
        let central: [UInt8] = [0x50, 0x4B, 0x01, 0x02] + le16(20) + le16(20) + le16(0) + le16(8) + le16(0) + le16(0) + sizes
            + le16(0) + le16(0) + le16(0) + le32(0) + le32(0) + nameBytes
        let end: [UInt8] = [0x50, 0x4B, 0x05, 0x06] + le16(0) + le16(0) + le16(1) + le16(1)
            + le32(central.count) + le32(local.count + data.count) + le16(0)
        return local + data + central + end
    }

    /// A member that inflates to less than its entry declares, ending inside
    /// the .npy header length: an error, not a read past the inflated bytes
    /// (found by the fuzz target fuzz-npz).
    @Test(arguments: [8, 9, 11])
    func memberEndingInsideTheHeaderLength(length: Int) throws {
        let npy = NPY.encode(NPYArray(floats: [1, 2, 3], shape: [3]))
        let archive = try Self.deflatedArchive(name: "a.npy", content: Array(npy.prefix(length)), declaredSize: npy.count)
        let error = try #require(throws: FileError.self) { try NPZ.decode(archive, name: "short.npz") }
        #expect(error.description.hasPrefix("short.npz: member 'a.npy': truncated"), "\(error)")
        // The same member whole is read.
        let whole = try Self.deflatedArchive(name: "a.npy", content: npy, declaredSize: npy.count)
        #expect(try NPZ.decode(whole, name: "whole.npz").first?.array.floats() == [1, 2, 3])
    }

    @Test func notAnArchive() throws {
        for (bytes, reason) in [([UInt8](), "not a .npz (ZIP) archive"),
                                (NPY.encode(NPYArray(floats: [1], shape: [1])), "bad magic: not a .npz (ZIP) archive")] {
            let error = try #require(throws: FileError.self) { try NPZ.decode(bytes, name: "n.npz") }
            #expect(error.reason.hasPrefix(reason))
        }
    }

    @Test func truncationAndCorruptionNeverCrash() throws {
        for (compressed, zip64) in [(false, false), (true, true)] {
            let valid = try NPZ.encode(Array(Self.arrays.prefix(3)), compressed: compressed, forceZip64: zip64)
            for length in 0..<valid.count {
                #expect(throws: FileError.self) { try NPZ.decode(Array(valid.prefix(length)), name: "t.npz") }
            }
            for offset in 0..<valid.count {
                var corrupt = valid
                corrupt[offset] ^= 0xFF
                do {
                    let entries = try NPZ.decode(corrupt, name: "c.npz")
                    // Only bytes no check covers (times, attributes, "version made by") may change silently.
                    #expect(entries.map(\.array) == Self.arrays.prefix(3).map(\.1), "offset \(offset)")
                } catch let error as FileError {
                    #expect(error.path == "c.npz")
                }
            }
        }
    }
}
