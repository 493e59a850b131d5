// Coverage of the rasterizer against exact areas and a naive supersampling reference,
// and the non-zero rule on overlapping and opposite contours.

import Testing
@testable import Plotting

/// The exact overlap of [a0, a1] with the pixel interval [i, i + 1].
private func overlap(_ a0: Double, _ a1: Double, _ i: Int) -> Double {
    max(0, min(a1, Double(i + 1)) - max(a0, Double(i)))
}

/// Naive reference: the fraction of an n x n grid of sample points of pixel (px, py)
/// inside the polygon by the non-zero winding rule.
private func supersampled(_ polygon: [Point], px: Int, py: Int, n: Int = 64) -> Double {
    var inside = 0
    for sy in 0..<n {
        for sx in 0..<n {
            let x = Double(px) + (Double(sx) + 0.5) / Double(n), y = Double(py) + (Double(sy) + 0.5) / Double(n)
            var winding = 0
            for k in 0..<polygon.count {
                let a = polygon[k], b = polygon[(k + 1) % polygon.count]
                if (a.y <= y) != (b.y <= y) {
                    let xc = a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x)
                    if xc > x { winding += a.y < b.y ? 1 : -1 }
                }
            }
            if winding != 0 { inside += 1 }
        }
    }
    return Double(inside) / Double(n * n)
}

@Suite struct RasterizerTests {
    @Test(arguments: [(0.0, 0.0), (0.25, 0.5), (0.3, 0.7), (0.999, 0.001), (0.5, 0.5)])
    func rectangleCoverageIsExactAreaPerPixel(offset: (Double, Double)) {
        let canvas = Canvas(width: 12, height: 10)
        let x0 = 2 + offset.0, y0 = 3 + offset.1, w = 5.35, h = 3.8
        var path = Path()
        path.addRect(x: x0, y: y0, width: w, height: h)
        let cov = canvas.coverage(of: path)
        for y in 0..<10 {
            for x in 0..<12 {
                let exact = overlap(x0, x0 + w, x) * overlap(y0, y0 + h, y)
                #expect(abs(Double(cov[y * 12 + x]) - exact) < 1e-5, "pixel (\(x), \(y))")
            }
        }
    }

    @Test(arguments: [3.3, 10.0, 17.45])
    func discCoverageMatchesPiRSquared(radius: Double) {
        let n = Int(2 * radius) + 6
        let canvas = Canvas(width: n, height: n)
        var path = Path()
        path.addCircle(center: Point(Double(n) / 2 + 0.27, Double(n) / 2 - 0.41), radius: radius)
        let total = canvas.coverage(of: path).reduce(0.0) { $0 + Double($1) }
        let exact = Double.pi * radius * radius
        #expect(abs(total - exact) / exact < 0.005)
    }

    @Test func triangleMatchesSupersampledReference() {
        let canvas = Canvas(width: 16, height: 14)
        let tri = [Point(1.2, 2.7), Point(14.6, 5.1), Point(6.3, 12.9)]
        var path = Path()
        path.addPolygon(tri)
        let cov = canvas.coverage(of: path)
        var worst = 0.0
        for y in 0..<14 {
            for x in 0..<16 {
                worst = max(worst, abs(Double(cov[y * 16 + x]) - supersampled(tri, px: x, py: y)))
            }
        }
        // 64 x 64 samples resolve a pixel's coverage to about 1/64 along an edge.
        #expect(worst < 0.02)
    }

    @Test func overlappingContoursFillOnceAndHolesCancel() {
        let canvas = Canvas(width: 10, height: 10)
        var union = Path()
        union.addRect(x: 1, y: 1, width: 5, height: 5)
        union.addRect(x: 3, y: 3, width: 5, height: 5)
        let u = canvas.coverage(of: union)
        #expect(u[4 * 10 + 4] == 1)     // inside both: winding 2, still coverage 1
        #expect(u[2 * 10 + 2] == 1)
        #expect(u[8 * 10 + 8] == 0)
        var ring = Path()
        ring.addPolygon([Point(1, 1), Point(9, 1), Point(9, 9), Point(1, 9)])
        ring.addPolygon([Point(3, 3), Point(3, 7), Point(7, 7), Point(7, 3)])   // opposite orientation
        let r = canvas.coverage(of: ring)
        #expect(r[5 * 10 + 5] == 0)
        #expect(r[2 * 10 + 2] == 1)
    }

    @Test func clippingKeepsTheAreaInsideTheCanvas() {
        let canvas = Canvas(width: 8, height: 8)
        var path = Path()
        path.addRect(x: -3.5, y: -2.25, width: 6, height: 5)   // covers [0, 2.5] x [0, 2.75]
        let total = canvas.coverage(of: path).reduce(0.0) { $0 + Double($1) }
        #expect(abs(total - 2.5 * 2.75) < 1e-4)
    }

    @Test func nonFiniteAndHugeCoordinatesAreHarmless() {
        let canvas = Canvas(width: 8, height: 8)
        var path = Path()
        path.addPolygon([Point(1, 1), Point(.nan, 3), Point(1e300, 1e300), Point(-1e300, 5)])
        let cov = canvas.coverage(of: path)
        #expect(cov.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func translucentStrokeDoesNotDarkenWhereItsPiecesOverlap() {
        var canvas = Canvas(width: 40, height: 40)
        canvas.stroke([Point(5, 5), Point(30, 5), Point(30, 30)], color: .black.withAlpha(0.5),
                      lineWidth: 6, cap: .round, join: .round)
        // At the corner, segment quads and the join disc overlap; one layer of 50 % black.
        let p = canvas.pixel(x: 30, y: 5)
        #expect(p.r == 128 || p.r == 127)
    }

    @Test func axisAlignedLinesAreSnappedToWholePixels() {
        var canvas = Canvas(width: 10, height: 10)
        canvas.horizontalLine(x0: 0, x1: 10, y: 4.3, lineWidth: 1, color: .black)
        #expect(canvas.pixel(x: 5, y: 4).r == 0)
        #expect(canvas.pixel(x: 5, y: 3).r == 255)
        #expect(canvas.pixel(x: 5, y: 5).r == 255)
    }

    @Test func markerStampIsSymmetric() {
        let m = Marker(.circle, diameter: 6)
        let n = m.size
        for j in 0..<n {
            for i in 0..<n {
                #expect(abs(m.mask[j * n + i] - m.mask[j * n + (n - 1 - i)]) < 1e-5)
                #expect(abs(m.mask[j * n + i] - m.mask[(n - 1 - j) * n + i]) < 1e-5)
            }
        }
        let total = m.mask.reduce(0.0) { $0 + Double($1) }
        #expect(abs(total - Double.pi * 9) / (Double.pi * 9) < 0.01)
    }
}
