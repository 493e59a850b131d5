// Line plots of named series: mutual information against epoch (log x), training and
// test loss and accuracy, gradient mean, standard deviation and signal-to-noise ratio
// per layer (log-log), with legends in matplotlib's default style (1.5 pt lines, the
// tab10 colour cycle, 'best' legend placement). Panels sit in a grid.
//
// Takes plain arrays; choosing what to plot from a run is the command-line tool's job.

/// One named line.
public struct CurveSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// nil: the next colour of the tab10 cycle.
    public var color: Color?
    public var dashed: Bool = false
    /// A marker at every point, drawn over the line.
    public var marker: Marker.Shape?
    /// A shaded band from `bandLower` to `bandUpper` (one value per x, e.g. the mean
    /// minus and plus the standard deviation over seeds), in the line's colour.
    public var bandLower: [Double]?
    public var bandUpper: [Double]?

    /// - Precondition: `x.count == y.count`.
    public init(name: String, x: [Double], y: [Double], color: Color? = nil, dashed: Bool = false,
                marker: Marker.Shape? = nil) {
        precondition(x.count == y.count, "CurveSeries \(name): \(x.count) x values, \(y.count) y values")
        self.name = name; self.x = x; self.y = y; self.color = color; self.dashed = dashed; self.marker = marker
    }
}

/// One axes of curves.
public struct CurvesPanel: Sendable {
    public var title: String = ""
    public var xLabel: String = ""
    public var yLabel: String = ""
    public var xScale: AxisScale = .linear
    public var yScale: AxisScale = .linear
    public var series: [CurveSeries]
    public var legend: Bool = true
    public var grid: Bool = false
    /// Fixed limits; nil picks the data range with 5 % margins.
    public var xLimits: (Double, Double)?
    public var yLimits: (Double, Double)?
    /// Vertical lines across the axes at these x values (thin, dotted grey,
    /// under the curves): stage boundaries, restarts.
    public var markedX: [Double] = []
    /// Light grey bands across the axes from each range's start to its end in
    /// x (under the curves): phases such as fade-ins.
    public var shadedX: [(Double, Double)] = []

    public init(series: [CurveSeries], title: String = "", xLabel: String = "", yLabel: String = "",
                xScale: AxisScale = .linear, yScale: AxisScale = .linear) {
        self.series = series; self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.xScale = xScale; self.yScale = yScale
    }

    /// Whether (x, y) can be drawn: finite, and positive on a log axis.
    func usable(_ x: Double, _ y: Double) -> Bool {
        x.isFinite && y.isFinite && (xScale == .linear || x > 0) && (yScale == .linear || y > 0)
    }
}

/// Panels of curves in a grid.
public struct CurvesFigure: Sendable {
    public var panels: [CurvesPanel]
    /// Panels per row; nil puts them all in one row.
    public var columns: Int?
    public var title: String = ""
    /// Give every panel the union of the x ranges, and tick labels only on the bottom row.
    public var sharedX: Bool = false
    /// Give every panel the union of the y ranges, and tick labels only on the first column.
    public var sharedY: Bool = false

    public init(panels: [CurvesPanel], columns: Int? = nil) { self.panels = panels; self.columns = columns }

    /// Warnings about points skipped because they are NaN, infinite, or not positive on a log axis.
    public var warnings: [String] {
        var result = [String]()
        for panel in panels {
            for s in panel.series {
                let n = zip(s.x, s.y).count { !panel.usable($0, $1) }
                if n > 0 { result.append("\(s.name): skipped \(n) point(s) that are NaN, infinite or not positive on a log axis") }
            }
        }
        return result
    }

    /// Draws the figure on a new canvas of `width` x `height` pixels times `scale`.
    ///
    /// - Throws: `PlotError` if there is no panel, a panel has no series, or a panel has
    ///   no drawable point.
    public func render(width: Int = 640, height: Int = 480, scale: Double = 1) throws -> Canvas {
        try drawn(width: width, height: height, scale: scale).canvas
    }

    /// Where a legend was drawn: its panel, its box in pixels, and whether it sits
    /// outside the panel's axes.
    struct LegendBox {
        var panel: Int
        var box: Rect
        var outside: Bool
    }

    /// The figure, with the panels' frames and the legends' boxes (for tests).
    func drawn(width: Int, height: Int, scale: Double) throws -> (canvas: Canvas, frames: [Rect], legends: [LegendBox]) {
        guard !panels.isEmpty else { throw PlotError("curves: nothing to plot") }
        for (i, p) in panels.enumerated() {
            let name = p.title.isEmpty ? "panel \(i + 1)" : p.title
            guard !p.series.isEmpty else { throw PlotError("curves: \(name) has no series") }
            guard p.series.contains(where: { s in zip(s.x, s.y).contains { p.usable($0, $1) } }) else {
                throw PlotError("curves: \(name) has no finite point to draw")
            }
        }
        let s = Style(scale: scale)
        let W = Int((Double(width) * scale).rounded()), H = Int((Double(height) * scale).rounded())
        var canvas = Canvas(width: W, height: H)
        let cols = max(1, min(columns ?? panels.count, panels.count))
        let rows = (panels.count + cols - 1) / cols

        func limits(_ p: CurvesPanel) -> ((Double, Double), (Double, Double)) {
            var xs = [Double](), ys = [Double]()
            for ser in p.series {
                for (x, y) in zip(ser.x, ser.y) where p.usable(x, y) { xs.append(x); ys.append(y) }
                for band in [ser.bandLower, ser.bandUpper] {
                    if let band { for (x, y) in zip(ser.x, band) where p.usable(x, y) { ys.append(y) } }
                }
            }
            return (p.xLimits ?? AxisModel.autoLimits(xs, scale: p.xScale), p.yLimits ?? AxisModel.autoLimits(ys, scale: p.yScale))
        }
        var sharedLimits: (Double, Double)?
        if sharedX {
            let all = panels.map { limits($0).0 }
            sharedLimits = (all.map(\.0).min()!, all.map(\.1).max()!)
        }
        var sharedYLimits: (Double, Double)?
        if sharedY {
            let all = panels.map { limits($0).1 }
            sharedYLimits = (all.map(\.0).min()!, all.map(\.1).max()!)
        }
        let makePanel = { (i: Int, frame: Rect) -> AxesPanel in
            let p = self.panels[i]
            let (xl, yl) = limits(p)
            let x = sharedLimits ?? xl
            let y = sharedYLimits ?? yl
            var a = AxesPanel(frame: frame, x: AxisModel(scale: p.xScale, lo: x.0, hi: x.1, label: p.xLabel),
                              y: AxisModel(scale: p.yScale, lo: y.0, hi: y.1, label: p.yLabel))
            if self.sharedY && i % cols != 0 {
                a.showYTickLabels = false
                a.showYLabel = false
            }
            a.title = p.title
            a.grid = p.grid
            if self.sharedX && i / cols < rows - 1 && i + cols < self.panels.count {
                a.showXTickLabels = false
                a.showXLabel = false
            }
            return a
        }
        func makeLayout(reservedRight: Double) -> GridLayout {
            GridLayout.make(width: W, height: H, rows: rows, columns: cols, style: s, colorbarAxis: nil,
                            suptitle: title, reservedRight: reservedRight, configure: { i, frame in
                i < self.panels.count ? makePanel(i, frame) : makePanel(self.panels.count - 1, frame)
            })
        }
        // A legend goes in its panel at matplotlib's 'best' location; when every location
        // there covers a line, the panels make room at the right and it goes outside,
        // level with its panel's top (matplotlib's `fig.legend(loc="outside right upper")`).
        var layout = makeLayout(reservedRight: 0)
        let outside = Set(panels.indices.filter { i in
            guard let legend = legend(i) else { return false }
            let axes = makePanel(i, layout.frames[i])
            return legend.bestPlacement(in: axes.frame, avoiding: avoidance(i, axes, s), s).covered > 0
        })
        let pad = 0.5 * s.fontSize
        if !outside.isEmpty {
            let width = outside.map { legend($0)!.size(s).width }.max()!
            layout = makeLayout(reservedRight: width + 2 * pad)
        }
        var nextOutsideTop = 0.0
        var boxes = [LegendBox]()
        for (i, panel) in panels.enumerated() {
            let axes = makePanel(i, layout.frames[i])
            axes.drawGrid(on: &canvas, s)
            // Shaded x ranges and marked x values under everything else.
            for (a, b) in panel.shadedX where a.isFinite && b.isFinite && (panel.xScale == .linear || min(a, b) > 0) {
                let pa = axes.point(a, axes.y.lo).x, pb = axes.point(b, axes.y.lo).x
                canvas.fillRect(Rect(x0: min(pa, pb), y0: axes.frame.y0, x1: max(pa, pb), y1: axes.frame.y1),
                                color: Color.gray(0.92), clip: axes.frame)
            }
            for v in panel.markedX where v.isFinite && (panel.xScale == .linear || v > 0) {
                let px = axes.point(v, axes.y.lo).x
                var segment = [Point(px, axes.frame.y0), Point(px, axes.frame.y1)]
                if px < axes.frame.x0 || px > axes.frame.x1 { segment = [] }
                for d in dashed(segment, on: 1.5 * s.lineWidth, off: 1.5 * s.lineWidth) {
                    canvas.stroke(d, color: Color.gray(0.55), lineWidth: 0.6 * s.lineWidth, cap: .butt, join: .round,
                                  clip: axes.frame)
                }
            }
            // Bands first, under every line.
            for (k, ser) in panel.series.enumerated() {
                guard let lower = ser.bandLower, let upper = ser.bandUpper,
                      lower.count == ser.x.count, upper.count == ser.x.count else { continue }
                let color = ser.color ?? Colormap.tab10Color(k)
                let idx = ser.x.indices.filter { panel.usable(ser.x[$0], lower[$0]) && panel.usable(ser.x[$0], upper[$0]) }
                guard idx.count >= 2 else { continue }
                var outline = idx.map { axes.point(ser.x[$0], upper[$0]) }
                outline += idx.reversed().map { axes.point(ser.x[$0], lower[$0]) }
                var path = Path()
                path.addPolygon(outline)
                canvas.fill(path, color: color.withAlpha(0.18), clip: axes.frame)
            }
            for (k, ser) in panel.series.enumerated() {
                let color = ser.color ?? Colormap.tab10Color(k)
                for piece in pieces(panel, ser, axes) {
                    let dashes = ser.dashed ? dashed(piece, on: 3.7 * s.lineWidth, off: 1.6 * s.lineWidth) : [piece]
                    for d in dashes {
                        canvas.stroke(d, color: color, lineWidth: s.lineWidth, cap: ser.dashed ? .butt : .square,
                                      join: .round, clip: axes.frame)
                    }
                    if let m = ser.marker {
                        canvas.stamp(Marker(m, diameter: 6 * s.pt), at: piece, colors: [color], clip: axes.frame)
                    }
                }
            }
            axes.drawDecorations(on: &canvas, s)
            if let legend = legend(i) {
                let (w, h, _) = legend.size(s)
                let origin: Point
                if outside.contains(i) {
                    origin = Point(Double(W) - pad - w, max(axes.frame.y0, nextOutsideTop))
                    nextOutsideTop = origin.y + h + pad
                } else {
                    origin = legend.place(in: axes.frame, avoiding: avoidance(i, axes, s), s)
                }
                legend.draw(on: &canvas, at: origin, s)
                boxes.append(LegendBox(panel: i, box: Rect(x0: origin.x, y0: origin.y, x1: origin.x + w, y1: origin.y + h),
                                       outside: outside.contains(i)))
            }
        }
        layout.drawSuptitle(title, on: &canvas, panelTitles: panels.prefix(cols).contains { !$0.title.isEmpty }, s)
        return (canvas, Array(layout.frames.prefix(panels.count)), boxes)
    }

    /// Panel i's legend, if it has one with a labelled entry.
    func legend(_ i: Int) -> Legend? {
        let panel = panels[i]
        guard panel.legend else { return nil }
        let entries = panel.series.enumerated().compactMap { k, ser -> LegendEntry? in
            ser.name.isEmpty ? nil : LegendEntry(label: ser.name, color: ser.color ?? Colormap.tab10Color(k), line: true,
                                                 marker: ser.marker, dashed: ser.dashed)
        }
        return entries.isEmpty ? nil : Legend(entries: entries)
    }

    /// A series' drawable runs of points in pixels, broken at unusable points.
    func pieces(_ panel: CurvesPanel, _ ser: CurveSeries, _ axes: AxesPanel) -> [[Point]] {
        var pieces = [[Point]](), current = [Point]()
        for (x, y) in zip(ser.x, ser.y) {
            if panel.usable(x, y) {
                current.append(axes.point(x, y))
            } else if !current.isEmpty {
                pieces.append(current); current = []
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// What a legend in panel i must not cover: every line sampled every few pixels, so
    /// 'best' avoids segments, not just vertices.
    func avoidance(_ i: Int, _ axes: AxesPanel, _ s: Style) -> [Point] {
        panels[i].series.flatMap { ser in
            pieces(panels[i], ser, axes).flatMap { densified($0, spacing: 4 * s.scale) }
        }
    }
}

/// Cuts a polyline into dashes of length `on` separated by gaps of `off` pixels.
func dashed(_ points: [Point], on: Double, off: Double) -> [[Point]] {
    guard points.count >= 2, on > 0, off > 0 else { return [points] }
    var result = [[Point]]()
    var current = [points[0]]
    var drawing = true
    var remaining = on
    for k in 1..<points.count {
        var a = points[k - 1]
        let b = points[k]
        var len = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
        while len > remaining {
            let t = remaining / len
            let m = Point(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
            if drawing { current.append(m); result.append(current) } else { current = [m] }
            drawing.toggle()
            len -= remaining
            remaining = drawing ? on : off
            a = m
        }
        remaining -= len
        if drawing { current.append(b) }
    }
    if drawing && current.count >= 2 { result.append(current) }
    return result
}

/// The polyline's vertices plus points every `spacing` pixels along its segments.
func densified(_ points: [Point], spacing: Double) -> [Point] {
    guard points.count >= 2 else { return points }
    var out = [points[0]]
    for k in 1..<points.count {
        let a = points[k - 1], b = points[k]
        let len = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
        let n = min(10_000, Int(len / spacing))
        if n > 1 {
            for i in 1..<n {
                let t = Double(i) / Double(n)
                out.append(Point(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)))
            }
        }
        out.append(b)
    }
    return out
}

extension CurvesFigure {
    /// I(X;T) and I(T;Y) against epoch, one line per layer, side by side: the
    /// information-plane data as time series.
    ///
    /// With `logEpochs` the x axes are logarithmic and epoch 0 cannot be shown (it is
    /// counted in `warnings`).
    public static func mutualInformation(_ points: [InformationPlanePoint], logEpochs: Bool = true) -> CurvesFigure {
        let layers = Set(points.map(\.layer)).sorted()
        func series(_ value: (InformationPlanePoint) -> Double) -> [CurveSeries] {
            layers.map { layer in
                let rows = points.filter { $0.layer == layer }.sorted { $0.epoch < $1.epoch }
                return CurveSeries(name: "Layer \(layer)", x: rows.map { Double($0.epoch) }, y: rows.map(value),
                                   color: Colormap.tab10Color(layer - 1))
            }
        }
        let scale: AxisScale = logEpochs ? .log : .linear
        var left = CurvesPanel(series: series(\.ixt), xLabel: "Epoch", yLabel: "I(X;T) (bits)", xScale: scale)
        left.legend = false
        let right = CurvesPanel(series: series(\.ity), xLabel: "Epoch", yLabel: "I(T;Y) (bits)", xScale: scale)
        return CurvesFigure(panels: [left, right])
    }
}
