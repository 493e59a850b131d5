// Differentiable convolution, channel bias, upsampling and pooling on NCHW
// batches (see Tensors/Convolution.swift for the layout and the kernels).
//
// The convolution's two gradients are themselves operations here
// (`conv2dInputGradient`, `conv2dWeightGradient`): all three are bilinear,
// and each one's pullback is made of the other two, so that the recorded
// backward pass of a convolutional critic is differentiable any number of
// times.

import Tensors

extension Variable {
    /// The 2-D convolution of x [N, C, H, W] with weight [O, C, k, k]
    /// (zero padding, stride): [N, O, Ho, Wo].
    ///
    /// Pullback: ∂x = the transposed convolution of g with w, ∂w = g'·colᵀ;
    /// the forward pass's im2col matrix is kept for ∂w when it is small
    /// (2 MiB on the stride-1 path, one block on the strided one), else
    /// recomputed block by block.
    public func conv2d(_ weight: Variable, stride: Int = 1, padding: Int = 0) -> Variable {
        let x = self
        let q = ConvolutionGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
        let (y, patches) = Tensor.conv2dKeepingPatches(x.value, weight.value, stride: stride, padding: padding)
        return tape.record(y, inputs: [x, weight], name: "conv2d") { g in
            let (dx, dw) = Tensor.conv2dGradients(x.value, weight.value, g, geometry: q,
                                                  input: x.needsGradient, weight: weight.needsGradient, patches: patches)
            return [dx, dw]
        } recorded: { g in
            [x.needsGradient ? Variable.conv2dInputGradient(g, weight, geometry: q) : nil,
             weight.needsGradient ? Variable.conv2dWeightGradient(x, g, geometry: q) : nil]
        }
    }

    /// ∂⟨g, conv2d(x, w)⟩/∂x as an operation of g and w: linear in each.
    /// ⟨u, T(g, w)⟩ = ⟨conv2d(u, w), g⟩, so ∂g = conv2d(u, w) and
    /// ∂w = conv2dWeightGradient(u, g).
    public static func conv2dInputGradient(_ g: Variable, _ weight: Variable, geometry q: ConvolutionGeometry) -> Variable {
        let y = Tensor.conv2dInputGradient(g.value, weight.value, geometry: q)
        return g.tape.record(y, inputs: [g, weight], name: "conv2dInputGradient") { u in
            [g.needsGradient ? Tensor.conv2d(u, weight.value, stride: q.stride, padding: q.padding) : nil,
             weight.needsGradient ? Tensor.conv2dWeightGradient(u, g.value, geometry: q) : nil]
        } recorded: { u in
            [g.needsGradient ? u.conv2d(weight, stride: q.stride, padding: q.padding) : nil,
             weight.needsGradient ? Variable.conv2dWeightGradient(u, g, geometry: q) : nil]
        }
    }

    /// ∂⟨g, conv2d(x, w)⟩/∂w as an operation of x and g: linear in each.
    /// ⟨U, W(x, g)⟩ = ⟨conv2d(x, U), g⟩, so ∂x = conv2dInputGradient(g, U)
    /// and ∂g = conv2d(x, U).
    public static func conv2dWeightGradient(_ x: Variable, _ g: Variable, geometry q: ConvolutionGeometry) -> Variable {
        let y = Tensor.conv2dWeightGradient(x.value, g.value, geometry: q)
        return x.tape.record(y, inputs: [x, g], name: "conv2dWeightGradient") { u in
            [x.needsGradient ? Tensor.conv2dInputGradient(g.value, u, geometry: q) : nil,
             g.needsGradient ? Tensor.conv2d(x.value, u, stride: q.stride, padding: q.padding) : nil]
        } recorded: { u in
            [x.needsGradient ? Variable.conv2dInputGradient(g, u, geometry: q) : nil,
             g.needsGradient ? x.conv2d(u, stride: q.stride, padding: q.padding) : nil]
        }
    }

    /// x [N, C, H, W] (or [N, C]) plus a bias [C] per channel: ∂b is the sum
    /// of g over everything but the channel.
    public func addingChannelBias(_ bias: Variable) -> Variable {
        let x = self
        return tape.record(x.value.addingChannelBias(bias.value), inputs: [x, bias], name: "addingChannelBias") { g in
            [x.needsGradient ? g : nil, bias.needsGradient ? g.sumOverChannels() : nil]
        } recorded: { g in
            [x.needsGradient ? g : nil, bias.needsGradient ? g.sumOverChannels() : nil]
        }
    }

    /// The sum over everything but the channel axis (axis 1): [C]; its
    /// pullback repeats g over every position of its channel.
    public func sumOverChannels() -> Variable {
        let shape = value.shape
        return tape.record(value.sumOverChannels(), inputs: [self], name: "sumOverChannels") { g in
            [Tensor.zeros(shape).addingChannelBias(g)]
        } recorded: { g in [g.tape.constant(Tensor.zeros(shape)).addingChannelBias(g)] }
    }

    /// Nearest-neighbour upsampling by 2: ∂x is the sum of g over each 2x2 block.
    public func upsampledNearest2x() -> Variable {
        tape.record(value.upsampledNearest2x(), inputs: [self], name: "upsampledNearest2x") { g in [g.sumPooled2x2()] } recorded: { g in [4 * g.averagePooled2x2()] }
    }

    /// Average pooling over 2x2 blocks: ∂x is g/4 spread over each block.
    public func averagePooled2x2() -> Variable {
        tape.record(value.averagePooled2x2(), inputs: [self], name: "averagePooled2x2") { g in
            [0.25 * g.upsampledNearest2x()]
        } recorded: { g in [0.25 * g.upsampledNearest2x()] }
    }
}
