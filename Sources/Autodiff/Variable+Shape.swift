// Differentiable shape operations: broadcasting and its adjoint, reductions
// along an axis, axis permutation, concatenation and slicing, row gather
// and scatter-add, and the batched matrix product. Each linear operation's
// pullback is another operation of this file (broadcast ↔ sum to a shape,
// gather ↔ scatter-add, concatenate ↔ slice), so all of them have recorded
// pullbacks.

import Tensors

extension Variable {
    // MARK: Broadcasting

    /// The variable broadcast to `shape` (NumPy's rule): g summed back.
    public func broadcasted(to shape: [Int]) -> Variable {
        if shape == self.shape { return self }
        let original = self.shape
        return tape.record(value.broadcast(to: shape), inputs: [self], name: "broadcast") { g in
            [g.sum(toShape: original)]
        } recorded: { g in [g.summed(toShape: original)] }
    }

    /// The sum of a broadcast result back to `shape`: g broadcast again.
    public func summed(toShape shape: [Int]) -> Variable {
        if shape == self.shape { return self }
        let original = self.shape
        return tape.record(value.sum(toShape: shape), inputs: [self], name: "sum(toShape:)") { g in
            [g.broadcast(to: original)]
        } recorded: { g in [g.broadcasted(to: original)] }
    }

    // MARK: Reductions along an axis

    /// The sum along `axis` (negative counts from the end), keeping it with
    /// extent 1 or not: g broadcast back along the axis.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Variable {
        let original = shape
        let kept = value.sum(alongAxis: axis, keepingDimension: true).shape
        let y = value.sum(alongAxis: axis, keepingDimension: keepingDimension)
        return tape.record(y, inputs: [self], name: "sum(alongAxis:)") { g in
            [g.reshaped(kept).broadcast(to: original)]
        } recorded: { g in [g.reshaped(kept).broadcasted(to: original)] }
    }

    /// The mean along `axis`: g / n broadcast back along the axis.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Variable {
        let n = shape[axis < 0 ? axis + shape.count : axis]
        return (1 / Float(n)) * sum(alongAxis: axis, keepingDimension: keepingDimension)
    }

    /// The maximum along `axis`: g goes to the (first) largest element.
    /// The pullback is linear in g with a constant selection, so its own
    /// derivative is that selection again.
    public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Variable {
        let original = shape
        let (values, indices) = value.max(alongAxis: axis, keepingDimension: true)
        let rank = original.count
        let a = axis < 0 ? axis + rank : axis
        let inner = original[(a + 1)...].reduce(1, *), size = original[a]
        // 1 at every selected element, 0 elsewhere.
        let selection = { () -> Tensor in
            var mask = Tensor.zeros(original)
            for (flat, k) in indices.enumerated() {
                let outer = flat / inner, i = flat % inner
                mask.scalars[(outer * size + k) * inner + i] = 1
            }
            return mask
        }
        let kept = values.shape
        var dropped = original
        dropped.remove(at: a)
        let y = keepingDimension ? values : values.reshaped(dropped)
        return tape.record(y, inputs: [self], name: "max(alongAxis:)") { g in
            [selection() * g.reshaped(kept)]
        } recorded: { g in [g.tape.constant(selection()) * g.reshaped(kept)] }
    }

    // MARK: Axes, pieces and rows

    /// The axes reordered as `numpy.transpose(x, axes)`: g permuted back.
    public func permuted(_ axes: [Int]) -> Variable {
        let rank = shape.count
        let normalized = axes.map { $0 < 0 ? $0 + rank : $0 }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in normalized.enumerated() { inverse[a] = i }
        return tape.record(value.permuted(axes), inputs: [self], name: "permute") { g in [g.permuted(inverse)] }
            recorded: { g in [g.permuted(inverse)] }
    }

    /// Elements `range` along `axis`: g placed back between zeros.
    public func slice(axis: Int, range: Range<Int>) -> Variable {
        let original = shape
        let a = axis < 0 ? axis + original.count : axis
        func padded(_ g: Tensor) -> Tensor {
            var before = original, after = original
            before[a] = range.lowerBound
            after[a] = original[a] - range.upperBound
            return Tensor.concatenate([Tensor.zeros(before), g, Tensor.zeros(after)], axis: a)
        }
        return tape.record(value.slice(axis: a, range: range), inputs: [self], name: "slice") { g in [padded(g)] }
            recorded: { g in
                let tape = g.tape
                var before = original, after = original
                before[a] = range.lowerBound
                after[a] = original[a] - range.upperBound
                return [Variable.concatenate([tape.constant(Tensor.zeros(before)), g, tape.constant(Tensor.zeros(after))],
                                             axis: a)]
            }
    }

    /// Consecutive pieces along `axis` (see `Tensor.split`), as slices.
    public func split(sizes: [Int], axis: Int) -> [Variable] {
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: axis, range: start..<(start + size))
        }
    }

    /// Variables joined along `axis`: each one's gradient is its slice of g.
    public static func concatenate(_ parts: [Variable], axis: Int) -> Variable {
        precondition(!parts.isEmpty, "concatenate: no variables")
        let a = axis < 0 ? axis + parts[0].shape.count : axis
        let sizes = parts.map { $0.shape[a] }
        let y = Tensor.concatenate(parts.map(\.value), axis: a)
        return parts[0].tape.record(y, inputs: parts, name: "concatenate") { g in
            zip(parts, g.split(sizes: sizes, axis: a)).map { $0.needsGradient ? $1 : nil }
        } recorded: { g in
            var start = 0
            return zip(parts, sizes).map { part, size in
                defer { start += size }
                return part.needsGradient ? g.slice(axis: a, range: start..<(start + size)) : nil
            }
        }
    }

    /// The rows (first-axis entries) at `indices`, as an embedding lookup:
    /// g scatter-added back (repeated rows accumulate).
    public func gatherRows(_ indices: [Int]) -> Variable {
        let rows = shape[0]
        return tape.record(value.gatherRows(indices), inputs: [self], name: "gatherRows") { g in
            [Tensor.scatterAddRows(g, indices: indices, rowCount: rows)]
        } recorded: { g in [g.scatterAddedRows(indices: indices, rowCount: rows)] }
    }

    /// Row i added into row indices[i] of a zero tensor with `rowCount`
    /// rows: the adjoint of `gatherRows`.
    public func scatterAddedRows(indices: [Int], rowCount: Int) -> Variable {
        tape.record(Tensor.scatterAddRows(value, indices: indices, rowCount: rowCount), inputs: [self],
                    name: "scatterAddRows") { g in [g.gatherRows(indices)] }
            recorded: { g in [g.gatherRows(indices)] }
    }

    // MARK: Batched matrix product

    /// op(A[i]) · op(B[i]) for each batch index i, A and B of rank 3 (see
    /// `Tensor.batchedMatmul`): the matmul pullback per batch element.
    public static func batchedMatmul(_ a: Variable, _ b: Variable, transposeA: Bool = false,
                                     transposeB: Bool = false) -> Variable {
        precondition(a.shape.count == 3 && b.shape.count == 3,
                     "batchedMatmul (differentiable): A \(a.shape) and B \(b.shape) must both be rank 3")
        let y = Tensor.batchedMatmul(a.value, b.value, transposeA: transposeA, transposeB: transposeB)
        return a.tape.record(y, inputs: [a, b], name: "batchedMatmul") { g in
            productPullback(g, a.value, b.value, transposeA: transposeA, transposeB: transposeB,
                            wanted: (a.needsGradient, b.needsGradient)) {
                Tensor.batchedMatmul($0, $1, transposeA: $2, transposeB: $3)
            }
        } recorded: { g in
            productPullback(g, a, b, transposeA: transposeA, transposeB: transposeB,
                            wanted: (a.needsGradient, b.needsGradient)) {
                Variable.batchedMatmul($0, $1, transposeA: $2, transposeB: $3)
            }
        }
    }
}

extension Tape {
    /// The recorded pullback of a fused operation, obtained by building the
    /// same function from recorded operations and differentiating it with
    /// `createGraph: true`: the inputs' gradients of ⟨g, compose(inputs)⟩.
    ///
    /// Fused operations (layer norm, softmax, pixel norm, the minibatch
    /// standard deviation) keep a hand-written Tensor pullback for speed
    /// and use this for the second-order path, where the forward pass is
    /// computed once more.
    public func recordedPullbackByComposition(_ inputs: [Variable], upstream g: Variable,
                                              _ compose: ([Variable]) -> Variable) -> [Variable?] {
        // The composition reads the operation's own inputs, so its gradients
        // are theirs. The backward pass stops where the composition began:
        // g (itself a function of the inputs, in a recorded backward pass)
        // is held fixed, as a vector-Jacobian product requires.
        let wantedInputs = inputs.map(\.needsGradient)
        let boundary = count
        let output = compose(inputs)
        precondition(output.shape == g.shape, "recordedPullbackByComposition: \(output.shape) vs upstream \(g.shape)")
        let product = (g * output).sum()
        let gradients = recordedGradients(of: product, seed: constant(Tensor(shape: product.shape, repeating: 1)),
                                          withRespectTo: inputs, boundary: boundary)
        return zip(gradients, wantedInputs).map { $1 ? $0 : nil }
    }
}

/// op(A[i]) · op(B[i]) on variables (see `Variable.batchedMatmul`).
public func batchedMatmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
    Variable.batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
}
