// Loss functions, each a single differentiable operation with a
// numerically stable forward pass. All return the mean over the batch.

import Autodiff
import RealModule
import Tensors

/// Row-wise softmax of logits z [batch, classes], stable (max subtracted).
public func softmax(_ z: Tensor) -> Tensor {
    precondition(z.rank == 2, "softmax: logits \(z.shape)")
    return Tensor.softmaxLastAxis(z)
}

/// Per-row log-sum-exp of z [batch, classes], stable.
func logSumExpRows(_ z: Tensor) -> [Double] {
    let (rows, k) = (z.shape[0], z.shape[1])
    return z.scalars.withUnsafeBufferPointer { buffer in
        (0..<rows).map { r in
            let row = buffer.baseAddress! + r * k
            var m = -Float.infinity
            for c in 0..<k { m = max(m, row[c]) }
            var s = 0.0
            for c in 0..<k { s += Double.exp(Double(row[c] - m)) }
            return Double(m) + Double.log(s)
        }
    }
}

/// One-hot rows [labels.count, classes] for integer labels.
public func oneHot(_ labels: [Int], classes: Int) -> Tensor {
    var t = Tensor.zeros([labels.count, classes])
    for (i, y) in labels.enumerated() {
        precondition(y >= 0 && y < classes, "oneHot: label \(y) outside 0..<\(classes)")
        t.scalars[i * classes + y] = 1
    }
    return t
}

/// Mean softmax cross-entropy between logits z [batch, classes] and target
/// distributions t [batch, classes] (rows summing to 1: one-hot labels, or
/// mixed labels for mixup).
///
/// L = (1/B) Σ_i [logΣ_c e^{z_ic} - Σ_c t_ic z_ic], computed with the
/// log-sum-exp trick, in nats; ∂L/∂z = (softmax(z) - t) / B.
public func softmaxCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
    precondition(logits.shape == targets.shape && logits.value.rank == 2,
                 "softmaxCrossEntropy: logits \(logits.shape), targets \(targets.shape)")
    let z = logits.value
    let (rows, k) = (z.shape[0], z.shape[1])
    let lse = logSumExpRows(z)
    var total = 0.0
    for r in 0..<rows {
        var dot = 0.0
        for c in 0..<k { dot += Double(targets.scalars[r * k + c]) * Double(z.scalars[r * k + c]) }
        total += lse[r] - dot
    }
    let loss = Tensor(Float(total / Double(rows)))
    return logits.tape.record(loss, inputs: [logits]) { g in
        let scale = g.scalar / Float(rows)
        return [(softmax(z) - targets) * scale]
    }
}

/// Mean softmax cross-entropy against integer labels (see
/// `crossEntropy(logits:labels:ignoreIndex:labelSmoothing:)`).
public func softmaxCrossEntropy(logits: Variable, labels: [Int]) -> Variable {
    crossEntropy(logits: logits, labels: labels)
}

/// Mean softmax cross-entropy (nats) of logits [..., V] against one integer
/// label per row (per position of the leading axes), without a one-hot matrix.
///
/// With label smoothing ε the target of a row labelled y is
/// (1 - ε)·onehot(y) + ε/V, so the row's loss is
/// logΣe^z - (1 - ε) z_y - (ε/V) Σ z and its gradient softmax(z) - target.
/// Rows labelled `ignoreIndex` (padding) contribute neither loss nor
/// gradient, and the mean is over the other rows (PyTorch's `ignore_index`
/// with reduction "mean"); when every row is ignored the loss is 0.
/// Computed in Float with the vector exponential, the loss accumulated in Double.
public func crossEntropy(logits: Variable, labels: [Int], ignoreIndex: Int? = nil, labelSmoothing: Float = 0) -> Variable {
    let z = logits.value
    precondition(z.rank >= 1, "crossEntropy: logits of rank 0")
    let v = z.shape[z.rank - 1]
    let rows = z.count / max(v, 1)
    precondition(labels.count == rows, "crossEntropy: \(labels.count) labels for \(rows) rows of logits \(z.shape)")
    precondition(labelSmoothing >= 0 && labelSmoothing < 1, "crossEntropy: label smoothing \(labelSmoothing)")
    for y in labels where y != ignoreIndex {
        precondition(y >= 0 && y < v, "crossEntropy: label \(y) outside 0..<\(v)")
    }
    let counted = labels.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
    var p = z
    var total = 0.0
    let (keep, spread) = (1 - labelSmoothing, labelSmoothing / Float(v))
    p.scalars.withUnsafeMutableBufferPointer { buffer in
        z.scalars.withUnsafeBufferPointer { zb in
            let base = buffer.baseAddress!
            var maxima = [Float](repeating: 0, count: rows)
            for r in 0..<rows {
                let row = base + r * v
                var m = -Float.infinity
                for c in 0..<v { m = max(m, row[c]) }
                maxima[r] = m
                for c in 0..<v { row[c] -= m }
            }
            VectorMath.exp(base, base, count: rows * v)
            for r in 0..<rows {
                let row = base + r * v, zr = zb.baseAddress! + r * v
                var s: Float = 0, sumZ: Float = 0
                for c in 0..<v { s += row[c]; sumZ += zr[c] }
                let inverse = 1 / s
                for c in 0..<v { row[c] *= inverse }
                let y = labels[r]
                guard y != ignoreIndex else { continue }
                let lse = Double(maxima[r]) + Double(Float.log(s))
                total += lse - Double(keep) * Double(zr[y]) - Double(spread) * Double(sumZ)
            }
        }
    }
    let probabilities = p
    let loss = Tensor(counted == 0 ? 0 : Float(total / Double(counted)))
    return logits.tape.record(loss, inputs: [logits], name: "crossEntropy") { g in
        let scale = counted == 0 ? 0 : g.scalar / Float(counted)
        var d = probabilities
        d.scalars.withUnsafeMutableBufferPointer { buffer in
            for r in 0..<rows {
                let row = buffer.baseAddress! + r * v
                if labels[r] == ignoreIndex {
                    row.update(repeating: 0, count: v)
                    continue
                }
                for c in 0..<v { row[c] = (row[c] - spread) * scale }
                row[labels[r]] -= keep * scale
            }
        }
        return [d]
    }
}

/// Mean cross-entropy (nats) and accuracy of logits against labels, without a tape.
public func crossEntropyAndAccuracy(logits z: Tensor, labels: [Int]) -> (loss: Double, accuracy: Double) {
    precondition(z.rank == 2 && z.shape[0] == labels.count,
                 "crossEntropyAndAccuracy: logits \(z.shape), \(labels.count) labels")
    let k = z.shape[1]
    var loss = 0.0
    var correct = 0
    // One pass per row, the values of `logSumExpRows` and `argmaxRows`
    // exactly: the maximum's own term e^0 is the 1 it would return.
    z.scalars.withUnsafeBufferPointer { buffer in
        for (r, y) in labels.enumerated() {
            let row = buffer.baseAddress! + r * k
            var best = 0
            for c in 1..<max(k, 1) where row[c] > row[best] { best = c }
            var m = -Float.infinity
            for c in 0..<k { m = max(m, row[c]) }
            var s = 0.0
            for c in 0..<k {
                let d = row[c] - m
                s += d == 0 ? 1 : Double.exp(Double(d))
            }
            loss += (Double(m) + Double.log(s)) - Double(row[y])
            if best == y { correct += 1 }
        }
    }
    let n = Double(max(labels.count, 1))
    return (loss / n, Double(correct) / n)
}

/// Mean binary cross-entropy between logits z and targets t in [0, 1] (same shape).
///
/// L = mean[max(z, 0) - z t + log(1 + e^{-|z|})], the stable form of
/// -[t log σ(z) + (1 - t) log(1 - σ(z))]; ∂L/∂z = (σ(z) - t) / n.
public func binaryCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
    precondition(logits.shape == targets.shape, "binaryCrossEntropy: logits \(logits.shape), targets \(targets.shape)")
    let z = logits.value
    var total = 0.0
    for (zi, ti) in zip(z.scalars, targets.scalars) {
        let a = Double(zi), t = Double(ti)
        total += max(a, 0) - a * t + Double.log(onePlus: Double.exp(-abs(a)))
    }
    let n = Float(z.count)
    return logits.tape.record(Tensor(Float(total / Double(z.count))), inputs: [logits]) { g in
        [(z.sigmoid() - targets) * (g.scalar / n)]
    }
}

/// Mean squared error over all elements: L = (1/n) Σ (y - t)²; ∂L/∂y = 2 (y - t) / n.
public func meanSquaredError(predictions: Variable, targets: Tensor) -> Variable {
    precondition(predictions.shape == targets.shape,
                 "meanSquaredError: predictions \(predictions.shape), targets \(targets.shape)")
    let diff = predictions.value - targets
    var total = 0.0
    for d in diff.scalars { total += Double(d) * Double(d) }
    let n = Float(diff.count)
    return predictions.tape.record(Tensor(Float(total / Double(diff.count))), inputs: [predictions]) { g in
        [diff * (2 * g.scalar / n)]
    }
}
