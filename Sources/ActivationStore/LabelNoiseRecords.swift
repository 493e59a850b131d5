// The memorization record of a run with corrupted training labels.
//
// label-noise.csv: epoch,corrupted,memorized,corrupted_true_accuracy,clean_train_accuracy,test_accuracy
//
// Per epoch (0 = before training), from the network's predictions (argmax of
// the logits) on every training sample:
//   memorized               fraction of corrupted samples predicted as their corrupted label
//   corrupted_true_accuracy fraction of corrupted samples predicted as their true label
//   clean_train_accuracy    accuracy on the training samples whose labels were kept
//   test_accuracy           accuracy on the (never corrupted) test samples
// A fraction over no samples is NaN. Written atomically at every commit,
// like metrics.csv, with every row up to the committed epoch.

import ArrayIO

/// One epoch of memorization measurements.
public struct LabelNoiseMetrics: Sendable, Equatable {
    public var epoch: Int
    /// The number of corrupted training samples.
    public var corrupted: Int
    public var memorized: Double
    public var corruptedTrueAccuracy: Double
    public var cleanTrainAccuracy: Double
    public var testAccuracy: Double

    public init(epoch: Int, corrupted: Int, memorized: Double, corruptedTrueAccuracy: Double,
                cleanTrainAccuracy: Double, testAccuracy: Double) {
        self.epoch = epoch
        self.corrupted = corrupted
        self.memorized = memorized
        self.corruptedTrueAccuracy = corruptedTrueAccuracy
        self.cleanTrainAccuracy = cleanTrainAccuracy
        self.testAccuracy = testAccuracy
    }

    /// The measurements from predictions on the training samples.
    ///
    /// - Parameters:
    ///   - predictions: the predicted class of each training sample.
    ///   - labels: the labels trained on (corrupted where `corrupted`).
    ///   - trueLabels: the true labels.
    ///   - corrupted: whether each training sample's label was corrupted.
    public static func measure(epoch: Int, predictions: [Int], labels: [Int], trueLabels: [Int], corrupted: [Bool],
                               testAccuracy: Double) -> LabelNoiseMetrics {
        precondition(predictions.count == labels.count && labels.count == trueLabels.count && labels.count == corrupted.count,
                     "LabelNoiseMetrics: arrays of different lengths")
        var nCorrupted = 0, memorized = 0, recovered = 0, nClean = 0, cleanRight = 0
        for i in predictions.indices {
            if corrupted[i] {
                nCorrupted += 1
                if predictions[i] == labels[i] { memorized += 1 }
                if predictions[i] == trueLabels[i] { recovered += 1 }
            } else {
                nClean += 1
                if predictions[i] == labels[i] { cleanRight += 1 }
            }
        }
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? .nan : Double(a) / Double(b) }
        return LabelNoiseMetrics(epoch: epoch, corrupted: nCorrupted, memorized: ratio(memorized, nCorrupted),
                                 corruptedTrueAccuracy: ratio(recovered, nCorrupted),
                                 cleanTrainAccuracy: ratio(cleanRight, nClean), testAccuracy: testAccuracy)
    }

    public static let csvHeader = "epoch,corrupted,memorized,corrupted_true_accuracy,clean_train_accuracy,test_accuracy"

    public var csvRow: String {
        "\(epoch),\(corrupted),\(memorized),\(corruptedTrueAccuracy),\(cleanTrainAccuracy),\(testAccuracy)"
    }

    /// The row as numbers (for checkpoints), in CSV column order.
    public var values: [Double] {
        [Double(epoch), Double(corrupted), memorized, corruptedTrueAccuracy, cleanTrainAccuracy, testAccuracy]
    }

    /// A row from `values`.
    public init(values v: [Double]) {
        precondition(v.count == 6, "LabelNoiseMetrics: \(v.count) values, expected 6")
        self.init(epoch: Int(v[0]), corrupted: Int(v[1]), memorized: v[2], corruptedTrueAccuracy: v[3],
                  cleanTrainAccuracy: v[4], testAccuracy: v[5])
    }
}

extension RunCSV {
    /// Reads label-noise.csv.
    public static func readLabelNoise(_ path: String) throws -> [LabelNoiseMetrics] {
        try parse(AtomicFile.readText(path), header: LabelNoiseMetrics.csvHeader, path: path).map { LabelNoiseMetrics(values: $0) }
    }
}

extension RunDirectory {
    /// int64 [N]: the true label of each recorded sample (runs with label noise).
    public var trueLabels: String { path + "/true_labels.npy" }
    /// bool [N]: whether each recorded sample's label was corrupted (runs with label noise).
    public var corruptedMask: String { path + "/corrupted_mask.npy" }
    /// The memorization record (runs with label noise).
    public var labelNoise: String { path + "/label-noise.csv" }
}

extension RunReader {
    /// The true labels of the recorded samples (runs with label noise).
    public func trueLabels() throws -> [Int] {
        let array = try NPY.read(path: directory.trueLabels)
        guard array.shape == [manifest.sampleCount] else {
            throw FileError(path: directory.trueLabels, reason: "shape \(array.shape), the manifest says [\(manifest.sampleCount)]")
        }
        do { return try array.ints() } catch { throw FileError(path: directory.trueLabels, reason: "\(error)") }
    }

    /// Which recorded samples have corrupted labels (runs with label noise).
    public func corruptedMask() throws -> [Bool] {
        let array = try NPY.read(path: directory.corruptedMask)
        guard array.shape == [manifest.sampleCount], array.dtype == .bool else {
            throw FileError(path: directory.corruptedMask, reason: "expected bool [\(manifest.sampleCount)], got \(array.dtype) \(array.shape)")
        }
        return array.bools()
    }

    /// The committed memorization rows (epochs 0...epochs_completed).
    public func labelNoise() throws -> [LabelNoiseMetrics] {
        try RunCSV.readLabelNoise(directory.labelNoise).filter { $0.epoch <= manifest.epochsCompleted }
    }
}
