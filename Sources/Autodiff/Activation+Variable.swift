// The activations' derivatives in variable operations: the recorded form of
// `Activation.backward`, differentiable again.

import Tensors

extension Activation {
    /// g ⊙ f'(x) in variable operations, given the output y = f(x) as a
    /// variable. The piecewise-linear activations' derivatives are piecewise
    /// constant: a constant mask.
    public func backward(_ g: Variable, output y: Variable) -> Variable {
        switch self {
        case .tanh: return g * (1 - y.squared())
        case .relu: return g * y.tape.constant(y.value.map { $0 > 0 ? 1 : 0 })
        case let .leakyReLU(slope): return g * y.tape.constant(y.value.map { $0 > 0 ? 1 : slope })
        case .sigmoid: return g * (y - y.squared())
        case .softsign:
            let sign = y.tape.constant(y.value.map { $0 < 0 ? -1 : 1 })
            return g * (1 - y * sign).squared()
        case .softplus: return g * (1 - (-y).exp())
        case .linear: return g
        }
    }
}
