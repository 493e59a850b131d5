// The .npy reader and writer: round trips, exact header bytes, hand-built
// headers (versions, Fortran order, header syntax), and every malformed case
// giving an error that names the file.

import Testing
@testable import ArrayIO

/// One sample array per supported dtype, values chosen to exercise signs and extremes.
func sampleArrays(shape: [Int]) -> [NPYArray] {
    let n = shape.reduce(1, *)
    let floats = (0..<n).map { Float($0) * 0.75 - 3.25 }
    return [
        NPYArray(floats: floats, shape: shape, as: .float32),
        NPYArray(floats: floats, shape: shape, as: .float16),
        NPYArray(doubles: (0..<n).map { Double($0) / 3 - 1e300 * Double($0 % 2) }, shape: shape),
        NPYArray(int64s: (0..<n).map { Int64($0) * 1_000_000_007 - (Int64(1) << 62) }, shape: shape),
        NPYArray(int32s: (0..<n).map { Int32($0) * 65537 - Int32.max }, shape: shape),
        NPYArray(uint8s: (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37) }, shape: shape),
        NPYArray(int8s: (0..<n).map { Int8(truncatingIfNeeded: $0 * 37) }, shape: shape),
        NPYArray(bools: (0..<n).map { $0 % 3 == 0 }, shape: shape),
    ]
}

let sampleShapes: [[Int]] = [[], [5], [3, 4], [2, 3, 4], [2, 1, 3, 2], [0], [3, 0, 2]]

@Suite struct NPYTests {
    @Test(arguments: sampleShapes)
    func roundTripEveryDType(shape: [Int]) throws {
        for array in sampleArrays(shape: shape) {
            let bytes = NPY.encode(array)
            let back = try NPY.decode(bytes, name: "mem.npy")
            #expect(back == array, "\(array.dtype) \(shape)")
            // Data starts at a multiple of 64, as numpy.save does.
            #expect((bytes.count - array.bytes.count) % 64 == 0)
        }
    }

    @Test func roundTripThroughAFile() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/a.npy"
        let values: [Float] = [1, -2.5, .infinity, 0x1p-149, -0.0, 3.14159]
        try NPY.write(floats: values, shape: [2, 3], to: path)
        let array = try NPY.read(path: path)
        #expect(array.dtype == .float32 && array.shape == [2, 3])
        #expect(array.floats().map(\.bitPattern) == values.map(\.bitPattern))
        #expect(try AtomicFile.listDirectory(dir) == ["a.npy"])  // no temporary file left behind
    }

    @Test func exactHeaderBytes() {
        // What numpy 2.x writes for np.save(f, np.zeros((3, 4), np.float32)):
        // the dict, 20 spaces of growth room for the first axis, padding to 64, '\n'.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"
        let header = NPY.header(dtype: .float32, shape: [3, 4])
        #expect(header.count == 128)
        #expect(Array(header[0..<10]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 118, 0])
        #expect(Array(header[10..<(10 + dict.utf8.count)]) == ascii(dict))
        #expect(header[10 + dict.utf8.count..<127].allSatisfy { $0 == 0x20 })
        #expect(header.last == 0x0A)
        // Scalars have no growth room; 1-d shapes are written "(5,)".
        let scalar = NPY.header(dtype: .float64, shape: [])
        #expect(String(decoding: scalar[10...], as: UTF8.self).hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (), }   "))
        #expect(scalar.count == 128)  // 10 + 56 + 1 bytes round up to 128, as numpy gives
        let vector = String(decoding: NPY.header(dtype: .bool, shape: [5])[10...], as: UTF8.self)
        #expect(vector.hasPrefix("{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }"))
    }

    @Test func versionsTwoAndThree() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n"
        let data = float32Bytes([1.5, -2])
        for version: (UInt8, UInt8) in [(1, 0), (2, 0), (3, 0)] {
            let array = try NPY.decode(handBuiltNPY(version: version, header: header, data: data), name: "v.npy")
            #expect(array.floats() == [1.5, -2])
        }
        // A UTF-8 string in a version 3.0 header is decoded as UTF-8 (and here rejected as a dtype).
        let utf8 = handBuiltNPY(version: (3, 0), header: "{'descr': 'é', 'fortran_order': False, 'shape': (), }", data: [])
        #expect(throws: FileError(path: "u.npy", reason: "unsupported dtype 'é' (supported: <f2, <f4, <f8, |u1, |i1, <i4, <i8, |b1)")) {
            try NPY.decode(utf8, name: "u.npy")
        }
    }

    @Test func fortranOrderIsTransposedToC() throws {
        // The 2x3 matrix [[0,1,2],[3,4,5]] in column-major order is 0,3,1,4,2,5.
        let fortran = handBuiltNPY(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n",
                                   data: float32Bytes([0, 3, 1, 4, 2, 5]))
        let matrix = try NPY.decode(fortran, name: "f.npy")
        #expect(matrix.shape == [2, 3] && matrix.floats() == [0, 1, 2, 3, 4, 5])
        // 3-d: element (i, j, k) of a 2x3x4 array holds 100i + 10j + k.
        var column = [UInt8]()
        for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { column.append(UInt8(100 * i + 10 * j + k)) } } }
        let cube = try NPY.decode(handBuiltNPY(header: "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3, 4)}",
                                               data: column), name: "c.npy")
        var expected = [UInt8]()
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { expected.append(UInt8(100 * i + 10 * j + k)) } } }
        #expect(cube.bytes == expected)
    }

    @Test(arguments: [
        // Key order, quotes, spacing, Python-2 longs, trailing commas, no padding newline.
        "{'shape': (2, 2), 'fortran_order': False, 'descr': '<i8'}",
        "{\"descr\": \"<i8\", \"fortran_order\": False, \"shape\": (2,2)}\n",
        "{ 'descr' : '<i8' , 'fortran_order' : False , 'shape' : ( 2 , 2 , ) , }     \n",
        "{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 2L), }",
    ])
    func headerSyntaxVariants(header: String) throws {
        let data = (0..<4).flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: (v + 1) >> (8 * $0)) } }
        let array = try NPY.decode(handBuiltNPY(header: header, data: data), name: "h.npy")
        #expect(array.dtype == .int64 && array.shape == [2, 2])
        #expect(try array.int64s() == [1, 2, 3, 4])
    }

    @Test(arguments: [("|u1", NPYDType.uint8), ("<u1", .uint8), (">u1", .uint8), ("|i1", .int8), ("=i1", .int8),
                      ("|b1", .bool), ("<b1", .bool), ("?", .bool), ("<f2", .float16), ("=f4", .float32),
                      ("<i4", .int32), ("<i8", .int64), ("<f8", .float64)])
    func acceptedDescrSpellings(descr: String, dtype: NPYDType) throws {
        let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (3,), }"
        let array = try NPY.decode(handBuiltNPY(header: header, data: [UInt8](repeating: 1, count: 3 * dtype.itemSize)),
                                   name: "d.npy")
        #expect(array.dtype == dtype)
    }

    @Test func conversions() throws {
        let halves = NPYArray(floats: [0.1, 65504, 1e6, -0x1p-24], shape: [4], as: .float16)
        #expect(halves.floats() == [0.0999755859375, 65504, .infinity, -0x1p-24])
        let ints = NPYArray(int8s: [-128, 0, 127], shape: [3])
        #expect(ints.floats() == [-128, 0, 127])
        #expect(try ints.int64s() == [-128, 0, 127])
        #expect(NPYArray(bools: [true, false], shape: [2]).doubles() == [1, 0])
        #expect(try NPYArray(floats: [2, -3], shape: [2]).ints() == [2, -3])
        #expect(throws: NPYConversionError.self) { try NPYArray(floats: [2, 0.5], shape: [2]).int64s() }
        #expect(throws: NPYConversionError.self) { try NPYArray(doubles: [0x1p63], shape: [1]).int64s() }
        #expect(NPYArray(uint8s: [0, 2, 255], shape: [3]).bools() == [false, true, true])
    }

    /// Malformed files: (bytes, the reason's expected beginning).
    static let malformed: [(String, [UInt8], String)] = {
        let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n"
        let data = float32Bytes([1, 2, 3, 4])
        func npy(_ header: String, _ d: [UInt8] = data, version: (UInt8, UInt8) = (1, 0)) -> [UInt8] {
            handBuiltNPY(version: version, header: header, data: d)
        }
        return [
            ("empty", [], "bad magic"),
            ("bad magic", ascii("PK\u{3}\u{4}not numpy at all"), "bad magic"),
            ("magic prefix only", [0x93] + ascii("NUM"), "truncated"),
            ("version 4.0", npy(good, version: (4, 0)), "unsupported .npy format version 4.0"),
            ("version 1.1", npy(good, version: (1, 1)), "unsupported .npy format version 1.1"),
            ("header length past end", Array(npy(good).prefix(40)), "truncated: the header claims"),
            ("truncated data", Array(npy(good).dropLast(3)), "truncated data"),
            ("extra data", npy(good, data + [0, 0, 0, 0]), "header shape (2, 2) disagrees with the file size"),
            ("shape larger than data", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }"), "truncated data"),
            ("object dtype", npy("{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }"), "object dtype '|O'"),
            ("big-endian", npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }"), "big-endian dtype '>f4'"),
            ("complex", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }"), "unsupported dtype '<c8'"),
            ("structured", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }"),
             "malformed header: structured dtypes"),
            ("missing key", npy("{'descr': '<f4', 'shape': (2, 2), }"), "malformed header: missing key(s) 'fortran_order'"),
            ("extra key", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': True}"),
             "malformed header: unexpected key(s) 'x'"),
            ("duplicate key", npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}"),
             "malformed header: key 'descr' appears twice"),
            ("not a dict", npy("['descr', '<f4']"), "malformed header: the header does not start with '{'"),
            ("unterminated dict", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)"), "malformed header"),
            ("unterminated string", npy("{'descr': '<f4"), "malformed header: unterminated string"),
            ("int not tuple", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4), }"), "malformed header: 'shape' (4) is not a tuple"),
            ("negative dim", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }"), "malformed header: negative dimension"),
            ("float dim", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 2), }"), "malformed header"),
            ("huge dim", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"),
             "malformed header: dimension too large"),
            ("overflowing shape", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
             "header shape (4294967296, 4294967296) has too many elements"),
            ("bad bool", npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2), }"), "malformed header: unsupported value for 'fortran_order'"),
            ("descr not string", npy("{'descr': True, 'fortran_order': False, 'shape': (2, 2), }"), "malformed header: 'descr' is not a string"),
            ("trailing junk", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), } x"), "malformed header: unexpected text"),
            ("python code", npy("{'descr': __import__('os'), 'fortran_order': False, 'shape': (2, 2)}"), "malformed header"),
        ]
    }()

    @Test(arguments: malformed)
    func malformedFilesGiveErrorsNamingTheFile(label: String, bytes: [UInt8], reason: String) throws {
        let error = try #require(throws: FileError.self, "\(label)") { try NPY.decode(bytes, name: "/runs/x/bad.npy") }
        #expect(error.path == "/runs/x/bad.npy")
        #expect(error.description.hasPrefix("/runs/x/bad.npy: "))
        #expect(error.reason.hasPrefix(reason), "\(label): \(error.reason)")
    }

    @Test func missingFileIsNamed() throws {
        let dir = try makeTemporaryDirectory()
        let error = try #require(throws: FileError.self) { try NPY.read(path: dir + "/nope.npy") }
        #expect(error.path == dir + "/nope.npy")
    }

    /// Truncating a valid file at every length, and corrupting every byte,
    /// either throws a FileError or decodes to a consistent array; never traps.
    @Test(arguments: [1, 3])
    func truncationAndCorruptionNeverCrash(rank: Int) throws {
        let shape = Array([3, 2, 2].prefix(rank))
        let fortran = handBuiltNPY(version: (2, 0),
                                   header: "{'descr': '<f2', 'fortran_order': True, 'shape': \(NPYHeader.shapeRepr(shape)), }\n",
                                   data: [UInt8](repeating: 0x3C, count: 2 * shape.reduce(1, *)))
        for valid in [NPY.encode(sampleArrays(shape: shape)[0]), fortran] {
            for length in 0..<valid.count {
                #expect(throws: FileError.self) { try NPY.decode(Array(valid.prefix(length)), name: "t.npy") }
            }
            for offset in 0..<valid.count {
                for flip: UInt8 in [0xFF, 0x01, 0x20] {
                    var corrupt = valid
                    corrupt[offset] ^= flip
                    do {
                        let array = try NPY.decode(corrupt, name: "c.npy")
                        #expect(array.bytes.count == array.count * array.dtype.itemSize)
                    } catch let error as FileError {
                        #expect(error.path == "c.npy")
                    }
                }
            }
        }
    }
}
