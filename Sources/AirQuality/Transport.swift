// The transport scheme of the simulated pollutant: first-order upwind
// advection and centred diffusion in flux form on a square grid, explicit in
// time, with the number of sub-steps chosen so that every cell keeps a
// non-negative share of its own mass.
//
// Grid: `n` x `n` cells, row-major with row i the i-th latitude (south to
// north) and column j the j-th longitude (west to east). Velocities live on
// the cell faces (an Arakawa C grid): `eastward[i * (n + 1) + j]` on the face
// west of cell (i, j) (j = n is the east edge), `northward[i * n + j]` on the
// face south of cell (i, j) (i = n is the north edge), in cells per second.
//
// Flux form: every face's flux is taken from one cell and given to the other,
// so the total over the grid changes only by what crosses the boundary (none
// for periodic or closed boundaries: mass is conserved up to the rounding of
// the sums, which the tests bound at 1e-12 relative in Double). With
// outgoing coefficients o_c = dt (max(u_e, 0) + max(-u_w, 0) + max(v_n, 0) +
// max(-v_s, 0)) + 4 dt K in each cell, the update is
// m' = (1 - o_c) m + (non-negative inflows): non-negative whenever o_c ≤ 1,
// which `substeps` guarantees (the Courant-Friedrichs-Lewy limit of the
// combined scheme).

/// What happens at the edges of the grid.
public enum AirBoundary: String, Codable, Sendable, CaseIterable {
    /// Opposite edges are joined.
    case periodic
    /// No flux through the edges (advective or diffusive).
    case closed
    /// Outflow leaves the grid; inflow carries the `inflow` burden; diffusion
    /// exchanges with a region outside held at `inflow`.
    case open
}

/// Upwind advection and diffusion on an n x n grid.
public struct AirTransport: Sendable {
    public let n: Int
    public let boundary: AirBoundary
    /// The burden outside the grid for open boundaries.
    public var inflow: Double

    public init(n: Int, boundary: AirBoundary, inflow: Double = 0) {
        precondition(n >= 2, "AirTransport: a grid of \(n) x \(n)")
        self.n = n
        self.boundary = boundary
        self.inflow = inflow
    }

    /// The largest outgoing rate of any cell (per second) for these face
    /// velocities (cells per second) and diffusion rate K (per second, the
    /// diffusivity over the cell area).
    public func maximumOutgoingRate(eastward: [Double], northward: [Double], diffusion: Double) -> Double {
        precondition(eastward.count == n * (n + 1) && northward.count == (n + 1) * n, "AirTransport: face arrays of the wrong size")
        var worst = 0.0
        for i in 0..<n {
            for j in 0..<n {
                // Periodic: the east face of the last column is the west face of the first.
                let east = boundary == .periodic && j == n - 1 ? i * (n + 1) : i * (n + 1) + j + 1
                let north = boundary == .periodic && i == n - 1 ? j : (i + 1) * n + j
                var out = max(eastward[east], 0) + max(-eastward[i * (n + 1) + j], 0)
                    + max(northward[north], 0) + max(-northward[i * n + j], 0)
                out += 4 * diffusion
                worst = max(worst, out)
            }
        }
        return worst
    }

    /// The sub-steps that keep every cell's outgoing share at most `limit`
    /// (≤ 1) over a step of `dt` seconds.
    public func substeps(eastward: [Double], northward: [Double], diffusion: Double, dt: Double, limit: Double = 0.9) -> Int {
        precondition(limit > 0 && limit <= 1, "AirTransport: Courant limit \(limit)")
        let rate = maximumOutgoingRate(eastward: eastward, northward: northward, diffusion: diffusion)
        return max(1, Int((rate * dt / limit).rounded(.up)))
    }

    /// One explicit step of `dt` seconds on `mass` (n·n values, row-major).
    /// - Precondition: the step is within the limit (`substeps` gives how many to take).
    public func step(_ mass: inout [Double], scratch: inout [Double], eastward: [Double], northward: [Double],
                     diffusion: Double, dt: Double) {
        let n = self.n
        precondition(mass.count == n * n && eastward.count == n * (n + 1) && northward.count == (n + 1) * n)
        if scratch.count != n * n { scratch = [Double](repeating: 0, count: n * n) }
        let boundary = self.boundary, outside = inflow
        let kdt = diffusion * dt
        mass.withUnsafeBufferPointer { m in
            scratch.withUnsafeMutableBufferPointer { next in
                eastward.withUnsafeBufferPointer { u in
                    northward.withUnsafeBufferPointer { v in
                        for k in 0..<(n * n) { next[k] = m[k] }
                        // Faces normal to x: face j of row i lies between columns j - 1 and j.
                        for i in 0..<n {
                            let row = i * n
                            for j in 0...n {
                                var left: Double, right: Double
                                var leftIndex = -1, rightIndex = -1
                                if j == 0 || j == n {
                                    switch boundary {
                                    case .closed: continue
                                    case .periodic:
                                        if j == n { continue }   // the same face as j = 0
                                        leftIndex = row + n - 1; rightIndex = row
                                        left = m[leftIndex]; right = m[rightIndex]
                                    case .open:
                                        if j == 0 { rightIndex = row; left = outside; right = m[rightIndex] }
                                        else { leftIndex = row + n - 1; left = m[leftIndex]; right = outside }
                                    }
                                } else {
                                    leftIndex = row + j - 1; rightIndex = row + j
                                    left = m[leftIndex]; right = m[rightIndex]
                                }
                                let velocity = u[i * (n + 1) + j]
                                // Eastward flux through the face, per step.
                                let flux = dt * (velocity > 0 ? velocity * left : velocity * right) + kdt * (left - right)
                                if leftIndex >= 0 { next[leftIndex] -= flux }
                                if rightIndex >= 0 { next[rightIndex] += flux }
                            }
                        }
                        // Faces normal to y: face i of column j lies between rows i - 1 and i.
                        for i in 0...n {
                            for j in 0..<n {
                                var below: Double, above: Double
                                var belowIndex = -1, aboveIndex = -1
                                if i == 0 || i == n {
                                    switch boundary {
                                    case .closed: continue
                                    case .periodic:
                                        if i == n { continue }
                                        belowIndex = (n - 1) * n + j; aboveIndex = j
                                        below = m[belowIndex]; above = m[aboveIndex]
                                    case .open:
                                        if i == 0 { aboveIndex = j; below = outside; above = m[aboveIndex] }
                                        else { belowIndex = (n - 1) * n + j; below = m[belowIndex]; above = outside }
                                    }
                                } else {
                                    belowIndex = (i - 1) * n + j; aboveIndex = i * n + j
                                    below = m[belowIndex]; above = m[aboveIndex]
                                }
                                let velocity = v[i * n + j]
                                let flux = dt * (velocity > 0 ? velocity * below : velocity * above) + kdt * (below - above)
                                if belowIndex >= 0 { next[belowIndex] -= flux }
                                if aboveIndex >= 0 { next[aboveIndex] += flux }
                            }
                        }
                    }
                }
            }
        }
        swap(&mass, &scratch)
    }

    /// Face velocities of a uniform wind (cells per second): u east, v north.
    public func uniformFaces(u: Double, v: Double) -> (eastward: [Double], northward: [Double]) {
        ([Double](repeating: u, count: n * (n + 1)), [Double](repeating: v, count: (n + 1) * n))
    }
}
