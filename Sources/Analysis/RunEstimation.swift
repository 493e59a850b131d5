// Estimating a whole source: every requested (epoch, layer) on both cores,
// into an `InformationTable` whose errors name the offending file. Structured
// layers (feature maps, sequences) are reduced as the request says first.

import ActivationStore
import ArrayIO
import Foundation
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
    /// What to do with layers whose samples are not vectors.
    public var reduction: LayerReduction

    public init(configuration: EstimatorConfiguration, samples: SampleSelection = .all, epochs: [Int]? = nil, layers: [Int]? = nil,
                reduction: LayerReduction = .automatic) {
        self.configuration = configuration
        self.samples = samples
        self.epochs = epochs
        self.layers = layers
        self.reduction = reduction
    }
}

/// The estimates of a source: one row per (epoch, layer), and for layers estimated per
/// position, one row per (epoch, layer, position) with the position in the first value column.
public struct SourceEstimate: Sendable {
    public var table: InformationTable
    /// Columns `position` then the table's; nil when no layer was estimated per position.
    public var positions: InformationTable?
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
        try estimateWithPositions(request, progress: progress).table
    }

    /// As `estimate(_:progress:)`, with the per-position rows of layers estimated per position.
    public func estimateWithPositions(_ request: EstimationRequest,
                                      progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> SourceEstimate {
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
        if case .knn(_, _, _, _, .continuous) = request.configuration, inputs == nil {
            throw EstimationError("the kNN estimate of I(X;T) needs the inputs X: give --inputs x.npy with --activations")
        }
        let driver = try InformationPlaneEstimation(configuration: request.configuration, labels: labels,
                                                    inputGroups: inputGroups, sampleIndices: indices, inputs: inputs)
        let rows: [InformationPlaneRow]
        let shapes = LayerShapes()
        let reduction = request.reduction
        do {
            rows = try driver.run(tasks, parts: { [self] task in
                let (m, shape) = try self.structuredActivations(task)
                try shapes.record(layer: task.layer, shape: shape, file: self.file(task))
                return try reduction.apply(m, sampleShape: shape, layer: task.layer)
            }, progress: progress)
        } catch let InfoTheoryError.atLayerEpoch(epoch, layer, underlying) {
            throw FileError(path: file(LayerEpoch(epoch: epoch, layer: layer)), reason: "\(underlying)")
        } catch let mismatch as LayerShapes.Mismatch {
            throw FileError(path: mismatch.file, reason: mismatch.reason)
        }
        var parameters = Dictionary(request.configuration.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        parameters["samples"] = request.samples.rawValue
        parameters["sample_count"] = "\(indices?.count ?? sampleCount)"
        parameters["source"] = path
        parameters["reduction"] = reduction.description
        for (layer, shape) in shapes.all where shape.count > 1 {
            parameters["layer_\(layer)_shape"] = shape.map(String.init).joined(separator: "x")
            parameters["layer_\(layer)_reduction"] = reduction.resolved(for: shape).description
        }
        let table = InformationTable(columns: request.configuration.columns,
                                     rows: rows.map { InformationTable.Row(epoch: $0.epoch, layer: $0.layer, values: $0.values) },
                                     parameters: parameters)
        var positionRows = [InformationTable.Row]()
        for row in rows {
            for (p, values) in (row.parts ?? []).enumerated() {
                positionRows.append(InformationTable.Row(epoch: row.epoch, layer: row.layer, values: [Double(p)] + values))
            }
        }
        let positions = positionRows.isEmpty ? nil
            : InformationTable(columns: ["position"] + request.configuration.columns, rows: positionRows, parameters: parameters)
        return SourceEstimate(table: table, positions: positions)
    }
}

/// The sample shape seen for each layer, filled from worker threads; the epochs of a layer
/// must agree.
private final class LayerShapes: @unchecked Sendable {
    struct Mismatch: Error { var file: String; var reason: String }
    private let lock = NSLock()
    private var shapes: [Int: [Int]] = [:]

    func record(layer: Int, shape: [Int], file: String) throws {
        lock.lock(); defer { lock.unlock() }
        if let seen = shapes[layer], seen != shape {
            throw Mismatch(file: file, reason: "a sample of shape \(shape), other epochs of layer \(layer) have \(seen)")
        }
        shapes[layer] = shape
    }

    var all: [(Int, [Int])] {
        lock.lock(); defer { lock.unlock() }
        return shapes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// "0, 1, 2, …, 7999 (274 epochs)".
func summarize(_ epochs: [Int]) -> String {
    if epochs.count <= 6 { return epochs.map(String.init).joined(separator: ", ") }
    return epochs.prefix(3).map(String.init).joined(separator: ", ") + ", …, \(epochs.last!) (\(epochs.count) epochs)"
}
