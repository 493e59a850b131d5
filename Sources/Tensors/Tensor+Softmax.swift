// The softmax along the last axis and its vector-Jacobian product, shared by
// the losses and the tape's softmax.

extension Tensor {
    /// The softmax along the last axis, stable (the row maximum subtracted).
    public static func softmaxLastAxis(_ z: Tensor) -> Tensor {
        let d = z.shape.last ?? 1
        let rows = z.count / Swift.max(d, 1)
        var p = z
        p.scalars.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            for r in 0..<rows {
                let row = base + r * d
                var m = -Float.infinity
                for c in 0..<d { m = Swift.max(m, row[c]) }
                for c in 0..<d { row[c] -= m }
            }
            VectorMath.exp(base, base, count: rows * d)
            for r in 0..<rows {
                let row = base + r * d
                var s: Float = 0
                for c in 0..<d { s += row[c] }
                let inverse = 1 / s
                for c in 0..<d { row[c] *= inverse }
            }
        }
        return p
    }

    /// y ⊙ (g - Σ y g) along the last axis: the softmax's vector-Jacobian product.
    public static func softmaxPullback(output y: Tensor, upstream g: Tensor) -> Tensor {
        let d = y.shape.last ?? 1
        let rows = y.count / Swift.max(d, 1)
        return y.scalars.withUnsafeBufferPointer { yb in
            g.scalars.withUnsafeBufferPointer { gb in
                Tensor(shape: y.shape) { out in
                    for r in 0..<rows {
                        let yr = yb.baseAddress! + r * d, gr = gb.baseAddress! + r * d, o = out.baseAddress! + r * d
                        var dot: Float = 0
                        for c in 0..<d { dot += yr[c] * gr[c] }
                        for c in 0..<d { o[c] = yr[c] * (gr[c] - dot) }
                    }
                }
            }
        }
    }
}
