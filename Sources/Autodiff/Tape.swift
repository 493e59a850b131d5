// Reverse-mode automatic differentiation over tensors: a tape of operations.
//
// Each differentiable operation computes its value eagerly and records on
// the tape a pullback: a closure that maps the gradient of the output to the
// gradients of its inputs (a vector-Jacobian product). `Tape.gradients`
// walks the records backwards, in reverse order of creation, which is a
// topological order because an operation can only use variables created
// before it.
//
// Every operation has two pullbacks. The first maps `Tensor`s to `Tensor`s:
// the fast path of first-order training. The second, when the operation has
// one, is written in `Variable` operations, so that the backward pass it
// performs is itself recorded on the tape: `gradients(of:withRespectTo:
// createGraph: true)` uses it and returns gradients that can be
// differentiated again (a WGAN-GP or R1 penalty, a Hessian-vector product).
// An operation whose derivative is a function of its own output (tanh,
// sigmoid, exp) declares so, and the tape keeps that output for the recorded
// pass, as a variable with the operation's own id, so that the second
// derivative flows back through the operation.
//
// Only the operations that lead from the differentiated output to the
// variables asked for are visited, and a pullback is told (through
// `Variable.needsGradient`) which of its inputs are on such a path, so that
// the gradient of a critic with respect to its input does not also compute
// the gradients of its weights.

import Tensors

/// The second, differentiable form of an operation's pullback.
enum RecordedPullback {
    /// The operation has none: `gradients(…, createGraph: true)` through it
    /// stops with the operation's name.
    case unavailable
    /// Maps ∂L/∂output (a variable) to the inputs' gradients (variables).
    case inputs((Variable) -> [Variable?])
    /// The same, with the operation's output as a variable as well (the
    /// tape keeps the output for it).
    case inputsAndOutput((_ upstream: Variable, _ output: Variable) -> [Variable?])
}

/// A record of differentiable operations, for one forward and backward pass.
///
/// A tape is cheap: create one per training step and let it go afterwards.
/// It is a reference type because every `Variable` made on it refers to it;
/// it is not thread-safe (one tape per thread).
public final class Tape {
    /// One recorded operation: its name, the ids of its inputs and its pullbacks.
    @usableFromInline
    struct Record {
        var name: StaticString
        var inputs: [Int]
        var pullback: (Tensor) -> [Tensor?]
        var recorded: RecordedPullback
        /// The output, kept only for a `.inputsAndOutput` recorded pullback.
        var output: Tensor?
    }

    @usableFromInline var records: [Record?] = []
    @usableFromInline var requiresGradient: [Bool] = []
    /// During `gradients`: whether each variable lies on a path to a
    /// variable whose gradient was asked for.
    var wanted: [Bool]?

    public init() {}

    /// The number of variables created on this tape.
    public var count: Int { records.count }

    /// A leaf variable: a parameter (gradient wanted) or an input (not).
    public func variable(_ value: Tensor, requiresGradient: Bool = true) -> Variable {
        records.append(nil)
        self.requiresGradient.append(requiresGradient)
        return Variable(value: value, id: records.count - 1, tape: self, requiresGradient: requiresGradient)
    }

    /// A leaf that never receives a gradient (data, targets, masks).
    public func constant(_ value: Tensor) -> Variable {
        variable(value, requiresGradient: false)
    }

    /// Records an operation whose output is `value`, without a recorded
    /// pullback (second-order gradients through it stop with its name).
    ///
    /// - Parameters:
    ///   - value: the operation's result.
    ///   - inputs: the variables it read, in the order the pullback returns
    ///     their gradients.
    ///   - name: the operation's name, for messages.
    ///   - pullback: maps ∂L/∂output (shape of `value`) to ∂L/∂input for each
    ///     input, in order; it may return `nil` for an input whose
    ///     `needsGradient` is false (and should, to skip the work).
    /// - Returns: the output variable; it requires a gradient when any input does.
    public func record(_ value: Tensor, inputs: [Variable], name: StaticString = "an unnamed operation",
                       pullback: @escaping (Tensor) -> [Tensor?]) -> Variable {
        append(value, inputs: inputs, name: name, pullback: pullback, recorded: .unavailable)
    }

    /// Records an operation with both pullbacks: `recorded` is the same map
    /// as `pullback`, written in variable operations.
    public func record(_ value: Tensor, inputs: [Variable], name: StaticString,
                       pullback: @escaping (Tensor) -> [Tensor?],
                       recorded: @escaping (Variable) -> [Variable?]) -> Variable {
        append(value, inputs: inputs, name: name, pullback: pullback, recorded: .inputs(recorded))
    }

    /// Records an operation whose recorded pullback also reads the
    /// operation's output, as a variable (the tape keeps the output).
    public func record(_ value: Tensor, inputs: [Variable], name: StaticString,
                       pullback: @escaping (Tensor) -> [Tensor?],
                       recordedUsingOutput: @escaping (_ upstream: Variable, _ output: Variable) -> [Variable?]) -> Variable {
        append(value, inputs: inputs, name: name, pullback: pullback, recorded: .inputsAndOutput(recordedUsingOutput))
    }

    private func append(_ value: Tensor, inputs: [Variable], name: StaticString,
                        pullback: @escaping (Tensor) -> [Tensor?], recorded: RecordedPullback) -> Variable {
        let needs = inputs.contains { $0.requiresGradient }
        for input in inputs {
            precondition(input.tape === self, "Tape.record (\(name)): an input belongs to another tape")
        }
        var output: Tensor?
        if case .inputsAndOutput = recorded { output = value }
        records.append(needs ? Record(name: name, inputs: inputs.map(\.id), pullback: pullback,
                                      recorded: recorded, output: output) : nil)
        requiresGradient.append(needs)
        return Variable(value: value, id: records.count - 1, tape: self, requiresGradient: needs)
    }

    /// Whether variable `id` is to receive a gradient: during a backward
    /// pass, whether it leads to a variable asked for; otherwise whether it
    /// requires one at all.
    @usableFromInline
    func isGradientNeeded(_ id: Int) -> Bool {
        if let wanted, id < wanted.count { return wanted[id] }
        return requiresGradient[id]
    }

    /// Marks the variables that require a gradient and lie on a path from
    /// `variables` up to `output`.
    /// Records below `boundary` are not followed: only the variables asked
    /// for are marked there.
    private func wantedVariables(upTo output: Int, from variables: [Variable], boundary: Int = 0) -> [Bool] {
        var wanted = [Bool](repeating: false, count: output + 1)
        var lowest = output + 1
        for v in variables where v.id <= output && requiresGradient[v.id] {
            wanted[v.id] = true
            lowest = min(lowest, v.id)
        }
        lowest = max(lowest, boundary)
        if lowest > output { return wanted }
        for id in lowest...output where !wanted[id] {
            guard let record = records[id] else { continue }
            if record.inputs.contains(where: { wanted[$0] }) { wanted[id] = true }
        }
        return wanted
    }

    private func resolvedSeed(_ seed: Tensor?, for output: Variable) -> Tensor {
        precondition(output.tape === self, "gradients: output belongs to another tape")
        let seed = seed ?? {
            precondition(output.value.count == 1, "gradients: output of shape \(output.value.shape) needs a seed")
            return Tensor(shape: output.value.shape, repeating: 1)
        }()
        precondition(seed.shape == output.value.shape, "gradients: seed \(seed.shape) vs output \(output.value.shape)")
        return seed
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
        let seed = resolvedSeed(seed, for: output)
        let wanted = wantedVariables(upTo: output.id, from: variables)
        let enclosing = self.wanted
        self.wanted = wanted
        defer { self.wanted = enclosing }
        let requested = Set(variables.map(\.id))
        var adjoints = [Tensor?](repeating: nil, count: output.id + 1)
        adjoints[output.id] = seed
        var id = output.id
        while id >= 0 {
            defer { id -= 1 }
            guard wanted[id], let record = records[id], let upstream = adjoints[id] else { continue }
            // An intermediate's adjoint is complete once reached: let it go.
            if !requested.contains(id) { adjoints[id] = nil }
            guard record.inputs.contains(where: { wanted[$0] }) else { continue }
            let inputGradients = record.pullback(upstream)
            precondition(inputGradients.count == record.inputs.count,
                         "\(record.name): pullback returned \(inputGradients.count) gradients for \(record.inputs.count) inputs")
            for (input, gradient) in zip(record.inputs, inputGradients) {
                guard wanted[input], let gradient else { continue }
                if adjoints[input] == nil {
                    adjoints[input] = gradient
                } else {
                    adjoints[input]! += gradient
                }
            }
        }
        return variables.map { v in (v.id <= output.id ? adjoints[v.id] : nil) ?? Tensor.zeros(v.value.shape) }
    }

    /// Gradients that are themselves variables on this tape (`createGraph:
    /// true`), so that a function of them can be differentiated again; with
    /// `createGraph: false`, the first-order gradients as constants.
    ///
    /// Every operation between `output` and `variables` must have a
    /// recorded pullback; one that lacks it stops the program with its name.
    public func gradients(of output: Variable, seed: Tensor? = nil, withRespectTo variables: [Variable],
                          createGraph: Bool) -> [Variable] {
        guard createGraph else {
            return gradients(of: output, seed: seed, withRespectTo: variables).map(constant)
        }
        return recordedGradients(of: output, seed: constant(resolvedSeed(seed, for: output)), withRespectTo: variables,
                                 boundary: 0)
    }

    /// The recorded backward pass from `output` down to the variables asked
    /// for, not following any record below `boundary` (variables created
    /// before it count as leaves there).
    func recordedGradients(of output: Variable, seed: Variable, withRespectTo variables: [Variable],
                           boundary: Int) -> [Variable] {
        let wanted = wantedVariables(upTo: output.id, from: variables, boundary: boundary)
        // A recorded pullback may itself differentiate (a fused operation's
        // composition): restore the enclosing pass's marks afterwards.
        let enclosing = self.wanted
        var adjoints = [Variable?](repeating: nil, count: output.id + 1)
        adjoints[output.id] = seed
        var id = output.id
        while id >= boundary {
            defer { id -= 1 }
            guard wanted[id], let record = records[id], let upstream = adjoints[id] else { continue }
            guard record.inputs.contains(where: { wanted[$0] }) else { continue }
            self.wanted = wanted
            let inputGradients: [Variable?]
            switch record.recorded {
            case .unavailable:
                preconditionFailure("gradients(createGraph: true): \(record.name) has no second-order pullback")
            case let .inputs(pullback):
                inputGradients = pullback(upstream)
            case let .inputsAndOutput(pullback):
                inputGradients = pullback(upstream, Variable(value: record.output!, id: id, tape: self, requiresGradient: true))
            }
            self.wanted = enclosing
            precondition(inputGradients.count == record.inputs.count,
                         "\(record.name): recorded pullback returned \(inputGradients.count) gradients for \(record.inputs.count) inputs")
            for (input, gradient) in zip(record.inputs, inputGradients) {
                guard wanted[input], let gradient else { continue }
                adjoints[input] = adjoints[input].map { $0 + gradient } ?? gradient
            }
        }
        return variables.map { v in
            (v.id <= output.id ? adjoints[v.id] : nil) ?? constant(Tensor.zeros(v.value.shape))
        }
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

    /// Inside a pullback: whether this input's gradient is wanted by the
    /// backward pass under way (it requires one and leads to a variable
    /// asked for). Outside a backward pass, `requiresGradient`.
    public var needsGradient: Bool { tape.isGradientNeeded(id) }
}
