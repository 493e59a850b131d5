// The scatter figure: every marker shape draws, intervals and notes included.

import Plotting
import Testing

@Suite struct ScatterTests {
    @Test func everyMarkerShapeDraws() throws {
        // Every shape at many sizes: a star of diameter 9.72 has a nearly horizontal edge
        // whose Float-rounded ends straddle a row boundary, which once ran the
        // rasterizer past its row buffer.
        let shapes: [Marker.Shape] = [.circle, .square, .diamond, .triangle, .star]
        for d in [9.72] + Array(stride(from: 3.0, through: 16.0, by: 0.01)) {
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
