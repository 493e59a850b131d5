// Axes with matplotlib's default look: the rcParams at 100 dpi (10 pt text, 0.8 pt
// spines, 3.5 pt outward major ticks, 2 pt minor ticks on log axes, 3.5 pt tick pad,
// 4 pt label pad, 12 pt titles, 5 % data margins), data-to-pixel transforms, tick
// selection that never lets labels overlap, legends and colorbars.
//
// This file draws decorations; it deliberately knows nothing about what is plotted
// (Figures.swift composes axes and data) and does no constrained layout beyond making
// sure labels fit inside the canvas.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A linear or base-10 logarithmic axis.
public enum AxisScale: String, Sendable { case linear, log }

/// Sizes in pixels for a canvas drawn at `scale` x 100 dpi (matplotlib's rcParams in points).
struct Style {
    let scale: Double
    /// Pixels per point: 100 dpi / 72 at 1x.
    var pt: Double { scale * 100 / 72 }
    var fontSize: Double { 10 * pt }
    var titleSize: Double { 12 * pt }
    var spineWidth: Double { 0.8 * pt }
    var majorTickLength: Double { 3.5 * pt }
    var majorTickWidth: Double { 0.8 * pt }
    var minorTickLength: Double { 2 * pt }
    var minorTickWidth: Double { 0.6 * pt }
    var tickPad: Double { 3.5 * pt }
    var labelPad: Double { 4 * pt }
    var titlePad: Double { 6 * pt }
    var lineWidth: Double { 1.5 * pt }
    var gridColor: Color { Color(hex: 0xB0B0B0) }
}

/// One axis of an `Axes`: scale, view limits and label.
struct AxisModel {
    var scale: AxisScale
    var lo: Double
    var hi: Double
    var label: String
    /// Ticks at given positions with given labels (categorical axes), replacing the locator.
    var fixedTicks: [(Double, Label)]? = nil

    /// Position of `v` along the axis as a fraction of its length.
    @inline(__always) func fraction(_ v: Double) -> Double {
        switch scale {
        case .linear: return (v - lo) / (hi - lo)
        case .log: return (log10(v) - log10(lo)) / (log10(hi) - log10(lo))
        }
    }

    /// Limits covering `values` with matplotlib's 5 % margins (in log space on a log axis).
    static func autoLimits(_ values: [Double], scale: AxisScale, margin: Double = 0.05) -> (Double, Double) {
        let usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        guard var lo = usable.min(), var hi = usable.max() else {
            return scale == .log ? (1, 10) : (0, 1)
        }
        if scale == .log {
            var l0 = log10(lo), l1 = log10(hi)
            if l1 - l0 < 1e-12 { l0 -= 0.5; l1 += 0.5 }
            let m = (l1 - l0) * margin
            return (pow(10, l0 - m), pow(10, l1 + m))
        }
        if hi - lo < 1e-12 * max(1, abs(lo)) {
            let d = lo == 0 ? 0.05 : abs(lo) * 0.05
            lo -= d; hi += d
            return (lo, hi)
        }
        let m = (hi - lo) * margin
        return (lo - m, hi + m)
    }

    struct Ticks {
        var major: [Double] = []
        var labels: [Label] = []
        var minor: [Double] = []
        /// A shared power of ten for linear labels ("1e6" at the axis end).
        var exponent: Int?
    }

    /// Visible ticks and labels for an axis `length` pixels long whose labels, of
    /// `fontSize` pixels, are laid along it (`horizontal`) or stacked (vertical axis).
    ///
    /// nbins follows matplotlib's get_tick_space (length / (3 x font) along x, / (2 x
    /// font) along y, at most 9); it then shrinks until neighbouring labels leave a gap.
    func ticks(length: Double, fontSize: Double, horizontal: Bool) -> Ticks {
        let lo = min(self.lo, self.hi), hi = max(self.lo, self.hi)
        let tol = (hi - lo) * 1e-9
        func visible(_ v: [Double]) -> [Double] {
            v.filter { $0 >= lo - tol * (scale == .log ? lo : 1) && $0 <= hi + tol * (scale == .log ? hi : 1) }
        }
        var nbins = max(1, min(9, Int(length / (fontSize * (horizontal ? 3 : 2)))))
        if let fixed = fixedTicks {
            // Keep every k-th label so that neighbours leave a gap.
            var k = 1
            while true {
                var t = Ticks()
                for (n, tick) in fixed.enumerated() where n % k == 0 {
                    t.major.append(tick.0); t.labels.append(tick.1)
                }
                if k >= fixed.count || !overlaps(t, length: length, fontSize: fontSize, horizontal: horizontal) {
                    t.minor = fixed.enumerated().filter { $0.offset % k != 0 }.map { $0.element.0 }
                    return t
                }
                k += 1
            }
        }
        while true {
            var t = Ticks()
            switch scale {
            case .linear:
                t.major = visible(MaxNLocator(nbins: nbins).ticks(lo, hi))
                let f = TickFormatter.linear(t.major)
                t.labels = f.labels
                t.exponent = f.exponent
            case .log:
                let majors = visible(LogLocator(numticks: nbins).majorTicks(lo, hi))
                let allMajors = Set(LogLocator(numticks: 1000).majorTicks(lo, hi))
                let minors = visible(LogLocator().minorTicks(lo, hi)).filter { !allMajors.contains($0) }
                t.minor = minors + visible(Array(allMajors)).filter { !majors.contains($0) }
                if majors.count >= 2 {
                    t.major = majors
                    t.labels = majors.map(TickFormatter.power)
                } else {
                    // Less than a decade or two: label minor ticks too, thinned so they fit.
                    var candidates = (majors + minors).sorted()
                    for subset in [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 5], [1, 3], [1]] where candidates.count > nbins + 1 {
                        candidates = (majors + minors).sorted().filter { v in
                            let m = Int((v / pow(10, log10(v).rounded(.down))).rounded())
                            return subset.contains(m)
                        }
                    }
                    if candidates.count < 2 {
                        // Still fewer than two: label linear ticks on the log axis.
                        candidates = visible(MaxNLocator(nbins: max(2, nbins)).ticks(lo, hi)).filter { $0 > 0 }
                        t.major = candidates
                        t.labels = TickFormatter.linear(candidates).labels
                        t.minor = []
                    } else {
                        t.major = candidates
                        t.labels = candidates.map(TickFormatter.minorPower)
                        t.minor = t.minor.filter { !candidates.contains($0) }
                    }
                }
            }
            if nbins <= 1 || !overlaps(t, length: length, fontSize: fontSize, horizontal: horizontal) {
                return t
            }
            nbins -= 1
        }
    }

    /// Whether neighbouring tick labels would come closer than half an em.
    func overlaps(_ t: Ticks, length: Double, fontSize: Double, horizontal: Bool) -> Bool {
        guard t.major.count > 1 else { return false }
        var previousEnd = -Double.infinity
        for (v, label) in zip(t.major, t.labels) {
            let e = TextRenderer.measure(label, size: fontSize)
            let size = horizontal ? e.width : e.height
            let c = fraction(v) * length
            if c - size / 2 < previousEnd + fontSize * 0.5 { return true }
            previousEnd = c + size / 2
        }
        return false
    }
}

/// A rectangle of the canvas with two axes, drawn in matplotlib's style.
struct AxesPanel {
    var frame: Rect
    var x: AxisModel
    var y: AxisModel
    var title: String = ""
    var showXTickLabels = true
    var showYTickLabels = true
    var showXLabel = true
    var showYLabel = true
    var grid = false

    /// Pixel position of data point (vx, vy).
    @inline(__always) func point(_ vx: Double, _ vy: Double) -> Point {
        Point(frame.x0 + x.fraction(vx) * frame.width, frame.y1 - y.fraction(vy) * frame.height)
    }

    func xTicks(_ s: Style) -> AxisModel.Ticks { x.ticks(length: frame.width, fontSize: s.fontSize, horizontal: true) }
    func yTicks(_ s: Style) -> AxisModel.Ticks { y.ticks(length: frame.height, fontSize: s.fontSize, horizontal: false) }

    /// Space needed around the frame for ticks, tick labels, axis labels and title.
    func decorationExtents(_ s: Style) -> (left: Double, right: Double, top: Double, bottom: Double) {
        let xt = xTicks(s), yt = yTicks(s)
        let line = TextRenderer.measure(Label("0"), size: s.fontSize)
        var left = s.majorTickLength + s.tickPad, bottom = s.majorTickLength + s.tickPad
        var right = 0.0
        if showYTickLabels {
            left += yt.labels.map { TextRenderer.measure($0, size: s.fontSize).width }.max() ?? 0
        }
        if showXTickLabels {
            bottom += xt.labels.map { TextRenderer.measure($0, size: s.fontSize).height }.max() ?? line.height
            if let last = xt.labels.last, let v = xt.major.last {
                let overhang = TextRenderer.measure(last, size: s.fontSize).width / 2 - (1 - x.fraction(v)) * frame.width
                right = max(right, overhang)
            }
        }
        if showYLabel && !y.label.isEmpty { left += s.labelPad + line.height }
        if showXLabel && !x.label.isEmpty { bottom += s.labelPad + line.height }
        var top = 0.0
        if showYTickLabels, let first = yt.labels.last, let v = yt.major.last {
            top = max(top, TextRenderer.measure(first, size: s.fontSize).height / 2 - (1 - y.fraction(v)) * frame.height)
        }
        if !title.isEmpty {
            top = max(top, s.titlePad + TextRenderer.measure(Label(title), size: s.titleSize).height)
        }
        if (xt.exponent != nil && showXTickLabels) { bottom += line.height }
        if (yt.exponent != nil && showYTickLabels) { top = max(top, line.height + s.tickPad) }
        return (left, right, top, bottom)
    }

    /// Grid lines at the major ticks (below the data).
    func drawGrid(on canvas: inout Canvas, _ s: Style) {
        guard grid else { return }
        for v in xTicks(s).major {
            canvas.verticalLine(x: point(v, y.lo).x, y0: frame.y0, y1: frame.y1, lineWidth: s.spineWidth,
                                color: s.gridColor, clip: frame)
        }
        for v in yTicks(s).major {
            canvas.horizontalLine(x0: frame.x0, x1: frame.x1, y: point(x.lo, v).y, lineWidth: s.spineWidth,
                                  color: s.gridColor, clip: frame)
        }
    }

    /// Spines, ticks, tick labels, axis labels and title.
    func drawDecorations(on canvas: inout Canvas, _ s: Style) {
        let w = s.spineWidth
        // Spines, extended by half their width so corners close (projecting caps).
        canvas.horizontalLine(x0: frame.x0 - w / 2, x1: frame.x1 + w / 2, y: frame.y0, lineWidth: w, color: .black)
        canvas.horizontalLine(x0: frame.x0 - w / 2, x1: frame.x1 + w / 2, y: frame.y1, lineWidth: w, color: .black)
        canvas.verticalLine(x: frame.x0, y0: frame.y0 - w / 2, y1: frame.y1 + w / 2, lineWidth: w, color: .black)
        canvas.verticalLine(x: frame.x1, y0: frame.y0 - w / 2, y1: frame.y1 + w / 2, lineWidth: w, color: .black)
        let xt = xTicks(s), yt = yTicks(s)
        let bottom = Canvas.snap(frame.y1, w), left = Canvas.snap(frame.x0, w)
        for v in xt.minor {
            let px = point(v, y.lo).x
            canvas.verticalLine(x: px, y0: bottom, y1: bottom + s.minorTickLength, lineWidth: s.minorTickWidth, color: .black)
        }
        for v in xt.major {
            let px = point(v, y.lo).x
            canvas.verticalLine(x: px, y0: bottom, y1: bottom + s.majorTickLength, lineWidth: s.majorTickWidth, color: .black)
        }
        for v in yt.minor {
            let py = point(x.lo, v).y
            canvas.horizontalLine(x0: left - s.minorTickLength, x1: left, y: py, lineWidth: s.minorTickWidth, color: .black)
        }
        for v in yt.major {
            let py = point(x.lo, v).y
            canvas.horizontalLine(x0: left - s.majorTickLength, x1: left, y: py, lineWidth: s.majorTickWidth, color: .black)
        }
        var labelTop = bottom + s.majorTickLength + s.tickPad
        if showXTickLabels {
            var maxHeight = 0.0
            for (v, label) in zip(xt.major, xt.labels) {
                let px = Canvas.snap(point(v, y.lo).x, s.majorTickWidth)
                canvas.drawText(label, at: Point(px, labelTop), size: s.fontSize, horizontal: .center, vertical: .top)
                maxHeight = max(maxHeight, TextRenderer.measure(label, size: s.fontSize).height)
            }
            labelTop += maxHeight
            if let e = xt.exponent {
                canvas.drawText(TickFormatter.multiplier(e), at: Point(frame.x1, labelTop),
                                size: s.fontSize, horizontal: .right, vertical: .top)
                labelTop += TextRenderer.measure(Label("0"), size: s.fontSize).height
            }
        }
        if showXLabel && !x.label.isEmpty {
            canvas.drawText(Label(x.label), at: Point((frame.x0 + frame.x1) / 2, labelTop + (showXTickLabels ? s.labelPad : 0)),
                            size: s.fontSize, horizontal: .center, vertical: .top)
        }
        var labelRight = left - s.majorTickLength - s.tickPad
        if showYTickLabels {
            var maxWidth = 0.0
            for (v, label) in zip(yt.major, yt.labels) {
                let py = Canvas.snap(point(x.lo, v).y, s.majorTickWidth)
                canvas.drawText(label, at: Point(labelRight, py), size: s.fontSize, horizontal: .right,
                                vertical: .centerBaseline)
                maxWidth = max(maxWidth, TextRenderer.measure(label, size: s.fontSize).width)
            }
            labelRight -= maxWidth
            if let e = yt.exponent {
                canvas.drawText(TickFormatter.multiplier(e), at: Point(frame.x0, frame.y0 - s.tickPad),
                                size: s.fontSize, horizontal: .left, vertical: .bottom)
            }
        }
        if showYLabel && !y.label.isEmpty {
            canvas.drawText(Label(y.label), at: Point(labelRight - (showYTickLabels ? s.labelPad : 0), (frame.y0 + frame.y1) / 2),
                            size: s.fontSize, horizontal: .center, vertical: .bottom, rotation: 90)
        }
        if !title.isEmpty {
            canvas.drawText(Label(title), at: Point((frame.x0 + frame.x1) / 2, frame.y0 - s.titlePad),
                            size: s.titleSize, horizontal: .center, vertical: .baseline)
        }
    }
}

/// A vertical colorbar: a gradient strip, outline, ticks and labels on the right, and a
/// rotated label, like matplotlib's `fig.colorbar`.
struct ColorbarModel {
    var colormap: Colormap
    var axis: AxisModel
    var frame: Rect

    /// Width needed right of the strip for ticks, labels and the label.
    static func extent(axis: AxisModel, height: Double, _ s: Style) -> Double {
        let t = axis.ticks(length: height, fontSize: s.fontSize, horizontal: false)
        let w = t.labels.map { TextRenderer.measure($0, size: s.fontSize).width }.max() ?? 0
        var e = s.majorTickLength + s.tickPad + w
        if !axis.label.isEmpty { e += s.labelPad + TextRenderer.measure(Label(axis.label), size: s.fontSize).height }
        return e
    }

    func draw(on canvas: inout Canvas, _ s: Style) {
        // One colour per pixel row, sampled at the row's centre.
        let y0 = Int(frame.y0.rounded()), y1 = Int(frame.y1.rounded())
        let x0 = frame.x0.rounded(), x1 = frame.x1.rounded()
        if y1 > y0 {
            for row in y0..<y1 {
                let f = 1 - (Double(row) + 0.5 - Double(y0)) / Double(y1 - y0)
                canvas.fillRect(Rect(x0: x0, y0: Double(row), x1: x1, y1: Double(row + 1)), color: colormap.color(at: f))
            }
        }
        let panel = AxesPanel(frame: Rect(x0: x0, y0: Double(y0), x1: x1, y1: Double(y1)),
                              x: AxisModel(scale: .linear, lo: 0, hi: 1, label: ""), y: axis)
        let w = s.spineWidth
        let f = panel.frame
        canvas.horizontalLine(x0: f.x0 - w / 2, x1: f.x1 + w / 2, y: f.y0, lineWidth: w, color: .black)
        canvas.horizontalLine(x0: f.x0 - w / 2, x1: f.x1 + w / 2, y: f.y1, lineWidth: w, color: .black)
        canvas.verticalLine(x: f.x0, y0: f.y0 - w / 2, y1: f.y1 + w / 2, lineWidth: w, color: .black)
        canvas.verticalLine(x: f.x1, y0: f.y0 - w / 2, y1: f.y1 + w / 2, lineWidth: w, color: .black)
        let t = axis.ticks(length: f.height, fontSize: s.fontSize, horizontal: false)
        let right = Canvas.snap(f.x1, w)
        for v in t.minor {
            canvas.horizontalLine(x0: right, x1: right + s.minorTickLength, y: panel.point(0, v).y,
                                  lineWidth: s.minorTickWidth, color: .black)
        }
        var maxWidth = 0.0
        for (v, label) in zip(t.major, t.labels) {
            let py = panel.point(0, v).y
            canvas.horizontalLine(x0: right, x1: right + s.majorTickLength, y: py, lineWidth: s.majorTickWidth, color: .black)
            canvas.drawText(label, at: Point(right + s.majorTickLength + s.tickPad, Canvas.snap(py, s.majorTickWidth)),
                            size: s.fontSize, horizontal: .left, vertical: .centerBaseline)
            maxWidth = max(maxWidth, TextRenderer.measure(label, size: s.fontSize).width)
        }
        if !axis.label.isEmpty {
            // matplotlib puts a vertical colorbar's label right of the tick labels, reading upwards.
            canvas.drawText(Label(axis.label), at: Point(right + s.majorTickLength + s.tickPad + maxWidth + s.labelPad,
                                                         (f.y0 + f.y1) / 2),
                            size: s.fontSize, horizontal: .center, vertical: .top, rotation: 90)
        }
    }
}

/// One legend entry: a line sample, a marker, or both.
struct LegendEntry {
    var label: String
    var color: Color
    var line: Bool
    var marker: Marker.Shape?
    var dashed = false
}

/// matplotlib's legend: a white, 80 % opaque rounded frame with a 0.8-grey edge, placed
/// at the 'best' of its standard locations (the one covering the fewest data points).
struct Legend {
    var entries: [LegendEntry]

    func size(_ s: Style) -> (width: Double, height: Double, row: Double) {
        let fs = s.fontSize
        let textW = entries.map { TextRenderer.measure(Label($0.label), size: fs).width }.max() ?? 0
        let row = TextRenderer.measure(Label("lp"), size: fs).height
        let width = 2 * 0.4 * fs + 2.0 * fs + 0.8 * fs + textW
        let height = 2 * 0.4 * fs + Double(entries.count) * row + Double(max(0, entries.count - 1)) * 0.5 * fs
        return (width, height, row)
    }

    /// The frame's top-left corner for the best location inside `frame`, given the data
    /// points in pixels.
    func place(in frame: Rect, avoiding points: [Point], _ s: Style) -> Point {
        bestPlacement(in: frame, avoiding: points, s).origin
    }

    /// The best location inside `frame` and how many of `points` the legend covers there
    /// (0: a free spot).
    func bestPlacement(in frame: Rect, avoiding points: [Point], _ s: Style) -> (origin: Point, covered: Int) {
        let (w, h, _) = size(s)
        let pad = 0.5 * s.fontSize
        let xl = frame.x0 + pad, xr = frame.x1 - pad - w, xc = (frame.x0 + frame.x1 - w) / 2
        let yt = frame.y0 + pad, yb = frame.y1 - pad - h, yc = (frame.y0 + frame.y1 - h) / 2
        // matplotlib's order: upper right, upper left, lower left, lower right, right,
        // center left, center right, lower center, upper center, center.
        let candidates = [Point(xr, yt), Point(xl, yt), Point(xl, yb), Point(xr, yb), Point(xr, yc),
                          Point(xl, yc), Point(xr, yc), Point(xc, yb), Point(xc, yt), Point(xc, yc)]
        var best = candidates[0], bestCount = Int.max
        for c in candidates {
            var n = 0
            for p in points where p.x >= c.x && p.x <= c.x + w && p.y >= c.y && p.y <= c.y + h { n += 1 }
            if n < bestCount { best = c; bestCount = n }
            if n == 0 { break }
        }
        return (best, bestCount)
    }

    func draw(on canvas: inout Canvas, at origin: Point, _ s: Style) {
        let fs = s.fontSize
        let (w, h, row) = size(s)
        // Rounded frame (fancybox, corner radius 0.2 em after matplotlib's pad-relative box).
        let r = 0.2 * fs
        let x0 = origin.x, y0 = origin.y, x1 = x0 + w, y1 = y0 + h
        var outline = [Point]()
        let arcs: [(Double, Double, Double)] = [(x1 - r, y0 + r, -90), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180)]
        for (cx, cy, start) in arcs {
            for k in 0...6 {
                let a = (start + Double(k) * 15) * Double.pi / 180
                outline.append(Point(cx + r * cos(a), cy + r * sin(a)))
            }
        }
        var p = Path()
        p.addPolygon(outline)
        canvas.fill(p, color: Color.white.withAlpha(0.8))
        canvas.stroke(outline, color: .gray(0.8), lineWidth: 1 * s.pt, join: .round, closed: true)
        var y = y0 + 0.4 * fs
        for e in entries {
            let cy = y + row / 2
            let hx0 = x0 + 0.4 * fs, hx1 = hx0 + 2.0 * fs
            if e.line {
                if e.dashed {
                    let dash = 3.7 * s.pt, gap = 1.6 * s.pt
                    var xx = hx0
                    while xx < hx1 {
                        canvas.stroke([Point(xx, cy), Point(min(hx1, xx + dash), cy)], color: e.color,
                                      lineWidth: s.lineWidth, cap: .butt)
                        xx += dash + gap
                    }
                } else {
                    canvas.stroke([Point(hx0, cy), Point(hx1, cy)], color: e.color, lineWidth: s.lineWidth, cap: .butt)
                }
            }
            if let m = e.marker {
                canvas.stamp(Marker(m, diameter: 6 * s.pt), at: [Point((hx0 + hx1) / 2, cy)], colors: [e.color])
            }
            canvas.drawText(Label(e.label), at: Point(hx1 + 0.8 * fs, cy), size: fs, horizontal: .left, vertical: .center)
            y += row + 0.5 * fs
        }
    }
}
