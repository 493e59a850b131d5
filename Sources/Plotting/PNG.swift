// PNG output and input through libpng's simplified API (png_image), the one place
// Plotting calls libpng.
//
// The simplified API reports errors through its return value and `image.message`
// instead of longjmp, so no setjmp/longjmp frame ever crosses Swift code. Writes go to
// memory first and then through AtomicFile, so a failed write never leaves a partial
// PNG behind. The encoder writes no timestamp or other varying chunk: identical pixels
// give identical bytes. This file deliberately does not support palettes or 16-bit.

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

// libpng's format flags: PNG_FORMAT_FLAG_ALPHA = 1, PNG_FORMAT_FLAG_COLOR = 2 (the
// PNG_FORMAT_GRAY/RGB/RGBA macros are expressions Swift does not import).
private let formatGray: UInt32 = 0
private let formatRGB: UInt32 = 2
private let formatRGBA: UInt32 = 3

extension Canvas {
    /// The canvas encoded as PNG bytes.
    ///
    /// Opaque canvases (every alpha 255, the usual figure) are stored as 8-bit RGB,
    /// or as 8-bit grayscale when every pixel is gray (red = green = blue: an image
    /// grid of one-channel images), a third of the data to compress; others as
    /// 8-bit RGBA. Every form reads back to the same RGBA pixels.
    /// - Throws: `PNGError` with libpng's message if encoding fails.
    public func pngData() throws -> [UInt8] {
        // One pass: pack RGB while checking that every alpha is 255 and whether
        // every pixel is gray; fall back to RGBA if one is not opaque.
        let count = width * height
        var opaque = true, gray = true
        var rgb = [UInt8](unsafeUninitializedCapacity: count * 3) { out, initialized in
            pixels.withUnsafeBufferPointer { p in
                let src = p.baseAddress!, dst = out.baseAddress!
                var alphaAnd: UInt8 = 255, colour: UInt8 = 0
                for i in 0..<count {
                    let r = src[4 * i], g = src[4 * i + 1], b = src[4 * i + 2]
                    dst[3 * i] = r; dst[3 * i + 1] = g; dst[3 * i + 2] = b
                    alphaAnd &= src[4 * i + 3]
                    colour |= (r ^ g) | (g ^ b)
                }
                opaque = alphaAnd == 255
                gray = colour == 0
            }
            initialized = count * 3
        }
        var source = pixels
        var format = formatRGBA
        var channels = 4
        if opaque && gray {
            source = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                rgb.withUnsafeBufferPointer { p in
                    for i in 0..<count { out[i] = p[3 * i] }
                }
                initialized = count
            }
            format = formatGray
            channels = 1
        } else if opaque {
            swap(&source, &rgb)
            format = formatRGB
            channels = 3
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = format
        // PNG_IMAGE_FLAG_FAST (2): no row filters and zlib level 3. Figures are mostly
        // flat colour, which deflate handles well unfiltered; the default settings
        // cost ten times as long for files about a third smaller.
        image.flags = 2
        let stride = Int32(width * channels)
        // An upper bound for the encoded size (libpng's PNG_IMAGE_PNG_SIZE_MAX: the
        // filtered rows plus deflate's stored-block overhead plus chunk headers), so one
        // encoding pass suffices; if libpng still asks for more, encode again.
        let raw = height * (width * channels + 1)
        var size = raw + 5 * (raw / 16383 + 1) + 4096
        // Uninitialized: libpng writes only the pages the compressed stream needs.
        var out = [UInt8](unsafeUninitializedCapacity: size) { _, n in n = size }
        var written = source.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBytes { o in
                png_image_write_to_memory(&image, o.baseAddress, &size, 0, s.baseAddress, stride, nil)
            }
        }
        if written != 0 && size > out.count {
            out = [UInt8](repeating: 0, count: size)
            written = source.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBytes { o in
                    png_image_write_to_memory(&image, o.baseAddress, &size, 0, s.baseAddress, stride, nil)
                }
            }
        }
        guard written != 0 else { throw PNGError(path: "<memory>", reason: PNGReader.message(&image)) }
        out.removeLast(out.count - size)
        return out
    }

    /// Encodes the canvas and writes it to `path` atomically.
    ///
    /// The PNG goes to a temporary file renamed onto `path`, so no reader ever
    /// sees a partial figure, and a failure leaves the previous file untouched.
    /// It is not fsync'ed (like matplotlib's and every image library's output):
    /// a figure can be drawn again, and two fsyncs would take as long as drawing
    /// a small figure; the kernel writes it to disk within its writeback interval.
    /// Run records, which cannot be recomputed, are written durably.
    ///
    /// - Throws: `PNGError` if encoding fails; `FileError` naming `path` if the file
    ///   cannot be written (missing directory, no permission, full disk). No partial
    ///   file is left behind in either case.
    public func writePNG(to path: String) throws {
        let bytes: [UInt8]
        do { bytes = try pngData() } catch let e as PNGError {
            throw PNGError(path: path, reason: e.reason)
        }
        try AtomicFile.write(bytes, to: path, durability: .deferred)
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
