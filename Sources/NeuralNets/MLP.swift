// The multilayer perceptron of both papers: Dense layers with one hidden
// activation and a linear output layer whose softmax lives in the loss.
//
// 12-10-7-5-4-3-2 for the 12-bit task (Shwartz-Ziv & Tishby 2017; Saxe et al.
// 2018, Fig. 1) and 784-1024-20-20-20-10 for MNIST-style data (Saxe et al.,
// Fig. 1C-D).

import Autodiff
import Tensors

/// A stack of fully connected layers.
public struct MLP: Sendable, Equatable {
    /// The layers, input side first; the last one is linear (logits).
    public var layers: [Dense]

    public init(layers: [Dense]) {
        precondition(!layers.isEmpty, "MLP: no layers")
        for (a, b) in zip(layers, layers.dropFirst()) {
            precondition(a.outputFeatures == b.inputFeatures,
                         "MLP: layer widths \(a.outputFeatures) and \(b.inputFeatures) do not chain")
        }
        self.layers = layers
    }

    /// A network with the given widths (input first, classes last), the
    /// hidden activation on every hidden layer and a linear output layer.
    ///
    /// - Parameters:
    ///   - widths: e.g. [12, 10, 7, 5, 4, 3, 2].
    ///   - outputActivation: `.linear` for logits (classification with softmax
    ///     cross-entropy, or regression).
    public init(widths: [Int], hiddenActivation: Activation, outputActivation: Activation = .linear,
                initializer: Initializer, rng: inout RandomGenerator) {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 }, "MLP: widths \(widths)")
        var layers = [Dense]()
        for l in 0..<(widths.count - 1) {
            let isOutput = l == widths.count - 2
            layers.append(Dense(inputFeatures: widths[l], outputFeatures: widths[l + 1],
                                activation: isOutput ? outputActivation : hiddenActivation,
                                initializer: initializer, rng: &rng))
        }
        self.init(layers: layers)
    }

    /// The widths, input first.
    public var widths: [Int] { [layers[0].inputFeatures] + layers.map(\.outputFeatures) }

    /// All parameters in order W₁, b₁, W₂, b₂, …
    public var parameters: [Tensor] {
        get { layers.flatMap { [$0.weight, $0.bias] } }
        set {
            precondition(newValue.count == 2 * layers.count, "MLP.parameters: \(newValue.count) tensors for \(layers.count) layers")
            for l in layers.indices {
                precondition(newValue[2 * l].shape == layers[l].weight.shape && newValue[2 * l + 1].shape == layers[l].bias.shape,
                             "MLP.parameters: shapes of layer \(l + 1) differ")
                layers[l].weight = newValue[2 * l]
                layers[l].bias = newValue[2 * l + 1]
            }
        }
    }

    /// The output of the last layer, recorded on the tape of `x`, with the
    /// parameters given as variables (in the order of `parameters`).
    public func callAsFunction(_ x: Variable, parameters: [Variable]) -> Variable {
        precondition(parameters.count == 2 * layers.count, "MLP: \(parameters.count) parameter variables")
        var h = x
        for (l, layer) in layers.enumerated() {
            h = dense(h, weight: parameters[2 * l], bias: parameters[2 * l + 1], activation: layer.activation)
        }
        return h
    }

    /// The output of the last layer for x [batch, inputs], without a tape
    /// (for narrow networks through the kernels of their training step).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if isNarrow { return narrowForward(x, preActivations: false, lastOnly: true)[0].output }
        return layers.reduce(x) { h, layer in layer.forward(h).output }
    }

    /// Every layer's output for x [batch, inputs], without a tape: the hidden
    /// layers' post-activations (or pre-activations), then the softmax of the
    /// last layer (or its logits) when `softmaxOutput` is set.
    ///
    /// - Returns: one [batch, width] tensor per layer, input side first.
    public func layerOutputs(_ x: Tensor, preActivation: Bool = false, softmaxOutput: Bool = true) -> [Tensor] {
        var outputs = [Tensor]()
        outputs.reserveCapacity(layers.count)
        let narrow = isNarrow ? narrowForward(x, preActivations: preActivation, lastOnly: false) : nil
        var h = x
        for (l, layer) in layers.enumerated() {
            let (z, y) = narrow?[l] ?? layer.forward(h, keepPreActivation: preActivation)
            let isOutput = l == layers.count - 1
            if isOutput && softmaxOutput {
                outputs.append(preActivation ? y : softmax(y))
            } else {
                outputs.append(preActivation ? z! : y)
            }
            h = y
        }
        return outputs
    }

    /// The mean softmax cross-entropy of a batch and its gradient with
    /// respect to every parameter (in the order of `parameters`).
    ///
    /// - Parameters:
    ///   - x: inputs [batch, inputs].
    ///   - targets: target distributions [batch, classes] (one-hot or mixed).
    ///
    /// Narrow networks (`isNarrow`: every layer at most `narrowWidthLimit`
    /// units, like the 12-bit network) take a fused feature-major path
    /// (NarrowStep.swift); the others are differentiated on a tape
    /// (`crossEntropyGradientsOnTape`). Both give the same gradients up to
    /// rounding.
    public func crossEntropyGradients(x: Tensor, targets: Tensor) -> (loss: Float, gradients: [Tensor]) {
        isNarrow ? narrowCrossEntropyGradients(x: x, targets: targets) : crossEntropyGradientsOnTape(x: x, targets: targets)
    }

    /// `crossEntropyGradients` computed on a tape, whatever the widths.
    public func crossEntropyGradientsOnTape(x: Tensor, targets: Tensor) -> (loss: Float, gradients: [Tensor]) {
        let tape = Tape()
        let input = tape.constant(x)
        let params = parameters.map { tape.variable($0) }
        let loss = softmaxCrossEntropy(logits: self(input, parameters: params), targets: targets)
        return (loss.value.scalar, tape.gradients(of: loss, withRespectTo: params))
    }

    /// The mean squared error of a batch against real targets [batch, outputs]
    /// and its gradient with respect to every parameter.
    public func squaredErrorGradients(x: Tensor, targets: Tensor) -> (loss: Float, gradients: [Tensor]) {
        let tape = Tape()
        let input = tape.constant(x)
        let params = parameters.map { tape.variable($0) }
        let loss = meanSquaredError(predictions: self(input, parameters: params), targets: targets)
        return (loss.value.scalar, tape.gradients(of: loss, withRespectTo: params))
    }
}

extension MLP {
    /// Lends the parameters (order of `parameters`) to `body` for an in-place
    /// update without copying them: they are moved out of the layers while
    /// `body` runs, so their storage is uniquely referenced.
    public mutating func updateParameters(_ body: (inout [Tensor]) -> Void) {
        var parameters = [Tensor]()
        parameters.reserveCapacity(2 * layers.count)
        let empty = Tensor.zeros([0])
        for l in layers.indices {
            parameters.append(layers[l].weight)
            parameters.append(layers[l].bias)
            layers[l].weight = empty
            layers[l].bias = empty
        }
        body(&parameters)
        for l in layers.indices {
            layers[l].weight = parameters[2 * l]
            layers[l].bias = parameters[2 * l + 1]
        }
    }
}
