// The 12-bit task of Shwartz-Ziv & Tishby (2017) as both papers' code trained
// it: one place for the settings `infoplane demo` and the saxe2018
// experiments share.

import ActivationStore

/// The training settings of the 12-bit task.
///
/// What Shwartz-Ziv & Tishby's IDNNs code and Saxe et al.'s ibsgd code ran
/// (although the papers' text says SGD): 12-10-7-5-4-3-2, Adam with learning
/// rate 4e-4, minibatches of 256, a random 80 % training split, 8000 epochs,
/// recorded on the log-spaced schedule (274 epochs of 8000).
public enum TwelveBit {
    /// Input to output.
    public static let widths = [12, 10, 7, 5, 4, 3, 2]
    /// Adam's learning rate.
    public static let learningRate: Float = 4e-4
    /// Samples per minibatch.
    public static let batchSize = 256
    /// The training fraction of the 4096 samples.
    public static let trainingFraction = 0.8
    /// The paper's number of epochs.
    public static let epochs = 8000
    /// The recording schedule.
    public static let schedule = "log:400"
    /// Epochs between checkpoints.
    public static let checkpointInterval = 500

    /// The optimizer entry of the manifest for Adam at `learningRate`.
    public static var adam: [String: String] { ["name": "adam", "learning_rate": "\(learningRate)"] }

    /// The settings of one run.
    ///
    /// - Parameters:
    ///   - data: the original data directory (`x.csv`, `y.csv`; task
    ///     `tishby-original`), or nil for the generated task.
    ///   - optimizer, batchSize, schedule: nil for the defaults above.
    public static func settings(activation: String, epochs: Int = epochs, seed: UInt64, data: String? = nil,
                                optimizer: [String: String]? = nil, batchSize: Int? = nil,
                                schedule: String? = nil) -> RunSettings {
        RunSettings(task: data == nil ? "tishby" : "tishby-original", dataSource: data ?? "generated",
                    widths: widths, activation: activation, initializer: "truncatedNormal",
                    optimizer: optimizer ?? adam, batchSize: batchSize ?? Self.batchSize, epochs: epochs,
                    seed: seed, trainingFraction: trainingFraction, splitMethod: "random",
                    schedule: schedule ?? Self.schedule, activations: "post", dtype: "float32",
                    checkpointInterval: checkpointInterval)
    }
}
