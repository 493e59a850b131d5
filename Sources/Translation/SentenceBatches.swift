// The run-side pieces of the translation subject: minibatches of sentence
// ids, the epoch's batching, the warm-up schedule, the fertility copy map,
// and the probe rows a recorded translation run stores in inputs.npy.
//
// Probe rows: one per target position of each probe sentence, holding the
// sentence's source ids, target ids and fertilities (each padded with -1 to
// the probe's longest), then the position and the source position its
// encoder state is read at; rows of one sentence are consecutive.

import Tensors

/// Sentences as token ids (a split, or one minibatch of it), without start
/// or end symbols, and each source token's fertility (summing to its
/// target's length).
public struct SentenceBatch: Sendable, Equatable {
    public var sources: [[Int]]
    public var targets: [[Int]]
    public var fertilities: [[Int]]

    public init(sources: [[Int]], targets: [[Int]], fertilities: [[Int]]) {
        precondition(sources.count == targets.count && sources.count == fertilities.count,
                     "SentenceBatch: \(sources.count) sources, \(targets.count) targets, \(fertilities.count) fertility rows")
        self.sources = sources
        self.targets = targets
        self.fertilities = fertilities
    }

    public var count: Int { sources.count }
}

/// Source positions of the target positions when source token i becomes
/// f_i target tokens: [2, 0, 1] → [0, 0, 2].
public func fertilityCopyMap(_ fertilities: [Int]) -> [Int] {
    var map: [Int] = []
    for (i, f) in fertilities.enumerated() { map += repeatElement(i, count: f) }
    return map
}

/// The learning-rate multiplier of Vaswani et al. (2017, §5.3), normalized
/// to peak at 1: η(s) = min(s / w, √(w / s)) for step s ≥ 1 (1-based) and
/// w warm-up steps: a linear rise to 1 at s = w, then decay as 1/√s. A pure
/// function of the step, so a resumed run gets the same multipliers.
public func warmupMultiplier(step: Int, warmup: Int) -> Float {
    precondition(step >= 1 && warmup >= 1, "warmupMultiplier: step \(step), warm-up \(warmup)")
    let s = Double(step), w = Double(warmup)
    return Float(min(s / w, (w / s).squareRoot()))
}

/// The probe set's rows: for each target position of each probe sentence,
/// [source ids | target ids | fertilities] padded with -1 to the probe's
/// longest, then the position and its source token.
public struct TranslationProbe: Sendable, Equatable {
    public var batch: SentenceBatch
    public let sourceWidth: Int, targetWidth: Int

    public init(_ batch: SentenceBatch) {
        self.batch = batch
        sourceWidth = batch.sources.map(\.count).max() ?? 0
        targetWidth = batch.targets.map(\.count).max() ?? 0
    }

    public var rowWidth: Int { 2 * sourceWidth + targetWidth + 2 }

    /// Rows [samples, rowWidth] for `positions` (the source position of
    /// every target position, sentence by sentence).
    public func rows(sourcePositions: [[Int]]) -> Tensor {
        var values: [Float] = []
        func padded(_ ids: [Int], _ width: Int) -> [Float] { ids.map(Float.init) + Array(repeating: -1, count: width - ids.count) }
        for i in 0..<batch.count {
            let prefix = padded(batch.sources[i], sourceWidth) + padded(batch.targets[i], targetWidth)
                + padded(batch.fertilities[i], sourceWidth)
            for t in batch.targets[i].indices {
                values += prefix
                values += [Float(t), Float(sourcePositions[i][t])]
            }
        }
        return Tensor(shape: [values.count / rowWidth, rowWidth], scalars: values)
    }

    /// The sentences of rows made by `rows` (consecutive rows of one sentence
    /// share their prefix), with each row's sentence, position and source position.
    public static func decode(_ rows: Tensor, sourceWidth: Int, targetWidth: Int)
        -> (batch: SentenceBatch, rows: [(sentence: Int, position: Int, source: Int)]) {
        let width = 2 * sourceWidth + targetWidth + 2
        precondition(rows.rank == 2 && rows.shape[1] == width, "TranslationProbe: rows \(rows.shape), expected [N, \(width)]")
        var sources: [[Int]] = [], targets: [[Int]] = [], fertilities: [[Int]] = []
        var out: [(Int, Int, Int)] = []
        var previous: ArraySlice<Float>? = nil
        let v = rows.scalars
        func ids(_ s: ArraySlice<Float>) -> [Int] { s.prefix { $0 >= 0 }.map { Int($0) } }
        for r in 0..<rows.shape[0] {
            let row = v[(r * width)..<((r + 1) * width)]
            let prefix = row.prefix(width - 2)
            if previous == nil || !previous!.elementsEqual(prefix) {
                let base = row.startIndex
                sources.append(ids(row[base..<(base + sourceWidth)]))
                targets.append(ids(row[(base + sourceWidth)..<(base + sourceWidth + targetWidth)]))
                fertilities.append(ids(row[(base + sourceWidth + targetWidth)..<(base + 2 * sourceWidth + targetWidth)]))
                previous = prefix
            }
            out.append((sources.count - 1, Int(row[row.endIndex - 2]), Int(row[row.endIndex - 1])))
        }
        return (SentenceBatch(sources: sources, targets: targets, fertilities: fertilities), out)
    }
}

extension SentenceBatch {
    /// The sentences at `indices`: a minibatch of a split.
    public func batch(_ indices: some Sequence<Int>) -> SentenceBatch {
        let i = Array(indices)
        return SentenceBatch(sources: i.map { sources[$0] }, targets: i.map { targets[$0] }, fertilities: i.map { fertilities[$0] })
    }

    /// Minibatches of `size` sentences for one epoch: the sentences shuffled,
    /// sorted by source length within pools of 32 batches (so that a batch
    /// pads little), and the batches shuffled. Always ⌈count / size⌉ batches.
    public func epochBatches(size: Int, rng: inout RandomGenerator) -> [[Int]] {
        var order = Array(0..<count)
        rng.shuffle(&order)
        var batches: [[Int]] = []
        let pool = 32 * size
        for start in stride(from: 0, to: count, by: pool) {
            let sorted = order[start..<min(count, start + pool)].sorted { (sources[$0].count, $0) < (sources[$1].count, $1) }
            for b in stride(from: 0, to: sorted.count, by: size) { batches.append(Array(sorted[b..<min(sorted.count, b + size)])) }
        }
        rng.shuffle(&batches)
        return batches
    }
}
