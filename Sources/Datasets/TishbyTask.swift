// The 12-bit task of Shwartz-Ziv & Tishby (2017): generator, geometry and rule.
//
// All 4096 binary patterns of 12 inputs; input i stands for vertex i of a
// regular icosahedron (12 evenly spread points on the unit sphere), and the
// label is a threshold on a function of the *set* of active vertices that
// only depends on distances between them, hence is invariant under every
// rotation and reflection of the sphere that maps the icosahedron to itself.
// This file is the rule and its documentation; reading the paper's own data
// is in TishbyCSV.swift.
//
// [SZT17]: R. Shwartz-Ziv, N. Tishby, "Opening the Black Box of Deep Neural
//   Networks via Information", arXiv:1703.00810 (2017).

import Tensors

/// The 12-bit icosahedral classification task of [Shwartz-Ziv & Tishby 2017][SZT17].
///
/// **Inputs.** Row i (0 ≤ i < 4096) is the 12-bit binary representation of
/// i, most significant bit in column 0, as in the original `var_u.mat`.
///
/// **Geometry.** Column j is the unit vector vⱼ = uⱼ/|uⱼ| of an icosahedron
/// vertex uⱼ ∈ {(0, ±1, ±φ), (±1, ±φ, 0), (±φ, 0, ±1)}, φ = (1+√5)/2,
/// numbered so that two columns are neighbours (edge length 2 before
/// normalising) exactly as in the adjacency of the original data
/// (`/work/shared/data/tishby-var-u/README.md`; antipodal pairs (0,9) (1,7)
/// (2,5) (3,6) (4,10) (8,11)).
///
/// **Rule.** For the set S of active inputs,
///
///     s(S) = |S| + ‖Σ_{j∈S} vⱼ‖,        y = 1  iff  s(S) ≥ θ,  θ = 7.6.
///
/// The count term makes more active points more likely positive; the norm of
/// the resultant (0 for a balanced configuration, up to |S| for points
/// bunched together) breaks ties by how clustered the active points are on
/// the sphere. Both terms are unchanged by any orthogonal map of the sphere,
/// so y is invariant under all 120 symmetries of the icosahedron. θ lies in
/// the gap (7.5628, 7.7013] between attained values of s, so nothing sits on
/// the boundary and rounding cannot flip a label. It gives p(y=1) =
/// 2118/4096 = 0.517 and by k = |S|: k ≤ 4 → 0 (s ≤ 4 + 2.75); k = 5 → 1 only
/// for the 60 most clustered sets (‖Σv‖ = 2.93); k = 6 → 532 of 924; k = 7 →
/// all but 60 (the most balanced, ‖Σv‖ = 0.56); k ≥ 8 → 1. These are exactly
/// the statistics of the original labels, and the generated labels equal the
/// original ones on all 4096 rows (checked by a test when the data is present):
/// the weight 1 on the norm (no free weight) and θ were chosen for that.
public enum TishbyTask {
    /// The number of inputs.
    public static let inputCount = 12
    /// The number of samples, 2¹².
    public static let sampleCount = 4096
    /// The threshold θ on s(S) (see the type's documentation).
    public static let threshold = 7.6

    /// Each column's five neighbours on the icosahedron (as in the original data).
    public static let neighbours: [[Int]] = [
        [1, 3, 5, 10, 11], [0, 2, 3, 4, 11], [1, 3, 4, 8, 9], [0, 1, 2, 8, 10],
        [1, 2, 6, 9, 11], [0, 6, 7, 10, 11], [4, 5, 7, 9, 11], [5, 6, 8, 9, 10],
        [2, 3, 7, 9, 10], [2, 4, 6, 7, 8], [0, 3, 5, 7, 8], [0, 1, 4, 5, 6],
    ]

    /// The vertices uⱼ before normalising (edge length 2), in column order.
    public static let rawVertices: [SIMD3<Double>] = {
        let phi = (1 + 5.0.squareRoot()) / 2
        return [
            SIMD3(0, 1, phi), SIMD3(1, phi, 0), SIMD3(0, 1, -phi), SIMD3(-1, phi, 0),
            SIMD3(phi, 0, -1), SIMD3(0, -1, phi), SIMD3(1, -phi, 0), SIMD3(-1, -phi, 0),
            SIMD3(-phi, 0, -1), SIMD3(0, -1, -phi), SIMD3(-phi, 0, 1), SIMD3(phi, 0, 1),
        ]
    }()

    /// The unit vectors vⱼ, in column order.
    public static let vertices: [SIMD3<Double>] = rawVertices.map { $0 / (($0 * $0).sum()).squareRoot() }

    /// Whether input `column` is on in pattern `row` (MSB = column 0).
    @inlinable
    public static func bit(row: Int, column: Int) -> Bool {
        (row >> (inputCount - 1 - column)) & 1 == 1
    }

    /// s(S) = |S| + ‖Σ_{j∈S} vⱼ‖ for the pattern `row`.
    public static func score(row: Int) -> Double {
        var sum = SIMD3<Double>(0, 0, 0)
        var count = 0
        for column in 0..<inputCount where bit(row: row, column: column) {
            sum += vertices[column]
            count += 1
        }
        return Double(count) + ((sum * sum).sum()).squareRoot()
    }

    /// The inputs, [4096, 12] of 0/1, row i = binary of i (MSB first).
    public static func inputs() -> Tensor {
        Tensor(shape: [sampleCount, inputCount]) { out in
            for row in 0..<sampleCount {
                for column in 0..<inputCount {
                    out[row * inputCount + column] = bit(row: row, column: column) ? 1 : 0
                }
            }
        }
    }

    /// The labels y = [s(S) ≥ threshold], 4096 of them.
    public static func labels(threshold: Double = threshold) -> [Int] {
        (0..<sampleCount).map { score(row: $0) >= threshold ? 1 : 0 }
    }

    /// The generated task with the given split (two classes).
    public static func dataset(split: Split) -> Dataset {
        Dataset(name: "tishby", inputs: inputs(), labels: labels(), classCount: 2, split: split)
    }
}
