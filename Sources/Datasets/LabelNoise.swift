// Corrupted training labels (Zhang et al. 2017, "Understanding deep learning
// requires rethinking generalization"; Zhang et al. 2018, mixup, Table 2):
// a seeded, exact fraction of the training samples gets a label drawn
// uniformly from the OTHER classes, so every corrupted label is wrong.
// Test labels are never touched.

import Tensors

/// The outcome of corrupting a data set's training labels.
public struct LabelCorruption: Sendable, Equatable {
    /// The data set with the corrupted labels (what the network trains on).
    public var dataset: Dataset
    /// Every sample's true label (index = row of `dataset`).
    public var trueLabels: [Int]
    /// Whether each row's label was corrupted (only training rows can be).
    public var corrupted: [Bool]

    /// The number of corrupted samples.
    public var corruptedCount: Int { corrupted.lazy.filter { $0 }.count }
}

/// Replacing a fraction of the training labels with a different random class.
public enum LabelNoise {
    /// The number of training labels corrupted for `trainCount` samples:
    /// round(fraction · trainCount).
    public static func corruptedCount(trainCount: Int, fraction: Double) -> Int {
        Int((fraction * Double(trainCount)).rounded())
    }

    /// Corrupts round(fraction · n_train) training labels of `dataset`.
    ///
    /// The corrupted rows are the first ones of a seeded permutation of the
    /// training rows; each gets (y + 1 + u) mod k with u uniform in 0..<k-1,
    /// i.e. a class drawn uniformly among the k - 1 classes other than its
    /// true label y. The same seed gives the same corruption everywhere.
    ///
    /// - Precondition: 0 ≤ fraction ≤ 1 and at least two classes.
    public static func corrupt(_ dataset: Dataset, fraction: Double, seed: UInt64) -> LabelCorruption {
        precondition(fraction >= 0 && fraction <= 1, "LabelNoise: fraction \(fraction) is not in [0, 1]")
        precondition(dataset.classCount >= 2, "LabelNoise: needs at least two classes")
        var labels = dataset.labels
        var corrupted = [Bool](repeating: false, count: dataset.sampleCount)
        let train = dataset.split.train
        let count = corruptedCount(trainCount: train.count, fraction: fraction)
        // A stream of its own, so corrupting does not shift any other seeded choice.
        var rng = RandomGenerator(seed: seed ^ 0x6C61_6265_6C6E_6F69)
        let order = rng.permutation(train.count)
        let k = dataset.classCount
        for position in order.prefix(count) {
            let row = train[position]
            labels[row] = (labels[row] + 1 + rng.nextInt(below: k - 1)) % k
            corrupted[row] = true
        }
        let noisy = Dataset(name: dataset.name, inputs: dataset.inputs, labels: labels,
                            classCount: dataset.classCount, split: dataset.split)
        return LabelCorruption(dataset: noisy, trueLabels: dataset.labels, corrupted: corrupted)
    }
}
