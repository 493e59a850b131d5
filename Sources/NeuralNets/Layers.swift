// Layers over named parameters (see Parameters.swift): convolution, the
// fully connected map on any leading shape, embedding lookup and layer
// normalization, with the weight initializations their papers use.
//
// Each layer holds its sizes and its parameters' names; `callAsFunction`
// reads the parameters' variables from a `BoundParameters`.

import Autodiff
import RealModule
import Tensors

/// How a weight tensor [fanOut, fanIn, (k, k)] is drawn, and the constant it
/// is multiplied by at every forward pass.
///
/// fanIn is the product of all axes but the first (C·k·k for a convolution),
/// fanOut the first axis times the kernel area.
public enum WeightInitialization: Sendable, Equatable {
    /// N(0, gain² / fanIn), He et al. (2015); gain √2 for ReLU layers.
    case he(gain: Float)
    /// Uniform on ±√(6 / (fanIn + fanOut)), Glorot & Bengio (2010).
    case glorotUniform
    /// N(0, std²).
    case normal(std: Float)
    /// Uniform on ±limit (PyTorch's recurrent cells: limit 1/√hidden).
    case uniform(limit: Float)
    /// The equalized learning rate of Karras et al. (2018, §4.1): weights
    /// stored as N(0, 1) and multiplied at every forward pass by
    /// gain / √fanIn (gain √2 for leaky-ReLU layers, 1 for linear outputs),
    /// so that Adam's step is the same relative size for every layer.
    case equalized(gain: Float)

    /// The weights as stored.
    public func weights(shape: [Int], rng: inout RandomGenerator) -> Tensor {
        precondition(shape.count >= 2, "WeightInitialization: weight shape \(shape) needs [out, in, …]")
        let (fanIn, fanOut) = WeightInitialization.fans(shape)
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        switch self {
        case let .he(gain):
            let std = Double(gain) / Double(fanIn).squareRoot()
            for i in 0..<count { values[i] = Float(rng.normal(mean: 0, std: std)) }
        case .glorotUniform:
            let limit = Float((6 / Double(fanIn + fanOut)).squareRoot())
            for i in 0..<count { values[i] = rng.uniform(-limit, limit) }
        case let .normal(std):
            for i in 0..<count { values[i] = Float(rng.normal(mean: 0, std: Double(std))) }
        case let .uniform(limit):
            for i in 0..<count { values[i] = rng.uniform(-limit, limit) }
        case .equalized:
            for i in 0..<count { values[i] = Float(rng.normal()) }
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// The constant the stored weights are multiplied by in the forward pass.
    public func runtimeScale(shape: [Int]) -> Float {
        guard case let .equalized(gain) = self else { return 1 }
        return gain / Float(WeightInitialization.fans(shape).fanIn).squareRoot()
    }

    static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape.dropFirst().reduce(1, *), shape[0] * receptive)
    }
}

/// A 2-D convolution on NCHW batches with an optional bias per output channel.
public struct Conv2D: Sendable, Equatable {
    public let name: String
    public let inputChannels, outputChannels, kernel, stride, padding: Int
    public let hasBias: Bool
    /// The constant the weight is multiplied by at every forward pass
    /// (1 unless the initialization is `.equalized`).
    public let runtimeScale: Float

    /// Adds "<name>.weight" [out, in, k, k] (and "<name>.bias" [out], zeros) to `store`.
    public init(_ name: String, inputChannels: Int, outputChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, initialization: WeightInitialization, store: inout ParameterStore,
                rng: inout RandomGenerator) {
        self.name = name
        (self.inputChannels, self.outputChannels, self.kernel, self.stride, self.padding) =
            (inputChannels, outputChannels, kernel, stride, padding)
        hasBias = bias
        let shape = [outputChannels, inputChannels, kernel, kernel]
        runtimeScale = initialization.runtimeScale(shape: shape)
        store.add(name + ".weight", initialization.weights(shape: shape, rng: &rng))
        if bias { store.add(name + ".bias", Tensor.zeros([outputChannels])) }
    }

    /// x [N, in, H, W] → [N, out, Ho, Wo].
    public func callAsFunction(_ x: Variable, _ p: BoundParameters) -> Variable {
        var w = p[name + ".weight"]
        if runtimeScale != 1 { w = runtimeScale * w }
        let y = x.conv2d(w, stride: stride, padding: padding)
        return hasBias ? y.addingChannelBias(p[name + ".bias"]) : y
    }
}

/// y = x·Wᵀ + b over the last axis of x, for x of any rank ≥ 1.
public struct Linear: Sendable, Equatable {
    public let name: String
    public let inputFeatures, outputFeatures: Int
    public let hasBias: Bool
    public let runtimeScale: Float

    /// Adds "<name>.weight" [out, in] (and "<name>.bias" [out], zeros) to `store`.
    public init(_ name: String, inputFeatures: Int, outputFeatures: Int, bias: Bool = true,
                initialization: WeightInitialization, store: inout ParameterStore, rng: inout RandomGenerator) {
        self.name = name
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        hasBias = bias
        let shape = [outputFeatures, inputFeatures]
        runtimeScale = initialization.runtimeScale(shape: shape)
        store.add(name + ".weight", initialization.weights(shape: shape, rng: &rng))
        if bias { store.add(name + ".bias", Tensor.zeros([outputFeatures])) }
    }

    /// x [..., in] → [..., out].
    public func callAsFunction(_ x: Variable, _ p: BoundParameters) -> Variable {
        precondition(x.shape.last == inputFeatures, "\(name): input \(x.shape), expected last axis \(inputFeatures)")
        var w = p[name + ".weight"]
        if runtimeScale != 1 { w = runtimeScale * w }
        let rows = x.value.count / inputFeatures
        var y = matmul(x.reshaped([rows, inputFeatures]), w, transposeB: true)
        if hasBias { y = y.addingRowVector(p[name + ".bias"]) }
        return y.reshaped(Array(x.shape.dropLast()) + [outputFeatures])
    }
}

/// A table of vectors looked up by index: [vocabulary, dimension].
public struct Embedding: Sendable, Equatable {
    public let name: String
    public let vocabulary, dimension: Int

    /// Adds "<name>.table" to `store` (N(0, 1/dimension) by default, the
    /// scale at which Vaswani et al. multiply it by √dimension).
    public init(_ name: String, vocabulary: Int, dimension: Int, initialization: WeightInitialization? = nil,
                store: inout ParameterStore, rng: inout RandomGenerator) {
        self.name = name
        self.vocabulary = vocabulary
        self.dimension = dimension
        let initialization = initialization ?? .normal(std: 1 / Float(dimension).squareRoot())
        store.add(name + ".table", initialization.weights(shape: [vocabulary, dimension], rng: &rng))
    }

    /// The vectors of `indices`, shaped `shape + [dimension]` (`shape` the
    /// indices' own shape, e.g. [batch, length]).
    public func callAsFunction(_ indices: [Int], shape: [Int], _ p: BoundParameters) -> Variable {
        precondition(indices.count == shape.reduce(1, *), "\(name): \(indices.count) indices for shape \(shape)")
        for i in indices { precondition(i >= 0 && i < vocabulary, "\(name): index \(i) outside 0..<\(vocabulary)") }
        return p[name + ".table"].gatherRows(indices).reshaped(shape + [dimension])
    }
}

/// Layer normalization over the last axis with a learned scale (ones) and
/// offset (zeros).
public struct LayerNorm: Sendable, Equatable {
    public let name: String
    public let dimension: Int
    public let epsilon: Float

    /// Adds "<name>.scale" (ones) and "<name>.offset" (zeros) to `store`.
    public init(_ name: String, dimension: Int, epsilon: Float = 1e-5, store: inout ParameterStore) {
        self.name = name
        self.dimension = dimension
        self.epsilon = epsilon
        store.add(name + ".scale", Tensor.ones([dimension]))
        store.add(name + ".offset", Tensor.zeros([dimension]))
    }

    public func callAsFunction(_ x: Variable, _ p: BoundParameters) -> Variable {
        x.layerNormalized(scale: p[name + ".scale"], offset: p[name + ".offset"], epsilon: epsilon)
    }
}

/// The sinusoidal position encodings of Vaswani et al. (2017, §3.5):
/// PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)),
/// as a [length, dimension] tensor.
public func sinusoidalPositions(length: Int, dimension: Int) -> Tensor {
    precondition(length >= 0 && dimension > 0, "sinusoidalPositions: length \(length), dimension \(dimension)")
    var t = Tensor.zeros([length, dimension])
    for pos in 0..<length {
        for j in 0..<dimension {
            let rate = Double.pow(10_000, -Double(2 * (j / 2)) / Double(dimension))
            let angle = Double(pos) * rate
            t.scalars[pos * dimension + j] = Float(j % 2 == 0 ? Double.sin(angle) : Double.cos(angle))
        }
    }
    return t
}
