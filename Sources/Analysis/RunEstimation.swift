// Estimating a whole source: every requested (epoch, layer) on both cores,
// into an `InformationTable` whose errors name the offending file.

import ActivationStore
import ArrayIO
import InfoTheory

/// Which samples an estimate uses.
public enum SampleSelection: String, Sendable, CaseIterable {
    case all, train, test
}

/// An estimation request over a source.
public struct EstimationRequest: Sendable {
    public var configuration: EstimatorConfiguration
    public var samples: SampleSelection
    /// Epochs to estimate (nil: all available).
    public var epochs: [Int]?
    /// Layers to estimate (nil: all available).
    public var layers: [Int]?

    public init(configuration: EstimatorConfiguration, samples: SampleSelection = .all, epochs: [Int]? = nil, layers: [Int]? = nil) {
        self.configuration = configuration
        self.samples = samples
        self.epochs = epochs
        self.layers = layers
    }
}

/// A bad estimation request (an epoch that is not recorded, a split the source lacks).
public struct EstimationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ActivationSource {
    /// Estimates I(X;T) and I(T;Y) (bits) for the requested layer-epochs.
    ///
    /// - Parameter progress: (completed, total), from worker threads.
    /// - Throws: `EstimationError` for epochs or layers that are not there or
    ///   a split the source lacks; `FileError` naming the file for unreadable
    ///   activations, NaN or infinite values (with row and column), or
    ///   row-count mismatches.
    public func estimate(_ request: EstimationRequest,
                         progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> InformationTable {
        var tasks = available
        if let epochs = request.epochs {
            let have = Set(available.map(\.epoch))
            if let missing = epochs.first(where: { !have.contains($0) }) {
                throw EstimationError("epoch \(missing) is not recorded in \(path) (recorded: \(summarize(self.epochs)))")
            }
            let wanted = Set(epochs)
            tasks = tasks.filter { wanted.contains($0.epoch) }
        }
        if let layers = request.layers {
            let have = Set(available.map(\.layer))
            if let missing = layers.first(where: { !have.contains($0) }) {
                throw EstimationError("layer \(missing) is not in \(path) (layers: \(have.sorted().map(String.init).joined(separator: ", ")))")
            }
            let wanted = Set(layers)
            tasks = tasks.filter { wanted.contains($0.layer) }
        }
        var indices: [Int]?
        switch request.samples {
        case .all: indices = nil
        case .train, .test:
            guard let trainMask else {
                throw EstimationError("\(path) has no train/test split; use --samples all")
            }
            let want = request.samples == .train
            indices = trainMask.indices.filter { trainMask[$0] == want }
        }
        let driver = try InformationPlaneEstimation(configuration: request.configuration, labels: labels,
                                                    inputGroups: inputGroups, sampleIndices: indices)
        let rows: [InformationPlaneRow]
        do {
            rows = try driver.run(tasks, activations: { [self] task in try self.activations(task) }, progress: progress)
        } catch let InfoTheoryError.atLayerEpoch(epoch, layer, underlying) {
            throw FileError(path: file(LayerEpoch(epoch: epoch, layer: layer)), reason: "\(underlying)")
        }
        var parameters = Dictionary(request.configuration.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        parameters["samples"] = request.samples.rawValue
        parameters["sample_count"] = "\(indices?.count ?? sampleCount)"
        parameters["source"] = path
        return InformationTable(columns: request.configuration.columns,
                                rows: rows.map { InformationTable.Row(epoch: $0.epoch, layer: $0.layer, values: $0.values) },
                                parameters: parameters)
    }
}

/// "0, 1, 2, …, 7999 (274 epochs)".
func summarize(_ epochs: [Int]) -> String {
    if epochs.count <= 6 { return epochs.map(String.init).joined(separator: ", ") }
    return epochs.prefix(3).map(String.init).joined(separator: ", ") + ", …, \(epochs.last!) (\(epochs.count) epochs)"
}
