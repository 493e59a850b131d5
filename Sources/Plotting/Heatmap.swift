// A heatmap of one value over two hyper-parameters, e.g. test accuracy over a learning
// rate x weight decay sweep: one cell per (x, y) pair in grid order, the parameter
// values as tick labels at cell centres (10^k for exact powers of ten), a colorbar,
// optional value annotations and an outline on the best cell. NaN cells (failed or
// missing runs) are left light grey and counted in `warnings`.
//
// Deliberately no clustering or interpolation: a sweep is a small table.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A table of values over two parameter grids.
public struct HeatmapFigure: Sendable {
    /// Which cell to outline.
    public enum Best: Sendable { case none, maximum, minimum }

    /// Row-major values: `values[i * xValues.count + j]` belongs to (xValues[j], yValues[i]).
    public var values: [Double]
    /// Parameter values along x (columns), drawn left to right.
    public var xValues: [Double]
    /// Parameter values along y (rows), drawn bottom to top.
    public var yValues: [Double]
    public var xLabel: String = ""
    public var yLabel: String = ""
    public var colorbarLabel: String = ""
    public var title: String = ""
    public var colormap: Colormap = .viridis
    /// Colour on a log scale (values must be positive).
    public var logColor: Bool = false
    /// Write each value in its cell.
    public var annotate: Bool = true
    public var best: Best = .maximum
    /// Fixed colour limits; nil uses the finite values' range.
    public var colorLimits: (Double, Double)?

    /// - Precondition: `values.count == xValues.count * yValues.count`.
    public init(values: [Double], xValues: [Double], yValues: [Double]) {
        precondition(values.count == xValues.count * yValues.count,
                     "HeatmapFigure: \(values.count) values for \(xValues.count) x \(yValues.count) cells")
        self.values = values; self.xValues = xValues; self.yValues = yValues
    }

    func usable(_ v: Double) -> Bool { v.isFinite && (!logColor || v > 0) }

    /// Warnings about cells left empty.
    public var warnings: [String] {
        let n = values.count { !usable($0) }
        return n == 0 ? [] : ["heatmap: \(n) cell(s) with NaN\(logColor ? ", non-positive" : "") or infinite values left empty"]
    }

    /// A compact label for a parameter value: on a log-spaced axis (`scientific`),
    /// 10^k for powers of ten and m×10^k for the others; else 3 significant digits
    /// for every value, powers of ten included, so one axis never mixes the forms.
    static func parameterLabel(_ v: Double, scientific: Bool) -> Label {
        if v > 0 && scientific {
            let k = log10(v).rounded()
            if abs(v - pow(10, k)) <= 1e-9 * v { return TickFormatter.power(v) }
            let e = Int(log10(v).rounded(.down))
            let m = v / pow(10, Double(e))
            return Label.power(base: "\(significant(m, 2))\u{00D7}10", exponent: e < 0 ? "\u{2212}\(-e)" : "\(e)")
        }
        return Label(significant(v, 3))
    }

    /// Whether the positive values span two decades or more (a log-spaced sweep).
    static func isLogSpaced(_ values: [Double]) -> Bool {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        guard let lo = positive.min(), let hi = positive.max() else { return false }
        return hi / lo >= 100
    }

    /// `v` with `digits` significant digits, trailing zeros dropped, typographic minus.
    static func significant(_ v: Double, _ digits: Int) -> String {
        if v == 0 { return "0" }
        let e = Int(log10(abs(v)).rounded(.down))
        let decimals = max(0, digits - 1 - e)
        var s = TickFormatter.format(v, decimals: decimals)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// Draws the figure on a new canvas of `width` x `height` pixels times `scale`.
    ///
    /// - Throws: `PlotError` if the table is empty or has no usable value.
    public func render(width: Int = 640, height: Int = 480, scale: Double = 1) throws -> Canvas {
        guard !xValues.isEmpty, !yValues.isEmpty else { throw PlotError("heatmap: empty table") }
        let finite = values.filter(usable)
        guard let vmin0 = finite.min(), let vmax0 = finite.max() else {
            throw PlotError("heatmap: no finite\(logColor ? " positive" : "") value in the table")
        }
        var (vmin, vmax) = colorLimits ?? (vmin0, vmax0)
        if vmax <= vmin {
            if logColor { vmin /= 2; vmax *= 2 } else { vmin -= 0.5; vmax += 0.5 }
        }
        let s = Style(scale: scale)
        let W = Int((Double(width) * scale).rounded()), H = Int((Double(height) * scale).rounded())
        var canvas = Canvas(width: W, height: H)
        let nx = xValues.count, ny = yValues.count
        let colorAxis = AxisModel(scale: logColor ? .log : .linear, lo: vmin, hi: vmax, label: colorbarLabel)
        func category(_ n: Int, _ label: String, _ values: [Double]) -> AxisModel {
            AxisModel(scale: .linear, lo: 0, hi: Double(n), label: label,
                      fixedTicks: values.enumerated().map {
                          (Double($0.offset) + 0.5, HeatmapFigure.parameterLabel($0.element, scientific: HeatmapFigure.isLogSpaced(values)))
                      })
        }
        let makePanel = { (_: Int, frame: Rect) -> AxesPanel in
            var a = AxesPanel(frame: frame, x: category(nx, self.xLabel, self.xValues), y: category(ny, self.yLabel, self.yValues))
            a.title = self.title
            return a
        }
        let layout = GridLayout.make(width: W, height: H, rows: 1, columns: 1, style: s, colorbarAxis: colorAxis,
                                     suptitle: "", configure: makePanel)
        let axes = makePanel(0, layout.frames[0])
        drawCells(on: &canvas, axes: axes, colorAxis: colorAxis, limits: (vmin, vmax), style: s)
        axes.drawDecorations(on: &canvas, s)
        if let cb = layout.colorbar {
            ColorbarModel(colormap: colormap, axis: colorAxis, frame: cb).draw(on: &canvas, s)
        }
        return canvas
    }

    /// Fills the cells of `axes` (colour from `colorAxis`, clamped to
    /// `limits`), writes the values if `annotate`, and outlines the best cell.
    func drawCells(on canvas: inout Canvas, axes: AxesPanel, colorAxis: AxisModel, limits: (Double, Double), style s: Style) {
        let (vmin, vmax) = limits
        let nx = xValues.count, ny = yValues.count
        let finite = values.filter(usable)
        var bestIndex: Int?
        for (k, v) in values.enumerated() where usable(v) {
            if let b = bestIndex {
                if (best == .maximum && v > values[b]) || (best == .minimum && v < values[b]) { bestIndex = k }
            } else if best != .none { bestIndex = k }
        }
        // Cells, snapped to whole pixels so neighbours meet without seams.
        func cellRect(_ i: Int, _ j: Int) -> Rect {
            let p0 = axes.point(Double(j), Double(i + 1)), p1 = axes.point(Double(j + 1), Double(i))
            return Rect(x0: p0.x.rounded(), y0: p0.y.rounded(), x1: p1.x.rounded(), y1: p1.y.rounded())
        }
        // One number of decimals for every cell: three significant digits of the largest.
        let largest = finite.map(abs).max() ?? 1
        let decimals = largest > 0 ? max(0, 2 - Int(log10(largest).rounded(.down))) : 0
        let annotationSize = min(s.fontSize, 0.28 * min(axes.frame.width / Double(nx), axes.frame.height / Double(ny)))
        for i in 0..<ny {
            for j in 0..<nx {
                let v = values[i * nx + j]
                let r = cellRect(i, j)
                guard usable(v) else {
                    canvas.fillRect(r, color: .gray(0.9))
                    continue
                }
                let c = colormap.color(at: colorAxis.fraction(min(max(v, vmin), vmax)))
                canvas.fillRect(r, color: c)
                if annotate && annotationSize >= 6 * s.scale {
                    // Relative luminance (sRGB weights) picks black or white text.
                    let lum = 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b)
                    canvas.drawText(Label(TickFormatter.format(v, decimals: decimals)), at: Point((r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2),
                                    size: annotationSize, color: lum > 128 ? .black : .white,
                                    horizontal: .center, vertical: .center)
                }
            }
        }
        if let b = bestIndex {
            let r = cellRect(b / nx, b % nx)
            // A black outline with a white core stays visible on any colormap.
            let lw = 2.5 * s.pt
            let inset = lw / 2
            let outline = [Point(r.x0 + inset, r.y0 + inset), Point(r.x1 - inset, r.y0 + inset),
                           Point(r.x1 - inset, r.y1 - inset), Point(r.x0 + inset, r.y1 - inset)]
            canvas.stroke(outline, color: .black, lineWidth: lw, join: .miter, closed: true)
            canvas.stroke(outline, color: .white, lineWidth: lw * 0.4, join: .miter, closed: true)
        }
    }
}
