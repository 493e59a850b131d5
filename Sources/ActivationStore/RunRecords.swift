// The per-epoch records of a run and their CSV files.
//
// metrics.csv:   epoch,train_loss,train_accuracy,test_loss,test_accuracy
// gradients.csv: epoch,layer,grad_mean_norm,grad_std_norm,snr,weight_norm,batches
//
// Numbers are written in Swift's shortest round-trip form, so that reading a
// CSV back gives the same Doubles and rewriting it gives the same bytes.

import ArrayIO

/// Loss (mean softmax cross-entropy, nats) and accuracy on both splits after an epoch.
public struct EpochMetrics: Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, testLoss: Double, testAccuracy: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
    }

    public static let csvHeader = "epoch,train_loss,train_accuracy,test_loss,test_accuracy"

    public var csvRow: String { "\(epoch),\(trainLoss),\(trainAccuracy),\(testLoss),\(testAccuracy)" }
}

/// Per-layer statistics of the weight gradients over one epoch's minibatches
/// (Saxe et al. 2018, App. I, Eq. 26-27; Shwartz-Ziv & Tishby's
/// drift-to-diffusion figure).
///
/// Recorded epoch E ≥ 1 uses the minibatches of training pass E (each
/// gradient taken at the weights current at that minibatch); epoch 0 has no
/// training pass and no row.
public struct LayerGradientStatistics: Sendable, Equatable {
    public var epoch: Int
    /// The layer, numbered from 1.
    public var layer: Int
    /// m = ‖mean_b g_b‖_F over the epoch's minibatches b.
    public var meanNorm: Double
    /// s = ‖std_b g_b‖_F, with the elementwise population standard deviation.
    public var standardDeviationNorm: Double
    /// ‖W‖_F at the end of the epoch.
    public var weightNorm: Double
    /// The number of minibatches.
    public var batches: Int

    public init(epoch: Int, layer: Int, meanNorm: Double, standardDeviationNorm: Double, weightNorm: Double, batches: Int) {
        self.epoch = epoch
        self.layer = layer
        self.meanNorm = meanNorm
        self.standardDeviationNorm = standardDeviationNorm
        self.weightNorm = weightNorm
        self.batches = batches
    }

    /// m / s, the gradient signal-to-noise ratio (infinite when s = 0).
    public var signalToNoise: Double { meanNorm / standardDeviationNorm }

    public static let csvHeader = "epoch,layer,grad_mean_norm,grad_std_norm,snr,weight_norm,batches"

    public var csvRow: String {
        "\(epoch),\(layer),\(meanNorm),\(standardDeviationNorm),\(signalToNoise),\(weightNorm),\(batches)"
    }
}

/// Reading and writing the run's CSV files.
public enum RunCSV {
    /// The text of a CSV with a header line and one line per row.
    public static func text(header: String, rows: [String]) -> String {
        ([header] + rows).joined(separator: "\n") + "\n"
    }

    /// Parses a CSV of numbers with the given header.
    ///
    /// - Returns: one array of Doubles per data line.
    /// - Throws: `FileError` naming `path` and the line for a wrong header,
    ///   a wrong column count or a value that is not a number.
    public static func parse(_ text: String, header: String, path: String) throws -> [[Double]] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first else { throw FileError(path: path, reason: "empty file (expected header \"\(header)\")") }
        guard first == header else {
            throw FileError(path: path, reason: "line 1: header \"\(first)\", expected \"\(header)\"")
        }
        let columns = header.split(separator: ",").count
        return try lines.dropFirst().enumerated().map { offset, line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == columns else {
                throw FileError(path: path, reason: "line \(offset + 2): \(fields.count) columns, expected \(columns)")
            }
            return try fields.map { field in
                guard let value = Double(field) else {
                    throw FileError(path: path, reason: "line \(offset + 2): \"\(field)\" is not a number")
                }
                return value
            }
        }
    }

    /// Reads metrics.csv.
    public static func readMetrics(_ path: String) throws -> [EpochMetrics] {
        try parse(AtomicFile.readText(path), header: EpochMetrics.csvHeader, path: path).map {
            EpochMetrics(epoch: Int($0[0]), trainLoss: $0[1], trainAccuracy: $0[2], testLoss: $0[3], testAccuracy: $0[4])
        }
    }

    /// Reads gradients.csv.
    public static func readGradients(_ path: String) throws -> [LayerGradientStatistics] {
        try parse(AtomicFile.readText(path), header: LayerGradientStatistics.csvHeader, path: path).map {
            LayerGradientStatistics(epoch: Int($0[0]), layer: Int($0[1]), meanNorm: $0[2], standardDeviationNorm: $0[3],
                                    weightNorm: $0[5], batches: Int($0[6]))
        }
    }
}
