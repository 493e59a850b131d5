// Activation functions of the networks in both papers, with derivatives
// written in terms of the output y = f(x), so a layer keeps only its output.

import Autodiff
import Tensors

/// An elementwise activation function.
public enum Activation: String, CaseIterable, Sendable, Codable {
    /// tanh(x); f' = 1 - y². The saturating nonlinearity of Shwartz-Ziv & Tishby.
    case tanh
    /// max(x, 0); f' = [y > 0]. Saxe et al.'s non-saturating counterpart.
    case relu
    /// 1 / (1 + e⁻ˣ); f' = y (1 - y).
    case sigmoid
    /// x / (1 + |x|); f' = 1 / (1 + |x|)² = (1 - |y|)².
    case softsign
    /// log(1 + eˣ); f' = sigmoid(x) = 1 - e⁻ʸ.
    case softplus
    /// x; f' = 1. Deep linear networks.
    case linear

    /// f applied to every element of `x`, in place.
    public func apply(_ x: inout Tensor) {
        if self == .linear { return }
        let count = x.count
        x.scalars.withUnsafeMutableBufferPointer { apply($0.baseAddress!, count: count) }
    }

    /// f applied to `count` floats at `p`, in place.
    public func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .tanh: VectorMath.tanh(p, p, count: count)
        case .sigmoid: VectorMath.sigmoid(p, p, count: count)
        case .softplus: VectorMath.softplus(p, p, count: count)
        case .relu: for i in 0..<count where !(p[i] >= 0) && !p[i].isNaN { p[i] = 0 }
        case .softsign: for i in 0..<count { p[i] = p[i] / (1 + abs(p[i])) }
        case .linear: break
        }
    }

    /// f(x) as a new tensor.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var y = x
        apply(&y)
        return y
    }

    /// g ⊙ f'(x), given the output y = f(x): the gradient through f.
    public func backward(_ g: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                         into d: UnsafeMutablePointer<Float>, count n: Int) {
        switch self {
        case .tanh: for i in 0..<n { d[i] = g[i] * (1 - y[i] * y[i]) }
        case .relu: for i in 0..<n { d[i] = y[i] > 0 ? g[i] : 0 }
        case .sigmoid: for i in 0..<n { d[i] = g[i] * y[i] * (1 - y[i]) }
        case .softsign: for i in 0..<n { let s = 1 - abs(y[i]); d[i] = g[i] * s * s }
        case .softplus:
            // sigmoid(x) = 1 - e^{-y} = 1 - 1/e^{y}, with e^{y} from the vector
            // kernel; the absolute error for very negative x stays below 6e-8.
            VectorMath.exp(y, d, count: n)
            for i in 0..<n { d[i] = g[i] * (1 - 1 / d[i]) }
        case .linear: d.update(from: g, count: n)
        }
    }

    /// g ⊙ f'(x) in variable operations, given the output y = f(x) as a
    /// variable: the recorded form of `backward`, differentiable again.
    public func backward(_ g: Variable, output y: Variable) -> Variable {
        switch self {
        case .tanh: return g * (1 - y.squared())
        case .relu: return g * y.tape.constant(y.value.map { $0 > 0 ? 1 : 0 })
        case .sigmoid: return g * (y - y.squared())
        case .softsign:
            let sign = y.tape.constant(y.value.map { $0 < 0 ? -1 : 1 })
            return g * (1 - y * sign).squared()
        case .softplus: return g * (1 - (-y).exp())
        case .linear: return g
        }
    }
}
