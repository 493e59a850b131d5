// zlib streams: inflate (gzip, zlib or raw deflate) and raw deflate, plus CRC-32.
//
// This is the one place InfoPlane calls zlib; zlib status codes become
// `ZlibError`s here. Used by the `.npz` reader/writer (raw deflate inside a
// ZIP archive), by the IDX reader (gzip files) and by Plotting's PNG encoder
// (zlib streams deflated in pieces on several threads).

internal import CZlib
import Dispatch

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
        var stream = z_stream()
        var status = inflateInit2_(&stream, format.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw ZlibError(description: "inflateInit failed (\(status))") }
        defer { inflateEnd(&stream) }

        var output = [UInt8]()
        let ceiling = input.count.multipliedReportingOverflow(by: 1032).partialValue &+ 1024
        output.reserveCapacity(min(max(expectedSize ?? input.count * 4, 1024), max(ceiling, 1024), maximumSize ?? .max))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
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

    /// How deflate looks for repeated strings.
    public enum Strategy: Sendable {
        /// zlib's hash-chain match search (Z_DEFAULT_STRATEGY).
        case `default`
        /// Only runs of the previous byte (Z_RLE): a fraction of the default's
        /// time on hard data, nearly its ratio on filtered images (PNG's choice
        /// for speed).
        case runLength

        var value: Int32 { self == .default ? Z_DEFAULT_STRATEGY : Z_RLE }
    }

    /// Compresses `input` into one zlib stream (RFC 1950) whose data are
    /// deflated as `pieces` consecutive parts on as many threads, as pigz does.
    ///
    /// Each part is a raw deflate stream of its slice, without references into
    /// the slices before it; all but the last end with an empty stored block
    /// (a sync flush) so the parts concatenate on a byte boundary. The output
    /// depends only on the input, level, strategy, piece count and zlib
    /// version, never on thread timing. One piece is plain zlib deflate.
    /// - Parameters:
    ///   - level: 1 (fastest) to 9 (smallest).
    ///   - prefix: bytes placed before the stream in the result (a container's
    ///     header), so that the stream is compressed in place, not copied.
    ///   - spare: capacity reserved after the stream for the caller to append.
    public static func deflateZlib(_ input: UnsafeRawBufferPointer, level: Int32, strategy: Strategy = .default,
                                   pieces: Int = 1, prefix: [UInt8] = [], spare: Int = 0) throws -> [UInt8] {
        precondition((1...9).contains(level), "deflateZlib: level \(level) is not in 1...9")
        let n = max(1, min(pieces, input.count / 4096 + 1))
        let parts = DeflatePieces(input: input, count: n, level: level, strategy: strategy.value)
        defer { parts.release() }
        if n > 1 {
            DispatchQueue.concurrentPerform(iterations: n) { parts.runSeparately($0) }
        }
        // CMF 0x78 (deflate, 32 KB window); FLEVEL as zlib writes it; FCHECK.
        let flevel: UInt16 = strategy != .default || level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3
        var header: UInt16 = 0x78 << 8 | flevel << 6
        header += 31 - header % 31
        let body = n == 1 ? DeflatePieces.bound(input.count) : (0..<n).reduce(0) { $0 + parts.data[$1].count }
        let result = [UInt8](unsafeUninitializedCapacity: prefix.count + 2 + body + 4 + spare) { buffer, count in
            let out = buffer.baseAddress!
            prefix.withUnsafeBufferPointer { p in
                if let b = p.baseAddress { out.update(from: b, count: p.count) }
            }
            var at = prefix.count
            out[at] = UInt8(header >> 8)
            out[at + 1] = UInt8(header & 0xFF)
            at += 2
            if n == 1 {
                at += parts.run(0, into: out + at, capacity: body)
            } else {
                for k in 0..<n {
                    parts.data[k].withUnsafeBufferPointer { d in
                        if let b = d.baseAddress { (out + at).update(from: b, count: d.count) }
                    }
                    at += parts.data[k].count
                }
            }
            var adler = parts.adler[0]
            for k in 1..<n { adler = adler32_combine(adler, parts.adler[k], Int(parts.ranges[k].count)) }
            let a = UInt32(truncatingIfNeeded: adler)
            out[at] = UInt8(a >> 24); out[at + 1] = UInt8(a >> 16 & 0xFF)
            out[at + 2] = UInt8(a >> 8 & 0xFF); out[at + 3] = UInt8(a & 0xFF)
            count = at + 4
        }
        if let bad = (0..<n).first(where: { parts.status[$0] != Z_OK }) {
            throw ZlibError(description: "deflate failed (\(parts.status[bad]))")
        }
        return result
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

/// `deflateZlib`'s pieces: the input slices and each one's output, Adler-32
/// and status, in storage where each thread writes only its own index.
private final class DeflatePieces: @unchecked Sendable {
    let input: UnsafePointer<UInt8>?
    let ranges: [Range<Int>]
    let level: Int32
    let strategy: Int32
    let data: UnsafeMutablePointer<[UInt8]>
    let adler: UnsafeMutablePointer<UInt>
    let status: UnsafeMutablePointer<Int32>

    init(input: UnsafeRawBufferPointer, count n: Int, level: Int32, strategy: Int32) {
        self.input = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        ranges = (0..<n).map { k in (input.count * k / n)..<(input.count * (k + 1) / n) }
        self.level = level
        self.strategy = strategy
        data = .allocate(capacity: n)
        data.initialize(repeating: [], count: n)
        adler = .allocate(capacity: n)
        adler.initialize(repeating: 1, count: n)
        status = .allocate(capacity: n)
        status.initialize(repeating: Z_OK, count: n)
    }

    func release() {
        data.deinitialize(count: ranges.count)
        data.deallocate()
        adler.deallocate()
        status.deallocate()
    }

    /// An upper bound of a piece's deflated size for `count` input bytes: zlib's
    /// bound for any settings (deflateBound without a stream), plus the 5-byte
    /// empty stored block of a sync flush.
    static func bound(_ count: Int) -> Int {
        count + (count + 7) / 8 + (count + 63) / 64 + 5 + 5 + 16
    }

    /// Deflates slice `k` into a buffer of its own (for several pieces at once).
    func runSeparately(_ k: Int) {
        let capacity = Self.bound(ranges[k].count)
        data[k] = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            count = run(k, into: buffer.baseAddress!, capacity: capacity)
        }
    }

    /// Deflates slice `k` into `out` (a sync flush at its end, or the final block
    /// for the last slice); the number of bytes written. Failures go to `status`.
    func run(_ k: Int, into out: UnsafeMutablePointer<UInt8>, capacity: Int) -> Int {
        let r = ranges[k], last = k == ranges.count - 1
        var stream = z_stream()
        var result = deflateInit2_(&stream, level, Z_DEFLATED, -15, 8, strategy,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard result == Z_OK else { status[k] = result; return 0 }
        defer { deflateEnd(&stream) }
        stream.next_in = input.map { UnsafeMutablePointer(mutating: $0 + r.lowerBound) }
        stream.avail_in = UInt32(r.count)
        stream.next_out = out
        stream.avail_out = UInt32(capacity)
        result = CZlib.deflate(&stream, last ? Z_FINISH : Z_SYNC_FLUSH)
        let ok = last ? result == Z_STREAM_END : result == Z_OK && stream.avail_in == 0
        status[k] = ok ? Z_OK : (result == Z_OK ? Z_BUF_ERROR : result)
        adler[k] = input.map { CZlib.adler32(1, $0 + r.lowerBound, UInt32(r.count)) } ?? 1
        return capacity - Int(stream.avail_out)
    }
}
