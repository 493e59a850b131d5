// The forecasters of the AirNet paper, applied cell by cell with shared
// weights (every grid cell is a row of the batch):
//
//   persistence   the last observed frame, for every lead time
//   lstm, gru     a recurrent cell (NeuralNets' LSTMCell and GRUCell, 16 units)
//                 on [meteorology of t and t + 1, PM_t]; a linear head gives
//                 the change ΔPM, and PM_{t+1} = PM_t + ΔPM
//   lstm-star     the same LSTM without meteorology (the paper's LSTM*): PM_t only
//   reduced-lstm  Eq. 7-8: the input and output gates removed, the state is the
//                 concentration itself (one unit per pollutant, one here):
//                     f_t = σ(W_f x_t + U_f h_{t-1} + b_f)
//                     i_t = W_i x_t + U_i h_{t-1} + b_i          (not squashed)
//                     c_t = f_t ⊙ ReLU(c_{t-1} + i_t)
//                     h_t = c_t - c̄                             (c̄: the cell's precomputed mean)
//                 with x_t the meteorology of t and t + 1
//   wipenet       the ReducedLSTM's c_t redistributed over a 5 x 5 neighbourhood:
//                     c'_y = Σ_d w_{y-d}(d) c_{y-d},   w_s = softmax_d(conv3x3(wind)_s + b)
//                 (each cell sends its content to its 25 neighbours with weights
//                 that sum to 1: mass leaves only through the grid's edges)
//
// During the window's history (the first 16 frames) every model reads the
// observed PM_t (teacher forcing) and predicts PM_{t+1}; from the issue time
// on it reads its own forecast. The loss is the mean squared error of the
// predicted PM_{t+1} (in the scaled units) over all 39 steps, which in the
// history is the squared error of the predicted change.

import Autodiff
import NeuralNets
import Tensors

/// The models of the comparison.
public enum AirModelKind: String, CaseIterable, Sendable, Codable {
    case persistence
    case lstm
    case gru
    case lstmStar = "lstm-star"
    case reducedLSTM = "reduced-lstm"
    case wipeNet = "wipenet"

    /// The name in tables, as the paper writes it.
    public var displayName: String {
        switch self {
        case .persistence: "persistence"
        case .lstm: "LSTM"
        case .gru: "GRU"
        case .lstmStar: "LSTM*"
        case .reducedLSTM: "ReducedLSTM"
        case .wipeNet: "WipeNet"
        }
    }

    public var isTrained: Bool { self != .persistence }
}

// MARK: The local redistribution

extension Variable {
    /// WipeNet's redistribution: c [B, n, n] and weights w [B, n, n, 25]
    /// (offsets d = (di, dj) in -2...2, index (di + 2)·5 + dj + 2) →
    /// out[b, y] = Σ_d w[b, y - d, d] c[b, y - d]. What a cell sends beyond
    /// the grid is lost. Pullback: ∂c[s] = Σ_d w[s, d] g[s + d],
    /// ∂w[s, d] = c[s] g[s + d] (zero where s + d is outside).
    public func redistributed(_ weights: Variable) -> Variable {
        let c = self
        precondition(c.shape.count == 3 && c.shape[1] == c.shape[2] && weights.shape == c.shape + [25],
                     "redistributed: content \(c.shape), weights \(weights.shape)")
        let B = c.shape[0], n = c.shape[1]
        var out = [Float](repeating: 0, count: B * n * n)
        c.value.scalars.withUnsafeBufferPointer { cv in
            weights.value.scalars.withUnsafeBufferPointer { wv in
                out.withUnsafeMutableBufferPointer { o in
                    for b in 0..<B {
                        for i in 0..<n {
                            for j in 0..<n {
                                let s = (b * n + i) * n + j, amount = cv[s]
                                for di in -2...2 where i + di >= 0 && i + di < n {
                                    for dj in -2...2 where j + dj >= 0 && j + dj < n {
                                        o[(b * n + i + di) * n + j + dj] += wv[s * 25 + (di + 2) * 5 + dj + 2] * amount
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let cValue = c.value, wValue = weights.value
        return tape.record(Tensor(shape: c.shape, scalars: out), inputs: [c, weights], name: "redistributed") { g in
            var dc = [Float](repeating: 0, count: B * n * n), dw = [Float](repeating: 0, count: B * n * n * 25)
            g.scalars.withUnsafeBufferPointer { gv in
                cValue.scalars.withUnsafeBufferPointer { cv in
                    wValue.scalars.withUnsafeBufferPointer { wv in
                        for b in 0..<B {
                            for i in 0..<n {
                                for j in 0..<n {
                                    let s = (b * n + i) * n + j
                                    var sum: Float = 0
                                    for di in -2...2 where i + di >= 0 && i + di < n {
                                        for dj in -2...2 where j + dj >= 0 && j + dj < n {
                                            let q = (di + 2) * 5 + dj + 2, upstream = gv[(b * n + i + di) * n + j + dj]
                                            sum += wv[s * 25 + q] * upstream
                                            dw[s * 25 + q] = cv[s] * upstream
                                        }
                                    }
                                    dc[s] = sum
                                }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: cValue.shape, scalars: dc), Tensor(shape: wValue.shape, scalars: dw)]
        }
    }
}

// MARK: Cells

/// Eq. 7-8 as a gated cell: state [h, c, c̄] (c̄ carried unchanged), input x.
public struct ReducedLSTMCell: Sendable {
    public let cell: GatedRecurrentCell

    /// Adds "<name>.inputWeight" [2, input], "<name>.hiddenWeight" [2, 1] and
    /// the two biases (gate order: forget, input) to `store`: weights uniform
    /// on ±0.1, the forget bias 3 (f ≈ 0.95 at the start: nearly persistence).
    public init(_ name: String, inputSize: Int, store: inout ParameterStore, rng: inout RandomGenerator) {
        cell = GatedRecurrentCell(name, inputSize: inputSize, hiddenSize: 1, gates: 2, stateCount: 3,
                                  store: &store, rng: &rng) { a, c, state in
            let f = (a[0] + c[0]).sigmoid()
            let i = a[1] + c[1]
            let next = f * (state[1] + i).relu()
            return [next - state[2], next, state[2]]
        }
        for suffix in [".inputWeight", ".hiddenWeight"] {
            store[name + suffix] = store[name + suffix].map { $0 * 0.1 }
        }
        store[name + ".inputBias"] = Tensor(shape: [2], scalars: [3, 0])
        store[name + ".hiddenBias"] = Tensor(shape: [2], scalars: [0, 0])
    }

    /// One step: c_t (and h_t) from x_t, c_{t-1} and the mean c̄ (each [rows, 1]).
    public func callAsFunction(_ x: Variable, c: Variable, mean: Variable, _ p: BoundParameters) -> (h: Variable, c: Variable) {
        let next = cell(x, state: [c - mean, c, mean], p)
        return (next[0], next[1])
    }
}

/// WipeNet's weights: softmax over the 25 offsets of a 3 x 3 convolution of
/// the wind [B, 2, n, n] → [B, n, n, 25].
public func wipeNetWeights(wind: Variable, weight: Variable, bias: Variable) -> Variable {
    wind.conv2d(weight, padding: 1).addingChannelBias(bias).permuted([0, 2, 3, 1]).softmax()
}

/// A forecaster's parameters and its forward pass over a batch.
public struct AirForecaster: Sendable {
    public let kind: AirModelKind
    public let hidden: Int
    public var store: ParameterStore
    let lstm: LSTMCell?
    let gru: GRUCell?
    let reduced: ReducedLSTMCell?

    public init(kind: AirModelKind, hidden: Int = 16, seed: UInt64) {
        self.kind = kind
        self.hidden = hidden
        var rng = RandomGenerator(seed: seed)
        var store = ParameterStore()
        var lstm: LSTMCell?, gru: GRUCell?, reduced: ReducedLSTMCell?
        switch kind {
        case .persistence: break
        case .lstm: lstm = LSTMCell("lstm", inputSize: AirData.inputWidth + 1, hiddenSize: hidden, store: &store, rng: &rng)
        case .lstmStar: lstm = LSTMCell("lstm", inputSize: 1, hiddenSize: hidden, store: &store, rng: &rng)
        case .gru: gru = GRUCell("gru", inputSize: AirData.inputWidth + 1, hiddenSize: hidden, store: &store, rng: &rng)
        case .reducedLSTM, .wipeNet:
            reduced = ReducedLSTMCell("reduced", inputSize: AirData.inputWidth, store: &store, rng: &rng)
        }
        if lstm != nil || gru != nil {
            let limit = 1 / Float(hidden).squareRoot()
            store.add("head.weight", Tensor(shape: [1, hidden], scalars: (0..<hidden).map { _ in 0.1 * rng.uniform(-limit, limit) }))
            store.add("head.bias", Tensor.zeros([1]))
        }
        if kind == .wipeNet {
            // Small weights and a large bias on the centre offset: at the start
            // each cell keeps most of its content.
            store.add("wipe.weight", Tensor(shape: [25, 2, 3, 3], scalars: (0..<450).map { _ in 0.05 * rng.uniform(-1, 1) }))
            store.add("wipe.bias", Tensor(shape: [25], scalars: (0..<25).map { $0 == 12 ? 4 : 0 }))
        }
        self.store = store
        self.lstm = lstm
        self.gru = gru
        self.reduced = reduced
    }

    /// The forward pass: predicted scaled PM of frames 1..<L ([rows, 1]
    /// each), and for the ReducedLSTM-based models the cell and hidden
    /// states of every step.
    public func forward(_ batch: AirBatch, tape: Tape, _ p: BoundParameters?)
        -> (predictions: [Variable], cells: [Variable], hiddens: [Variable]) {
        let issue = batch.history - 1
        var predictions = [Variable](), cells = [Variable](), hiddens = [Variable]()
        var previous: Variable?
        func observedOrOwn(_ t: Int) -> Variable { t <= issue || previous == nil ? tape.constant(batch.pm[t]) : previous! }
        switch kind {
        case .persistence:
            for t in 0..<batch.steps { predictions.append(tape.constant(batch.pm[min(t, issue)])) }
        case .lstm, .lstmStar, .gru:
            let p = p!
            var h = tape.constant(Tensor.zeros([batch.rows, hidden])), c = h
            for t in 0..<batch.steps {
                let pm = observedOrOwn(t)
                let input = kind == .lstmStar ? pm : Variable.concatenate([tape.constant(batch.inputs[t]), pm], axis: 1)
                if let lstm {
                    (h, c) = lstm(input, state: (h, c), p)
                } else {
                    h = gru!(input, state: h, p)
                }
                let change = matmul(h, p["head.weight"], transposeB: true).addingRowVector(p["head.bias"])
                previous = pm + change
                predictions.append(previous!)
            }
        case .reducedLSTM, .wipeNet:
            let p = p!
            let mean = tape.constant(batch.mean)
            for t in 0..<batch.steps {
                let state = reduced!(tape.constant(batch.inputs[t]), c: observedOrOwn(t), mean: mean, p)
                var c = state.c
                if kind == .wipeNet {
                    let (windows, n) = batch.grid!
                    let weights = wipeNetWeights(wind: tape.constant(batch.wind![t]), weight: p["wipe.weight"], bias: p["wipe.bias"])
                    c = c.reshaped([windows, n, n]).redistributed(weights).reshaped([batch.rows, 1])
                }
                previous = c
                predictions.append(c)
                cells.append(c)
                hiddens.append(c - mean)
            }
        }
        return (predictions, cells, hiddens)
    }

    /// The mean squared error of the predictions (scaled units) and its gradients.
    public func lossAndGradients(_ batch: AirBatch) -> (loss: Float, gradients: [Tensor]) {
        let tape = Tape()
        let p = store.bind(to: tape)
        let predictions = forward(batch, tape: tape, p).predictions
        var total: Variable?
        for (t, prediction) in predictions.enumerated() {
            let e = (prediction - tape.constant(batch.pm[t + 1])).squared().mean()
            total = total.map { $0 + e } ?? e
        }
        let loss = total! * (1 / Float(predictions.count))
        return (loss.value.scalar, p.gradients(of: loss))
    }

    /// Predicted PM (µg/m³) of every row at each forecast lead 1...leads, [leads][rows].
    public func forecast(_ batch: AirBatch, pmScale: Float) -> [[Float]] {
        let tape = Tape()
        let p = kind.isTrained ? store.bind(to: tape, requiringGradients: false) : nil
        let predictions = forward(batch, tape: tape, p).predictions
        return predictions[(batch.history - 1)...].map { $0.value.scalars.map { $0 * pmScale } }
    }
}
