// Text: the embedded DejaVu Sans subset (FontData.swift), kerning, layout of plain
// and superscripted labels, alignment, and 0/90-degree rotation. Glyph outlines are
// filled with the canvas's rasterizer like every other shape.
//
// This is deliberately not a text engine: one line, left-to-right, no hinting, no
// shaping beyond the font's kern pairs, and a single font. Characters outside the
// subset are drawn as the font's advance of "?".

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An outline font: quadratic glyph contours, advances and kerning pairs in font units.
final class Font: Sendable {
    struct Glyph: Sendable {
        let advance: Float
        /// Contours of (onCurve, x, y) in font units, y up; each starts on-curve.
        let contours: [[(on: Bool, x: Float, y: Float)]]
    }

    let unitsPerEm: Float
    let glyphs: [UInt32: Glyph]
    let kerning: [UInt64: Float]

    /// The DejaVu Sans subset, decoded once.
    static let dejaVuSans = Font(packed: Base64.decode(dejaVuSansSubsetBase64))

    init(packed b: [UInt8]) {
        var i = 0
        func u8() -> UInt8 { defer { i += 1 }; return b[i] }
        func u16() -> Int { defer { i += 2 }; return Int(b[i]) | Int(b[i + 1]) << 8 }
        func i16() -> Float { Float(Int16(bitPattern: UInt16(u16()))) }
        func u32() -> UInt32 { let lo = UInt32(u16()); return lo | UInt32(u16()) << 16 }
        unitsPerEm = Float(u16())
        let count = u16()
        var glyphs = [UInt32: Glyph]()
        for _ in 0..<count {
            let cp = u32()
            let advance = i16()
            let nContours = u16()
            var contours = [[(on: Bool, x: Float, y: Float)]]()
            for _ in 0..<nContours {
                let n = u16()
                var points = [(on: Bool, x: Float, y: Float)]()
                points.reserveCapacity(n)
                for _ in 0..<n {
                    let on = u8() != 0
                    let x = i16() / 2, y = i16() / 2
                    points.append((on, x, y))
                }
                contours.append(points)
            }
            glyphs[cp] = Glyph(advance: advance, contours: contours)
        }
        let pairs = Int(u32())
        var kerning = [UInt64: Float]()
        for _ in 0..<pairs {
            let l = u32(), r = u32()
            kerning[UInt64(l) << 32 | UInt64(r)] = i16()
        }
        self.glyphs = glyphs
        self.kerning = kerning
    }

    func glyph(_ scalar: Unicode.Scalar) -> Glyph? {
        glyphs[scalar.value] ?? glyphs[UInt32(("?" as Unicode.Scalar).value)]
    }

    func kern(_ left: Unicode.Scalar, _ right: Unicode.Scalar) -> Float {
        kerning[UInt64(left.value) << 32 | UInt64(right.value)] ?? 0
    }

    /// Appends the outline of `glyph` with its origin at (x, y) in pixels (y down),
    /// scaled by `scale` pixels per font unit, mapped through `t`.
    func appendOutline(_ glyph: Glyph, x: Double, y: Double, scale: Double,
                       transform t: AffineTransform, to path: inout Path) {
        for contour in glyph.contours {
            func point(_ k: Int) -> Point {
                let q = contour[k]
                return t.apply(Point(x + Double(q.x) * scale, y - Double(q.y) * scale))
            }
            path.move(to: point(0))
            var k = 1
            while k < contour.count {
                if contour[k].on {
                    path.line(to: point(k)); k += 1
                } else {
                    let end = k + 1 < contour.count ? point(k + 1) : point(0)
                    path.quad(to: end, control: point(k)); k += 2
                }
            }
        }
    }
}

/// A decoder for the standard base64 alphabet, ignoring line breaks.
enum Base64 {
    static func decode(_ text: String) -> [UInt8] {
        var table = [UInt8](repeating: 255, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(c)] = UInt8(i)
        }
        var out = [UInt8]()
        var buffer: UInt32 = 0, bits = 0
        for c in text.utf8 {
            let v = table[Int(c)]
            if v == 255 { continue }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(buffer >> UInt32(bits) & 0xFF))
            }
        }
        return out
    }
}

/// A one-line label: runs of text at relative sizes and baseline shifts, e.g. "10" and a
/// superscript "−3" for a log tick.
public struct Label: Equatable, Sendable {
    public struct Run: Equatable, Sendable {
        public var text: String
        /// Size relative to the label's font size.
        public var scale: Double
        /// Baseline shift upwards, in ems of the label's font size.
        public var rise: Double
    }
    public var runs: [Run]

    /// A plain label.
    public init(_ text: String) { runs = [Run(text: text, scale: 1, rise: 0)] }

    /// base^exponent with the exponent as a superscript (matplotlib's mathtext puts it
    /// at 70 % size; the raise follows its default superscript shift).
    public static func power(base: String, exponent: String) -> Label {
        var l = Label(base)
        l.runs.append(Run(text: exponent, scale: 0.7, rise: 0.42))
        return l
    }

    public var plainText: String { runs.map(\.text).joined() }
    public var isEmpty: Bool { runs.allSatisfy { $0.text.isEmpty } }
}

/// Horizontal alignment of text relative to its anchor, along the text direction.
public enum HorizontalAlignment: Sendable { case left, center, right }
/// Vertical alignment: the anchor is at the top of the line box, its centre, the
/// centre between baseline and ascent (matplotlib's center_baseline), the baseline,
/// or the bottom of the descent.
public enum VerticalAlignment: Sendable { case top, center, centerBaseline, baseline, bottom }

/// The metrics of a laid-out label, in pixels.
struct TextExtent {
    var width: Double
    /// Height above the baseline.
    var ascent: Double
    /// Depth below the baseline (positive).
    var descent: Double
    var height: Double { ascent + descent }
}

enum TextRenderer {
    /// The line box of DejaVu Sans as matplotlib computes it: the ink extent of "lp",
    /// 'l' rising 1556 and 'p' descending 426 of 2048 units.
    static let lineAscent = 1556.0 / 2048
    static let lineDescent = 426.0 / 2048

    /// Width and vertical extent of `label` at `size` pixels per em.
    static func measure(_ label: Label, size: Double) -> TextExtent {
        let font = Font.dejaVuSans
        var width = 0.0
        var ascent = lineAscent * size, descent = lineDescent * size
        for run in label.runs {
            let s = size * run.scale / Double(font.unitsPerEm)
            var previous: Unicode.Scalar?
            for scalar in run.text.unicodeScalars {
                if let p = previous { width += Double(font.kern(p, scalar)) * s }
                width += Double(font.glyph(scalar)?.advance ?? 0) * s
                previous = scalar
            }
            ascent = max(ascent, (run.rise + lineAscent * run.scale) * size)
            descent = max(descent, (lineDescent * run.scale - run.rise) * size)
        }
        return TextExtent(width: width, ascent: ascent, descent: descent)
    }

    /// The outline of `label` aligned at `anchor`, rotated `rotation` degrees
    /// counter-clockwise (0 or 90) about the anchor after alignment (matplotlib's
    /// rotation_mode="anchor").
    static func path(_ label: Label, size: Double, at anchor: Point,
                     horizontal: HorizontalAlignment, vertical: VerticalAlignment,
                     rotation: Double = 0) -> Path {
        let font = Font.dejaVuSans
        let e = measure(label, size: size)
        let dx: Double
        switch horizontal {
        case .left: dx = 0
        case .center: dx = -e.width / 2
        case .right: dx = -e.width
        }
        let dy: Double   // baseline position relative to the anchor, y down
        switch vertical {
        case .top: dy = e.ascent
        case .center: dy = e.ascent - e.height / 2
        case .centerBaseline: dy = e.ascent / 2
        case .baseline: dy = 0
        case .bottom: dy = -e.descent
        }
        let rad = rotation * Double.pi / 180
        let cs = cos(rad), sn = sin(rad)
        // Screen rotation counter-clockwise with y down: (u, v) -> (u cos + v sin, -u sin + v cos).
        let t = AffineTransform(a: cs, b: -sn, c: sn, d: cs, tx: anchor.x, ty: anchor.y)
        var path = Path()
        path.tolerance = 0.05
        var pen = dx
        for run in label.runs {
            let s = size * run.scale / Double(font.unitsPerEm)
            var previous: Unicode.Scalar?
            for scalar in run.text.unicodeScalars {
                if let p = previous { pen += Double(font.kern(p, scalar)) * s }
                guard let g = font.glyph(scalar) else { continue }
                font.appendOutline(g, x: pen, y: dy - run.rise * size, scale: s, transform: t, to: &path)
                pen += Double(g.advance) * s
                previous = scalar
            }
        }
        return path
    }
}

extension Canvas {
    /// Draws `label` at `anchor` with `size` pixels per em.
    public mutating func drawText(_ label: Label, at anchor: Point, size: Double, color: Color = .black,
                                  horizontal: HorizontalAlignment = .left,
                                  vertical: VerticalAlignment = .baseline, rotation: Double = 0,
                                  clip: Rect? = nil) {
        let p = TextRenderer.path(label, size: size, at: anchor, horizontal: horizontal,
                                  vertical: vertical, rotation: rotation)
        fill(p, color: color, clip: clip)
    }

    /// Draws a plain string (see `drawText(_:at:size:...)`).
    public mutating func drawText(_ text: String, at anchor: Point, size: Double, color: Color = .black,
                                  horizontal: HorizontalAlignment = .left,
                                  vertical: VerticalAlignment = .baseline, rotation: Double = 0) {
        drawText(Label(text), at: anchor, size: size, color: color, horizontal: horizontal,
                 vertical: vertical, rotation: rotation)
    }
}
