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

    @Test func theNoteHidesNoMarker() throws {
        // Points in all four corners of the data, off the grid lines, unnamed (no legend): the
        // markers are the only blue on the canvas, and their total blueness (coverage-weighted,
        // so independent of sub-pixel positions up to rounding) must not drop when a note is
        // added: a covered marker would take a quarter of it.
        func blueness(note: String) throws -> Double {
            var figure = ScatterFigure(series: [ScatterSeries(name: "", x: [0.13, 0.91, 0.11, 0.87], y: [0.17, 0.13, 0.93, 0.89],
                                                              color: Color(r: 0, g: 0, b: 255), marker: .circle)])
            figure.zeroLine = false
            figure.note = note
            let canvas = try figure.render(width: 400, height: 300)
            var total = 0.0
            for y in 0..<canvas.height {
                for x in 0..<canvas.width {
                    let p = canvas.pixel(x: x, y: y)
                    total += Double(max(0, Int(p.b) - max(Int(p.r), Int(p.g)))) / 255
                }
            }
            return total
        }
        let without = try blueness(note: "")
        #expect(without > 4 * 10)
        let with = try blueness(note: "Spearman ρ = 0.50 [0.10, 0.80], a long note")
        #expect(abs(with - without) < 0.03 * without, "\(with) against \(without)")
    }
}
