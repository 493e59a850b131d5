// Several heatmaps side by side on one colour scale, e.g. learning rate x
// weight decay sweeps of four optimizers (Loshchilov & Hutter, Fig. 2): the
// panels in a grid, one colorbar for all of them, each panel with its own
// axes, title and best-cell outline.

/// Heatmap panels that share one colour scale and one colorbar.
public struct HeatmapGridFigure: Sendable {
    /// The panels, row-major. Their values, grids, labels, titles, `best`
    /// and `annotate` are used; their colormaps and colour limits are not.
    public var panels: [HeatmapFigure]
    /// Panels per row (nil: all in one row).
    public var columns: Int?
    /// A title above the grid.
    public var title: String = ""
    public var colorbarLabel: String = ""
    public var colormap: Colormap = .viridis
    /// Colour on a log scale (values must be positive).
    public var logColor: Bool = false
    /// Fixed colour limits; nil uses the range of every panel's finite values.
    public var colorLimits: (Double, Double)?

    public init(panels: [HeatmapFigure], columns: Int? = nil) {
        self.panels = panels
        self.columns = columns
    }

    /// Warnings about cells left empty, per panel.
    public var warnings: [String] {
        panels.flatMap { panel in
            var p = panel
            p.logColor = logColor
            return p.warnings.map { (panel.title.isEmpty ? "" : panel.title + ": ") + $0 }
        }
    }

    /// Draws the figure on a new canvas of `width` x `height` pixels times `scale`.
    ///
    /// - Throws: `PlotError` if there is no panel, a panel is empty, or no
    ///   panel has a usable value.
    public func render(width: Int = 1000, height: Int = 800, scale: Double = 1) throws -> Canvas {
        guard !panels.isEmpty else { throw PlotError("heatmap grid: no panels") }
        var panels = self.panels
        for k in panels.indices {
            guard !panels[k].xValues.isEmpty, !panels[k].yValues.isEmpty else {
                throw PlotError("heatmap grid: panel \(k + 1) is empty")
            }
            panels[k].colormap = colormap
            panels[k].logColor = logColor
        }
        let finite = panels.flatMap { p in p.values.filter(p.usable) }
        guard let lo = finite.min(), let hi = finite.max() else {
            throw PlotError("heatmap grid: no finite\(logColor ? " positive" : "") value in any panel")
        }
        var (vmin, vmax) = colorLimits ?? (lo, hi)
        if vmax <= vmin {
            if logColor { vmin /= 2; vmax *= 2 } else { vmin -= 0.5; vmax += 0.5 }
        }
        let s = Style(scale: scale)
        let W = Int((Double(width) * scale).rounded()), H = Int((Double(height) * scale).rounded())
        var canvas = Canvas(width: W, height: H)
        let columns = max(1, min(self.columns ?? panels.count, panels.count))
        let rows = (panels.count + columns - 1) / columns
        let colorAxis = AxisModel(scale: logColor ? .log : .linear, lo: vmin, hi: vmax, label: colorbarLabel)
        func category(_ label: String, _ values: [Double]) -> AxisModel {
            AxisModel(scale: .linear, lo: 0, hi: Double(values.count), label: label,
                      fixedTicks: values.enumerated().map {
                          (Double($0.offset) + 0.5, HeatmapFigure.parameterLabel($0.element, scientific: HeatmapFigure.isLogSpaced(values)))
                      })
        }
        let makePanel = { (i: Int, frame: Rect) -> AxesPanel in
            // Grid slots beyond the last panel repeat its axes (they stay blank).
            let p = panels[min(i, panels.count - 1)]
            var a = AxesPanel(frame: frame, x: category(p.xLabel, p.xValues), y: category(p.yLabel, p.yValues))
            a.title = p.title
            return a
        }
        let layout = GridLayout.make(width: W, height: H, rows: rows, columns: columns, style: s,
                                     colorbarAxis: colorAxis, suptitle: title, configure: makePanel)
        for (i, panel) in panels.enumerated() {
            let axes = makePanel(i, layout.frames[i])
            panel.drawCells(on: &canvas, axes: axes, colorAxis: colorAxis, limits: (vmin, vmax), style: s)
            axes.drawDecorations(on: &canvas, s)
        }
        if let cb = layout.colorbar {
            ColorbarModel(colormap: colormap, axis: colorAxis, frame: cb).draw(on: &canvas, s)
        }
        layout.drawSuptitle(title, on: &canvas, panelTitles: panels.prefix(columns).contains { !$0.title.isEmpty }, s)
        return canvas
    }
}
