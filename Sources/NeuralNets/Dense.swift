// The fully connected layer, as one fused differentiable operation.
//
// y = f(x·Wᵀ + b) is computed in a single pass (bias copied into the output,
// GEMM accumulating onto it, activation in place), and its pullback computes
// dz = g ⊙ f'(y) once and then dW, db and dx: half the allocations and
// closure calls of the three-op composition. (The training step of narrow
// networks such as the 12-bit one bypasses the tape: NarrowStep.swift.)

import Autodiff
import Tensors

/// A fully connected layer: weight [outputFeatures, inputFeatures], bias
/// [outputFeatures], and an activation.
public struct Dense: Sendable, Equatable {
    /// W, of shape [outputFeatures, inputFeatures].
    public var weight: Tensor
    /// b, of shape [outputFeatures].
    public var bias: Tensor
    /// f, applied after the affine map.
    public var activation: Activation

    public var inputFeatures: Int { weight.shape[1] }
    public var outputFeatures: Int { weight.shape[0] }

    /// A layer with weights drawn by `initializer` and zero bias.
    public init(inputFeatures: Int, outputFeatures: Int, activation: Activation,
                initializer: Initializer, rng: inout RandomGenerator) {
        weight = initializer.weights(shape: [outputFeatures, inputFeatures], rng: &rng)
        bias = Tensor.zeros([outputFeatures])
        self.activation = activation
    }

    /// A layer with the given parameters.
    public init(weight: Tensor, bias: Tensor, activation: Activation) {
        precondition(weight.rank == 2 && bias.shape == [weight.shape[0]],
                     "Dense: weight \(weight.shape), bias \(bias.shape)")
        self.weight = weight
        self.bias = bias
        self.activation = activation
    }

    /// Inference without a tape: returns (pre-activation z, output y) for
    /// x of shape [batch, inputFeatures]; z is only computed (copied) when asked.
    public func forward(_ x: Tensor, keepPreActivation: Bool = false) -> (preActivation: Tensor?, output: Tensor) {
        var z = affine(x, weight: weight, bias: bias)
        let pre = keepPreActivation ? z : nil
        activation.apply(&z)
        return (pre, z)
    }
}

/// x·Wᵀ + b for x [batch, in], W [out, in], b [out]: the bias is written
/// into the output first and the GEMM accumulates onto it (beta = 1).
func affine(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
    precondition(x.rank == 2 && x.shape[1] == weight.shape[1],
                 "Dense: input \(x.shape) for weight \(weight.shape)")
    let batch = x.shape[0], out = weight.shape[0]
    var z = bias.scalars.withUnsafeBufferPointer { b in
        Tensor(shape: [batch, out]) { z in
            for r in 0..<batch { (z.baseAddress! + r * out).update(from: b.baseAddress!, count: out) }
        }
    }
    Tensor.gemm(x, weight, into: &z, transposeB: true, beta: 1)
    return z
}

/// The differentiable fully connected layer y = f(x·Wᵀ + b).
///
/// - Parameters:
///   - x: [batch, inputFeatures].
///   - weight: [outputFeatures, inputFeatures].
///   - bias: [outputFeatures].
/// - Returns: y, [batch, outputFeatures]. Pullback: dz = g ⊙ f'(y),
///   dW = dzᵀ·x, db = Σ_rows dz, dx = dz·W (each only when required).
public func dense(_ x: Variable, weight: Variable, bias: Variable, activation: Activation) -> Variable {
    var y = affine(x.value, weight: weight.value, bias: bias.value)
    activation.apply(&y)
    let output = y
    return x.tape.record(output, inputs: [x, weight, bias], name: "dense") { g in
        let dz: Tensor
        if activation == .linear {
            dz = g
        } else {
            dz = g.zipBuffer(output, "dense'") { g, y, d, n in activation.backward(g, output: y, into: d, count: n) }
        }
        let dx = x.needsGradient ? Tensor.matmul(dz, weight.value) : nil
        let dw = weight.needsGradient ? Tensor.matmul(dz, x.value, transposeA: true) : nil
        let db = bias.needsGradient ? dz.sumRows() : nil
        return [dx, dw, db]
    } recordedUsingOutput: { g, y in
        let dz = activation.backward(g, output: y)
        return [x.needsGradient ? matmul(dz, weight) : nil,
                weight.needsGradient ? matmul(dz, x, transposeA: true) : nil,
                bias.needsGradient ? dz.sumRows() : nil]
    }
}
