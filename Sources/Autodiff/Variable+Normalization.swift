// Softmax with an additive mask, layer normalization, pixelwise feature
// normalization, the minibatch standard deviation and dropout.
//
// Softmax, layer norm and pixel norm are fused operations with hand-written
// Tensor pullbacks; their recorded pullbacks differentiate the same function
// built from elementary operations (`Tape.recordedPullbackByComposition`).
// The minibatch standard deviation is that composition itself.

import Tensors

extension Variable {
    // MARK: Softmax

    /// The softmax along the last axis of x + mask, with the mask (an
    /// additive constant broadcast to x's shape under NumPy's rule, 0 to
    /// keep an entry and a large negative number such as -1e9 to drop it)
    /// added first. Pullback: y ⊙ (g - Σ y g) along the axis; the mask
    /// receives none.
    ///
    /// A row whose every entry is -∞ has no softmax (NaN); -1e9 gives a
    /// uniform row instead.
    public func softmax(additiveMask mask: Tensor? = nil) -> Variable {
        precondition(shape.count >= 1, "softmax: a scalar has no axis")
        var z = value
        if let mask { z = z + mask.broadcast(to: shape) }
        let y = Tensor.softmaxLastAxis(z)
        return tape.record(y, inputs: [self], name: "softmax") { g in
            [Tensor.softmaxPullback(output: y, upstream: g)]
        } recordedUsingOutput: { g, y in
            [y * (g - (y * g).sum(alongAxis: -1, keepingDimension: true))]
        }
    }

    // MARK: Layer normalization

    /// Layer normalization over the last axis: y = γ (x - μ) / √(σ² + ε) + β,
    /// μ and σ² the mean and (biased) variance of each row, γ and β of the
    /// last axis's extent. One fused operation that keeps x̂ and 1/√(σ² + ε)
    /// for its pullback: with ĝ = g γ, ∂x = (ĝ - mean ĝ - x̂ mean(ĝ x̂)) / √(σ² + ε),
    /// ∂γ = Σ g x̂ and ∂β = Σ g over the rows.
    public func layerNormalized(scale gamma: Variable, offset beta: Variable, epsilon: Float = 1e-5) -> Variable {
        let x = self
        let d = shape.last ?? 0
        precondition(d > 0 && gamma.shape == [d] && beta.shape == [d],
                     "layerNormalized: input \(shape), scale \(gamma.shape), offset \(beta.shape)")
        let rows = value.count / d
        var normalized = Tensor.zeros(shape)
        var inverseStd = [Float](repeating: 0, count: rows)
        var y = Tensor.zeros(shape)
        value.scalars.withUnsafeBufferPointer { xb in
            normalized.scalars.withUnsafeMutableBufferPointer { nb in
                y.scalars.withUnsafeMutableBufferPointer { yb in
                    gamma.value.scalars.withUnsafeBufferPointer { gb in
                        beta.value.scalars.withUnsafeBufferPointer { bb in
                            for r in 0..<rows {
                                let xr = xb.baseAddress! + r * d, nr = nb.baseAddress! + r * d, yr = yb.baseAddress! + r * d
                                var mean: Float = 0
                                for i in 0..<d { mean += xr[i] }
                                mean /= Float(d)
                                var variance: Float = 0
                                for i in 0..<d { let c = xr[i] - mean; variance += c * c }
                                variance /= Float(d)
                                let inv = 1 / (variance + epsilon).squareRoot()
                                inverseStd[r] = inv
                                for i in 0..<d {
                                    nr[i] = (xr[i] - mean) * inv
                                    yr[i] = nr[i] * gb[i] + bb[i]
                                }
                            }
                        }
                    }
                }
            }
        }
        let xHat = normalized
        return tape.record(y, inputs: [x, gamma, beta], name: "layerNormalized") { g in
            var dx: Tensor?
            if x.needsGradient {
                dx = Tensor(shape: g.shape) { out in
                    g.scalars.withUnsafeBufferPointer { gb in
                        xHat.scalars.withUnsafeBufferPointer { nb in
                            gamma.value.scalars.withUnsafeBufferPointer { wb in
                                for r in 0..<rows {
                                    let gr = gb.baseAddress! + r * d, nr = nb.baseAddress! + r * d
                                    let o = out.baseAddress! + r * d
                                    var meanG: Float = 0, meanGX: Float = 0
                                    for i in 0..<d { let gh = gr[i] * wb[i]; meanG += gh; meanGX += gh * nr[i] }
                                    meanG /= Float(d)
                                    meanGX /= Float(d)
                                    let inv = inverseStd[r]
                                    for i in 0..<d { o[i] = (gr[i] * wb[i] - meanG - nr[i] * meanGX) * inv }
                                }
                            }
                        }
                    }
                }
            }
            let flatG = g.reshaped([rows, d])
            return [dx,
                    gamma.needsGradient ? (flatG * xHat.reshaped([rows, d])).sumRows() : nil,
                    beta.needsGradient ? flatG.sumRows() : nil]
        } recorded: { g in
            g.tape.recordedPullbackByComposition([x, gamma, beta], upstream: g) { v in
                let centred = v[0] - v[0].mean(alongAxis: -1, keepingDimension: true)
                let variance = centred.squared().mean(alongAxis: -1, keepingDimension: true)
                return centred / (variance + epsilon).squareRoot() * v[1] + v[2]
            }
        }
    }

    // MARK: Pixelwise feature normalization

    /// Pixelwise feature normalization (Karras et al. 2018, Eq. in §4.2):
    /// each feature vector across the channel axis (axis 1 of NCHW, or of
    /// [N, C]) divided by √(mean_c x² + ε). Pullback: with r = 1/√(mean x² + ε),
    /// ∂x = r (g - y mean_c(g y)).
    ///
    /// The channels of one pixel lie a plane apart, so both passes walk the
    /// planes contiguously, one channel at a time, and accumulate into a
    /// per-pixel buffer; each pixel's sum still runs over the channels in
    /// order, so the result is the same as the pixel-by-pixel loop's.
    public func pixelNormalized(epsilon: Float = 1e-8) -> Variable {
        let x = self
        precondition(shape.count >= 2, "pixelNormalized: shape \(shape) has no channel axis")
        let (n, c) = (shape[0], shape[1])
        let plane = value.count / Swift.max(n * c, 1)
        // r = 1/√(mean_c x² + ε) per sample and pixel: [n, plane].
        var inverse = [Float](repeating: 0, count: n * plane)
        let y = value.scalars.withUnsafeBufferPointer { xb in
            inverse.withUnsafeMutableBufferPointer { rb in
                Tensor(shape: shape) { yb in
                    for s in 0..<n {
                        let r = rb.baseAddress! + s * plane
                        for ch in 0..<c {
                            let xc = xb.baseAddress! + (s * c + ch) * plane
                            for p in 0..<plane { r[p] += xc[p] * xc[p] }
                        }
                        let count = Float(c)
                        for p in 0..<plane { r[p] = 1 / (r[p] / count + epsilon).squareRoot() }
                        for ch in 0..<c {
                            let xc = xb.baseAddress! + (s * c + ch) * plane, yc = yb.baseAddress! + (s * c + ch) * plane
                            for p in 0..<plane { yc[p] = xc[p] * r[p] }
                        }
                    }
                }
            }
        }
        return tape.record(y, inputs: [x], name: "pixelNormalized") { g in
            [g.scalars.withUnsafeBufferPointer { gb in
                y.scalars.withUnsafeBufferPointer { yb in
                    inverse.withUnsafeBufferPointer { rb in
                        Tensor(shape: g.shape) { out in
                            // mean_c(g y) per pixel of one sample.
                            var dot = [Float](repeating: 0, count: plane)
                            dot.withUnsafeMutableBufferPointer { db in
                                let d = db.baseAddress!
                                for s in 0..<n {
                                    let r = rb.baseAddress! + s * plane
                                    for p in 0..<plane { d[p] = 0 }
                                    for ch in 0..<c {
                                        let o = (s * c + ch) * plane
                                        let gc = gb.baseAddress! + o, yc = yb.baseAddress! + o
                                        for p in 0..<plane { d[p] += gc[p] * yc[p] }
                                    }
                                    let count = Float(c)
                                    for p in 0..<plane { d[p] /= count }
                                    for ch in 0..<c {
                                        let o = (s * c + ch) * plane
                                        let gc = gb.baseAddress! + o, yc = yb.baseAddress! + o, oc = out.baseAddress! + o
                                        for p in 0..<plane { oc[p] = r[p] * (gc[p] - yc[p] * d[p]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }]
        } recorded: { g in
            g.tape.recordedPullbackByComposition([x], upstream: g) { v in
                v[0] / (v[0].squared().mean(alongAxis: 1, keepingDimension: true) + epsilon).squareRoot()
            }
        }
    }

    // MARK: Minibatch standard deviation

    /// The minibatch standard-deviation layer of Karras et al. (2018, §3;
    /// `minibatch_stddev_layer` in their code): the batch x [N, C, H, W] is
    /// cut into groups of `groupSize` samples (sample n in group n mod N/G),
    /// the standard deviation over each group is taken per feature and
    /// pixel (√(variance + 10⁻⁸), variance biased), averaged to one number
    /// per group, and appended to every sample of the group as one more
    /// constant feature map: [N, C + 1, H, W].
    ///
    /// Made of elementary operations, so that it is differentiable to any order.
    /// - Precondition: N is a multiple of `groupSize`.
    public func minibatchStandardDeviation(groupSize: Int) -> Variable {
        precondition(shape.count == 4, "minibatchStandardDeviation: shape \(shape) is not NCHW")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        precondition(groupSize >= 1 && n % groupSize == 0,
                     "minibatchStandardDeviation: a batch of \(n) is not divisible into groups of \(groupSize)")
        let m = n / groupSize
        let grouped = reshaped([groupSize, m, c, h, w])
        let centred = grouped - grouped.mean(alongAxis: 0, keepingDimension: true)
        let deviation = (centred.squared().mean(alongAxis: 0) + 1e-8).squareRoot()
        let perGroup = deviation.reshaped([m, c * h * w]).mean(alongAxis: 1)
        let map = perGroup.reshaped([1, m, 1, 1, 1]).broadcasted(to: [groupSize, m, 1, h, w]).reshaped([n, 1, h, w])
        return Variable.concatenate([self, map], axis: 1)
    }

    // MARK: Dropout

    /// Inverted dropout: each element kept with probability 1 - `rate` and
    /// scaled by 1 / (1 - rate), or zeroed; the mask drawn from `rng`, so
    /// the same seed drops the same elements. Rate 0 returns x itself.
    public func dropout(rate: Float, rng: inout RandomGenerator) -> Variable {
        precondition(rate >= 0 && rate < 1, "dropout: rate \(rate) outside [0, 1)")
        if rate == 0 { return self }
        let scale = 1 / (1 - rate)
        var mask = Tensor.zeros(shape)
        for i in 0..<mask.count where rng.nextDouble() >= Double(rate) { mask.scalars[i] = scale }
        return self * tape.constant(mask)
    }
}
