// Figure layout: a grid of axes placed with matplotlib's subplot parameters (left
// 0.125, right 0.9, bottom 0.11, top 0.88, wspace = hspace = 0.2) as minimums, widened
// where tick labels, axis labels, titles or a colorbar would otherwise be clipped or
// collide. This file deliberately does not implement matplotlib's constrained layout.

/// The errors plot functions throw for unusable input.
public struct PlotError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

struct GridLayout {
    var rows: Int
    var columns: Int
    /// Panel frames, row-major, top row first.
    var frames: [Rect]
    /// The colorbar strip, right of the grid, spanning its height.
    var colorbar: Rect?

    /// Draws a figure title centred over the top row, above the panel titles
    /// when the top row has any.
    func drawSuptitle(_ title: String, on canvas: inout Canvas, panelTitles: Bool, _ s: Style) {
        guard !title.isEmpty else { return }
        let x0 = frames[0].x0, x1 = frames[columns - 1].x1
        let lp = TextRenderer.measure(Label("lp"), size: s.titleSize).height
        let y = frames[0].y0 - s.titlePad - (panelTitles ? lp + s.titlePad : 0)
        canvas.drawText(Label(title), at: Point((x0 + x1) / 2, y), size: s.titleSize, horizontal: .center, vertical: .baseline)
    }

    /// Lays out `rows` x `columns` panels on a `width` x `height` canvas.
    ///
    /// - Parameters:
    ///   - configure: fills in the axes of panel i for a trial frame (ticks depend on
    ///     the frame's size), so the layout can measure their decorations.
    ///   - colorbarAxis: the colorbar's axis, if there is one.
    ///   - suptitle: a figure title above the grid.
    ///   - reservedRight: pixels kept free at the right edge, beyond the panels'
    ///     decorations (for a legend outside the axes).
    static func make(width: Int, height: Int, rows: Int, columns: Int, style s: Style,
                     colorbarAxis: AxisModel?, suptitle: String, reservedRight: Double = 0,
                     configure: (Int, Rect) -> AxesPanel) -> GridLayout {
        let W = Double(width), H = Double(height)
        let gap = 4 * s.scale
        var left = 0.125 * W, right = 0.1 * W, top = 0.12 * H, bottom = 0.11 * H
        var wspace = 0.0, hspace = 0.0
        var layout = GridLayout(rows: rows, columns: columns, frames: [], colorbar: nil)
        let suptitleHeight = suptitle.isEmpty ? 0 :
            TextRenderer.measure(Label(suptitle), size: s.titleSize).height + s.titlePad
        for _ in 0..<3 {
            layout.place(W: W, H: H, left: left, right: right, top: top, bottom: bottom,
                         wspace: wspace, hspace: hspace, colorbar: colorbarAxis != nil, s)
            var needLeft = 0.0, needRight = 0.0, needTop = 0.0, needBottom = 0.0
            var needW = 0.0, needH = 0.0
            for i in 0..<(rows * columns) {
                let panel = configure(i, layout.frames[i])
                let e = panel.decorationExtents(s)
                let r = i / columns, c = i % columns
                if c == 0 { needLeft = max(needLeft, e.left) }
                if c == columns - 1 { needRight = max(needRight, e.right) }
                if r == 0 { needTop = max(needTop, e.top) }
                if r == rows - 1 { needBottom = max(needBottom, e.bottom) }
                if c > 0 { needW = max(needW, e.left) }
                if c < columns - 1 { needW = max(needW, e.right + (c > 0 ? 0 : 0)) }
                if r > 0 { needH = max(needH, e.top) }
                if r < rows - 1 { needH = max(needH, e.bottom) }
            }
            var cbNeed = 0.0
            if let axis = colorbarAxis, let cb = layout.colorbar {
                cbNeed = ColorbarModel.extent(axis: axis, height: cb.height, s)
            }
            left = max(0.125 * W, needLeft + gap)
            right = max(0.1 * W, needRight + gap + reservedRight, cbNeed + gap)
            top = max(0.12 * H, needTop + gap + suptitleHeight)
            bottom = max(0.11 * H, needBottom + gap)
            // Between panels: matplotlib's 0.2 of the mean panel size, or what labels need.
            let meanW = (W - left - right) / (Double(columns) + 0.2 * Double(columns - 1))
            let meanH = (H - top - bottom) / (Double(rows) + 0.2 * Double(rows - 1))
            wspace = max(0.2 * meanW, needW + gap)
            hspace = max(0.2 * meanH, needH + gap)
        }
        layout.place(W: W, H: H, left: left, right: right, top: top, bottom: bottom,
                     wspace: wspace, hspace: hspace, colorbar: colorbarAxis != nil, s)
        return layout
    }

    /// Panel frames for the given margins; with a colorbar, the grid gives up 15 % of
    /// its width to it and a 5 % pad (matplotlib's make_axes fraction and pad), and
    /// the strip is height / 20 wide (its aspect 20).
    mutating func place(W: Double, H: Double, left: Double, right: Double, top: Double, bottom: Double,
                        wspace: Double, hspace: Double, colorbar: Bool, _ s: Style) {
        var gridRight = W - right
        let gridH = max(1, H - top - bottom)
        if colorbar {
            let stripW = max(6 * s.scale, gridH / 20)
            let pad = 0.04 * (gridRight - left)
            let x1 = gridRight, x0 = x1 - stripW
            self.colorbar = Rect(x0: x0, y0: top, x1: x1, y1: H - bottom)
            gridRight = x0 - pad
        } else {
            self.colorbar = nil
        }
        let pw = max(1, (gridRight - left - wspace * Double(columns - 1)) / Double(columns))
        let ph = max(1, (gridH - hspace * Double(rows - 1)) / Double(rows))
        frames = []
        for r in 0..<rows {
            for c in 0..<columns {
                let x0 = left + Double(c) * (pw + wspace), y0 = top + Double(r) * (ph + hspace)
                frames.append(Rect(x0: x0, y0: y0, x1: x0 + pw, y1: y0 + ph))
            }
        }
    }
}
