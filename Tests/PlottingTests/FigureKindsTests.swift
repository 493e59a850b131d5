// Curves and heatmap figures: input checking, warnings, labels, and the geometry
// helpers they use (dashing, legend avoidance sampling).

import Testing
@testable import Plotting

@Suite struct CurvesTests {
    @Test func emptyOrUndrawableInputIsAnError() {
        #expect(throws: PlotError.self) { try CurvesFigure(panels: []).render() }
        #expect(throws: PlotError.self) { try CurvesFigure(panels: [CurvesPanel(series: [])]).render() }
        let logOfZero = CurvesPanel(series: [CurveSeries(name: "a", x: [1, 2], y: [0, -1])], yScale: .log)
        #expect(throws: PlotError.self) { try CurvesFigure(panels: [logOfZero]).render() }
    }

    @Test func skippedPointsAreCounted() throws {
        let panel = CurvesPanel(series: [CurveSeries(name: "loss", x: [1, 2, 3, 4], y: [1, .nan, 0, 0.5])], yScale: .log)
        let f = CurvesFigure(panels: [panel])
        #expect(f.warnings == ["loss: skipped 2 point(s) that are NaN, infinite or not positive on a log axis"])
        let c = try f.render(width: 200, height: 150)
        #expect(c.width == 200)
    }

    @Test func lineIsDrawnInItsColour() throws {
        var panel = CurvesPanel(series: [CurveSeries(name: "", x: [0, 1], y: [0.5, 0.5], color: Color(hex: 0x00FF00))])
        panel.legend = false
        let c = try CurvesFigure(panels: [panel]).render(width: 200, height: 150)
        // The horizontal line crosses the middle of the axes.
        var green = 0
        for y in 0..<150 { for x in 0..<200 {
            let p = c.pixel(x: x, y: y)
            if p.g == 255 && p.r == 0 && p.b == 0 { green += 1 }
        } }
        #expect(green > 100)
    }

    @Test func markedAndShadedXRangesAreDrawnAcrossTheAxes() throws {
        var panel = CurvesPanel(series: [CurveSeries(name: "", x: [0, 10], y: [0, 0], color: Color(hex: 0x00FF00))])
        panel.legend = false
        panel.xLimits = (0, 10)
        panel.yLimits = (-1, 1)
        panel.markedX = [5]
        panel.shadedX = [(1, 3)]
        let (c, frames, _) = try CurvesFigure(panels: [panel]).drawn(width: 400, height: 300, scale: 1)
        let f = frames[0]
        func px(_ v: Double) -> Int { Int(f.x0 + v / 10 * f.width) }
        // The band: light grey from top to bottom of the axes at x = 2, white at x = 4.
        for y in [Int(f.y0) + 3, Int(f.y0 + f.height / 4), Int(f.y1) - 3] {
            let shaded = c.pixel(x: px(2), y: y), clear = c.pixel(x: px(4), y: y)
            #expect(shaded.r == shaded.g && shaded.r > 200 && shaded.r < 250)
            #expect(clear.r == 255 && clear.g == 255)
        }
        // The marked line: grey pixels in the column at x = 5, above and below the curve, with gaps (dotted).
        var grey = 0, white = 0
        for y in Int(f.y0) + 2..<Int(f.y0 + f.height / 3) {
            let p = c.pixel(x: px(5), y: y)
            if p.r < 230 && p.r == p.b { grey += 1 } else if p.r == 255 { white += 1 }
        }
        #expect(grey > 10 && white > 5)
    }

    @Test func dashesHaveThePatternLengths() {
        let d = dashed([Point(0, 0), Point(10, 0), Point(10, 10)], on: 3, off: 1.5)
        // 20 px of path: dashes [0,3], [4.5,7.5], [9,12] (around the corner), [13.5,16.5], [18,20].
        #expect(d.count == 5)
        func length(_ p: [Point]) -> Double {
            zip(p, p.dropFirst()).reduce(0) { $0 + (($1.1.x - $1.0.x) * ($1.1.x - $1.0.x) + ($1.1.y - $1.0.y) * ($1.1.y - $1.0.y)).squareRoot() }
        }
        for dash in d.prefix(4) { #expect(abs(length(dash) - 3) < 1e-9) }
        #expect(abs(length(d[4]) - 2) < 1e-9)
        #expect(d[2].count == 3)   // the dash that turns the corner keeps the vertex
    }

    /// 30 horizontal lines across the panel, three of them named: every place inside
    /// the axes covers a line.
    static func coveredPanel() -> CurvesPanel {
        CurvesPanel(series: (0..<30).map { k in
            CurveSeries(name: k < 3 ? "line \(k)" : "", x: [0, 1], y: [Double(k), Double(k)], color: Color(hex: 0x1F77B4))
        })
    }

    func overlaps(_ a: Rect, _ b: Rect) -> Bool { a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 }

    @Test(arguments: [1.0, 2.0])
    func legendGoesOutsideWhenEveryPlaceInsideCoversALine(scale: Double) throws {
        let figure = CurvesFigure(panels: [Self.coveredPanel()])
        let (canvas, frames, legends) = try figure.drawn(width: 500, height: 300, scale: scale)
        let legend = try #require(legends.first)
        #expect(legends.count == 1 && legend.outside)
        #expect(!overlaps(legend.box, frames[0]))
        #expect(legend.box.x0 > frames[0].x1)
        #expect(legend.box.x1 <= Double(canvas.width) && legend.box.y1 <= Double(canvas.height))
        #expect(legend.box.y0 == frames[0].y0)   // level with the panel's top
    }

    @Test func sharedLegendOfACoveredLeftPanelGoesRightOfTheWholeGrid() throws {
        var right = CurvesPanel(series: [CurveSeries(name: "", x: [0, 1], y: [0, 1])])
        right.legend = false
        let (_, frames, legends) = try CurvesFigure(panels: [Self.coveredPanel(), right]).drawn(width: 800, height: 300, scale: 1)
        let legend = try #require(legends.first)
        #expect(legend.outside && legend.panel == 0)
        #expect(frames.allSatisfy { !overlaps(legend.box, $0) })
        #expect(legend.box.x0 > frames[1].x1)
    }

    @Test func legendTakesTheFirstFreeCornerInMatplotlibsOrder() throws {
        let pad = 0.5 * Style(scale: 1).fontSize
        // A line in the lower third: upper right, matplotlib's first choice, is free.
        var low = CurvesPanel(series: [CurveSeries(name: "low", x: [0, 1], y: [0, 0.5])])
        low.yLimits = (0, 3)
        let (_, frames, legends) = try CurvesFigure(panels: [low]).drawn(width: 400, height: 300, scale: 1)
        let box = try #require(legends.first).box
        #expect(!legends[0].outside)
        #expect(abs(box.x1 - (frames[0].x1 - pad)) < 1e-9 && abs(box.y0 - (frames[0].y0 + pad)) < 1e-9)

        // One straight segment from the lower left to the upper right corner, with no
        // vertex near the upper right box: the segment alone rules that box out, and
        // upper left (second in the order) is free.
        var diagonal = CurvesPanel(series: [CurveSeries(name: "rising", x: [0, 1], y: [0, 1])])
        diagonal.xLimits = (0, 1)
        diagonal.yLimits = (0, 1)
        let (_, frames2, legends2) = try CurvesFigure(panels: [diagonal]).drawn(width: 400, height: 300, scale: 1)
        let box2 = try #require(legends2.first).box
        #expect(!legends2[0].outside)
        #expect(abs(box2.x0 - (frames2[0].x0 + pad)) < 1e-9 && abs(box2.y0 - (frames2[0].y0 + pad)) < 1e-9)
    }

    @Test func densifiedSpacing() {
        let pts = densified([Point(0, 0), Point(100, 0)], spacing: 4)
        #expect(pts.count == 26)
        #expect(zip(pts, pts.dropFirst()).allSatisfy { $1.x - $0.x <= 4 + 1e-9 })
    }
}

@Suite struct HeatmapTests {
    @Test func parameterLabels() {
        #expect(HeatmapFigure.parameterLabel(1e-3, scientific: true).plainText == "10\u{2212}3")
        #expect(HeatmapFigure.parameterLabel(3e-4, scientific: true).plainText == "3\u{00D7}10\u{2212}4")
        #expect(HeatmapFigure.parameterLabel(0.25, scientific: false).plainText == "0.25")
        // A linear-spaced axis writes powers of ten as decimals too, like its other labels.
        #expect(HeatmapFigure.parameterLabel(0.1, scientific: false).plainText == "0.1")
        #expect(HeatmapFigure.parameterLabel(1e-3, scientific: false).plainText == "0.001")
        #expect(HeatmapFigure.parameterLabel(0.00625, scientific: false).plainText == "0.00625")
        #expect(HeatmapFigure.parameterLabel(100, scientific: false).plainText == "100")
        #expect(HeatmapFigure.parameterLabel(0, scientific: true).plainText == "0")
        #expect(HeatmapFigure.isLogSpaced([0, 1e-5, 1e-2]))
        #expect(!HeatmapFigure.isLogSpaced([1, 2, 4, 8]))
    }

    @Test func badTablesAreErrors() {
        #expect(throws: PlotError.self) { try HeatmapFigure(values: [], xValues: [], yValues: [1]).render() }
        #expect(throws: PlotError.self) { try HeatmapFigure(values: [.nan, .nan], xValues: [1, 2], yValues: [1]).render() }
    }

    @Test func nanCellsAreCountedAndLeftGrey() throws {
        var h = HeatmapFigure(values: [0.1, .nan, 0.3, 0.4], xValues: [1e-3, 1e-2], yValues: [0, 1e-4])
        h.annotate = false
        h.best = .none
        #expect(h.warnings == ["heatmap: 1 cell(s) with NaN or infinite values left empty"])
        let c = try h.render(width: 300, height: 240)
        // Some pixel is the empty-cell grey 0.9 (230).
        var grey = 0
        for y in 0..<240 { for x in 0..<300 {
            let p = c.pixel(x: x, y: y)
            if p.r == 230 && p.g == 230 && p.b == 230 { grey += 1 }
        } }
        #expect(grey > 100)
    }

    @Test func bestCellIsOutlined() throws {
        var h = HeatmapFigure(values: [0.1, 0.9, 0.3, 0.4], xValues: [1, 2], yValues: [1, 2])
        h.annotate = false
        h.colormap = .viridis
        let withBest = try h.render(width: 300, height: 240)
        h.best = .none
        let without = try h.render(width: 300, height: 240)
        #expect(withBest.pixels != without.pixels)
    }
}

@Suite struct TinyFigureTests {
    @Test(arguments: [(60, 40), (1, 1), (2000, 30)])
    func everyKindRendersAtAnySize(width: Int, height: Int) throws {
        let points = (0..<5).map { InformationPlanePoint(epoch: $0, layer: 1, ixt: Double($0), ity: 0.1 * Double($0)) }
        let info = try InformationPlaneFigure(panels: [InformationPlanePanel(title: "t", points: points)])
            .render(width: width, height: height)
        #expect(info.width == width && info.height == height)
        let curves = try CurvesFigure(panels: [CurvesPanel(series: [CurveSeries(name: "a", x: [1, 10], y: [1, 2])],
                                                           xScale: .log)]).render(width: width, height: height)
        #expect(curves.width == width)
        let heat = try HeatmapFigure(values: [1, 2], xValues: [1, 2], yValues: [3]).render(width: width, height: height)
        #expect(heat.height == height)
    }
}

@Suite struct MutualInformationCurvesTests {
    @Test func oneSeriesPerLayerAndEpochZeroCountedOnLogAxes() throws {
        var points = [InformationPlanePoint]()
        for e in 0..<10 { for l in 1...3 { points.append(InformationPlanePoint(epoch: e, layer: l, ixt: Double(l), ity: 0.1 * Double(e))) } }
        let f = CurvesFigure.mutualInformation(points.shuffled())
        #expect(f.panels.count == 2)
        #expect(f.panels[0].series.map(\.name) == ["Layer 1", "Layer 2", "Layer 3"])
        #expect(f.panels[1].series[2].x == (0..<10).map(Double.init))   // sorted by epoch
        #expect(f.warnings.count == 6)   // epoch 0 on a log axis, per layer and panel
        _ = try f.render(width: 300, height: 200)
        #expect(CurvesFigure.mutualInformation(points, logEpochs: false).warnings.isEmpty)
    }
}

@Suite struct BoundsBandTests {
    @Test func bandShadesBetweenLowerAndUpperBounds() throws {
        let points = [
            InformationPlanePoint(epoch: 0, layer: 1, ixt: 5, ity: 0.5, ixtLower: 3, ityLower: 0.4),
            InformationPlanePoint(epoch: 1, layer: 1, ixt: 6, ity: 0.6, ixtLower: 4, ityLower: 0.5),
        ]
        var f = InformationPlaneFigure(panels: [InformationPlanePanel(title: "", points: points)])
        f.coloring = .layer
        let canvas = try f.render(width: 400, height: 300)
        // Locate data point (4.5, 0.5) the way the figure does: recompute its axes.
        let s = Style(scale: 1)
        let (xlo, xhi) = AxisModel.autoLimits([5, 6, 3, 4], scale: .linear)
        let (ylo, yhi) = AxisModel.autoLimits([0.5, 0.6, 0.4, 0.5], scale: .linear)
        let layout = GridLayout.make(width: 400, height: 300, rows: 1, columns: 1, style: s, colorbarAxis: nil, suptitle: "") { _, frame in
            AxesPanel(frame: frame, x: AxisModel(scale: .linear, lo: xlo, hi: xhi, label: f.xLabel),
                      y: AxisModel(scale: .linear, lo: ylo, hi: yhi, label: f.yLabel))
        }
        let axes = AxesPanel(frame: layout.frames[0], x: AxisModel(scale: .linear, lo: xlo, hi: xhi, label: ""),
                             y: AxisModel(scale: .linear, lo: ylo, hi: yhi, label: ""))
        let p = axes.point(4.5, 0.5)
        let shaded = canvas.pixel(x: Int(p.x), y: Int(p.y))
        // 15 % of tab10 blue over white.
        #expect(abs(Int(shaded.r) - Int((255 * 0.85 + 31 * 0.15).rounded())) <= 2)
        f.showBounds = false
        let plain = try f.render(width: 400, height: 300)
        #expect(plain.pixel(x: Int(p.x), y: Int(p.y)).r == 255)
    }
}

@Suite struct InformationPlaneLegendTests {
    func overlaps(_ a: Rect, _ b: Rect) -> Bool { a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 }

    @Test func layerLegendGoesOutsideWhenMarkersFillThePanel() throws {
        // Markers on a 40 x 40 grid over the whole plane: no free place inside.
        var points = [InformationPlanePoint]()
        for i in 0..<40 { for j in 0..<40 {
            points.append(InformationPlanePoint(epoch: i, layer: 1 + (i + j) % 3, ixt: Double(j) * 0.3, ity: Double(i) * 0.025))
        } }
        var figure = InformationPlaneFigure(panels: [InformationPlanePanel(title: "a", points: points),
                                                     InformationPlanePanel(title: "b", points: points)])
        figure.coloring = .layer
        let (canvas, frames, legend) = try figure.drawn(width: 800, height: 400, scale: 1)
        let drawn = try #require(legend)
        #expect(drawn.outside)
        #expect(frames.allSatisfy { !overlaps(drawn.box, $0) })
        #expect(drawn.box.x0 > frames[1].x1 && drawn.box.x1 <= Double(canvas.width))
    }

    @Test func layerLegendStaysInsideWhenACornerIsFree() throws {
        // Markers along the diagonal's lower part only: the upper left is free.
        let points = (0..<30).map { InformationPlanePoint(epoch: $0, layer: 1 + $0 % 2, ixt: Double($0), ity: Double($0) / 60) }
        var figure = InformationPlaneFigure(panels: [InformationPlanePanel(title: "", points: points)])
        figure.coloring = .layer
        let (_, frames, legend) = try figure.drawn(width: 500, height: 400, scale: 1)
        let drawn = try #require(legend)
        #expect(!drawn.outside)
        #expect(drawn.box.x0 >= frames[0].x0 && drawn.box.x1 <= frames[0].x1)
        #expect(drawn.box.y0 >= frames[0].y0 && drawn.box.y1 <= frames[0].y1)
    }
}
