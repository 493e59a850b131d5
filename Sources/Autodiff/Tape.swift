// Reverse-mode automatic differentiation over tensors: a tape of operations.
//
// Each differentiable operation computes its value eagerly and records on
// the tape a pullback: a closure that maps the gradient of the output to the
// gradients of its inputs (a vector-Jacobian product). `Tape.gradients`
// walks the records backwards, in reverse order of creation, which is a
// topological order because an operation can only use variables created
// before it.
//
// Deliberately not here (yet): pullbacks are functions of `Tensor`s, so the
// backward pass is not itself recorded and second-order gradients are not
// available; see the README, "Autodiff design", for how a recorded backward
// pass (for the WGAN-GP penalty) fits this tape.

import Tensors

/// A record of differentiable operations, for one forward and backward pass.
///
/// A tape is cheap: create one per training step and let it go afterwards.
/// It is a reference type because every `Variable` made on it refers to it;
/// it is not thread-safe (one tape per thread).
public final class Tape {
    /// One recorded operation: the ids of its inputs and its pullback.
    @usableFromInline
    struct Record {
        var inputs: [Int]
        var pullback: (Tensor) -> [Tensor?]
    }

    @usableFromInline var records: [Record?] = []
    @usableFromInline var needsGradient: [Bool] = []

    public init() {}

    /// The number of variables created on this tape.
    public var count: Int { records.count }

    /// A leaf variable: a parameter (gradient wanted) or an input (not).
    public func variable(_ value: Tensor, requiresGradient: Bool = true) -> Variable {
        records.append(nil)
        needsGradient.append(requiresGradient)
        return Variable(value: value, id: records.count - 1, tape: self, requiresGradient: requiresGradient)
    }

    /// A leaf that never receives a gradient (data, targets, masks).
    public func constant(_ value: Tensor) -> Variable {
        variable(value, requiresGradient: false)
    }

    /// Records an operation whose output is `value`.
    ///
    /// - Parameters:
    ///   - value: the operation's result.
    ///   - inputs: the variables it read, in the order the pullback returns
    ///     their gradients.
    ///   - pullback: maps ∂L/∂output (shape of `value`) to ∂L/∂input for each
    ///     input, in order; it may return `nil` for an input whose
    ///     `requiresGradient` is false (and should, to skip the work).
    /// - Returns: the output variable; it requires a gradient when any input does.
    public func record(_ value: Tensor, inputs: [Variable], pullback: @escaping (Tensor) -> [Tensor?]) -> Variable {
        let needs = inputs.contains { $0.requiresGradient }
        for input in inputs {
            precondition(input.tape === self, "Tape.record: an input belongs to another tape")
        }
        records.append(needs ? Record(inputs: inputs.map(\.id), pullback: pullback) : nil)
        needsGradient.append(needs)
        return Variable(value: value, id: records.count - 1, tape: self, requiresGradient: needs)
    }

    /// Gradients of a scalar `output` (or of ⟨seed, output⟩) with respect to `variables`.
    ///
    /// - Parameters:
    ///   - output: the variable to differentiate; a one-element tensor unless
    ///     `seed` is given.
    ///   - seed: ∂L/∂output; defaults to 1 for a scalar output.
    ///   - variables: the leaves (or intermediates) whose gradients are wanted.
    /// - Returns: one gradient per variable, with its shape; zeros for a
    ///   variable the output does not depend on.
    public func gradients(of output: Variable, seed: Tensor? = nil, withRespectTo variables: [Variable]) -> [Tensor] {
        precondition(output.tape === self, "gradients: output belongs to another tape")
        let seed = seed ?? {
            precondition(output.value.count == 1, "gradients: output of shape \(output.value.shape) needs a seed")
            return Tensor(shape: output.value.shape, repeating: 1)
        }()
        precondition(seed.shape == output.value.shape, "gradients: seed \(seed.shape) vs output \(output.value.shape)")
        var adjoints = [Tensor?](repeating: nil, count: records.count)
        adjoints[output.id] = seed
        // Everything created after the output cannot influence it.
        var id = output.id
        while id >= 0 {
            defer { id -= 1 }
            guard let record = records[id], let upstream = adjoints[id] else { continue }
            let inputGradients = record.pullback(upstream)
            precondition(inputGradients.count == record.inputs.count,
                         "pullback returned \(inputGradients.count) gradients for \(record.inputs.count) inputs")
            for (input, gradient) in zip(record.inputs, inputGradients) {
                guard needsGradient[input], let gradient else { continue }
                if adjoints[input] == nil {
                    adjoints[input] = gradient
                } else {
                    adjoints[input]! += gradient
                }
            }
        }
        return variables.map { v in adjoints[v.id] ?? Tensor.zeros(v.value.shape) }
    }
}

/// A tensor value recorded on a tape.
public struct Variable {
    /// The value computed in the forward pass.
    public let value: Tensor
    /// The variable's index on its tape.
    public let id: Int
    /// The tape this variable belongs to.
    ///
    /// Unowned: the tape's records capture variables in their pullbacks, so a
    /// strong reference would make every tape a retain cycle and keep each
    /// step's tensors (and the parameters they share storage with) alive.
    public unowned let tape: Tape
    /// Whether gradients flow to (or through) this variable.
    public let requiresGradient: Bool

    /// The value's shape.
    public var shape: [Int] { value.shape }
}
