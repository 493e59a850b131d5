// Recurrent cells unrolled on the tape: a gated cell with any elementwise
// update, and the LSTM and GRU cells built on it (with PyTorch's gate order
// and initialization, so that weights can be compared with torch.nn.LSTMCell
// and torch.nn.GRUCell).

import Autodiff
import Tensors

/// A recurrent cell whose gates are affine in the input and in the hidden
/// state, combined by an elementwise `update`:
///
///   a = x·W_xᵀ + b_x,  c = h·W_hᵀ + b_h   (each [batch, gates·hidden], cut into gates)
///   state' = update(a-gates, c-gates, state)
///
/// state[0] is the hidden state h that feeds W_h; any further state (an
/// LSTM's cell) is the update's own. The update may be any composition of
/// tape operations, so variants (an LSTM without input and output gates,
/// a cell with another nonlinearity) need no new code here.
public struct GatedRecurrentCell: Sendable {
    public typealias Update = @Sendable (_ input: [Variable], _ hidden: [Variable], _ state: [Variable]) -> [Variable]

    public let name: String
    public let inputSize, hiddenSize, gates, stateCount: Int
    public let update: Update

    /// Adds "<name>.inputWeight" [gates·hidden, input], "<name>.hiddenWeight"
    /// [gates·hidden, hidden], "<name>.inputBias" and "<name>.hiddenBias",
    /// all uniform on ±1/√hidden, to `store`.
    public init(_ name: String, inputSize: Int, hiddenSize: Int, gates: Int, stateCount: Int,
                store: inout ParameterStore, rng: inout RandomGenerator, update: @escaping Update) {
        precondition(inputSize > 0 && hiddenSize > 0 && gates > 0 && stateCount >= 1,
                     "GatedRecurrentCell: input \(inputSize), hidden \(hiddenSize), gates \(gates), state \(stateCount)")
        self.name = name
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.gates = gates
        self.stateCount = stateCount
        self.update = update
        let limit = 1 / Float(hiddenSize).squareRoot()
        let initialization = WeightInitialization.uniform(limit: limit)
        store.add(name + ".inputWeight", initialization.weights(shape: [gates * hiddenSize, inputSize], rng: &rng))
        store.add(name + ".hiddenWeight", initialization.weights(shape: [gates * hiddenSize, hiddenSize], rng: &rng))
        store.add(name + ".inputBias", initialization.weights(shape: [gates * hiddenSize, 1], rng: &rng).reshaped([gates * hiddenSize]))
        store.add(name + ".hiddenBias", initialization.weights(shape: [gates * hiddenSize, 1], rng: &rng).reshaped([gates * hiddenSize]))
    }

    /// The zero state for a batch: `stateCount` tensors [batch, hidden].
    public func zeroState(batch: Int, on tape: Tape) -> [Variable] {
        (0..<stateCount).map { _ in tape.constant(Tensor.zeros([batch, hiddenSize])) }
    }

    /// One step: x [batch, input] and the state → the next state.
    public func callAsFunction(_ x: Variable, state: [Variable], _ p: BoundParameters) -> [Variable] {
        precondition(x.shape.count == 2 && x.shape[1] == inputSize, "\(name): input \(x.shape), expected [batch, \(inputSize)]")
        precondition(state.count == stateCount && state[0].shape == [x.shape[0], hiddenSize],
                     "\(name): state of \(state.count) with h \(state.first?.shape ?? [])")
        let sizes = [Int](repeating: hiddenSize, count: gates)
        let a = matmul(x, p[name + ".inputWeight"], transposeB: true).addingRowVector(p[name + ".inputBias"])
        let c = matmul(state[0], p[name + ".hiddenWeight"], transposeB: true).addingRowVector(p[name + ".hiddenBias"])
        let next = update(a.split(sizes: sizes, axis: 1), c.split(sizes: sizes, axis: 1), state)
        precondition(next.count == stateCount, "\(name): the update returned \(next.count) states, not \(stateCount)")
        return next
    }
}

/// The LSTM cell of Hochreiter & Schmidhuber with a forget gate, in
/// PyTorch's form and gate order (input, forget, cell, output):
/// c' = σ(f) c + σ(i) tanh(g), h' = σ(o) tanh(c'). State [h, c].
public struct LSTMCell: Sendable {
    public let cell: GatedRecurrentCell

    public init(_ name: String, inputSize: Int, hiddenSize: Int, store: inout ParameterStore, rng: inout RandomGenerator) {
        cell = GatedRecurrentCell(name, inputSize: inputSize, hiddenSize: hiddenSize, gates: 4, stateCount: 2,
                                  store: &store, rng: &rng) { a, c, state in
            let i = (a[0] + c[0]).sigmoid(), f = (a[1] + c[1]).sigmoid()
            let g = (a[2] + c[2]).tanh(), o = (a[3] + c[3]).sigmoid()
            let next = f * state[1] + i * g
            return [o * next.tanh(), next]
        }
    }

    /// One step: (h', c') from x [batch, input] and (h, c).
    public func callAsFunction(_ x: Variable, state: (h: Variable, c: Variable), _ p: BoundParameters) -> (h: Variable, c: Variable) {
        let next = cell(x, state: [state.h, state.c], p)
        return (next[0], next[1])
    }

    /// The zero state for a batch.
    public func zeroState(batch: Int, on tape: Tape) -> (h: Variable, c: Variable) {
        let s = cell.zeroState(batch: batch, on: tape)
        return (s[0], s[1])
    }
}

/// The GRU cell of Cho et al. in PyTorch's form (gates reset, update, new):
/// r = σ(a_r + c_r), z = σ(a_z + c_z), n = tanh(a_n + r c_n),
/// h' = (1 - z) n + z h.
public struct GRUCell: Sendable {
    public let cell: GatedRecurrentCell

    public init(_ name: String, inputSize: Int, hiddenSize: Int, store: inout ParameterStore, rng: inout RandomGenerator) {
        cell = GatedRecurrentCell(name, inputSize: inputSize, hiddenSize: hiddenSize, gates: 3, stateCount: 1,
                                  store: &store, rng: &rng) { a, c, state in
            let r = (a[0] + c[0]).sigmoid(), z = (a[1] + c[1]).sigmoid()
            let n = (a[2] + r * c[2]).tanh()
            return [(1 - z) * n + z * state[0]]
        }
    }

    /// One step: h' from x [batch, input] and h.
    public func callAsFunction(_ x: Variable, state h: Variable, _ p: BoundParameters) -> Variable {
        cell(x, state: [h], p)[0]
    }
}
