// The information-plane figure of Shwartz-Ziv & Tishby (2017) and Saxe et al. (ICLR
// 2018): for every recorded epoch, each layer's (I(X;T), I(T;Y)) point coloured by
// epoch, the epoch's layers joined by a faint line, a colorbar "Epoch", one panel per
// run side by side with shared limits. It takes plain arrays; reading runs and CSVs is
// the command-line tool's job.
//
// [Saxe]: https://openreview.net/forum?id=ry_WPG-A-
// [Shwartz-Ziv]: https://arxiv.org/abs/1703.00810

/// One layer's mutual-information estimates at one epoch, in bits.
public struct InformationPlanePoint: Sendable, Equatable {
    public var epoch: Int
    /// Layer index, 1 = first hidden layer.
    public var layer: Int
    /// I(X;T), the upper (or only) estimate.
    public var ixt: Double
    /// I(T;Y), the upper (or only) estimate.
    public var ity: Double
    /// The KDE lower bounds, if estimated; drawn as a band towards the upper estimates.
    public var ixtLower: Double?
    public var ityLower: Double?
    /// Half-lengths of error bars (for example the standard deviation over seeds of an
    /// averaged point), drawn through the marker when given.
    public var ixtError: Double?
    public var ityError: Double?

    public init(epoch: Int, layer: Int, ixt: Double, ity: Double, ixtLower: Double? = nil, ityLower: Double? = nil,
                ixtError: Double? = nil, ityError: Double? = nil) {
        self.epoch = epoch; self.layer = layer; self.ixt = ixt; self.ity = ity
        self.ixtLower = ixtLower; self.ityLower = ityLower
        self.ixtError = ixtError; self.ityError = ityError
    }

    var isFinite: Bool { ixt.isFinite && ity.isFinite }
}

/// One run's points, drawn as one panel.
public struct InformationPlanePanel: Sendable {
    public var title: String
    public var points: [InformationPlanePoint]
    public init(title: String, points: [InformationPlanePoint]) { self.title = title; self.points = points }
}

/// Information planes of one or more runs, side by side with shared axes.
public struct InformationPlaneFigure: Sendable {
    /// How points are coloured.
    public enum Coloring: Sendable {
        /// By epoch through `colormap`, with a colorbar "Epoch".
        case epoch
        /// One tab10 colour per layer, with a legend; epoch lines in grey.
        case layer
    }

    public var panels: [InformationPlanePanel]
    /// Panels per row; nil puts them all in one row. Further rows share the axes' limits.
    public var columns: Int?
    public var title: String = ""
    public var coloring: Coloring = .epoch
    public var colormap: Colormap = .gnuplot
    /// Colour epochs on a log scale (colorbar with 10^k ticks); epochs below 1 are drawn
    /// with the lowest colour.
    public var logEpochs: Bool = false
    /// Draw the band between lower and upper bounds where points carry lower bounds.
    public var showBounds: Bool = true
    public var xLabel: String = "I(X;T) (bits)"
    public var yLabel: String = "I(T;Y) (bits)"
    /// The colorbar's label when points are coloured by epoch.
    public var colorbarLabel: String = "Epoch"
    /// Marker diameter in points (matplotlib scatter s=20 is about 4.5 pt).
    public var markerSize: Double = 4.5

    public init(panels: [InformationPlanePanel]) { self.panels = panels }

    /// Human-readable warnings about skipped input (points with NaN or infinite values).
    public var warnings: [String] {
        panels.compactMap { panel in
            let n = panel.points.count { !$0.isFinite }
            return n == 0 ? nil : "\(panel.title.isEmpty ? "panel" : panel.title): skipped \(n) point(s) with NaN or infinite values"
        }
    }

    /// Draws the figure on a new canvas of `width` x `height` pixels times `scale`.
    ///
    /// - Throws: `PlotError` if there are no panels or a panel has no finite point.
    public func render(width: Int = 640, height: Int = 480, scale: Double = 1) throws -> Canvas {
        try drawn(width: width, height: height, scale: scale).canvas
    }

    /// The figure, with the panels' frames and, in layer colouring, the legend's box and
    /// whether it sits outside the axes (for tests).
    func drawn(width: Int, height: Int, scale: Double) throws -> (canvas: Canvas, frames: [Rect], legend: (box: Rect, outside: Bool)?) {
        guard !panels.isEmpty else { throw PlotError("information plane: no runs to plot") }
        for (i, p) in panels.enumerated() where !p.points.contains(where: \.isFinite) {
            throw PlotError("information plane: \(p.title.isEmpty ? "panel \(i + 1)" : p.title) has no finite (I(X;T), I(T;Y)) point")
        }
        let s = Style(scale: scale)
        let W = Int((Double(width) * scale).rounded()), H = Int((Double(height) * scale).rounded())
        var canvas = Canvas(width: W, height: H)

        // Shared limits over every panel, bounds included.
        var xs = [Double](), ys = [Double]()
        var epochs = [Int]()
        for p in panels {
            for q in p.points where q.isFinite {
                xs.append(q.ixt); ys.append(q.ity); epochs.append(q.epoch)
                if showBounds, let l = q.ixtLower, l.isFinite { xs.append(l) }
                if showBounds, let l = q.ityLower, l.isFinite { ys.append(l) }
                if let e = q.ixtError, e.isFinite { xs += [q.ixt - e, q.ixt + e] }
                if let e = q.ityError, e.isFinite { ys += [q.ity - e, q.ity + e] }
            }
        }
        let (xlo, xhi) = AxisModel.autoLimits(xs, scale: .linear)
        let (ylo, yhi) = AxisModel.autoLimits(ys, scale: .linear)
        let eMin = Double(epochs.min()!), eMax = Double(epochs.max()!)
        let useLog = logEpochs && eMax > 1
        let cLo = useLog ? max(1, eMin) : eMin
        let cHi = eMax > cLo ? eMax : cLo + 1
        let colorAxis = AxisModel(scale: useLog ? .log : .linear, lo: cLo, hi: cHi, label: colorbarLabel)
        func epochColor(_ e: Int) -> Color {
            let t = useLog ? colorAxis.fraction(max(1, Double(e))) : (Double(e) - cLo) / (cHi - cLo)
            return colormap.color(at: t)
        }

        let columns = max(1, min(self.columns ?? panels.count, panels.count))
        let rows = (panels.count + columns - 1) / columns
        let makePanel = { (i: Int, frame: Rect) -> AxesPanel in
            var a = AxesPanel(frame: frame, x: AxisModel(scale: .linear, lo: xlo, hi: xhi, label: self.xLabel),
                              y: AxisModel(scale: .linear, lo: ylo, hi: yhi, label: self.yLabel))
            a.title = i < self.panels.count ? self.panels[i].title : ""
            a.showYTickLabels = i % columns == 0
            a.showYLabel = i % columns == 0
            if i / columns < rows - 1 && i + columns < self.panels.count {
                a.showXTickLabels = false
                a.showXLabel = false
            }
            return a
        }
        func makeLayout(reservedRight: Double) -> GridLayout {
            GridLayout.make(width: W, height: H, rows: rows, columns: columns, style: s,
                            colorbarAxis: coloring == .epoch ? colorAxis : nil, suptitle: title,
                            reservedRight: reservedRight, configure: makePanel)
        }
        var layout = makeLayout(reservedRight: 0)
        // With one colour per layer, a legend in the last frame at matplotlib's 'best'
        // location; if every location there covers a marker, outside at the right,
        // level with that frame's top (as CurvesFigure does).
        let layers = Set(panels.flatMap { $0.points.filter(\.isFinite).map(\.layer) })
        let legend = Legend(entries: layers.sorted().map {
            LegendEntry(label: "Layer \($0)", color: Colormap.tab10Color($0 - 1), line: false, marker: .circle)
        })
        func legendAvoidance(_ frame: Rect) -> [Point] {
            let lastPanel = makePanel(panels.count - 1, frame)
            return panels[panels.count - 1].points.filter(\.isFinite).map { lastPanel.point($0.ixt, $0.ity) }
        }
        var legendOutside = false
        if coloring == .layer, let last = layout.frames.last,
           legend.bestPlacement(in: last, avoiding: legendAvoidance(last), s).covered > 0 {
            legendOutside = true
            layout = makeLayout(reservedRight: legend.size(s).width + s.fontSize)
        }
        let marker = Marker(.circle, diameter: markerSize * s.pt)
        for (i, panel) in panels.enumerated() {
            let axes = makePanel(i, layout.frames[i])
            let clip = axes.frame
            let points = panel.points.filter(\.isFinite).sorted { ($0.epoch, $0.layer) < ($1.epoch, $1.layer) }
            // Bands between lower and upper bounds, one per layer, along the epochs.
            if showBounds {
                for layer in Set(points.map(\.layer)).sorted() {
                    let track = points.filter { $0.layer == layer && $0.ixtLower != nil && $0.ityLower != nil }
                        .filter { $0.ixtLower!.isFinite && $0.ityLower!.isFinite }
                    guard track.count >= 2 else { continue }
                    // One polygon: the upper track forward, the lower track back. Where the
                    // tracks cross, the lobes have opposite orientations; the rasterizer
                    // fills |winding| >= 1, so both lobes are shaded.
                    var outline = track.map { axes.point($0.ixt, $0.ity) }
                    outline += track.reversed().map { axes.point($0.ixtLower!, $0.ityLower!) }
                    var path = Path()
                    path.addPolygon(outline)
                    let color = coloring == .layer ? Colormap.tab10Color(layer - 1) : Color.gray(0.5)
                    canvas.fill(path, color: color.withAlpha(0.15), clip: clip)
                }
            }
            // Faint lines joining each epoch's layers.
            var k = 0
            while k < points.count {
                var j = k
                var line = [Point]()
                while j < points.count && points[j].epoch == points[k].epoch {
                    line.append(axes.point(points[j].ixt, points[j].ity)); j += 1
                }
                let color = coloring == .epoch ? epochColor(points[k].epoch) : Color.gray(0.5)
                canvas.stroke(line, color: color.withAlpha(0.1), lineWidth: 1.0 * s.pt, cap: .round, join: .round, clip: clip)
                k = j
            }
            // Error bars, under the markers.
            for q in points where q.ixtError != nil || q.ityError != nil {
                let color = (coloring == .epoch ? epochColor(q.epoch) : Colormap.tab10Color(q.layer - 1)).withAlpha(0.6)
                if let e = q.ixtError, e.isFinite, e > 0 {
                    canvas.stroke([axes.point(q.ixt - e, q.ity), axes.point(q.ixt + e, q.ity)], color: color,
                                  lineWidth: 0.8 * s.pt, cap: .butt, join: .round, clip: clip)
                }
                if let e = q.ityError, e.isFinite, e > 0 {
                    canvas.stroke([axes.point(q.ixt, q.ity - e), axes.point(q.ixt, q.ity + e)], color: color,
                                  lineWidth: 0.8 * s.pt, cap: .butt, join: .round, clip: clip)
                }
            }
            // Markers, later epochs on top.
            let centers = points.map { axes.point($0.ixt, $0.ity) }
            let colors = points.map { coloring == .epoch ? epochColor($0.epoch) : Colormap.tab10Color($0.layer - 1) }
            canvas.stamp(marker, at: centers, colors: colors, clip: clip)
            axes.drawDecorations(on: &canvas, s)
        }
        var legendBox: (box: Rect, outside: Bool)?
        if coloring == .epoch, let cb = layout.colorbar {
            ColorbarModel(colormap: colormap, axis: colorAxis, frame: cb).draw(on: &canvas, s)
        } else if coloring == .layer, let last = layout.frames.last {
            let origin = legendOutside
                ? Point(Double(W) - 0.5 * s.fontSize - legend.size(s).width, last.y0)
                : legend.place(in: last, avoiding: legendAvoidance(last), s)
            legend.draw(on: &canvas, at: origin, s)
            let (w, h, _) = legend.size(s)
            legendBox = (Rect(x0: origin.x, y0: origin.y, x1: origin.x + w, y1: origin.y + h), legendOutside)
        }
        layout.drawSuptitle(title, on: &canvas, panelTitles: panels.contains { !$0.title.isEmpty }, s)
        return (canvas, Array(layout.frames.prefix(panels.count)), legendBox)
    }
}
