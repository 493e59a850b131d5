// Weight initializers.

import RealModule
import Tensors

/// How a layer's weight matrix [fanOut, fanIn] is drawn.
public enum Initializer: String, Sendable, Codable, CaseIterable {
    /// Normal with std 1/√fanIn truncated at two standard deviations: the
    /// original 12-bit network (`tf.truncated_normal(stddev=1/sqrt(fan_in))`
    /// in Shwartz-Ziv & Tishby's code and in Saxe et al.'s ibsgd).
    case truncatedNormal
    /// Glorot & Bengio (2010): uniform on ±√(6 / (fanIn + fanOut)).
    case glorotUniform
    /// He et al. (2015): normal with std √(2 / fanIn), for ReLU layers.
    case heNormal

    /// Draws a [fanOut, fanIn] weight matrix.
    public func weights(shape: [Int], rng: inout RandomGenerator) -> Tensor {
        precondition(shape.count == 2, "Initializer: weight shape \(shape) is not [out, in]")
        let fanOut = shape[0], fanIn = shape[1]
        let count = fanOut * fanIn
        var values = [Float](repeating: 0, count: count)
        switch self {
        case .truncatedNormal:
            let std = 1 / Double(fanIn).squareRoot()
            for i in 0..<count { values[i] = Float(rng.truncatedNormal(std: std)) }
        case .glorotUniform:
            let limit = Float((6 / Double(fanIn + fanOut)).squareRoot())
            for i in 0..<count { values[i] = rng.uniform(-limit, limit) }
        case .heNormal:
            let std = (2 / Double(fanIn)).squareRoot()
            for i in 0..<count { values[i] = Float(rng.normal(mean: 0, std: std)) }
        }
        return Tensor(shape: shape, scalars: values)
    }
}
