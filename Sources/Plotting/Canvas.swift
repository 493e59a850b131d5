// The RGBA8 canvas figures are drawn on, and the drawing primitives built on the
// rasterizer: filled paths, stroked polylines, crisp axis-aligned lines, stamped
// markers and image blits, all composited source-over.
//
// Pixels are stored unpremultiplied, row-major, 4 bytes per pixel, top row first,
// which is the layout PNG wants. This file deliberately knows nothing about axes or
// data coordinates; that is Axes.swift.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A colour with 8-bit sRGB channels and an opacity in [0, 1].
public struct Color: Equatable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public var alpha: Double

    public init(r: UInt8, g: UInt8, b: UInt8, alpha: Double = 1) {
        self.r = r; self.g = g; self.b = b; self.alpha = alpha
    }

    /// A colour from a packed 0xRRGGBB value.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(r: UInt8(hex >> 16 & 0xFF), g: UInt8(hex >> 8 & 0xFF), b: UInt8(hex & 0xFF), alpha: alpha)
    }

    /// A colour from channels in [0, 1], rounded to the nearest byte.
    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        func byte(_ v: Double) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
        self.init(r: byte(red), g: byte(green), b: byte(blue), alpha: alpha)
    }

    /// The same colour with opacity `alpha`.
    public func withAlpha(_ alpha: Double) -> Color { Color(r: r, g: g, b: b, alpha: alpha) }

    public static let black = Color(hex: 0x000000)
    public static let white = Color(hex: 0xFFFFFF)
    /// A grey of level `v` in [0, 1] (matplotlib's "0.8" colour strings).
    public static func gray(_ v: Double) -> Color { Color(red: v, green: v, blue: v) }
}

/// Line ends of a stroked polyline.
public enum LineCap: Sendable { case butt, round, square }
/// Corners of a stroked polyline.
public enum LineJoin: Sendable { case miter, round, bevel }

/// An RGBA8 image that can be drawn on and written as a PNG.
public struct Canvas: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Unpremultiplied RGBA bytes, row-major, top row first: pixel (x, y) starts at 4 (y width + x).
    public var pixels: [UInt8]
    /// The rasterizer's buffers, reused by every fill on this canvas.
    let raster: RasterizerBox

    /// A canvas filled with `background`.
    public init(width: Int, height: Int, background: Color = .white) {
        precondition(width > 0 && height > 0, "Canvas: size \(width)x\(height) must be positive")
        self.width = width
        self.height = height
        let a = UInt8((background.alpha * 255).rounded())
        let count = width * height
        pixels = [UInt8](unsafeUninitializedCapacity: count * 4) { b, initialized in
            // One 32-bit store per pixel; the byte order in memory stays r, g, b, a.
            let word = UInt32(background.r) | UInt32(background.g) << 8 | UInt32(background.b) << 16 | UInt32(a) << 24
            UnsafeMutableRawPointer(b.baseAddress!).bindMemory(to: UInt32.self, capacity: count)
                .initialize(repeating: UInt32(littleEndian: word), count: count)
            initialized = count * 4
        }
        raster = RasterizerBox(width: width, height: height)
    }

    /// A canvas over existing RGBA bytes.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 4,
                     "Canvas: \(pixels.count) bytes for \(width)x\(height) RGBA")
        self.width = width
        self.height = height
        self.pixels = pixels
        raster = RasterizerBox(width: width, height: height)
    }

    /// The whole canvas as a rectangle.
    public var bounds: Rect { Rect(x0: 0, y0: 0, x1: Double(width), y1: Double(height)) }

    /// The RGBA bytes of pixel (x, y).
    public func pixel(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let i = 4 * (y * width + x)
        return (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3])
    }

    // MARK: Filling

    /// Fills `path` with `color` (non-zero winding, exact-area anti-aliasing), clipped to `clip`.
    public mutating func fill(_ path: Path, color: Color, clip: Rect? = nil) {
        guard color.alpha > 0 else { return }
        let r = raster.rasterizer
        r.addPath(path, clip: clip ?? bounds)
        let alpha = Float(color.alpha)
        let cr = Int32(color.r), cg = Int32(color.g), cb = Int32(color.b)
        pixels.withUnsafeMutableBufferPointer { px in
            r.composite(into: px.baseAddress!, r: cr, g: cg, b: cb, alpha: alpha)
        }
    }

    /// The coverage of `path` per pixel, as a width x height row-major array in [0, 1].
    ///
    /// This is the rasterizer's output before compositing; tests compare it with exact areas.
    public func coverage(of path: Path) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        let r = raster.rasterizer
        r.addPath(path, clip: bounds)
        let w = width
        out.withUnsafeMutableBufferPointer { o in
            r.sweep { y, x0, coverage in
                for i in 0..<coverage.count { o[y * w + x0 + i] = coverage[i] }
            }
        }
        return out
    }

    /// Strokes the polyline through `points` with a line of `lineWidth` pixels.
    public mutating func stroke(_ points: [Point], color: Color, lineWidth: Double,
                                cap: LineCap = .butt, join: LineJoin = .round, closed: Bool = false,
                                clip: Rect? = nil) {
        let path = Stroker.strokePath(points, width: lineWidth, cap: cap, join: join, closed: closed)
        fill(path, color: color, clip: clip)
    }

    /// Draws a horizontal line from x0 to x1 at height y, snapped so its edges fall on
    /// pixel boundaries when its width is a whole number of pixels (and its centre on a
    /// pixel centre otherwise), as matplotlib's Agg snapping does for spines and ticks.
    public mutating func horizontalLine(x0: Double, x1: Double, y: Double, lineWidth: Double,
                                        color: Color, clip: Rect? = nil) {
        let cy = Canvas.snap(y, lineWidth)
        var p = Path()
        p.addRect(x: min(x0, x1), y: cy - lineWidth / 2, width: abs(x1 - x0), height: lineWidth)
        fill(p, color: color, clip: clip)
    }

    /// Draws a vertical line from y0 to y1 at x, snapped like `horizontalLine`.
    public mutating func verticalLine(x: Double, y0: Double, y1: Double, lineWidth: Double,
                                      color: Color, clip: Rect? = nil) {
        let cx = Canvas.snap(x, lineWidth)
        var p = Path()
        p.addRect(x: cx - lineWidth / 2, y: min(y0, y1), width: lineWidth, height: abs(y1 - y0))
        fill(p, color: color, clip: clip)
    }

    /// The snapped centre of a line of width `w` near coordinate `v`.
    static func snap(_ v: Double, _ w: Double) -> Double {
        let n = max(1, w.rounded())
        if Int(n) % 2 == 1 { return v.rounded(.down) + 0.5 }
        return v.rounded()
    }

    /// Fills an axis-aligned rectangle given in pixels.
    public mutating func fillRect(_ r: Rect, color: Color, clip: Rect? = nil) {
        var p = Path()
        p.addRect(x: r.x0, y: r.y0, width: r.width, height: r.height)
        fill(p, color: color, clip: clip)
    }

    // MARK: Markers

    /// Composites a pre-rasterized marker centred at each of `centers`, one colour each.
    ///
    /// The marker is placed at the pixel offset nearest to each centre; `colors` has
    /// one entry per centre, or one for all.
    public mutating func stamp(_ marker: Marker, at centers: [Point], colors: [Color], clip: Rect? = nil) {
        precondition(colors.count == centers.count || colors.count == 1,
                     "stamp: \(colors.count) colours for \(centers.count) markers")
        let c = (clip ?? bounds).intersection(bounds)
        let cx0 = Int(c.x0.rounded(.up)), cy0 = Int(c.y0.rounded(.up))
        let cx1 = Int(c.x1.rounded(.down)), cy1 = Int(c.y1.rounded(.down))
        let w = width, m = marker.size
        pixels.withUnsafeMutableBufferPointer { px in
            marker.mask.withUnsafeBufferPointer { mask in
                for (k, center) in centers.enumerated() {
                    guard abs(center.x) < 1e9, abs(center.y) < 1e9 else { continue }   // also rejects NaN
                    let color = colors.count == 1 ? colors[0] : colors[k]
                    let ox = Int((center.x - marker.origin).rounded(.down))
                    let oy = Int((center.y - marker.origin).rounded(.down))
                    // The part of the mask inside the clip rectangle.
                    let j0 = max(0, cy0 - oy), j1 = min(m, cy1 - oy)
                    let i0 = max(0, cx0 - ox), i1 = min(m, cx1 - ox)
                    if j0 >= j1 || i0 >= i1 { continue }
                    let alpha = Float(color.alpha)
                    let cr = Int32(color.r), cg = Int32(color.g), cb = Int32(color.b)
                    for j in j0..<j1 {
                        let row = px.baseAddress! + 4 * ((oy + j) * w + ox)
                        for i in i0..<i1 {
                            let cov = mask[j * m + i] * alpha
                            if cov < 1.0 / 512 { continue }
                            blend(row + 4 * i, cr, cg, cb, cov)
                        }
                    }
                }
            }
        }
    }

    // MARK: Images

    /// Copies an RGBA image into the canvas with its top-left corner at (x, y), replacing pixels.
    public mutating func blit(_ image: Canvas, x: Int, y: Int) {
        for j in 0..<image.height where y + j >= 0 && y + j < height {
            for i in 0..<image.width where x + i >= 0 && x + i < width {
                let s = 4 * (j * image.width + i), d = 4 * ((y + j) * width + x + i)
                pixels[d] = image.pixels[s]; pixels[d + 1] = image.pixels[s + 1]
                pixels[d + 2] = image.pixels[s + 2]; pixels[d + 3] = image.pixels[s + 3]
            }
        }
    }
}

/// Source-over of colour (r, g, b) at opacity `a` in [0, 1] onto one unpremultiplied RGBA pixel.
///
/// out_a = a + d_a (1 - a); out_c = (c a + d_c d_a (1 - a)) / out_a, rounded. The
/// channels r, g, b are whole numbers in [0, 255].
@inline(__always)
func blend(_ p: UnsafeMutablePointer<UInt8>, _ r: Int32, _ g: Int32, _ b: Int32, _ a: Float) {
    if p[3] == 255 {
        // Opaque destination (every figure): 8.8 fixed point, out = (c a8 + d (256 - a8) + 128) >> 8,
        // within one level of the exact rounding and exact for a = 0 and a = 1.
        let a8 = Int32(a * 256 + 0.5), ia = 256 - a8
        p[0] = UInt8(truncatingIfNeeded: (r &* a8 &+ Int32(p[0]) &* ia &+ 128) >> 8)
        p[1] = UInt8(truncatingIfNeeded: (g &* a8 &+ Int32(p[1]) &* ia &+ 128) >> 8)
        p[2] = UInt8(truncatingIfNeeded: (b &* a8 &+ Int32(p[2]) &* ia &+ 128) >> 8)
        return
    }
    blendTranslucent(p, Float(r), Float(g), Float(b), a)
}

/// The general case of `blend`, onto a pixel that is not opaque.
@inline(never)
func blendTranslucent(_ p: UnsafeMutablePointer<UInt8>, _ r: Float, _ g: Float, _ b: Float, _ a: Float) {
    // Every result below lies in [0, 255.5), so the conversions cannot overflow.
    @inline(__always) func byte(_ v: Float) -> UInt8 { UInt8(truncatingIfNeeded: Int32(v)) }
    let da = Float(p[3]) * (1.0 / 255)
    let oa = a + da * (1 - a)
    if oa <= 0 { return }
    let k = da * (1 - a)
    p[0] = byte(min(255, (r * a + Float(p[0]) * k) / oa + 0.5))
    p[1] = byte(min(255, (g * a + Float(p[1]) * k) / oa + 0.5))
    p[2] = byte(min(255, (b * a + Float(p[2]) * k) / oa + 0.5))
    p[3] = byte(min(255, oa * 255 + 0.5))
}

/// Holds a canvas's rasterizer so that copies of a `Canvas` value share scratch space.
///
/// The buffers are always left zeroed after a fill, so sharing them between copies
/// is safe as long as a canvas is not drawn on from two threads at once. They are
/// allocated at the first fill: a canvas that is only blitted or encoded (an image
/// grid, a decoded PNG) never pays for a float per pixel.
final class RasterizerBox: @unchecked Sendable {
    private let width: Int
    private let height: Int
    private var storage: Rasterizer?
    init(width: Int, height: Int) { self.width = width; self.height = height }
    var rasterizer: Rasterizer {
        if let r = storage { return r }
        let r = Rasterizer(width: width, height: height)
        storage = r
        return r
    }
}

/// A marker shape rasterized once into a coverage mask and stamped at every point.
public struct Marker: Sendable {
    /// The mask is size x size pixels.
    public let size: Int
    /// Coverage in [0, 1], row-major.
    public let mask: [Float]
    /// The shape's centre is at (origin, origin) inside the mask.
    let origin: Double

    /// The available shapes.
    public enum Shape: Sendable { case circle, square, diamond, triangle, star }

    /// Rasterizes `shape` with the given diameter (circle) or side (square) in pixels.
    ///
    /// The centre sits on a pixel centre, so stamping at a pixel-snapped position is
    /// symmetric, like matplotlib's marker snapping.
    public init(_ shape: Shape, diameter: Double) {
        let r = diameter / 2
        // Odd, and one pixel wider than the shape so its anti-aliased rim fits.
        let size = Int((diameter + 1).rounded(.up)) | 1
        let o = Double(size) / 2
        var p = Path()
        p.tolerance = 0.02
        let c = Point(o, o)
        switch shape {
        case .circle:
            p.addCircle(center: c, radius: r)
        case .square:
            p.addRect(x: o - r, y: o - r, width: 2 * r, height: 2 * r)
        case .diamond:
            p.addPolygon([Point(o, o - r), Point(o + r, o), Point(o, o + r), Point(o - r, o)])
        case .triangle:
            p.addPolygon([Point(o, o - r), Point(o + r * 0.866, o + r / 2), Point(o - r * 0.866, o + r / 2)])
        case .star:
            var pts = [Point]()
            for i in 0..<10 {
                let rr = i % 2 == 0 ? r : r * 0.381966
                let a = -Double.pi / 2 + Double(i) * Double.pi / 5
                pts.append(Point(o + rr * cos(a), o + rr * sin(a)))
            }
            p.addPolygon(pts)
        }
        let canvas = Canvas(width: size, height: size, background: Color(r: 0, g: 0, b: 0, alpha: 0))
        mask = canvas.coverage(of: p)
        self.size = size
        origin = o - 0.5
    }
}
