// Reader for the IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed.
//
// IDX (LeCun et al., http://yann.lecun.com/exdb/mnist/): two zero bytes, an
// element-type byte, a dimension count, then one big-endian uint32 size per
// dimension and the elements in row-major order. Only unsigned bytes (type
// 0x08), which is what every MNIST-family file uses, are supported; other
// element types are rejected with an error rather than converted.

import ArrayIO

/// An unsigned-byte IDX array: its dimensions and row-major elements.
public struct IDXArray: Sendable, Equatable {
    /// The sizes of the dimensions ([N, 28, 28] for images, [N] for labels).
    public var dimensions: [Int]
    /// The elements, row-major; `bytes.count` is the product of `dimensions`.
    public var bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        precondition(bytes.count == dimensions.reduce(1, *), "IDXArray: \(bytes.count) bytes for \(dimensions)")
        self.dimensions = dimensions
        self.bytes = bytes
    }
}

/// Reading and writing IDX files.
public enum IDX {
    /// Reads the IDX file at `path`, inflating it first if it is gzip-compressed
    /// (recognised by its magic bytes 1f 8b, whatever the file name).
    /// - Throws: `FileError` naming `path` (see `decode(_:name:)`).
    public static func read(path: String) throws -> IDXArray {
        try decode(AtomicFile.read(path), name: path)
    }

    /// Decodes a whole IDX file in memory, plain or gzip.
    ///
    /// - Throws: `FileError(path: name, …)` for a corrupt or truncated gzip
    ///   stream, bad magic, an element type other than unsigned byte, a file
    ///   that ends inside the header or the data, or trailing bytes.
    public static func decode(_ input: [UInt8], name: String) throws -> IDXArray {
        var bytes = input
        if input.count >= 2 && input[0] == 0x1F && input[1] == 0x8B {
            do {
                bytes = try Zlib.inflate(input, format: .gzip)
            } catch let error as ZlibError {
                throw FileError(path: name, reason: "gzip: \(error.description)")
            }
        }
        guard bytes.count >= 4 else {
            throw FileError(path: name, reason: bytes.isEmpty ? "the file is empty" : "truncated: \(bytes.count)-byte file")
        }
        guard bytes[0] == 0 && bytes[1] == 0 else {
            throw FileError(path: name, reason: "bad magic: not an IDX file (it does not start with two zero bytes)")
        }
        guard bytes[2] == 0x08 else {
            throw FileError(path: name, reason: "unsupported IDX element type 0x"
                + String(bytes[2], radix: 16, uppercase: true) + " (only unsigned bytes, 0x08, are supported)")
        }
        let rank = Int(bytes[3])
        guard rank >= 1 else { throw FileError(path: name, reason: "bad header: zero dimensions") }
        let dataStart = 4 + 4 * rank
        guard bytes.count >= dataStart else {
            throw FileError(path: name, reason: "truncated: the file ends inside the \(rank) dimension sizes")
        }
        var dimensions = [Int]()
        var count = 1
        for k in 0..<rank {
            let o = 4 + 4 * k
            let size = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            dimensions.append(size)
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw FileError(path: name, reason: "dimensions \(dimensions) are too large") }
            count = product
        }
        let available = bytes.count - dataStart
        guard available >= count else {
            throw FileError(path: name, reason: "truncated data: dimensions \(dimensions) need \(count) bytes, "
                + "the file has \(available)")
        }
        guard available == count else {
            throw FileError(path: name, reason: "dimensions \(dimensions) disagree with the file size: "
                + "\(available - count) bytes after the data")
        }
        return IDXArray(dimensions: dimensions, bytes: Array(bytes[dataStart...]))
    }

    /// The IDX bytes of `array` (uncompressed; gzip them with `Zlib.deflate(_:format: .gzip)`).
    /// - Precondition: 1 to 255 dimensions, each below 2³².
    public static func encode(_ array: IDXArray) -> [UInt8] {
        precondition((1...255).contains(array.dimensions.count), "IDX.encode: \(array.dimensions.count) dimensions")
        var out: [UInt8] = [0, 0, 0x08, UInt8(array.dimensions.count)]
        for size in array.dimensions {
            precondition(size >= 0 && size <= Int(UInt32.max), "IDX.encode: dimension \(size)")
            out += [UInt8(truncatingIfNeeded: size >> 24), UInt8(truncatingIfNeeded: size >> 16),
                    UInt8(truncatingIfNeeded: size >> 8), UInt8(truncatingIfNeeded: size)]
        }
        return out + array.bytes
    }
}
