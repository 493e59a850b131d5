// PNG output and input. Encoding is written here on top of zlib (ArrayIO's Zlib);
// decoding goes through libpng's simplified API (png_image), the one place Plotting
// calls libpng.
//
// The encoder writes the minimal file (signature, IHDR, one IDAT, IEND) with every
// row under PNG's Sub filter and deflated with run-length matches only (Z_RLE):
// figures are mostly flat colour, which Sub turns into runs of zeros. Images of a
// megabyte or more are deflated in two halves on two threads and joined into one
// zlib stream. For a 1000 x 800 information plane this takes about a third of the
// time of libpng's fastest setting (PNG_IMAGE_FLAG_FAST: no filter, zlib level 3)
// for a file about 7% larger. No timestamp or other varying chunk is written and
// the split does not depend on the machine: identical pixels give identical bytes.
// Writes go to memory first and then through AtomicFile, so a failed write never
// leaves a partial PNG behind. The simplified API reports errors through its return
// value and `image.message` instead of longjmp, so no setjmp/longjmp frame ever
// crosses Swift code. This file deliberately does not support palettes or 16-bit.

internal import CPNG
import ArrayIO

/// A failed PNG encode or decode.
public struct PNGError: Error, CustomStringConvertible, Sendable {
    /// The file concerned, or "<memory>".
    public var path: String
    /// libpng's message.
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

// libpng's format flags for RGBA: PNG_FORMAT_FLAG_ALPHA = 1 | PNG_FORMAT_FLAG_COLOR = 2
// (the PNG_FORMAT_RGBA macro is an expression Swift does not import).
private let formatRGBA: UInt32 = 3

extension Canvas {
    /// The canvas encoded as PNG bytes.
    ///
    /// Opaque canvases (every alpha 255, the usual figure) are stored as 8-bit RGB,
    /// others as 8-bit RGBA.
    /// - Throws: `PNGError` if compression fails.
    public func pngData() throws -> [UInt8] {
        let count = width * height
        let opaque = pixels.withUnsafeBufferPointer { p in
            var alphaAnd: UInt8 = 255
            for i in 0..<count { alphaAnd &= p[4 * i + 3] }
            return alphaAnd == 255
        }
        let channels = opaque ? 3 : 4
        let rowBytes = 1 + width * channels
        // The scanlines under the Sub filter (type 1): each byte minus the same
        // channel of the pixel to its left (0 left of the first pixel), modulo 256.
        let filtered = [UInt8](unsafeUninitializedCapacity: height * rowBytes) { out, initialized in
            pixels.withUnsafeBufferPointer { p in
                for y in 0..<height {
                    let s = p.baseAddress! + 4 * y * width
                    let d = out.baseAddress! + y * rowBytes
                    d[0] = 1
                    if opaque {
                        d[1] = s[0]; d[2] = s[1]; d[3] = s[2]
                        for x in 1..<max(1, width) {
                            d[1 + 3 * x] = s[4 * x] &- s[4 * x - 4]
                            d[2 + 3 * x] = s[4 * x + 1] &- s[4 * x - 3]
                            d[3 + 3 * x] = s[4 * x + 2] &- s[4 * x - 2]
                        }
                    } else {
                        d[1] = s[0]; d[2] = s[1]; d[3] = s[2]; d[4] = s[3]
                        for i in 4..<max(4, 4 * width) { d[1 + i] = s[i] &- s[i - 4] }
                    }
                }
            }
            initialized = height * rowBytes
        }
        func bigEndian(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func crc(_ bytes: [UInt8], from start: Int) -> [UInt8] {
            bigEndian(Int(bytes.withUnsafeBytes { Zlib.crc32(UnsafeRawBufferPointer(rebasing: $0[start...])) }))
        }
        // Signature; IHDR: bit depth 8, colour type 2 (RGB) or 6 (RGBA), deflate,
        // adaptive filtering, no interlace; then IDAT's length (patched below) and type.
        var head: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        head += bigEndian(13) + Array("IHDR".utf8) + bigEndian(width) + bigEndian(height) + [8, opaque ? 2 : 6, 0, 0, 0]
        head += crc(head, from: 12)
        let idat = head.count
        head += [0, 0, 0, 0] + Array("IDAT".utf8)
        // The zlib stream is compressed straight after the header; room is left for
        // IDAT's CRC and the IEND chunk.
        var png: [UInt8]
        do {
            png = try filtered.withUnsafeBytes {
                try Zlib.deflateZlib($0, level: 1, strategy: .runLength, pieces: filtered.count >= 1 << 20 ? 2 : 1,
                                     prefix: head, spare: 16)
            }
        } catch {
            throw PNGError(path: "<memory>", reason: "\(error)")
        }
        let length = bigEndian(png.count - idat - 8)
        for i in 0..<4 { png[idat + i] = length[i] }
        png += crc(png, from: idat + 4)
        png += bigEndian(0) + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82]
        return png
    }

    /// Encodes the canvas and writes it to `path` atomically.
    ///
    /// - Throws: `PNGError` if encoding fails; `FileError` naming `path` if the file
    ///   cannot be written (missing directory, no permission, full disk). No partial
    ///   file is left behind in either case.
    public func writePNG(to path: String) throws {
        let bytes: [UInt8]
        do { bytes = try pngData() } catch let e as PNGError {
            throw PNGError(path: path, reason: e.reason)
        }
        try AtomicFile.write(bytes, to: path)
    }

    /// Decodes PNG bytes (any colour type and depth libpng reads) into an RGBA8 canvas.
    ///
    /// - Parameter path: the name used in error messages.
    /// - Throws: `PNGError` naming `path` with libpng's message for malformed data.
    public static func decodePNG(_ bytes: [UInt8], path: String = "<memory>") throws -> Canvas {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { b in
            png_image_begin_read_from_memory(&image, b.baseAddress, b.count)
        }
        guard begun != 0 else { throw PNGError(path: path, reason: PNGReader.message(&image)) }
        image.format = formatRGBA
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height < 1 << 28 else {
            png_image_free(&image)
            throw PNGError(path: path, reason: "unsupported image size \(width)x\(height)")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        let finished = bytes.withUnsafeBytes { _ in
            pixels.withUnsafeMutableBytes { p in
                png_image_finish_read(&image, nil, p.baseAddress, Int32(width * 4), nil)
            }
        }
        guard finished != 0 else {
            let message = PNGReader.message(&image)
            png_image_free(&image)
            throw PNGError(path: path, reason: message)
        }
        return Canvas(width: width, height: height, pixels: pixels)
    }

    /// Reads the PNG file at `path`.
    ///
    /// - Throws: `FileError` if the file cannot be read, `PNGError` if it is not a valid PNG.
    public static func readPNG(from path: String) throws -> Canvas {
        try decodePNG(try AtomicFile.read(path), path: path)
    }
}

private enum PNGReader {
    /// The NUL-terminated message libpng left in the image.
    static func message(_ image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "libpng failed without a message" : text
    }
}
