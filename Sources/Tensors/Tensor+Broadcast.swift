// Broadcasting, NumPy's rule, and its adjoint `sum(toShape:)`.
//
// The rule (NumPy's): two shapes are aligned at their trailing dimensions,
// and the shorter one is padded at the front with dimensions of extent 1.
// Each aligned pair must then be equal, or one of the two must be 1; the
// result takes the larger extent (a 1 against a 0 gives 0), and an operand
// of extent 1 on an axis is repeated along it. So [2, 3, 4] and [4] give
// [2, 3, 4]; [2, 1, 4] and [3, 1] give [2, 3, 4]; [] (a scalar) broadcasts
// to anything; [2, 3] and [3, 2] do not broadcast.
//
// The elementwise operators + - * / (Tensor+Arithmetic.swift) use it when
// their operands' shapes differ. The general loop reads each operand through
// strides that are 0 on its broadcast axes, over the innermost contiguous
// run of the coalesced layout (see `coalesce`), so a bias over rows or a
// column times a row runs as plain vector loops.
//
// `sum(toShape:)` is the adjoint of `broadcast(to:)`: it adds up, into the
// smaller shape, every element that broadcasting copied from one place. The
// gradient of a broadcast binary operation with respect to an operand is the
// upstream gradient (times the local derivative) summed to that operand's
// shape.

extension Tensor {
    /// The shape two operands of `shapes a` and `b` broadcast to under
    /// NumPy's rule (see the file header), or nil when they do not.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        let padA = rank - a.count, padB = rank - b.count
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let x = axis < padA ? 1 : a[axis - padA]
            let y = axis < padB ? 1 : b[axis - padB]
            if x == y || y == 1 {
                result[axis] = x
            } else if x == 1 {
                result[axis] = y
            } else {
                return nil
            }
        }
        return result
    }

    /// The strides with which an operand of `shape` is read when broadcast
    /// to `target`: its row-major strides on the aligned axes, 0 on the axes
    /// it lacks or has extent 1 on.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = rowMajorStrides(shape)
        let pad = target.count - shape.count
        return target.indices.map { axis in
            axis < pad || shape[axis - pad] == 1 ? 0 : own[axis - pad]
        }
    }

    /// The tensor repeated along its axes of extent 1 (and new leading axes)
    /// to `shape`, as `numpy.broadcast_to` but as a copy.
    /// - Precondition: `self.shape` broadcasts to `shape` (the file header's
    ///   rule, with `shape` as the result).
    public func broadcast(to shape: [Int]) -> Tensor {
        precondition(Tensor.broadcastShape(self.shape, shape) == shape,
                     "broadcast(to:): shape \(self.shape) does not broadcast to \(shape)")
        if self.shape == shape { return self }
        let strides = Tensor.broadcastStrides(self.shape, to: shape)
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: shape) { y in
                if y.isEmpty { return }
                Tensor.stridedCopy(from: x.baseAddress!, shape: shape, strides: strides, into: y.baseAddress!)
            }
        }
    }

    /// The tensor summed down to `shape`, a shape that broadcasts to
    /// `self.shape`: the leading axes `shape` lacks are summed away, and the
    /// axes where `shape` has extent 1 and `self` does not are summed keeping
    /// the axis. The adjoint of `broadcast(to:)`: ⟨x.broadcast(to: s), y⟩ =
    /// ⟨x, y.sum(toShape: x.shape)⟩.
    ///
    /// Each result element adds its terms in Float, in the row-major order of
    /// `self`; so `sum(toShape: [columns])` of a matrix is `sumRows()` bit
    /// for bit.
    /// - Precondition: `shape` broadcasts to `self.shape`.
    public func sum(toShape shape: [Int]) -> Tensor {
        precondition(Tensor.broadcastShape(shape, self.shape) == self.shape,
                     "sum(toShape:): shape \(shape) does not broadcast to \(self.shape)")
        if shape == self.shape { return self }
        let total = shape.reduce(1, *)
        if count == 0 || total == 0 { return Tensor.zeros(shape) }
        // Walk self in row-major order, writing through the target's
        // broadcast strides (0 on the summed axes).
        let (sizes, merged) = Tensor.coalesce(self.shape, [Tensor.broadcastStrides(shape, to: self.shape)])
        let s = merged[0]
        let d = sizes.count
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: shape) { y in
                y.initialize(repeating: 0)
                if d == 0 { y[0] = x[0]; return }
                let n = sizes[d - 1], stride = s[d - 1]
                var input = x.baseAddress!
                Tensor.forEachRun(sizes, outerRank: d - 1, s, s) { offset, _ in
                    let target = y.baseAddress! + offset
                    switch stride {
                    case 0:
                        var acc = target[0]
                        for i in 0..<n { acc += input[i] }
                        target[0] = acc
                    case 1:
                        for i in 0..<n { target[i] += input[i] }
                    default:
                        for i in 0..<n { target[i * stride] += input[i] }
                    }
                    input += n
                }
            }
        }
    }

    /// `op` applied elementwise to `lhs` and `rhs` broadcast to their common
    /// shape (the file header's rule). `name` is the operator, for the trap.
    @inline(__always)
    static func broadcasting(_ lhs: Tensor, _ rhs: Tensor, _ name: String,
                             _ op: (Float, Float) -> Float) -> Tensor {
        guard let shape = broadcastShape(lhs.shape, rhs.shape) else {
            preconditionFailure("\(name): shapes \(lhs.shape) and \(rhs.shape) do not broadcast")
        }
        let (sizes, merged) = coalesce(shape, [broadcastStrides(lhs.shape, to: shape),
                                               broadcastStrides(rhs.shape, to: shape)])
        let sa = merged[0], sb = merged[1]
        let d = sizes.count
        return lhs.scalars.withUnsafeBufferPointer { a in
            rhs.scalars.withUnsafeBufferPointer { b in
                Tensor(shape: shape) { c in
                    if c.isEmpty { return }
                    if d == 0 { c[0] = op(a[0], b[0]); return }
                    let n = sizes[d - 1], strideA = sa[d - 1], strideB = sb[d - 1]
                    var out = c.baseAddress!
                    forEachRun(sizes, outerRank: d - 1, sa, sb) { offsetA, offsetB in
                        let x = a.baseAddress! + offsetA, y = b.baseAddress! + offsetB
                        // The innermost strides are 0 or 1 (see `coalesce`).
                        if strideA == 1 && strideB == 1 {
                            for i in 0..<n { out[i] = op(x[i], y[i]) }
                        } else if strideA == 1 && strideB == 0 {
                            let v = y[0]
                            for i in 0..<n { out[i] = op(x[i], v) }
                        } else if strideA == 0 && strideB == 1 {
                            let u = x[0]
                            for i in 0..<n { out[i] = op(u, y[i]) }
                        } else {
                            for i in 0..<n { out[i] = op(x[i * strideA], y[i * strideB]) }
                        }
                        out += n
                    }
                }
            }
        }
    }
}
