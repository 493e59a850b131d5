// What the estimators do with a layer that is not a samples x units matrix: a convolutional
// feature map (N x C x H x W) or a sequence of states (N x L x D).
//
// Every estimator reads an N x d matrix. A structured layer is turned into one (or, per
// position, into one per position) by a `LayerReduction`, applied to the flattened rows the
// run stores, with the sample's shape saying where the positions are:
//
// - a sample of shape [C, H, W] (NCHW, the layout of every convolution here) has C features
//   at each of H·W positions: value (c, p) at offset c·H·W + p;
// - a sample of shape [L, D] (a sequence: token positions first) has D features at each of
//   L positions: value (p, f) at offset p·D + f;
// - a sample of shape [w] (a vector) has one position; shapes of rank 4 or more are read as
//   rank 3, features first and every later axis a position axis.

import Tensors

/// How a structured layer becomes the N x d matrix (or matrices) an estimator reads.
public enum LayerReduction: Sendable, Hashable, CustomStringConvertible {
    /// `flatten` for layers of at most `automaticFlattenLimit` values a sample, else `meanPool`
    /// (a vector layer is always flattened).
    case automatic
    /// All values of a sample as one row (d = C·H·W or L·D).
    case flatten
    /// One matrix per position (N x C, or N x D), each estimated on its own; the layer's value
    /// is their average, and each position's is reported beside it.
    case perPosition
    /// The mean over positions of each feature (N x C, or N x D).
    case meanPool
    /// The maximum over positions of each feature (N x C, or N x D).
    case maxPool
    /// The flattened rows times a fixed Gaussian matrix R (width x dimension, entries
    /// N(0, 1/dimension), drawn from `seed` and the layer's number, so that every epoch of a
    /// layer is projected alike): distances are kept to within a factor 1 ± O(1/√dimension).
    case projection(dimension: Int, seed: UInt64)

    /// Layers up to this many values a sample are flattened by `.automatic`.
    public static let automaticFlattenLimit = 512

    /// The name used on the command line and in the parameters file.
    public var description: String {
        switch self {
        case .automatic: "auto"
        case .flatten: "flatten"
        case .perPosition: "per-position"
        case .meanPool: "mean-pool"
        case .maxPool: "max-pool"
        case let .projection(d, seed): "projection(\(d), seed \(seed))"
        }
    }

    /// The reduction `.automatic` stands for at a shape (others stand for themselves).
    public func resolved(for sampleShape: [Int]) -> LayerReduction {
        guard case .automatic = self else { return self }
        let layout = PositionLayout(sampleShape)
        return layout.positions == 1 || layout.width <= Self.automaticFlattenLimit ? .flatten : .meanPool
    }

    /// The matrices an estimator reads for one layer at one epoch: one, or one per position.
    ///
    /// - Parameters:
    ///   - m: N x width, each row one sample's tensor flattened (row-major).
    ///   - sampleShape: the shape of one sample's tensor (its product is `m.columns`).
    ///   - layer: the layer's number (it seeds the projection).
    /// - Throws: `InfoTheoryError.invalidParameter` when the shape does not match the width, or
    ///   for a projection dimension below 1.
    public func apply(_ m: ActivationMatrix, sampleShape: [Int], layer: Int) throws -> [ActivationMatrix] {
        let layout = PositionLayout(sampleShape)
        guard layout.width == m.columns, sampleShape.allSatisfy({ $0 > 0 }) else {
            throw InfoTheoryError.invalidParameter("a sample of shape \(sampleShape) has \(layout.width) values, the rows have \(m.columns)")
        }
        switch resolved(for: sampleShape) {
        case .automatic, .flatten:
            return [m]
        case .perPosition:
            return (0..<layout.positions).map { layout.position($0, of: m) }
        case .meanPool:
            return [layout.pooled(m, max: false)]
        case .maxPool:
            return [layout.pooled(m, max: true)]
        case let .projection(dimension, seed):
            guard dimension >= 1 else { throw InfoTheoryError.invalidParameter("projection dimension must be at least 1, got \(dimension)") }
            return [Self.project(m, dimension: dimension, seed: seed &+ UInt64(layer) &* 0x9E37_79B9_7F4A_7C15)]
        }
    }

    /// m · R with R [m.columns, dimension] of N(0, 1/dimension) entries from `seed`.
    static func project(_ m: ActivationMatrix, dimension: Int, seed: UInt64) -> ActivationMatrix {
        var rng = RandomGenerator(seed: seed)
        let scale = Float(1 / Double(dimension).squareRoot())
        let r = (0..<(m.columns * dimension)).map { _ in Float(rng.normal()) * scale }
        let product = Tensor.matmul(Tensor(shape: [m.rows, m.columns], scalars: m.scalars),
                                    Tensor(shape: [m.columns, dimension], scalars: r))
        return ActivationMatrix(rows: m.rows, columns: dimension, scalars: product.scalars)
    }
}

/// Where the positions and features of a flattened sample are.
struct PositionLayout {
    /// Values a sample.
    let width: Int
    let positions: Int
    let features: Int
    /// Offsets of value (position p, feature f): p · positionStride + f · featureStride.
    let positionStride: Int
    let featureStride: Int

    init(_ shape: [Int]) {
        width = shape.reduce(1, *)
        switch shape.count {
        case 0, 1:
            positions = 1; features = width; positionStride = 0; featureStride = 1
        case 2:
            positions = shape[0]; features = shape[1]; positionStride = shape[1]; featureStride = 1
        default:
            features = shape[0]; positions = width / max(1, shape[0]); positionStride = 1; featureStride = positions
        }
    }

    /// N x features: the values at one position.
    func position(_ p: Int, of m: ActivationMatrix) -> ActivationMatrix {
        var out = [Float](repeating: 0, count: m.rows * features)
        m.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<m.rows {
                    let row = i * width + p * positionStride
                    for f in 0..<features { dst[i * features + f] = src[row + f * featureStride] }
                }
            }
        }
        return ActivationMatrix(rows: m.rows, columns: features, scalars: out)
    }

    /// N x features: each feature's mean (or maximum) over the positions.
    func pooled(_ m: ActivationMatrix, max useMax: Bool) -> ActivationMatrix {
        var out = [Float](repeating: 0, count: m.rows * features)
        m.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<m.rows {
                    for f in 0..<features {
                        let base = i * width + f * featureStride
                        if useMax {
                            var v = -Float.infinity
                            for p in 0..<positions { v = Swift.max(v, src[base + p * positionStride]) }
                            dst[i * features + f] = v
                        } else {
                            // Summed in Double: a mean over 1024 positions keeps float32's last bits.
                            var s = 0.0
                            for p in 0..<positions { s += Double(src[base + p * positionStride]) }
                            dst[i * features + f] = Float(s / Double(positions))
                        }
                    }
                }
            }
        }
        return ActivationMatrix(rows: m.rows, columns: features, scalars: out)
    }
}
