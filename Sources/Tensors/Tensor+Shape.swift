// Shape manipulation: axis permutation, concatenation and splitting, slicing
// along any axis, and scatter-add (the adjoint of `gatherRows`).
//
// Axes. Every `axis` argument here and in Tensor+Reduction.swift may be
// negative, as in NumPy: -1 is the last axis, -rank the first. An axis
// outside -rank..<rank traps, naming the operation and the shape.
//
// Every result is a fresh row-major tensor; there are no views. Copies run
// over the longest contiguous runs the layout allows: axes of extent 1 are
// dropped and neighbouring axes that stay contiguous in the source are merged
// (`coalesce`) before the loops start.

extension Tensor {
    // MARK: - Layout helpers shared with broadcasting and the reductions

    /// `axis` as an index in 0..<rank; negative axes count from the end.
    static func normalizedAxis(_ axis: Int, rank: Int, _ name: String, _ shape: [Int]) -> Int {
        precondition(axis >= -rank && axis < rank, "\(name): axis \(axis) out of range for shape \(shape)")
        return axis < 0 ? axis + rank : axis
    }

    /// The row-major strides (in elements) of a tensor of `shape`.
    static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var stride = 1
        for axis in shape.indices.reversed() {
            strides[axis] = stride
            stride *= shape[axis]
        }
        return strides
    }

    /// The extents before, at and after `axis`: the tensor seen as
    /// [outer, size, inner].
    static func extents(_ shape: [Int], around axis: Int) -> (outer: Int, size: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// A row-major iteration over `shape` that reads each operand `k` at
    /// offset Σ index[axis] · strides[k][axis], simplified: axes of extent 1
    /// are dropped, and an axis is merged into the one before it when that
    /// keeps every operand's offsets the same (stride[outer] = stride[inner] ·
    /// extent[inner], which includes two zero strides).
    ///
    /// The innermost remaining axis is then the longest run each loop can
    /// take at a fixed stride. For a row-major operand whose strides are its
    /// own, or zero on broadcast axes, that stride is 0 or 1.
    static func coalesce(_ shape: [Int], _ strides: [[Int]]) -> (sizes: [Int], strides: [[Int]]) {
        var sizes = [Int]()
        var merged = strides.map { _ in [Int]() }
        for axis in shape.indices where shape[axis] != 1 {
            let extent = shape[axis]
            if !sizes.isEmpty && merged.indices.allSatisfy({ merged[$0].last! == strides[$0][axis] * extent }) {
                sizes[sizes.count - 1] *= extent
                for k in merged.indices { merged[k][merged[k].count - 1] = strides[k][axis] }
            } else {
                sizes.append(extent)
                for k in merged.indices { merged[k].append(strides[k][axis]) }
            }
        }
        return (sizes, merged)
    }

    /// Calls `body(offsetA, offsetB)` once for every index of the first
    /// `outerRank` axes of `sizes`, in row-major order, with the offsets
    /// Σ index[axis] · strides[axis] of two operands.
    @inline(__always)
    static func forEachRun(_ sizes: [Int], outerRank: Int, _ stridesA: [Int], _ stridesB: [Int],
                           _ body: (Int, Int) -> Void) {
        var runs = 1
        for axis in 0..<outerRank { runs *= sizes[axis] }
        if runs == 0 { return }
        if outerRank == 0 { body(0, 0); return }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: outerRank) { index in
            index.initialize(repeating: 0)
            var a = 0, b = 0
            for _ in 0..<runs {
                body(a, b)
                var axis = outerRank - 1
                while axis >= 0 {
                    index[axis] += 1
                    a += stridesA[axis]
                    b += stridesB[axis]
                    if index[axis] < sizes[axis] { break }
                    a -= stridesA[axis] * sizes[axis]
                    b -= stridesB[axis] * sizes[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    /// Writes, in row-major order over `shape`, the elements of `source` at
    /// offsets Σ index[axis] · strides[axis] into `target` (shape.product
    /// elements). Permutation and broadcasting are both this copy.
    static func stridedCopy(from source: UnsafePointer<Float>, shape: [Int], strides: [Int],
                            into target: UnsafeMutablePointer<Float>) {
        let total = shape.reduce(1, *)
        if total == 0 { return }
        let (sizes, merged) = coalesce(shape, [strides])
        let s = merged[0]
        let d = sizes.count
        if d == 0 { target[0] = source[0]; return }
        var out = target
        if d >= 2 && s[d - 2] == 1 && s[d - 1] > 1 {
            // The two innermost axes are a transposed matrix: out[r, c] =
            // source[r + c · ld]. Copy it in 32 × 32 tiles, so that both the
            // reads and the writes stay within a few cache lines.
            let rows = sizes[d - 2], columns = sizes[d - 1], ld = s[d - 1]
            let tile = 32
            forEachRun(sizes, outerRank: d - 2, s, s) { offset, _ in
                let base = source + offset
                var r0 = 0
                while r0 < rows {
                    let r1 = Swift.min(r0 + tile, rows)
                    var c0 = 0
                    while c0 < columns {
                        let c1 = Swift.min(c0 + tile, columns)
                        for r in r0..<r1 {
                            let row = out + r * columns, column = base + r
                            for c in c0..<c1 { row[c] = column[c * ld] }
                        }
                        c0 = c1
                    }
                    r0 = r1
                }
                out += rows * columns
            }
            return
        }
        let n = sizes[d - 1], stride = s[d - 1]
        forEachRun(sizes, outerRank: d - 1, s, s) { offset, _ in
            let run = source + offset
            switch stride {
            case 1: out.update(from: run, count: n)
            case 0: out.update(repeating: run[0], count: n)
            default: for i in 0..<n { out[i] = run[i * stride] }
            }
            out += n
        }
    }

    // MARK: - Permutation

    /// The tensor with its axes reordered, as `numpy.transpose(x, axes)`:
    /// axis `i` of the result is axis `axes[i]` of `self`, so
    /// `result.shape[i] == shape[axes[i]]`.
    ///
    /// Axes may be negative (-1 is the last). For a matrix, `permuted([1, 0])`
    /// is `transposed()`; `permuted([0, 2, 3, 1])` turns NCHW into NHWC and
    /// `permuted([0, 3, 1, 2])` turns it back. Permutations that only move
    /// axes of extent 1 reuse the storage; ones whose two innermost (merged)
    /// axes are a matrix transpose, such as those two, copy in tiles.
    /// - Precondition: `axes` is a permutation of the axes of `self`.
    /// - Complexity: O(count).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank, "permuted: \(axes.count) axes \(axes) for shape \(shape)")
        var seen = [Bool](repeating: false, count: rank)
        let axes = axes.map { axis -> Int in
            let a = Tensor.normalizedAxis(axis, rank: rank, "permuted", shape)
            precondition(!seen[a], "permuted: \(axes) is not a permutation of the axes of shape \(shape)")
            seen[a] = true
            return a
        }
        let newShape = axes.map { shape[$0] }
        // Only axes of extent 1 move: the row-major order is unchanged.
        if axes.filter({ shape[$0] != 1 }) == shape.indices.filter({ shape[$0] != 1 }) {
            return Tensor(shape: newShape, scalars: scalars)
        }
        let strides = Tensor.rowMajorStrides(shape)
        let readStrides = axes.map { strides[$0] }
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: newShape) { y in
                Tensor.stridedCopy(from: x.baseAddress!, shape: newShape, strides: readStrides, into: y.baseAddress!)
            }
        }
    }

    // MARK: - Concatenation, splitting, slicing

    /// The tensors joined along `axis`, as `numpy.concatenate`.
    ///
    /// All tensors have the same rank (at least 1) and the same extents on
    /// every other axis; the result's extent on `axis` is the sum of theirs.
    /// `split(sizes:axis:)` with those extents gives the tensors back.
    /// - Precondition: `tensors` is not empty; shapes agree off `axis`.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0].shape
        precondition(!first.isEmpty, "concatenate: rank-0 tensors")
        let axis = normalizedAxis(axis, rank: first.count, "concatenate", first)
        var newShape = first
        newShape[axis] = 0
        for t in tensors {
            precondition(t.rank == first.count
                         && t.shape.indices.allSatisfy { $0 == axis || t.shape[$0] == first[$0] },
                         "concatenate: shapes \(tensors.map(\.shape)) differ off axis \(axis)")
            newShape[axis] += t.shape[axis]
        }
        let (outer, _, inner) = extents(newShape, around: axis)
        return Tensor(shape: newShape) { y in
            var out = y.baseAddress!
            // Each outer index takes one contiguous chunk from every tensor.
            for o in 0..<outer {
                for t in tensors {
                    let chunk = t.shape[axis] * inner
                    if chunk == 0 { continue }
                    t.scalars.withUnsafeBufferPointer { x in
                        out.update(from: x.baseAddress! + o * chunk, count: chunk)
                    }
                    out += chunk
                }
            }
        }
    }

    /// Consecutive pieces along `axis` of extents `sizes`, as
    /// `numpy.split` at the running sums of `sizes`; the inverse of
    /// `concatenate(_:axis:)`. Extents of 0 give empty pieces.
    /// - Precondition: every size is ≥ 0 and they add up to `shape[axis]`.
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        precondition(rank >= 1, "split: tensor of rank 0")
        let axis = Tensor.normalizedAxis(axis, rank: rank, "split", shape)
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[axis],
                     "split: sizes \(sizes) do not add up to \(shape[axis]), axis \(axis) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: axis, range: start..<(start + size))
        }
    }

    /// The elements whose index on `axis` lies in `range`, as
    /// `x[..., range, ...]` in NumPy; the other axes are whole. On axis 0 it
    /// is `rows(range)`.
    /// - Precondition: `range` lies within 0...shape[axis].
    public func slice(axis: Int, range: Range<Int>) -> Tensor {
        precondition(rank >= 1, "slice: tensor of rank 0")
        let axis = Tensor.normalizedAxis(axis, rank: rank, "slice", shape)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice: range \(range) out of 0..<\(shape[axis]) on axis \(axis) of shape \(shape)")
        var newShape = shape
        newShape[axis] = range.count
        let (outer, size, inner) = Tensor.extents(shape, around: axis)
        let chunk = range.count * inner
        if chunk * outer == 0 { return Tensor(shape: newShape, scalars: []) }
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: newShape) { y in
                for o in 0..<outer {
                    (y.baseAddress! + o * chunk).update(from: x.baseAddress! + (o * size + range.lowerBound) * inner,
                                                        count: chunk)
                }
            }
        }
    }

    // MARK: - Scatter-add

    /// A tensor of `rowCount` rows, zero except that row `indices[i]`
    /// accumulates row `i` of `source`: result[indices[i]] += source[i].
    /// Repeated indices add up (in increasing i); rows no index names stay 0.
    ///
    /// It is the adjoint of `gatherRows`: for x with `rowCount` rows,
    /// ⟨x.gatherRows(indices), y⟩ = ⟨x, scatterAddRows(y, indices:, rowCount:)⟩.
    /// The result has `source`'s shape with the first axis `rowCount`.
    /// - Precondition: `source.shape[0] == indices.count`; every index is in
    ///   0..<rowCount.
    public static func scatterAddRows(_ source: Tensor, indices: [Int], rowCount: Int) -> Tensor {
        precondition(source.rank >= 1, "scatterAddRows: source of rank 0")
        precondition(source.shape[0] == indices.count,
                     "scatterAddRows: \(indices.count) indices for source of shape \(source.shape)")
        precondition(rowCount >= 0, "scatterAddRows: negative row count \(rowCount)")
        var newShape = source.shape
        newShape[0] = rowCount
        let cols = source.columns
        return source.scalars.withUnsafeBufferPointer { x in
            Tensor(shape: newShape) { y in
                y.initialize(repeating: 0)
                for (r, i) in indices.enumerated() {
                    precondition(i >= 0 && i < rowCount,
                                 "scatterAddRows: index \(i) at position \(r) out of range 0..<\(rowCount)")
                    let target = y.baseAddress! + i * cols, row = x.baseAddress! + r * cols
                    for c in 0..<cols { target[c] += row[c] }
                }
            }
        }
    }
}
