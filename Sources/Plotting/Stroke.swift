// Turns a stroked polyline into a fillable polygon set: one quadrilateral per segment,
// plus join and cap pieces, all with the same orientation so that the rasterizer's
// non-zero rule fills their union exactly once (a translucent line does not darken
// where its pieces overlap). This file deliberately does no dashing or curve offsetting.

enum Stroker {
    /// The polygons of a stroke of `width` pixels along `points`.
    static func strokePath(_ input: [Point], width: Double, cap inputCap: LineCap, join inputJoin: LineJoin,
                           closed: Bool) -> Path {
        // Below two pixels a round join or cap differs from a bevel or square one by less
        // than a quarter of a pixel's coverage; the cheaper shapes keep thousands of faint
        // lines fast.
        let thin = width <= 2
        let join = thin && inputJoin == .round ? .bevel : inputJoin
        let cap = thin && inputCap == .round ? .square : inputCap
        var path = Path()
        path.tolerance = 0.1
        // Drop repeated points: they have no direction.
        var points = [Point]()
        points.reserveCapacity(input.count)
        for p in input where p.x.isFinite && p.y.isFinite {
            if let last = points.last, last.x == p.x, last.y == p.y { continue }
            points.append(p)
        }
        let h = width / 2
        guard h > 0 else { return path }
        if points.count == 1 {
            // A zero-length line shows as its caps, like in most renderers.
            let p = points[0]
            switch cap {
            case .butt: break
            case .round: path.addCircle(center: p, radius: h, clockwise: true)
            case .square: path.addPolygon(oriented([Point(p.x - h, p.y - h), Point(p.x + h, p.y - h),
                                                    Point(p.x + h, p.y + h), Point(p.x - h, p.y + h)]))
            }
            return path
        }
        if points.count < 2 { return path }
        let n = points.count
        let segmentCount = closed ? n : n - 1
        for i in 0..<segmentCount {
            var p0 = points[i], p1 = points[(i + 1) % n]
            let dx = p1.x - p0.x, dy = p1.y - p0.y
            let len = (dx * dx + dy * dy).squareRoot()
            let ux = dx / len, uy = dy / len
            if cap == .square && !closed {
                if i == 0 { p0 = Point(p0.x - ux * h, p0.y - uy * h) }
                if i == segmentCount - 1 { p1 = Point(p1.x + ux * h, p1.y + uy * h) }
            }
            let nx = -uy * h, ny = ux * h
            path.addPolygon(oriented([Point(p0.x + nx, p0.y + ny), Point(p1.x + nx, p1.y + ny),
                                      Point(p1.x - nx, p1.y - ny), Point(p0.x - nx, p0.y - ny)]))
        }
        // Joins at interior vertices (all vertices of a closed line).
        let joinRange = closed ? 0..<n : 1..<(n - 1)
        for i in joinRange {
            let a = points[(i - 1 + n) % n], p = points[i], b = points[(i + 1) % n]
            addJoin(&path, a, p, b, h, join)
        }
        if !closed && cap == .round {
            path.addCircle(center: points[0], radius: h, clockwise: true)
            path.addCircle(center: points[n - 1], radius: h, clockwise: true)
        }
        return path
    }

    /// The wedge that fills the gap on the outer side of the corner at `p`.
    static func addJoin(_ path: inout Path, _ a: Point, _ p: Point, _ b: Point, _ h: Double, _ join: LineJoin) {
        let d0x = p.x - a.x, d0y = p.y - a.y, d1x = b.x - p.x, d1y = b.y - p.y
        let l0 = (d0x * d0x + d0y * d0y).squareRoot(), l1 = (d1x * d1x + d1y * d1y).squareRoot()
        guard l0 > 0, l1 > 0 else { return }
        let u0 = Point(d0x / l0, d0y / l0), u1 = Point(d1x / l1, d1y / l1)
        let cross = u0.x * u1.y - u0.y * u1.x
        if abs(cross) < 1e-9 && u0.x * u1.x + u0.y * u1.y > 0 { return }   // straight on
        switch join {
        case .round:
            path.addCircle(center: p, radius: h, clockwise: true)
        case .bevel, .miter:
            // The outer side is to the left of travel when turning right, and vice versa.
            let s: Double = cross > 0 ? -1 : 1
            let e0 = Point(p.x - u0.y * h * s, p.y + u0.x * h * s)
            let e1 = Point(p.x - u1.y * h * s, p.y + u1.x * h * s)
            var wedge = [p, e0]
            if join == .miter {
                // The miter tip lies on the bisector of the two outer offsets at distance
                // h / cos(phi/2) from p (phi the turning angle); matplotlib's limit of 4
                // falls back to a bevel when cos(phi/2) < 1/4.
                let sx = e0.x + e1.x - 2 * p.x, sy = e0.y + e1.y - 2 * p.y
                let sl2 = sx * sx + sy * sy
                if sl2 > 0 && sl2.squareRoot() / (2 * h) > 0.25 {
                    let k = 2 * h * h / sl2
                    wedge.append(Point(p.x + sx * k, p.y + sy * k))
                }
            }
            wedge.append(e1)
            path.addPolygon(oriented(wedge))
        }
    }

    /// The polygon with negative shoelace area (clockwise on screen), the orientation of
    /// every stroke piece, reversed if needed.
    static func oriented(_ pts: [Point]) -> [Point] {
        var s = 0.0
        for i in 0..<pts.count {
            let p = pts[i], q = pts[(i + 1) % pts.count]
            s += p.x * q.y - q.x * p.y
        }
        return s > 0 ? pts.reversed() : pts
    }
}
