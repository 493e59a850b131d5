// The data set value the trainer consumes, and train/test splits.
//
// A `Dataset` is a design matrix of Float inputs, one integer class label per
// row, and a split of the row indices into training and test sets. It
// deliberately holds no batching or shuffling state: the training loop draws
// minibatches from `split.train` with its own explicitly passed RNG.

import Tensors

/// Labelled samples with a train/test split.
///
/// - `inputs` is [N, d] Float32, row-major: row n is sample n.
/// - `labels[n]` is sample n's class in `0..<classCount`.
/// - `split.train` and `split.test` are disjoint, sorted row indices into
///   `inputs` whose union is the rows used (all of them, for the built-in
///   sets). Estimators that need "all samples marked train/test" use the same
///   indices.
public struct Dataset: Sendable, Equatable {
    /// A short name for manifests and logs ("tishby", "fashion-mnist").
    public var name: String
    /// The inputs, shape [N, d].
    public var inputs: Tensor
    /// Class labels, N of them, each in `0..<classCount`.
    public var labels: [Int]
    /// The number of classes.
    public var classCount: Int
    /// Which rows are for training and which for testing.
    public var split: Split

    /// - Precondition: `inputs` has rank 2, `labels.count` equals its rows,
    ///   every label lies in `0..<classCount`, and the split's indices are in range.
    public init(name: String, inputs: Tensor, labels: [Int], classCount: Int, split: Split) {
        precondition(inputs.rank == 2, "Dataset: inputs must be [N, d], got \(inputs.shape)")
        precondition(labels.count == inputs.shape[0], "Dataset: \(labels.count) labels for \(inputs.shape[0]) rows")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classCount }, "Dataset: a label is outside 0..<\(classCount)")
        precondition((split.train + split.test).allSatisfy { $0 >= 0 && $0 < labels.count },
                     "Dataset: split index out of range 0..<\(labels.count)")
        self.name = name
        self.inputs = inputs
        self.labels = labels
        self.classCount = classCount
        self.split = split
    }

    /// N, the number of samples.
    public var sampleCount: Int { labels.count }
    /// d, the number of input features.
    public var featureCount: Int { inputs.shape[1] }

    /// The rows `indices` (in that order) as an [indices.count, d] tensor and their labels.
    /// - Precondition: every index is in `0..<sampleCount`.
    public func rows(_ indices: [Int]) -> (inputs: Tensor, labels: [Int]) {
        let d = featureCount
        let gathered = Tensor(shape: [indices.count, d]) { out in
            inputs.scalars.withUnsafeBufferPointer { src in
                for (r, index) in indices.enumerated() {
                    precondition(index >= 0 && index < sampleCount, "Dataset.rows: index \(index) out of range")
                    let from = src.baseAddress! + index * d
                    (out.baseAddress! + r * d).update(from: from, count: d)
                }
            }
        }
        return (gathered, indices.map { labels[$0] })
    }

    /// The training rows and labels.
    public var train: (inputs: Tensor, labels: [Int]) { rows(split.train) }
    /// The test rows and labels.
    public var test: (inputs: Tensor, labels: [Int]) { rows(split.test) }

    /// The same samples with another split.
    public func withSplit(_ split: Split) -> Dataset {
        Dataset(name: name, inputs: inputs, labels: labels, classCount: classCount, split: split)
    }
}

/// A partition of row indices into a training and a test set.
public struct Split: Sendable, Equatable, Codable {
    /// Training rows, ascending.
    public var train: [Int]
    /// Test rows, ascending.
    public var test: [Int]

    public init(train: [Int], test: [Int]) {
        self.train = train
        self.test = test
    }

    /// The number of training rows for `count` samples and a fraction:
    /// round(fraction · count), at least 1 (3277 of 4096 for 0.8, as IDNNs and ibsgd use).
    public static func trainingCount(count: Int, trainingFraction: Double) -> Int {
        precondition(trainingFraction > 0 && trainingFraction <= 1,
                     "Split: training fraction \(trainingFraction) is not in (0, 1]")
        precondition(count > 0, "Split: no samples to split")
        return min(count, max(1, Int((trainingFraction * Double(count)).rounded())))
    }

    /// A seeded random split: a uniformly random subset of
    /// `trainingCount(count:trainingFraction:)` rows trains, the rest test.
    ///
    /// The subset is the first rows of `RandomGenerator(seed:).permutation(count)`,
    /// so the same seed gives the same split on every machine; both lists
    /// are returned sorted. Not stratified.
    /// - Precondition: `0 < trainingFraction <= 1`, `count > 0`.
    public static func random(count: Int, trainingFraction: Double = 0.8, seed: UInt64) -> Split {
        let nTrain = trainingCount(count: count, trainingFraction: trainingFraction)
        var rng = RandomGenerator(seed: seed)
        let permutation = rng.permutation(count)
        return Split(train: permutation[..<nTrain].sorted(), test: permutation[nTrain...].sorted())
    }

    /// The first `trainingCount(count:trainingFraction:)` rows train and the
    /// rest test, unshuffled: the default of Shwartz-Ziv & Tishby's IDNNs code
    /// (rows 0–3276 of the 12-bit task train, 3277–4095 test).
    public static func leading(count: Int, trainingFraction: Double = 0.8) -> Split {
        let nTrain = trainingCount(count: count, trainingFraction: trainingFraction)
        return Split(train: Array(0..<nTrain), test: Array(nTrain..<count))
    }
}
