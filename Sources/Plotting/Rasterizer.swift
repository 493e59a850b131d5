// The one anti-aliased scanline rasterizer every fill in Plotting goes through.
//
// Edges are accumulated as signed area and cover per cell, as font rasterizers do
// (font-rs, stb_truetype v2): a line segment crossing a pixel row adds to each cell it
// touches the exact area between the segment and the cell's right edge, so a running
// sum along the row is the exact coverage of the pixel by the polygon. |sum| clamped
// to 1 gives non-zero winding for overlapping same-orientation sub-polygons (strokes
// are built as such unions) and cancels holes of opposite orientation (glyph counters).
// This file is deliberately only geometry to coverage (plus the one fused
// coverage-and-blend loop that fills use); colours and drawing calls live in
// Canvas.swift, stroking in Stroke.swift, text in Text.swift.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in pixel space: x to the right, y downwards, pixel (i, j) covers [i, i+1) x [j, j+1).
public struct Point: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// A closed, filled shape built from line segments and quadratic Bézier curves.
///
/// Curves are flattened when they are added, with a chord error of at most
/// `tolerance` pixels, so a `Path` is a list of polygons.
public struct Path: Sendable {
    /// The flattened contours; each is implicitly closed.
    public private(set) var contours: [[Point]] = []
    /// The maximal distance in pixels between a curve and its flattening.
    public var tolerance: Double = 0.05

    public init() {}

    /// Starts a new contour at `p`.
    public mutating func move(to p: Point) { contours.append([p]) }

    /// Adds a straight edge to `p`.
    public mutating func line(to p: Point) {
        if contours.isEmpty { contours.append([]) }
        contours[contours.count - 1].append(p)
    }

    /// Adds a quadratic Bézier curve from the current point through control `c` to `p`.
    ///
    /// The curve B(t) = (1-t)² p0 + 2t(1-t) c + t² p is cut into n equal-t chords, with
    /// n = ceil(sqrt(|p0 - 2c + p| / (8 tol))), which bounds the chord error by `tol`
    /// (the second derivative of B is the constant 2(p0 - 2c + p)).
    public mutating func quad(to p: Point, control c: Point) {
        guard let p0 = contours.last?.last else { move(to: p); return }
        let ddx = p0.x - 2 * c.x + p.x, ddy = p0.y - 2 * c.y + p.y
        let dd = (ddx * ddx + ddy * ddy).squareRoot()
        let n = max(1, Int((dd / (8 * tolerance)).squareRoot().rounded(.up)))
        for i in 1...n {
            let t = Double(i) / Double(n), u = 1 - t
            line(to: Point(u * u * p0.x + 2 * t * u * c.x + t * t * p.x,
                           u * u * p0.y + 2 * t * u * c.y + t * t * p.y))
        }
    }

    /// Adds a polygon as its own contour.
    public mutating func addPolygon(_ points: [Point]) {
        guard points.count >= 3 else { return }
        contours.append(points)
    }

    /// Adds an axis-aligned rectangle.
    public mutating func addRect(x: Double, y: Double, width: Double, height: Double) {
        addPolygon([Point(x, y), Point(x + width, y), Point(x + width, y + height), Point(x, y + height)])
    }

    /// Adds a circle of radius `r` around `center`, as a regular n-gon with the circle's
    /// area.
    ///
    /// n is the smallest count whose sagitta r (1 - cos(pi/n)) is at most `tolerance`;
    /// the vertices sit at r sqrt(2 pi / (n sin(2 pi / n))), slightly outside the circle,
    /// so that the polygon's area (n/2) R^2 sin(2 pi/n) equals pi r^2 and the outline
    /// straddles the true circle instead of lying inside it.
    public mutating func addCircle(center: Point, radius: Double, clockwise: Bool = false) {
        guard radius > 0 else { return }
        let n = Path.circleSides(radius: radius, tolerance: tolerance)
        let theta = 2 * Double.pi / Double(n)
        let r = radius * (theta / sin(theta)).squareRoot()
        var points = [Point]()
        points.reserveCapacity(n)
        // Rotate a unit vector by +-theta per vertex instead of calling cos/sin n times.
        let c = cos(theta), sn = clockwise ? -sin(theta) : sin(theta)
        var ux = 1.0, uy = 0.0
        for _ in 0..<n {
            points.append(Point(center.x + r * ux, center.y + r * uy))
            (ux, uy) = (ux * c - uy * sn, ux * sn + uy * c)
        }
        contours.append(points)
    }

    static func circleSides(radius r: Double, tolerance: Double) -> Int {
        if r <= tolerance { return 8 }
        let n = Double.pi / acos(1 - tolerance / r)
        return min(1024, max(8, Int(n.rounded(.up))))
    }

    /// The path mapped through an affine transform (x, y) -> (a x + c y + e, b x + d y + f).
    public func transformed(_ t: AffineTransform) -> Path {
        var result = Path()
        result.tolerance = tolerance
        result.contours = contours.map { $0.map { t.apply($0) } }
        return result
    }
}

/// An affine map of the plane: (x, y) -> (a x + c y + tx, b x + d y + ty).
public struct AffineTransform: Sendable {
    public var a, b, c, d, tx, ty: Double
    public init(a: Double, b: Double, c: Double, d: Double, tx: Double, ty: Double) {
        self.a = a; self.b = b; self.c = c; self.d = d; self.tx = tx; self.ty = ty
    }
    public static let identity = AffineTransform(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0)
    @inline(__always) public func apply(_ p: Point) -> Point {
        Point(a * p.x + c * p.y + tx, b * p.x + d * p.y + ty)
    }
}

/// A rectangle in pixel space.
public struct Rect: Equatable, Sendable {
    public var x0, y0, x1, y1: Double
    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1
    }
    public var width: Double { x1 - x0 }
    public var height: Double { y1 - y0 }
    func intersection(_ o: Rect) -> Rect {
        Rect(x0: max(x0, o.x0), y0: max(y0, o.y0), x1: min(x1, o.x1), y1: min(y1, o.y1))
    }
}

/// Signed-area accumulation buffer for one canvas size.
///
/// `area` has `width + 2` cells per row (a segment ending exactly on the right
/// border writes one cell past it). Only the cells between `rowMin[y]` and
/// `rowMax[y]` of the rows in `[yMin, yMax]` are non-zero after `addPath`; `sweep`
/// reads them and zeroes them again, so a fill costs the area it touches.
final class Rasterizer {
    let width: Int
    let height: Int
    let stride: Int
    var area: [Float]
    var rowMin: [Int32]
    var rowMax: [Int32]
    var yMin = Int.max
    var yMax = -1

    init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "Rasterizer: empty size \(width)x\(height)")
        self.width = width
        self.height = height
        stride = width + 2
        area = [Float](repeating: 0, count: stride * height)
        rowMin = [Int32](repeating: Int32.max, count: height)
        rowMax = [Int32](repeating: -1, count: height)
    }

    /// Adds every contour of `path` (each closed back to its first point), clipped to `clip`.
    func addPath(_ path: Path, clip: Rect) {
        let c = clip.intersection(Rect(x0: 0, y0: 0, x1: Double(width), y1: Double(height)))
        guard c.x1 > c.x0, c.y1 > c.y0 else { return }
        area.withUnsafeMutableBufferPointer { a in
            rowMin.withUnsafeMutableBufferPointer { rmin in
                rowMax.withUnsafeMutableBufferPointer { rmax in
                    var s = Sink(a: a.baseAddress!, rowMin: rmin.baseAddress!, rowMax: rmax.baseAddress!,
                                 stride: stride, yMin: yMin, yMax: yMax)
                    for contour in path.contours where contour.count >= 2 {
                        var previous = contour[contour.count - 1]
                        for p in contour {
                            s.clippedLine(previous, p, clip: c)
                            previous = p
                        }
                    }
                    yMin = s.yMin
                    yMax = s.yMax
                }
            }
        }
    }

    /// Visits the coverage of every touched pixel, row by row, and clears the buffer.
    ///
    /// `body(rowIndex, x0, coverage)` receives the coverages of pixels x0..<x0+count of
    /// one row as a buffer of Float in [0, 1].
    func sweep(_ body: (Int, Int, UnsafeBufferPointer<Float>) -> Void) {
        guard yMin <= yMax else { return }
        var line = [Float](repeating: 0, count: width)
        area.withUnsafeMutableBufferPointer { a in
            line.withUnsafeMutableBufferPointer { l in
                for y in yMin...yMax {
                    let lo = Int(rowMin[y]), hi = Int(rowMax[y])
                    if hi < lo { continue }
                    let row = a.baseAddress! + y * stride
                    let end = min(hi, width - 1)
                    var acc: Float = 0
                    if lo <= end {
                        for x in lo...end {
                            acc += row[x]
                            row[x] = 0
                            l[x - lo] = min(1, abs(acc))
                        }
                        body(y, lo, UnsafeBufferPointer(start: l.baseAddress!, count: end - lo + 1))
                    }
                    if hi > end { for x in (end + 1)...hi { row[x] = 0 } }
                    rowMin[y] = Int32.max
                    rowMax[y] = -1
                }
            }
        }
        yMin = Int.max
        yMax = -1
    }
}

extension Rasterizer {
    /// Composites the accumulated coverage times `alpha` in colour (r, g, b) onto an
    /// unpremultiplied RGBA8 image of this rasterizer's size, and clears the buffer.
    ///
    /// The same running sum as `sweep`, fused with the blend so each touched cell is
    /// read once; cells whose effective opacity is below 1/512 are left alone.
    func composite(into pixels: UnsafeMutablePointer<UInt8>, r: Int32, g: Int32, b: Int32, alpha: Float) {
        guard yMin <= yMax else { return }
        let w = width
        area.withUnsafeMutableBufferPointer { a in
            rowMin.withUnsafeMutableBufferPointer { rmin in
                rowMax.withUnsafeMutableBufferPointer { rmax in
                    for y in yMin...yMax {
                        let lo = Int(rmin[y]), hi = Int(rmax[y])
                        if hi < lo { continue }
                        rmin[y] = Int32.max
                        rmax[y] = -1
                        let row = a.baseAddress! + y * stride
                        let out = pixels + 4 * y * w
                        let end = min(hi, w - 1)
                        var acc: Float = 0
                        var x = lo
                        while x <= end {
                            acc += row[x]
                            row[x] = 0
                            let c = min(1, abs(acc)) * alpha
                            if c >= 1.0 / 512 { blend(out + 4 * x, r, g, b, c) }
                            x += 1
                        }
                        while x <= hi { row[x] = 0; x += 1 }
                    }
                }
            }
        }
        yMin = Int.max
        yMax = -1
    }
}

/// The inner accumulation loop, on raw pointers.
private struct Sink {
    let a: UnsafeMutablePointer<Float>
    let rowMin: UnsafeMutablePointer<Int32>
    let rowMax: UnsafeMutablePointer<Int32>
    let stride: Int
    var yMin: Int
    var yMax: Int

    /// Clips the segment to the rectangle `c`: y by cutting (what is above or below the
    /// clip adds nothing to the rows inside), x by projecting the outside parts onto the
    /// vertical clip edges, which leaves the area inside the clip unchanged.
    mutating func clippedLine(_ p: Point, _ q: Point, clip c: Rect) {
        // Non-finite points (a NaN that reached a path) would poison the row sums.
        guard p.x.isFinite, p.y.isFinite, q.x.isFinite, q.y.isFinite else { return }
        var p = p, q = q
        if p.y == q.y { return }
        // Cut in y.
        if (p.y < c.y0 && q.y < c.y0) || (p.y > c.y1 && q.y > c.y1) { return }
        let dxdy = (q.x - p.x) / (q.y - p.y)
        if p.y < c.y0 { p = Point(p.x + (c.y0 - p.y) * dxdy, c.y0) }
        if q.y < c.y0 { q = Point(q.x + (c.y0 - q.y) * dxdy, c.y0) }
        if p.y > c.y1 { p = Point(p.x + (c.y1 - p.y) * dxdy, c.y1) }
        if q.y > c.y1 { q = Point(q.x + (c.y1 - q.y) * dxdy, c.y1) }
        if p.y == q.y { return }
        // Split at the vertical clip edges, then clamp x.
        if (p.x < c.x0) != (q.x < c.x0) || (p.x > c.x1) != (q.x > c.x1) {
            var ts = [Double]()
            for edge in [c.x0, c.x1] where (p.x - edge) * (q.x - edge) < 0 {
                ts.append((edge - p.x) / (q.x - p.x))
            }
            ts.sort()
            var start = p
            for t in ts {
                let m = Point(p.x + t * (q.x - p.x), p.y + t * (q.y - p.y))
                line(clamp(start, c), clamp(m, c))
                start = m
            }
            line(clamp(start, c), clamp(q, c))
        } else {
            line(clamp(p, c), clamp(q, c))
        }
    }

    @inline(__always) func clamp(_ p: Point, _ c: Rect) -> Point {
        Point(min(max(p.x, c.x0), c.x1), p.y)
    }

    /// Accumulates one segment already inside [0, width] x [0, height] (font-rs's
    /// `draw_line`): for each row it crosses, the segment's signed height d in that row
    /// is split between the cells it passes through in proportion to the area to the
    /// right of the segment inside each cell.
    mutating func line(_ p: Point, _ q: Point) {
        if p.y == q.y { return }
        let dir: Float = p.y < q.y ? 1 : -1
        let (p0, p1) = p.y < q.y ? (p, q) : (q, p)
        let dxdy = Float((p1.x - p0.x) / (p1.y - p0.y))
        let y0f = Float(p0.y), y1f = Float(p1.y)
        var x = Float(p0.x)
        let xLow = Float(min(p0.x, p1.x)), xHigh = Float(max(p0.x, p1.x))
        let yStart = Int(y0f)
        let yEndT = Int(y1f)
        let yEnd = Float(yEndT) == y1f ? yEndT : yEndT + 1
        if yStart < yMin { yMin = yStart }
        if yEnd - 1 > yMax { yMax = yEnd - 1 }
        var y = yStart
        while y < yEnd {
            let row = a + y * stride
            let dy = min(Float(y + 1), y1f) - max(Float(y), y0f)
            // Clamped to the segment's x range: for a nearly horizontal segment whose
            // ends round to Floats on either side of a row boundary, dy (from the
            // rounded ends) exceeds the true height and x + dxdy·dy would run far
            // past the segment, and past the row buffer.
            let xnext = min(max(x + dxdy * dy, xLow), xHigh)
            let d = dy * dir
            let (x0, x1) = x < xnext ? (x, xnext) : (xnext, x)
            // x >= 0 after clipping, so truncation is floor (and avoids a libm call on
            // x86-64 without SSE4.1's roundss).
            let x0i = Int(x0)
            let x0floor = Float(x0i)
            let x1t = Int(x1)
            let x1i = Float(x1t) == x1 ? x1t : x1t + 1
            let x1ceil = Float(x1i)
            if x1i <= x0i + 1 {
                let xmf = 0.5 * (x + xnext) - x0floor
                row[x0i] += d - d * xmf
                row[x0i + 1] += d * xmf
                touch(y, x0i, x0i + 1)
            } else {
                let s = 1 / (x1 - x0)
                let x0f = x0 - x0floor
                let a0 = 0.5 * s * (1 - x0f) * (1 - x0f)
                let x1f = x1 - x1ceil + 1
                let am = 0.5 * s * x1f * x1f
                row[x0i] += d * a0
                if x1i == x0i + 2 {
                    row[x0i + 1] += d * (1 - a0 - am)
                } else {
                    let a1 = s * (1.5 - x0f)
                    row[x0i + 1] += d * (a1 - a0)
                    var xi = x0i + 2
                    while xi < x1i - 1 { row[xi] += d * s; xi += 1 }
                    let a2 = a1 + Float(x1i - x0i - 3) * s
                    row[x1i - 1] += d * (1 - a2 - am)
                }
                row[x1i] += d * am
                touch(y, x0i, x1i)
            }
            x = xnext
            y += 1
        }
    }

    @inline(__always) func touch(_ y: Int, _ lo: Int, _ hi: Int) {
        if Int32(lo) < rowMin[y] { rowMin[y] = Int32(lo) }
        if Int32(hi) > rowMax[y] { rowMax[y] = Int32(hi) }
    }
}
