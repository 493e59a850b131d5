// Reductions along one axis: sum, mean, and max with its argument.
//
// The tensor is seen as [outer, n, inner] around the reduced axis; the
// result is [outer, inner] in row-major order, shaped as the input with the
// axis removed, or kept with extent 1 when `keepingDimension` is true (both
// have the same element order). Axes may be negative, as in NumPy (-1 is the
// last). Sums are taken in Float, in increasing index along the axis, so
// `sum(alongAxis: 0)` of a matrix equals `sumRows()` bit for bit. Whole-
// tensor `sum()` and `mean()` (in Double) are in Tensor+Arithmetic.swift,
// and `sum(toShape:)`, the adjoint of broadcasting, in Tensor+Broadcast.swift.

extension Tensor {
    /// The result shape of reducing `axis` (already normalized).
    private func reducedShape(_ axis: Int, keepingDimension: Bool) -> [Int] {
        var newShape = shape
        if keepingDimension { newShape[axis] = 1 } else { newShape.remove(at: axis) }
        return newShape
    }

    /// The sum along `axis`, as `numpy.sum(x, axis, keepdims=keepingDimension)`.
    ///
    /// An axis of extent 0 gives zeros.
    /// - Precondition: rank ≥ 1 and `axis` in -rank..<rank.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        precondition(rank >= 1, "sum(alongAxis:): tensor of rank 0")
        let axis = Tensor.normalizedAxis(axis, rank: rank, "sum(alongAxis:)", shape)
        let (outer, n, inner) = Tensor.extents(shape, around: axis)
        let newShape = reducedShape(axis, keepingDimension: keepingDimension)
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: newShape) { y in
                if y.isEmpty { return }
                y.initialize(repeating: 0)
                if n == 0 { return }
                let px = x.baseAddress!, py = y.baseAddress!
                if inner == 1 {
                    for o in 0..<outer {
                        let row = px + o * n
                        var acc: Float = 0
                        for j in 0..<n { acc += row[j] }
                        py[o] = acc
                    }
                } else {
                    // Add whole rows of `inner` elements: a vector loop.
                    for o in 0..<outer {
                        let target = py + o * inner
                        for j in 0..<n {
                            let row = px + (o * n + j) * inner
                            for i in 0..<inner { target[i] += row[i] }
                        }
                    }
                }
            }
        }
    }

    /// The mean along `axis`, as `numpy.mean(x, axis, keepdims=keepingDimension)`:
    /// `sum(alongAxis:)` divided by the axis's extent.
    /// - Precondition: rank ≥ 1, `axis` in -rank..<rank, and the axis is not empty.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        precondition(rank >= 1, "mean(alongAxis:): tensor of rank 0")
        let a = Tensor.normalizedAxis(axis, rank: rank, "mean(alongAxis:)", shape)
        precondition(shape[a] > 0, "mean(alongAxis:): axis \(a) of shape \(shape) is empty")
        let n = Float(shape[a])
        return sum(alongAxis: a, keepingDimension: keepingDimension).mapBuffer { x, y, count in
            for i in 0..<count { y[i] = x[i] / n }
        }
    }

    /// The largest element along `axis` and its index on that axis, as
    /// `numpy.max` and `numpy.argmax` (with `keepdims=keepingDimension`).
    ///
    /// `indices[i]` is the position along `axis` of `values.scalars[i]`,
    /// in the values' row-major order. On ties the first maximum wins; a NaN
    /// counts as larger than any number, so the first NaN wins (NumPy's
    /// propagation).
    /// - Precondition: rank ≥ 1, `axis` in -rank..<rank, and the axis is not empty.
    public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> (values: Tensor, indices: [Int]) {
        precondition(rank >= 1, "max(alongAxis:): tensor of rank 0")
        let axis = Tensor.normalizedAxis(axis, rank: rank, "max(alongAxis:)", shape)
        let (outer, n, inner) = Tensor.extents(shape, around: axis)
        precondition(n > 0, "max(alongAxis:): axis \(axis) of shape \(shape) is empty")
        let newShape = reducedShape(axis, keepingDimension: keepingDimension)
        var indices = [Int](repeating: 0, count: outer * inner)
        let values = scalars.withUnsafeBufferPointer { x in
            indices.withUnsafeMutableBufferPointer { index in
                Tensor(shape: newShape) { y in
                    if y.isEmpty { return }
                    let px = x.baseAddress!, py = y.baseAddress!, pi = index.baseAddress!
                    for o in 0..<outer {
                        let best = py + o * inner, at = pi + o * inner
                        best.update(from: px + o * n * inner, count: inner)
                        for j in 1..<n {
                            let row = px + (o * n + j) * inner
                            for i in 0..<inner {
                                let v = row[i]
                                // NaN beats everything but an earlier NaN.
                                if v > best[i] || (v.isNaN && !best[i].isNaN) {
                                    best[i] = v
                                    at[i] = j
                                }
                            }
                        }
                    }
                }
            }
        }
        return (values, indices)
    }
}
