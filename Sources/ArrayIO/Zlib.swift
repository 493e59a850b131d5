// zlib streams: inflate (gzip, zlib or raw deflate) and raw deflate, plus CRC-32.
//
// This is the one place InfoPlane calls zlib; zlib status codes become
// `ZlibError`s here. Used by the `.npz` reader/writer (raw deflate inside a
// ZIP archive) and by the IDX reader (gzip files).

internal import CZlib

/// A zlib failure, with zlib's own message.
public struct ZlibError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Compression and checksums through zlib.
public enum Zlib {
    /// The container around a deflate stream.
    public enum Format: Sendable {
        /// A gzip file (RFC 1952), as `.gz` files are.
        case gzip
        /// A zlib stream (RFC 1950).
        case zlib
        /// A bare deflate stream (RFC 1951), as inside ZIP archives.
        case raw

        var windowBits: Int32 {
            switch self {
            case .gzip: 16 + 15
            case .zlib: 15
            case .raw: -15
            }
        }
    }

    /// Decompresses a whole stream.
    ///
    /// - Parameters:
    ///   - input: the compressed bytes.
    ///   - format: the container (`.gzip` for `.gz` files).
    ///   - expectedSize: a capacity hint, such as the size a ZIP entry declares.
    ///     It is only a hint: it is capped at the most that `input` can
    ///     inflate to (deflate's ratio is at most 1032:1), so a corrupt header
    ///     cannot make this reserve absurd amounts of memory.
    ///   - maximumSize: if given, stop and throw once the output would exceed
    ///     it (protection against a corrupt or hostile size declaration).
    /// - Throws: `ZlibError` if the stream is corrupt, ends early, or exceeds `maximumSize`.
    public static func inflate(_ input: [UInt8], format: Format, expectedSize: Int? = nil,
                               maximumSize: Int? = nil) throws -> [UInt8] {
        try inflate(input, format: format, expectedSize: expectedSize, maximumSize: maximumSize, stopAfter: nil)
    }

    private static func inflate(_ input: [UInt8], format: Format, expectedSize: Int? = nil,
                                maximumSize: Int? = nil, stopAfter: Int?) throws -> [UInt8] {
        var stream = z_stream()
        var status = inflateInit2_(&stream, format.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw ZlibError(description: "inflateInit failed (\(status))") }
        defer { inflateEnd(&stream) }

        var output = [UInt8]()
        let ceiling = input.count.multipliedReportingOverflow(by: 1032).partialValue &+ 1024
        output.reserveCapacity(min(max(expectedSize ?? input.count * 4, 1024), max(ceiling, 1024), maximumSize ?? .max))
        var chunk = [UInt8](repeating: 0, count: stopAfter.map { min(max($0, 64), 1 << 18) } ?? 1 << 18)
        try input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                if let maximumSize, produced > maximumSize - output.count {
                    throw ZlibError(description: "inflated data exceeds the expected \(maximumSize) bytes")
                }
                output.append(contentsOf: chunk[0..<produced])
                if let stopAfter, output.count >= stopAfter {
                    output.removeLast(output.count - stopAfter)
                    return
                }
                switch status {
                case Z_OK, Z_STREAM_END:
                    break
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw ZlibError(description: "compressed stream ends early (truncated data)")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw ZlibError(description: "corrupt compressed stream (\(message))")
                }
                if status == Z_OK && stream.avail_in == 0 && produced == 0 {
                    throw ZlibError(description: "compressed stream ends early (truncated data)")
                }
            } while status != Z_STREAM_END
        }
        return output
    }

    /// The first `count` bytes of a stream's output (fewer if the stream is shorter), inflating
    /// no more than the chunk that reaches them: a reader can check what a header promises before
    /// it inflates the rest.
    /// - Throws: `ZlibError` if the stream is corrupt or ends early before `count` bytes.
    public static func inflatePrefix(_ input: [UInt8], format: Format, count: Int) throws -> [UInt8] {
        try inflate(input, format: format, expectedSize: count, stopAfter: count)
    }

    /// Compresses `input` into a single stream.
    ///
    /// Output is deterministic for a given input, level and zlib version.
    /// - Parameters:
    ///   - format: `.raw` for ZIP entries, `.gzip` for `.gz` files.
    ///   - level: 0 (store) to 9 (smallest); 6 is zlib's default.
    public static func deflate(_ input: [UInt8], format: Format, level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        var status = deflateInit2_(&stream, level, Z_DEFLATED, format.windowBits, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw ZlibError(description: "deflateInit failed (\(status))") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var written = 0
        input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                status = CZlib.deflate(&stream, Z_FINISH)
                written = outBuf.count - Int(stream.avail_out)
            }
        }
        guard status == Z_STREAM_END else { throw ZlibError(description: "deflate failed (\(status))") }
        output.removeSubrange(written...)
        return output
    }

    /// The CRC-32 (ISO 3309, as in ZIP and gzip) of `bytes`.
    public static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt = CZlib.crc32(0, nil, 0)
        var offset = 0
        // zlib's length argument is 32-bit; feed large buffers in pieces.
        while offset < bytes.count {
            let n = min(bytes.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, UInt32(n))
            offset += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    /// The CRC-32 of `bytes`.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0) }
    }
}
