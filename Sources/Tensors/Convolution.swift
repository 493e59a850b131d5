// 2-D convolution, nearest-neighbour upsampling and average pooling on
// NCHW batches: [batch, channels, height, width], row-major, so that one
// sample's channel is a contiguous height x width plane.
//
// The convolution is cross-correlation, as in every deep-learning library:
// y[n, o, i, j] = Σ_{c, a, b} w[o, c, a, b] · x[n, c, i·s - p + a, j·s - p + b],
// with zero padding p and stride s, kernel w of shape [out, in, k, k].
// It is computed by im2col and one GEMM over the whole batch:
//
//   col [C·k·k, N·Ho·Wo]   col[(c·k + a)·k + b, (n·Ho + i)·Wo + j] = x[n, c, i·s - p + a, j·s - p + b]
//   Y'  [O, N·Ho·Wo]       = W [O, C·k·k] · col
//   y   [N, O, Ho, Wo]     Y' with its two leading axes swapped
//
// (This general path serves strided convolutions and padding of k or more;
// every other stride-1 convolution takes the row-padded path of
// Convolution+RowPadded.swift, which avoids the bounds tests of im2col and
// the scatter of col2im.)
//
// Its two gradients come from two more GEMMs: dW = g' · colᵀ and
// dx = col2im(Wᵀ · g'), g' being g with its leading axes swapped; col2im is
// the adjoint of im2col (a scatter-add). The batch is taken in blocks of
// samples whose im2col matrix fits in cache (`blockSamples`; one sample at a
// time for 32x32 feature maps of 16 or more channels), so the patches are
// never materialized for the whole batch, and the backward pass recomputes
// them instead of keeping them. `conv2dDirect` computes the same sums by
// seven nested loops, the reference the tests compare with.

/// The sizes of a 2-D convolution.
public struct ConvolutionGeometry: Sendable, Equatable, CustomStringConvertible {
    public var batch: Int
    public var inputChannels: Int
    public var height: Int
    public var width: Int
    public var outputChannels: Int
    public var kernel: Int
    public var stride: Int
    public var padding: Int

    /// The geometry of convolving x [N, C, H, W] with w [O, C, k, k].
    public init(input: [Int], weight: [Int], stride: Int, padding: Int) {
        precondition(input.count == 4, "conv2d: input of shape \(input) is not NCHW")
        precondition(weight.count == 4 && weight[2] == weight[3],
                     "conv2d: weight of shape \(weight) is not [out, in, k, k]")
        precondition(weight[1] == input[1], "conv2d: weight \(weight) for input \(input) with \(input[1]) channels")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride), padding \(padding)")
        self.init(batch: input[0], inputChannels: input[1], height: input[2], width: input[3],
                  outputChannels: weight[0], kernel: weight[2], stride: stride, padding: padding)
    }

    public init(batch: Int, inputChannels: Int, height: Int, width: Int,
                outputChannels: Int, kernel: Int, stride: Int, padding: Int) {
        self.batch = batch
        self.inputChannels = inputChannels
        self.height = height
        self.width = width
        self.outputChannels = outputChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        precondition(height + 2 * padding >= kernel && width + 2 * padding >= kernel,
                     "conv2d: kernel \(kernel) larger than the padded input \(height)x\(width) (padding \(padding))")
    }

    public var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    public var inputShape: [Int] { [batch, inputChannels, height, width] }
    public var weightShape: [Int] { [outputChannels, inputChannels, kernel, kernel] }
    public var outputShape: [Int] { [batch, outputChannels, outputHeight, outputWidth] }
    /// Rows of the im2col matrix: C·k·k.
    public var patchSize: Int { inputChannels * kernel * kernel }
    /// Columns of the im2col matrix: N·Ho·Wo.
    public var patchCount: Int { batch * outputHeight * outputWidth }
    /// Multiply-adds of the forward pass, times two.
    public var forwardFlops: Double { 2 * Double(outputChannels) * Double(patchSize) * Double(patchCount) }

    public var description: String {
        "\(batch)x\(inputChannels)x\(height)x\(width) * \(outputChannels)x\(inputChannels)x\(kernel)x\(kernel)"
            + " stride \(stride) padding \(padding)"
    }
}

extension Tensor {
    // MARK: im2col

    /// The im2col matrix [C·k·k, N·Ho·Wo] of an NCHW batch (see the file comment).
    public static func im2col(_ x: Tensor, geometry q: ConvolutionGeometry) -> Tensor {
        precondition(x.shape == q.inputShape, "im2col: input \(x.shape) for \(q)")
        return x.scalars.withUnsafeBufferPointer { xb in
            Tensor(shape: [q.patchSize, q.patchCount]) { col in
                im2col(xb.baseAddress!, samples: 0..<q.batch, geometry: q, into: col.baseAddress!)
            }
        }
    }

    /// The adjoint of `im2col`: every entry of `col` added back to the input
    /// position it was copied from (zero-padding positions are dropped).
    public static func col2im(_ col: Tensor, geometry q: ConvolutionGeometry) -> Tensor {
        precondition(col.shape == [q.patchSize, q.patchCount], "col2im: \(col.shape) for \(q)")
        return col.scalars.withUnsafeBufferPointer { cb in
            Tensor(shape: q.inputShape) { xb in
                xb.initialize(repeating: 0)
                col2im(cb.baseAddress!, samples: 0..<q.batch, geometry: q, addingInto: xb.baseAddress!)
            }
        }
    }

    /// The output columns j whose input column j·s - p + b lies inside the
    /// input, for kernel column b.
    @inline(__always)
    static func validColumns(_ q: ConvolutionGeometry, _ b: Int) -> Range<Int> {
        let (s, p, w, wo) = (q.stride, q.padding, q.width, q.outputWidth)
        let low = b >= p ? 0 : (p - b + s - 1) / s
        let high = w - 1 + p - b < 0 ? 0 : Swift.min(wo, (w - 1 + p - b) / s + 1)
        return low..<Swift.max(low, high)
    }

    /// The im2col columns of `samples` of x into `col` [C·k·k, samples.count·Ho·Wo].
    static func im2col(_ x: UnsafePointer<Float>, samples: Range<Int>, geometry q: ConvolutionGeometry,
                       into col: UnsafeMutablePointer<Float>) {
        let (ho, wo, k, s, p) = (q.outputHeight, q.outputWidth, q.kernel, q.stride, q.padding)
        let (h, w) = (q.height, q.width)
        let columns = samples.count * ho * wo
        for c in 0..<q.inputChannels {
            for a in 0..<k {
                for b in 0..<k {
                    let row = col + ((c * k + a) * k + b) * columns
                    let valid = validColumns(q, b)
                    for sample in samples {
                        let plane = x + (sample * q.inputChannels + c) * h * w
                        for i in 0..<ho {
                            let out = row + ((sample - samples.lowerBound) * ho + i) * wo
                            let ii = i * s - p + a
                            // Plain loops, not memset/memcpy calls: rows are
                            // often 4 to 16 floats, where a call costs more
                            // than the copy.
                            guard ii >= 0 && ii < h && !valid.isEmpty else {
                                for j in 0..<wo { out[j] = 0 }
                                continue
                            }
                            let source = plane + ii * w - p + b
                            for j in 0..<valid.lowerBound { out[j] = 0 }
                            if s == 1 {
                                for j in valid { out[j] = source[j] }
                            } else {
                                for j in valid { out[j] = source[j * s] }
                            }
                            for j in valid.upperBound..<wo { out[j] = 0 }
                        }
                    }
                }
            }
        }
    }

    /// Adds the im2col columns `col` of `samples` back into dx (the adjoint
    /// of `im2col(_:samples:geometry:into:)`).
    static func col2im(_ col: UnsafePointer<Float>, samples: Range<Int>, geometry q: ConvolutionGeometry,
                       addingInto x: UnsafeMutablePointer<Float>) {
        let (ho, wo, k, s, p) = (q.outputHeight, q.outputWidth, q.kernel, q.stride, q.padding)
        let (h, w) = (q.height, q.width)
        let columns = samples.count * ho * wo
        for c in 0..<q.inputChannels {
            for a in 0..<k {
                for b in 0..<k {
                    let row = col + ((c * k + a) * k + b) * columns
                    let valid = validColumns(q, b)
                    guard !valid.isEmpty else { continue }
                    for sample in samples {
                        let plane = x + (sample * q.inputChannels + c) * h * w
                        for i in 0..<ho {
                            let ii = i * s - p + a
                            guard ii >= 0 && ii < h else { continue }
                            let source = row + ((sample - samples.lowerBound) * ho + i) * wo
                            let target = plane + ii * w - p + b
                            if s == 1 {
                                for j in valid { target[j] += source[j] }
                            } else {
                                for j in valid { target[j * s] += source[j] }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Convolution

    /// Samples per im2col block: as many as keep the block's im2col matrix
    /// near 256 Ki floats (1 MiB, within the last-level cache), at least one.
    /// The GEMMs then read their im2col operand from cache and no matrix of
    /// the whole batch's patches is ever made.
    static func blockSamples(_ q: ConvolutionGeometry) -> Int {
        let perSample = Swift.max(q.patchSize * q.outputHeight * q.outputWidth, 1)
        return Swift.max(1, Swift.min(q.batch, (1 << 18) / perSample))
    }

    /// The 2-D convolution (cross-correlation) of x [N, C, H, W] with
    /// w [O, C, k, k], zero padding and stride: [N, O, Ho, Wo].
    ///
    /// One GEMM W·col per block of samples (`blockSamples`), the block's
    /// im2col matrix in a buffer reused from block to block.
    public static func conv2d(_ x: Tensor, _ w: Tensor, stride: Int = 1, padding: Int = 0) -> Tensor {
        conv2dKeepingPatches(x, w, stride: stride, padding: padding).output
    }

    /// `conv2d`, and the im2col matrix of the whole batch when the batch
    /// is one block (it is then at most 1 MiB): the backward pass reuses it
    /// instead of making it again.
    public static func conv2dKeepingPatches(_ x: Tensor, _ w: Tensor, stride: Int = 1, padding: Int = 0)
        -> (output: Tensor, patches: ConvolutionPatches?) {
        let q = ConvolutionGeometry(input: x.shape, weight: w.shape, stride: stride, padding: padding)
        if RowPaddedConvolution.applies(to: q) {
            let layout = RowPaddedConvolution(q)
            var kept = [Float](repeating: 0, count: layout.keepsPatches ? layout.patchFloats : 0)
            let y = x.scalars.withUnsafeBufferPointer { xb in
                w.scalars.withUnsafeBufferPointer { wb in
                    kept.withUnsafeMutableBufferPointer { kb in
                        Tensor(shape: q.outputShape) { yb in
                            layout.forward(xb.baseAddress!, wb.baseAddress!, into: yb.baseAddress!,
                                           keeping: layout.keepsPatches ? kb.baseAddress! : nil)
                        }
                    }
                }
            }
            return (y, layout.keepsPatches
                ? ConvolutionPatches(geometry: q, blockSamples: layout.blockSamples, scalars: kept) : nil)
        }
        let (o, patch, plane) = (q.outputChannels, q.patchSize, q.outputHeight * q.outputWidth)
        let block = blockSamples(q)
        var col = [Float](repeating: 0, count: patch * block * plane)
        var product = [Float](repeating: 0, count: block > 1 ? o * block * plane : 0)
        let y = x.scalars.withUnsafeBufferPointer { xb in
            w.scalars.withUnsafeBufferPointer { wb in
                Tensor(shape: q.outputShape) { yb in
                    col.withUnsafeMutableBufferPointer { colb in
                        product.withUnsafeMutableBufferPointer { pb in
                            var start = 0
                            while start < q.batch {
                                let b = Swift.min(block, q.batch - start)
                                im2col(xb.baseAddress!, samples: start..<(start + b), geometry: q, into: colb.baseAddress!)
                                let y = yb.baseAddress! + start * o * plane
                                if b == 1 {
                                    multiply(transposeA: false, transposeB: false, m: o, n: plane, k: patch, alpha: 1,
                                             a: wb.baseAddress!, lda: patch, b: colb.baseAddress!, ldb: plane,
                                             beta: 0, c: y, ldc: plane)
                                } else {
                                    multiply(transposeA: false, transposeB: false, m: o, n: b * plane, k: patch, alpha: 1,
                                             a: wb.baseAddress!, lda: patch, b: colb.baseAddress!, ldb: b * plane,
                                             beta: 0, c: pb.baseAddress!, ldc: b * plane)
                                    // [O, b, plane] → [b, O, plane]
                                    for sample in 0..<b {
                                        for channel in 0..<o {
                                            let target = y + (sample * o + channel) * plane
                                            let source = pb.baseAddress! + (channel * b + sample) * plane
                                            for i in 0..<plane { target[i] = source[i] }
                                        }
                                    }
                                }
                                start += b
                            }
                        }
                    }
                }
            }
        }
        return (y, block >= q.batch ? ConvolutionPatches(geometry: q, blockSamples: q.batch, scalars: col) : nil)
    }

    /// The gradients of ⟨g, conv2d(x, w)⟩ for g [N, O, Ho, Wo]: with respect
    /// to x (the transposed convolution of g with w, col2im of Wᵀ·g') when
    /// `input`, and to w (g'·colᵀ) when `weight`; block by block as `conv2d`.
    ///
    /// `patches`, the whole batch's im2col matrix from `conv2dKeepingPatches`,
    /// saves making it again.
    public static func conv2dGradients(_ x: Tensor, _ w: Tensor, _ g: Tensor, geometry q: ConvolutionGeometry,
                                       input: Bool, weight: Bool, patches kept: ConvolutionPatches? = nil)
        -> (input: Tensor?, weight: Tensor?) {
        precondition(g.shape == q.outputShape, "conv2d gradients: gradient \(g.shape) for \(q)")
        precondition(w.shape == q.weightShape, "conv2d gradients: weight \(w.shape) for \(q)")
        precondition(!weight || x.shape == q.inputShape, "conv2d gradients: input \(x.shape) for \(q)")
        precondition(kept == nil || kept!.geometry == q, "conv2d gradients: patches of \(kept!.geometry) for \(q)")
        if RowPaddedConvolution.applies(to: q) {
            let layout = RowPaddedConvolution(q, blockSamples: kept?.blockSamples)
            let dx = !input ? nil : g.scalars.withUnsafeBufferPointer { gb in
                w.scalars.withUnsafeBufferPointer { wb in
                    Tensor(shape: q.inputShape) { layout.inputGradient(gb.baseAddress!, wb.baseAddress!, into: $0.baseAddress!) }
                }
            }
            let dw = !weight ? nil : x.scalars.withUnsafeBufferPointer { xb in
                g.scalars.withUnsafeBufferPointer { gb in
                    (kept?.scalars ?? []).withUnsafeBufferPointer { kb in
                        Tensor(shape: q.weightShape) {
                            layout.weightGradient(xb.baseAddress!, gb.baseAddress!, kept: kept == nil ? nil : kb.baseAddress!,
                                                  into: $0.baseAddress!)
                        }
                    }
                }
            }
            return (dx, dw)
        }
        let patches = kept?.scalars
        let (o, patch, plane) = (q.outputChannels, q.patchSize, q.outputHeight * q.outputWidth)
        let block = blockSamples(q)
        let kept = patches != nil && block >= q.batch
        precondition(patches == nil || patches!.count == patch * q.patchCount, "conv2d gradients: patches for another geometry")
        var col = kept && !input ? patches! : [Float](repeating: 0, count: patch * block * plane)
        var swapped = [Float](repeating: 0, count: block > 1 ? o * block * plane : 0)
        var dx = input ? Tensor.zeros(q.inputShape) : Tensor.zeros([0])
        var dw = weight ? Tensor.zeros(q.weightShape) : Tensor.zeros([0])
        x.scalars.withUnsafeBufferPointer { xb in
            w.scalars.withUnsafeBufferPointer { wb in
                g.scalars.withUnsafeBufferPointer { gb in
                    col.withUnsafeMutableBufferPointer { colb in
                        swapped.withUnsafeMutableBufferPointer { sb in
                            dx.scalars.withUnsafeMutableBufferPointer { dxb in
                                dw.scalars.withUnsafeMutableBufferPointer { dwb in
                                    var start = 0
                                    while start < q.batch {
                                        let b = Swift.min(block, q.batch - start)
                                        let samples = start..<(start + b)
                                        // g' of the block: [O, b·plane].
                                        let gBlock: UnsafePointer<Float>
                                        if b == 1 {
                                            gBlock = gb.baseAddress! + start * o * plane
                                        } else {
                                            for sample in 0..<b {
                                                for channel in 0..<o {
                                                    let target = sb.baseAddress! + (channel * b + sample) * plane
                                                    let source = gb.baseAddress! + ((start + sample) * o + channel) * plane
                                                    for i in 0..<plane { target[i] = source[i] }
                                                }
                                            }
                                            gBlock = UnsafePointer(sb.baseAddress!)
                                        }
                                        let n = b * plane
                                        if weight {
                                            if kept {
                                                patches!.withUnsafeBufferPointer { pb in
                                                    multiply(transposeA: false, transposeB: true, m: o, n: patch, k: n, alpha: 1,
                                                             a: gBlock, lda: n, b: pb.baseAddress!, ldb: n,
                                                             beta: 0, c: dwb.baseAddress!, ldc: patch)
                                                }
                                            } else {
                                                im2col(xb.baseAddress!, samples: samples, geometry: q, into: colb.baseAddress!)
                                                multiply(transposeA: false, transposeB: true, m: o, n: patch, k: n, alpha: 1,
                                                         a: gBlock, lda: n, b: colb.baseAddress!, ldb: n,
                                                         beta: start == 0 ? 0 : 1, c: dwb.baseAddress!, ldc: patch)
                                            }
                                        }
                                        if input {
                                            multiply(transposeA: true, transposeB: false, m: patch, n: n, k: o, alpha: 1,
                                                     a: wb.baseAddress!, lda: patch, b: gBlock, ldb: n,
                                                     beta: 0, c: colb.baseAddress!, ldc: n)
                                            col2im(colb.baseAddress!, samples: samples, geometry: q, addingInto: dxb.baseAddress!)
                                        }
                                        start += b
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (input ? dx : nil, weight ? dw : nil)
    }

    /// ∂⟨g, conv2d(x, w)⟩/∂x for g [N, O, Ho, Wo]: the transposed convolution of g with w.
    public static func conv2dInputGradient(_ g: Tensor, _ w: Tensor, geometry q: ConvolutionGeometry) -> Tensor {
        conv2dGradients(Tensor.zeros([0]), w, g, geometry: q, input: true, weight: false).input!
    }

    /// ∂⟨g, conv2d(x, w)⟩/∂w for g [N, O, Ho, Wo].
    public static func conv2dWeightGradient(_ x: Tensor, _ g: Tensor, geometry q: ConvolutionGeometry) -> Tensor {
        conv2dGradients(x, Tensor.zeros(q.weightShape), g, geometry: q, input: false, weight: true).weight!
    }

    /// The same convolution by direct summation: the reference for the im2col path.
    public static func conv2dDirect(_ x: Tensor, _ w: Tensor, stride: Int = 1, padding: Int = 0) -> Tensor {
        let q = ConvolutionGeometry(input: x.shape, weight: w.shape, stride: stride, padding: padding)
        let (ho, wo, k) = (q.outputHeight, q.outputWidth, q.kernel)
        var y = Tensor.zeros(q.outputShape)
        for n in 0..<q.batch {
            for o in 0..<q.outputChannels {
                for i in 0..<ho {
                    for j in 0..<wo {
                        var sum: Float = 0
                        for c in 0..<q.inputChannels {
                            for a in 0..<k {
                                for b in 0..<k {
                                    let ii = i * stride - padding + a, jj = j * stride - padding + b
                                    guard ii >= 0 && ii < q.height && jj >= 0 && jj < q.width else { continue }
                                    sum += w[o, c, a, b] * x[n, c, ii, jj]
                                }
                            }
                        }
                        y[n, o, i, j] = sum
                    }
                }
            }
        }
        return y
    }

    // MARK: Channel bias

    /// x [N, C, H, W] (or [N, C]) plus b [C] on every position of channel c.
    public func addingChannelBias(_ b: Tensor) -> Tensor {
        precondition(rank >= 2 && b.shape == [shape[1]], "addingChannelBias: \(shape) + \(b.shape)")
        let (n, c) = (shape[0], shape[1])
        let plane = count / Swift.max(n * c, 1)
        return scalars.withUnsafeBufferPointer { x in
            b.scalars.withUnsafeBufferPointer { b in
                Tensor(shape: shape) { y in
                    for s in 0..<n {
                        for ch in 0..<c {
                            let offset = (s * c + ch) * plane, v = b[ch]
                            for i in 0..<plane { y[offset + i] = x[offset + i] + v }
                        }
                    }
                }
            }
        }
    }

    /// The sum of x [N, C, H, W] (or [N, C]) over everything but the channel: [C].
    public func sumOverChannels() -> Tensor {
        precondition(rank >= 2, "sumOverChannels: shape \(shape)")
        let (n, c) = (shape[0], shape[1])
        let plane = count / Swift.max(n * c, 1)
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: [c]) { y in
                for ch in 0..<c {
                    var sum: Float = 0
                    for s in 0..<n {
                        let offset = (s * c + ch) * plane
                        for i in 0..<plane { sum += x[offset + i] }
                    }
                    y[ch] = sum
                }
            }
        }
    }

    // MARK: Resampling

    /// Nearest-neighbour upsampling by 2 of an NCHW batch: [N, C, 2H, 2W].
    public func upsampledNearest2x() -> Tensor {
        precondition(rank == 4, "upsampledNearest2x: shape \(shape) is not NCHW")
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: [shape[0], shape[1], 2 * h, 2 * w]) { y in
                for p in 0..<planes {
                    let source = x.baseAddress! + p * h * w, target = y.baseAddress! + p * 4 * h * w
                    for i in 0..<h {
                        let row = target + 2 * i * 2 * w
                        for j in 0..<w { let v = source[i * w + j]; row[2 * j] = v; row[2 * j + 1] = v }
                        (row + 2 * w).initialize(from: row, count: 2 * w)
                    }
                }
            }
        }
    }

    /// The sum over each 2x2 block of an NCHW batch with even H and W:
    /// [N, C, H/2, W/2]. The adjoint of `upsampledNearest2x`.
    public func sumPooled2x2() -> Tensor {
        precondition(rank == 4 && shape[2] % 2 == 0 && shape[3] % 2 == 0,
                     "2x2 pooling: shape \(shape) is not NCHW with even height and width")
        let (planes, h, w) = (shape[0] * shape[1], shape[2] / 2, shape[3] / 2)
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: [shape[0], shape[1], h, w]) { y in
                for p in 0..<planes {
                    let source = x.baseAddress! + p * 4 * h * w, target = y.baseAddress! + p * h * w
                    for i in 0..<h {
                        let top = source + 2 * i * 2 * w, bottom = top + 2 * w
                        for j in 0..<w {
                            target[i * w + j] = (top[2 * j] + top[2 * j + 1]) + (bottom[2 * j] + bottom[2 * j + 1])
                        }
                    }
                }
            }
        }
    }

    /// Average pooling over 2x2 blocks of an NCHW batch with even H and W.
    public func averagePooled2x2() -> Tensor { 0.25 * sumPooled2x2() }
}
