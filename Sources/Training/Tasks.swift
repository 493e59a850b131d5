// The tasks `infoplane train` knows, built from a run's settings so that a
// resumed run rebuilds exactly the data it started with.

import ActivationStore
import ArrayIO
import Datasets
import Tensors

/// A training task's data set, from its name and the run's settings.
public enum Tasks {
    /// The task names accepted on the command line.
    public static let names = ["tishby", "tishby-original", "fashion-mnist"]

    /// The default network widths for a task (input first, classes last).
    public static func defaultWidths(task: String, downsample: Bool = false) -> [Int]? {
        switch task {
        case "tishby", "tishby-original": [12, 10, 7, 5, 4, 3, 2]
        case "fashion-mnist": [downsample ? 196 : 784, 1024, 20, 20, 20, 10]
        default: nil
        }
    }

    /// The data set of `settings.task`, split as the settings say.
    ///
    /// - `tishby`: the generated 12-bit task (no file read).
    /// - `tishby-original`: `x.csv` and `y.csv` in `settings.dataSource`.
    /// - `fashion-mnist`: the IDX files in `settings.dataSource`, with the
    ///   settings' subsets (the test subset is the test split); a data source
    ///   ending in `@14` is downsampled to 14 × 14.
    /// - Throws: `FileError` for unreadable data, `TaskError` for an unknown task.
    public static func dataset(for settings: RunSettings) throws -> Dataset {
        func split(_ count: Int) -> Split {
            settings.splitMethod == "leading"
                ? Split.leading(count: count, trainingFraction: settings.trainingFraction)
                : Split.random(count: count, trainingFraction: settings.trainingFraction, seed: settings.seed)
        }
        switch settings.task {
        case "tishby":
            return TishbyTask.dataset(split: split(TishbyTask.sampleCount))
        case "tishby-original":
            let data = try TishbyCSV.read(directory: settings.dataSource)
            return data.withSplit(split(data.sampleCount))
        case "fashion-mnist":
            let downsample = settings.dataSource.hasSuffix("@14")
            let directory = downsample ? String(settings.dataSource.dropLast(3)) : settings.dataSource
            // Fashion-MNIST comes with its own train/test split; subsets are seeded.
            return try FashionMNIST.load(directory: directory, trainingSubset: settings.trainingSubset,
                                         testSubset: settings.testSubset, seed: settings.seed, downsample: downsample)
        default:
            throw TaskError(description: "unknown task \"\(settings.task)\" (known: \(names.joined(separator: ", ")))")
        }
    }
}

/// An unknown task or an inconsistent task setting.
public struct TaskError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(description: String) { self.description = description }
}
