// The training step of narrow networks, fused and feature-major.
//
// In the 12-bit network 12-10-7-5-4-3-2 a layer's product is at most 60,000
// flops at batch 256: less than the cost of a BLAS call, a tape record and
// its allocations. This path computes the forward pass, the softmax
// cross-entropy and the backward pass of such a network in one function over
// one scratch buffer, with every activation stored transposed, [units, batch],
// so that SIMD vectors run along the batch and no lane is wasted whatever the
// width (a row-major row of 5 or 7 units fills an 8-lane vector badly).
//
// It computes the same gradients as the tape (`crossEntropyGradientsOnTape`)
// up to rounding: every sum over a layer's inputs runs in the same order
// (Σ_i x_i·w_i from i = 0, then + b), while sums over the batch (weight and
// bias gradients) are taken 16 columns at a time. Multiplies and adds stay
// separate (no fused multiply-add), so a portable build and a native one give
// the same bits. NeuralNetsTests compares it with the tape and with central
// finite differences.

import Tensors

extension MLP {
    /// The widest layer (input included) that takes the fused narrow path.
    ///
    /// Up to this width the per-layer kernels below keep their working set
    /// in L1 and beat BLAS; wider networks (784-1024-…) go through the tape,
    /// whose GEMMs run in OpenBLAS.
    public static let narrowWidthLimit = 32

    /// Whether `crossEntropyGradients` takes the fused narrow path.
    public var isNarrow: Bool { widths.allSatisfy { $0 <= MLP.narrowWidthLimit } }

    /// `crossEntropyGradients` for narrow networks (see the file comment).
    ///
    /// - Precondition: `isNarrow`, x is [batch, inputs] with batch ≥ 1 and
    ///   targets is [batch, classes].
    func narrowCrossEntropyGradients(x: Tensor, targets: Tensor) -> (loss: Float, gradients: [Tensor]) {
        let widths = self.widths
        precondition(x.rank == 2 && x.shape[1] == widths[0] && x.shape[0] >= 1,
                     "MLP: input \(x.shape) for widths \(widths)")
        precondition(targets.shape == [x.shape[0], widths.last!],
                     "MLP: targets \(targets.shape) for \(x.shape[0]) rows and \(widths.last!) classes")
        let batch = x.shape[0]
        let columns = (batch + NarrowKernels.lanes - 1) / NarrowKernels.lanes * NarrowKernels.lanes
        // Activations of every layer (input first), then two gradient planes.
        var offsets = [Int]()
        var total = 0
        for w in widths {
            offsets.append(total)
            total += w * columns
        }
        let maxWidth = widths.max()!
        let gradientOffset = total
        total += 2 * maxWidth * columns
        let workOffset = total
        total += 2 * columns

        var weightGradients = [Tensor?](repeating: nil, count: layers.count)
        var biasGradients = [Tensor?](repeating: nil, count: layers.count)
        let loss: Double = withUnsafeTemporaryAllocation(of: Float.self, capacity: total) { scratch in
            let base = scratch.baseAddress!
            // Xᵀ, with the padding columns zero.
            let input = base + offsets[0]
            x.scalars.withUnsafeBufferPointer { px in
                NarrowKernels.transpose(px.baseAddress!, rows: batch, columns: widths[0], into: input, stride: columns)
            }
            // Forward: Hₗᵀ = f(Wₗ·Hₗ₋₁ᵀ + bₗ), padding columns set back to 0
            // so that they contribute nothing to the weight gradients.
            for (l, layer) in layers.enumerated() {
                let outputs = widths[l + 1]
                let output = base + offsets[l + 1]
                NarrowKernels.preActivation(layer, input: base + offsets[l], output: output, columns: columns)
                layer.activation.apply(output, count: outputs * columns)
                NarrowKernels.clearPadding(output, rows: outputs, batch: batch, columns: columns)
            }
            // Softmax cross-entropy of the logits and its gradient (p − t)/B.
            var upstream = base + gradientOffset
            var downstream = upstream + maxWidth * columns
            let loss = targets.scalars.withUnsafeBufferPointer { t in
                NarrowKernels.softmaxCrossEntropy(logits: base + offsets[layers.count], classes: widths.last!,
                                                  targets: t.baseAddress!, batch: batch, columns: columns,
                                                  gradient: upstream, work: base + workOffset)
            }
            // Backward, top layer first: dZ = g ⊙ f'(y), dW = dZ·Hᵀ,
            // db = Σ dZ, and g for the layer below = Wᵀ·dZ.
            for l in stride(from: layers.count - 1, through: 0, by: -1) {
                let layer = layers[l]
                let (inputs, outputs) = (widths[l], widths[l + 1])
                let output = base + offsets[l + 1]
                if layer.activation != .linear {
                    layer.activation.backward(upstream, output: output, into: downstream, count: outputs * columns)
                    swap(&upstream, &downstream)
                }
                var db = Tensor.zeros([outputs])
                weightGradients[l] = Tensor(shape: [outputs, inputs]) { dw in
                    db.scalars.withUnsafeMutableBufferPointer { db in
                        NarrowKernels.weightGradient(upstream, rows: outputs, input: base + offsets[l], depth: inputs,
                                                     columns: columns, weight: dw.baseAddress!, bias: db.baseAddress!)
                    }
                }
                biasGradients[l] = db
                if l > 0 {
                    layer.weight.scalars.withUnsafeBufferPointer { w in
                        NarrowKernels.affine(weights: w.baseAddress!, rowStride: 1, columnStride: inputs,
                                             rows: inputs, depth: outputs, bias: nil,
                                             input: upstream, output: downstream, columns: columns)
                    }
                    swap(&upstream, &downstream)
                }
            }
            return loss
        }
        var gradients = [Tensor]()
        gradients.reserveCapacity(2 * layers.count)
        for l in layers.indices {
            gradients.append(weightGradients[l]!)
            gradients.append(biasGradients[l]!)
        }
        return (Float(loss / Double(batch)), gradients)
    }
}

extension MLP {
    /// The forward pass of a narrow network through the feature-major
    /// kernels of the training step: every layer's output y (row-major
    /// [batch, width]) and, when asked, its pre-activation z; only the last
    /// layer's when `lastOnly`.
    ///
    /// The sums run in the order of the training step, so a network
    /// evaluated here sees the values it was trained on.
    func narrowForward(_ x: Tensor, preActivations: Bool, lastOnly: Bool) -> [(preActivation: Tensor?, output: Tensor)] {
        let widths = self.widths
        precondition(x.rank == 2 && x.shape[1] == widths[0], "MLP: input \(x.shape) for widths \(widths)")
        let batch = x.shape[0]
        if batch == 0 {
            return layers.indices.dropFirst(lastOnly ? layers.count - 1 : 0).map { l in
                (preActivations ? Tensor.zeros([0, widths[l + 1]]) : nil, Tensor.zeros([0, widths[l + 1]]))
            }
        }
        let columns = (batch + NarrowKernels.lanes - 1) / NarrowKernels.lanes * NarrowKernels.lanes
        let maxWidth = widths.max()!
        var results = [(preActivation: Tensor?, output: Tensor)]()
        // Two planes, ping-pong: the input, then each layer's output.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * maxWidth * columns) { scratch in
            var input = scratch.baseAddress!, output = input + maxWidth * columns
            x.scalars.withUnsafeBufferPointer { px in
                NarrowKernels.transpose(px.baseAddress!, rows: batch, columns: widths[0], into: input, stride: columns)
            }
            for (l, layer) in layers.enumerated() {
                let outputs = widths[l + 1]
                NarrowKernels.preActivation(layer, input: input, output: output, columns: columns)
                let wanted = !lastOnly || l == layers.count - 1
                let z = wanted && preActivations
                    ? NarrowKernels.rowMajor(output, rows: outputs, batch: batch, columns: columns) : nil
                layer.activation.apply(output, count: outputs * columns)
                if wanted {
                    results.append((z, NarrowKernels.rowMajor(output, rows: outputs, batch: batch, columns: columns)))
                }
                swap(&input, &output)
            }
        }
        return results
    }
}

/// The kernels of the narrow path over [units, columns] planes, `columns` a
/// multiple of `lanes`.
enum NarrowKernels {
    typealias V = SIMD16<Float>
    static let lanes = V.scalarCount

    /// The sum of the 16 lanes as a fixed tree of vector adds (halves, then
    /// quarters, …): the same order on every machine, and a few
    /// instructions instead of 16 lane extractions.
    @inline(__always)
    static func horizontalSum(_ v: V) -> Float {
        let v8 = v.lowHalf + v.highHalf
        let v4 = v8.lowHalf + v8.highHalf
        let v2 = v4.lowHalf + v4.highHalf
        return v2[0] + v2[1]
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// xᵀ of a row-major [rows, columns] matrix into a plane with row stride
    /// `stride` ≥ rows, zero beyond `rows`.
    static func transpose(_ x: UnsafePointer<Float>, rows: Int, columns: Int,
                          into plane: UnsafeMutablePointer<Float>, stride: Int) {
        for c in 0..<columns {
            let target = plane + c * stride
            for r in 0..<rows { target[r] = x[r * columns + c] }
            (target + rows).update(repeating: 0, count: stride - rows)
        }
    }

    /// The row-major [batch, rows] tensor of the first `batch` columns of a
    /// [rows, columns] plane.
    static func rowMajor(_ plane: UnsafePointer<Float>, rows: Int, batch: Int, columns: Int) -> Tensor {
        Tensor(shape: [batch, rows]) { out in
            let o = out.baseAddress!
            for r in 0..<rows {
                let source = plane + r * columns
                for b in 0..<batch { o[b * rows + r] = source[b] }
            }
        }
    }

    /// Zeroes columns batch..<columns of a [rows, columns] plane.
    static func clearPadding(_ plane: UnsafeMutablePointer<Float>, rows: Int, batch: Int, columns: Int) {
        guard batch < columns else { return }
        for r in 0..<rows { (plane + r * columns + batch).update(repeating: 0, count: columns - batch) }
    }

    /// A layer's pre-activation plane Z = W·Hᵀ + b from its input plane.
    static func preActivation(_ layer: Dense, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                              columns: Int) {
        let (inputs, outputs) = (layer.inputFeatures, layer.outputFeatures)
        layer.weight.scalars.withUnsafeBufferPointer { w in
            layer.bias.scalars.withUnsafeBufferPointer { b in
                affine(weights: w.baseAddress!, rowStride: inputs, columnStride: 1, rows: outputs, depth: inputs,
                       bias: b.baseAddress!, input: input, output: output, columns: columns)
            }
        }
    }

    /// output[r, :] = Σ_p M[r, p] · input[p, :] (+ bias[r]) for r < rows,
    /// with M[r, p] = weights[r · rowStride + p · columnStride]: W for the
    /// forward pass (rowStride = depth), Wᵀ for the input gradient.
    ///
    /// The sum starts at 0 and runs in increasing p, then the bias is added:
    /// the order of `SmallGEMM` with the bias in C and beta = 1.
    static func affine(weights: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                       rows: Int, depth: Int, bias: UnsafePointer<Float>?,
                       input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, columns: Int) {
        var c = 0
        // Two vectors of columns and two rows per pass: four independent
        // chains for the adder, and each loaded input vector used twice.
        while c + 2 * lanes <= columns {
            var r = 0
            while r + 2 <= rows {
                let m0 = weights + r * rowStride, m1 = m0 + rowStride
                var a0 = V(), a1 = V(), b0 = V(), b1 = V()
                var x = input + c
                for p in 0..<depth {
                    let (x0, x1) = (load(x), load(x + lanes))
                    let (w0, w1) = (m0[p * columnStride], m1[p * columnStride])
                    a0 += x0 * w0
                    a1 += x1 * w0
                    b0 += x0 * w1
                    b1 += x1 * w1
                    x += columns
                }
                if let bias {
                    a0 += bias[r]
                    a1 += bias[r]
                    b0 += bias[r + 1]
                    b1 += bias[r + 1]
                }
                store(a0, output + r * columns + c)
                store(a1, output + r * columns + c + lanes)
                store(b0, output + (r + 1) * columns + c)
                store(b1, output + (r + 1) * columns + c + lanes)
                r += 2
            }
            if r < rows {
                let m = weights + r * rowStride
                var a0 = V(), a1 = V()
                var x = input + c
                for p in 0..<depth {
                    let w = m[p * columnStride]
                    a0 += load(x) * w
                    a1 += load(x + lanes) * w
                    x += columns
                }
                if let bias {
                    a0 += bias[r]
                    a1 += bias[r]
                }
                store(a0, output + r * columns + c)
                store(a1, output + r * columns + c + lanes)
            }
            c += 2 * lanes
        }
        if c < columns {
            for r in 0..<rows {
                let m = weights + r * rowStride
                var a0 = V()
                var x = input + c
                for p in 0..<depth {
                    a0 += load(x) * m[p * columnStride]
                    x += columns
                }
                if let bias { a0 += bias[r] }
                store(a0, output + r * columns + c)
            }
        }
    }

    /// weight[r, p] = Σ_c g[r, c] · input[p, c] and bias[r] = Σ_c g[r, c],
    /// for the [rows, columns] plane g and the [depth, columns] plane input.
    static func weightGradient(_ g: UnsafePointer<Float>, rows: Int, input: UnsafePointer<Float>, depth: Int,
                               columns: Int, weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let gr = g + r * columns
            var sum = V()
            var c = 0
            while c < columns {
                sum += load(gr + c)
                c += lanes
            }
            bias[r] = horizontalSum(sum)
            var p = 0
            // Four rows of the input per pass: four independent sums, each
            // loaded vector of g used four times.
            while p + 4 <= depth {
                let x0 = input + p * columns, x1 = x0 + columns, x2 = x1 + columns, x3 = x2 + columns
                var a0 = V(), a1 = V(), a2 = V(), a3 = V()
                c = 0
                while c < columns {
                    let gv = load(gr + c)
                    a0 += gv * load(x0 + c)
                    a1 += gv * load(x1 + c)
                    a2 += gv * load(x2 + c)
                    a3 += gv * load(x3 + c)
                    c += lanes
                }
                weight[r * depth + p] = horizontalSum(a0)
                weight[r * depth + p + 1] = horizontalSum(a1)
                weight[r * depth + p + 2] = horizontalSum(a2)
                weight[r * depth + p + 3] = horizontalSum(a3)
                p += 4
            }
            while p < depth {
                let x0 = input + p * columns
                var a0 = V()
                c = 0
                while c < columns {
                    a0 += load(gr + c) * load(x0 + c)
                    c += lanes
                }
                weight[r * depth + p] = horizontalSum(a0)
                p += 1
            }
        }
    }

    /// The summed softmax cross-entropy (nats) of the [classes, columns]
    /// logits against row-major targets [batch, classes], and the gradient
    /// of its mean, (softmax − t)/batch, into a [classes, columns] plane
    /// (zero in the padding columns); `work` has room for 2 · columns floats.
    ///
    /// Per column: m = max z, e = exp(z − m) (vector kernel), s = Σ e,
    /// softmax = e · (1/s) as `softmax` computes it; the loss
    /// m + ln s − Σ t·z is summed in Double.
    static func softmaxCrossEntropy(logits z: UnsafePointer<Float>, classes k: Int,
                                    targets t: UnsafePointer<Float>, batch: Int, columns: Int,
                                    gradient: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>) -> Double {
        // The gradient plane holds e first; `work` holds m, then ln s.
        let m = work
        let logSum = work + columns
        var c = 0
        while c < columns {
            var mv = load(z + c)
            for j in 1..<max(k, 1) {
                let zj = load(z + j * columns + c)
                mv = mv.replacing(with: zj, where: mv .< zj)
            }
            store(mv, m + c)
            for j in 0..<k { store(load(z + j * columns + c) - mv, gradient + j * columns + c) }
            c += lanes
        }
        VectorMath.exp(gradient, gradient, count: k * columns)
        c = 0
        while c < columns {
            var s = V()
            for j in 0..<k { s += load(gradient + j * columns + c) }
            store(s, logSum + c)
            let inverse = 1 / s
            for j in 0..<k { store(load(gradient + j * columns + c) * inverse, gradient + j * columns + c) }
            c += lanes
        }
        VectorMath.log(logSum, logSum, count: columns)
        var total = 0.0
        let scale = 1 / Float(batch)
        for b in 0..<batch {
            var dot = 0.0
            for j in 0..<k {
                let tj = t[b * k + j]
                dot += Double(tj) * Double(z[j * columns + b])
                gradient[j * columns + b] = (gradient[j * columns + b] - tj) * scale
            }
            total += Double(m[b]) + Double(logSum[b]) - dot
        }
        clearPadding(gradient, rows: k, batch: batch, columns: columns)
        return total
    }
}
