// Scatter plots in matplotlib's look: one marker per point, one colour and
// marker shape per group with a legend, optional error bars (an interval in x
// and/or y per point, drawn as thin whiskers behind the marker), an optional
// note in a corner (e.g. a correlation), and a reference line at y = 0.

/// One group of points (one colour and marker, one legend entry).
public struct ScatterSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// Per point, the interval drawn as a horizontal whisker (nil: none).
    public var xInterval: [(Double, Double)]?
    /// Per point, the interval drawn as a vertical whisker (nil: none).
    public var yInterval: [(Double, Double)]?
    public var color: Color?
    public var marker: Marker.Shape

    public init(name: String, x: [Double], y: [Double], xInterval: [(Double, Double)]? = nil,
                yInterval: [(Double, Double)]? = nil, color: Color? = nil, marker: Marker.Shape = .circle) {
        precondition(x.count == y.count, "ScatterSeries \(name): \(x.count) x values, \(y.count) y values")
        precondition(xInterval.map { $0.count == x.count } ?? true && yInterval.map { $0.count == x.count } ?? true,
                     "ScatterSeries \(name): one interval per point")
        self.name = name; self.x = x; self.y = y
        self.xInterval = xInterval; self.yInterval = yInterval
        self.color = color; self.marker = marker
    }
}

/// A single-panel scatter figure.
public struct ScatterFigure: Sendable {
    public var series: [ScatterSeries]
    public var title: String = ""
    public var xLabel: String = ""
    public var yLabel: String = ""
    /// A line of text in the panel's upper left corner (empty: none).
    public var note: String = ""
    /// Draw a thin grey line at y = 0 when it is inside the limits.
    public var zeroLine: Bool = true
    public var grid: Bool = true
    public var xLimits: (Double, Double)?
    public var yLimits: (Double, Double)?
    /// Marker diameter in points (matplotlib's default scatter is about 6 pt).
    public var markerSize: Double = 7

    public init(series: [ScatterSeries]) { self.series = series }

    /// Draws the figure.
    ///
    /// - Throws: `PlotError` if there is no finite point.
    public func render(width: Int = 640, height: Int = 480, scale: Double = 1) throws -> Canvas {
        var xs = [Double](), ys = [Double]()
        for s in series {
            for i in s.x.indices where s.x[i].isFinite && s.y[i].isFinite {
                xs.append(s.x[i]); ys.append(s.y[i])
                if let iv = s.xInterval?[i] { xs += [iv.0, iv.1].filter(\.isFinite) }
                if let iv = s.yInterval?[i] { ys += [iv.0, iv.1].filter(\.isFinite) }
            }
        }
        guard !xs.isEmpty else { throw PlotError("scatter: no finite point to draw") }
        let st = Style(scale: scale)
        let W = Int((Double(width) * scale).rounded()), H = Int((Double(height) * scale).rounded())
        var canvas = Canvas(width: W, height: H)
        let xl = xLimits ?? AxisModel.autoLimits(xs, scale: .linear)
        var yl = yLimits ?? AxisModel.autoLimits(ys, scale: .linear)
        if yLimits == nil && !note.isEmpty {
            // Headroom for the note: a band above the data, so that it hides no point.
            yl.1 += 0.1 * (yl.1 - yl.0)
        }
        let make = { (_: Int, frame: Rect) -> AxesPanel in
            var a = AxesPanel(frame: frame, x: AxisModel(scale: .linear, lo: xl.0, hi: xl.1, label: self.xLabel),
                              y: AxisModel(scale: .linear, lo: yl.0, hi: yl.1, label: self.yLabel))
            a.grid = self.grid
            a.title = self.title
            return a
        }
        let layout = GridLayout.make(width: W, height: H, rows: 1, columns: 1, style: st, colorbarAxis: nil,
                                     suptitle: "", configure: make)
        let axes = make(0, layout.frames[0])
        axes.drawGrid(on: &canvas, st)
        if zeroLine && yl.0 < 0 && yl.1 > 0 {
            canvas.stroke([axes.point(xl.0, 0), axes.point(xl.1, 0)], color: .gray(0.5), lineWidth: 0.8 * st.pt, cap: .butt,
                          clip: axes.frame)
        }
        var entries = [LegendEntry](), avoid = [Point]()
        for (k, s) in series.enumerated() {
            let color = s.color ?? Colormap.tab10Color(k)
            let whisker = color.withAlpha(0.6)
            var centers = [Point]()
            for i in s.x.indices where s.x[i].isFinite && s.y[i].isFinite {
                let c = axes.point(s.x[i], s.y[i])
                centers.append(c)
                if let iv = s.xInterval?[i], iv.0.isFinite, iv.1.isFinite {
                    canvas.stroke([axes.point(iv.0, s.y[i]), axes.point(iv.1, s.y[i])], color: whisker, lineWidth: 1 * st.pt,
                                  cap: .butt, clip: axes.frame)
                }
                if let iv = s.yInterval?[i], iv.0.isFinite, iv.1.isFinite {
                    canvas.stroke([axes.point(s.x[i], iv.0), axes.point(s.x[i], iv.1)], color: whisker, lineWidth: 1 * st.pt,
                                  cap: .butt, clip: axes.frame)
                }
            }
            canvas.stamp(Marker(s.marker, diameter: markerSize * st.pt), at: centers, colors: [color], clip: axes.frame)
            avoid += centers
            entries.append(LegendEntry(label: s.name, color: color, line: false, marker: s.marker))
        }
        axes.drawDecorations(on: &canvas, st)
        if !note.isEmpty {
            // In the corner with the fewest points under it (the upper left
            // on a tie), on a translucent box; the legend then avoids it.
            let pad = 0.6 * st.fontSize
            let size = TextRenderer.measure(Label(note), size: st.fontSize)
            let (bw, bh) = (size.width + pad, size.height + pad)
            let f = axes.frame
            let corners = [Point(f.x0 + pad / 2, f.y0 + pad / 2), Point(f.x1 - pad / 2 - bw, f.y0 + pad / 2),
                           Point(f.x0 + pad / 2, f.y1 - pad / 2 - bh), Point(f.x1 - pad / 2 - bw, f.y1 - pad / 2 - bh)]
            let margin = markerSize * st.pt
            let covered = corners.map { c in
                avoid.filter { $0.x > c.x - margin && $0.x < c.x + bw + margin && $0.y > c.y - margin && $0.y < c.y + bh + margin }.count
            }
            let corner = corners[covered.indices.min { covered[$0] < covered[$1] }!]
            let box = Rect(x0: corner.x, y0: corner.y, x1: corner.x + bw, y1: corner.y + bh)
            canvas.fillRect(box, color: Color.white.withAlpha(0.85))
            canvas.drawText(Label(note), at: Point(box.x0 + pad / 2, box.y0 + pad / 2), size: st.fontSize,
                            horizontal: .left, vertical: .top)
            for x in stride(from: box.x0, through: box.x1, by: 4) {
                avoid += [Point(x, box.y0), Point(x, (box.y0 + box.y1) / 2), Point(x, box.y1)]
            }
        }
        let named = entries.filter { !$0.label.isEmpty }
        if !named.isEmpty {
            let legend = Legend(entries: named)
            legend.draw(on: &canvas, at: legend.place(in: axes.frame, avoiding: avoid, st), st)
        }
        return canvas
    }
}
