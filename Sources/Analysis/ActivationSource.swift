// Where activations come from: an InfoPlane run directory, or a directory of
// `epoch-<E>-layer-<L>.npy` files exported from any framework with a labels
// (and optionally an inputs) array beside them.
//
// Both give the estimators the same thing: labels, input groups (and the
// inputs themselves, for kNN), which samples are for training, and a loader
// for one (epoch, layer) whose errors name the file. A layer's sample shape
// ([w] for a vector, [C, H, W] for a feature map, [L, D] for a sequence) comes
// from the run's manifest, or from the exported file's own `.npy` shape.

import ActivationStore
import ArrayIO
import InfoTheory

/// A set of recorded activations with their labels.
public struct ActivationSource: Sendable {
    /// The run or activation directory.
    public let path: String
    /// Y for each of the N samples.
    public let labels: [Int]
    /// X as group ids (equal for equal inputs), nil when every input is distinct or unknown.
    public let inputGroups: [Int]?
    /// X, one row per sample (nil for exported activations given without inputs).
    public let inputs: ActivationMatrix?
    /// Which samples are for training (nil for exported activations without a split).
    public let trainMask: [Bool]?
    /// The (epoch, layer) pairs available, sorted.
    public let available: [LayerEpoch]
    /// Layer names for legends, by 1-based layer.
    public let layerNames: [Int: String]
    /// The run's manifest, when the source is a run directory.
    public let manifest: RunManifest?
    private let fileForLayerEpoch: @Sendable (LayerEpoch) -> String
    private let reader: RunReader?

    /// N.
    public var sampleCount: Int { labels.count }
    /// The epochs available, sorted.
    public var epochs: [Int] { Array(Set(available.map(\.epoch))).sorted() }

    /// The activation file of one (epoch, layer).
    public func file(_ task: LayerEpoch) -> String { fileForLayerEpoch(task) }

    /// Opens an InfoPlane run directory: its committed epochs only.
    public static func run(_ path: String) throws -> ActivationSource {
        let reader = try RunReader(path: path)
        let labels = try reader.labels()
        let inputs = try reader.inputs()
        let groups = groupInputRows(ActivationMatrix(rows: inputs.rows, columns: inputs.columns, scalars: inputs.values))
        let distinct = Set(groups).count == groups.count
        let tasks = reader.manifest.recordedEpochs.flatMap { e in reader.manifest.layers.map { LayerEpoch(epoch: e, layer: $0.index) } }
        let directory = reader.directory
        return ActivationSource(path: path, labels: labels, inputGroups: distinct ? nil : groups,
                                inputs: ActivationMatrix(rows: inputs.rows, columns: inputs.columns, scalars: inputs.values),
                                trainMask: try reader.trainMask(), available: tasks,
                                layerNames: Dictionary(uniqueKeysWithValues: reader.manifest.layers.map { ($0.index, $0.name) }),
                                manifest: reader.manifest,
                                fileForLayerEpoch: { directory.activations(epoch: $0.epoch, layer: $0.layer) }, reader: reader)
    }

    /// The same activations with other labels (one per sample), e.g. the
    /// true labels of a run trained on corrupted ones, for I(T;Y_clean).
    /// - Precondition: `labels.count == sampleCount`, none negative.
    public func relabeled(_ labels: [Int]) -> ActivationSource {
        precondition(labels.count == sampleCount && labels.allSatisfy { $0 >= 0 },
                     "ActivationSource.relabeled: \(labels.count) labels for \(sampleCount) samples")
        return ActivationSource(path: path, labels: labels, inputGroups: inputGroups, inputs: inputs, trainMask: trainMask,
                                available: available, layerNames: layerNames, manifest: manifest,
                                fileForLayerEpoch: fileForLayerEpoch, reader: reader)
    }

    /// Opens a directory of exported activations.
    ///
    /// - Parameters:
    ///   - directory: holds `epoch-<E>-layer-<L>.npy` (N x d, N x L x D or N x C x H x W each;
    ///     E ≥ 0, L ≥ 1).
    ///   - labelsPath: integer labels (N) or one-hot rows (N x k).
    ///   - inputsPath: the inputs (N x ...), to compute H(T|X) when inputs repeat.
    /// - Throws: `FileError` naming the file for a missing directory, no
    ///   activation files, malformed labels, or inputs of another length.
    public static func exported(directory: String, labels labelsPath: String, inputs inputsPath: String?) throws -> ActivationSource {
        guard AtomicFile.isDirectory(directory) else { throw FileError(path: directory, reason: "no such directory") }
        let tasks = try AtomicFile.listDirectory(directory).compactMap(RunDirectory.parseActivationFileName)
            .map { LayerEpoch(epoch: $0.epoch, layer: $0.layer) }.sorted()
        guard !tasks.isEmpty else {
            throw FileError(path: directory, reason: "no activation files named epoch-<E>-layer-<L>.npy")
        }
        let labels = try readLabels(labelsPath)
        var groups: [Int]?
        var inputMatrix: ActivationMatrix?
        if let inputsPath {
            let x = try NPY.readFloats(path: inputsPath)
            guard x.shape.first == labels.count else {
                throw FileError(path: inputsPath, reason: "\(x.shape.first ?? 0) rows, the labels have \(labels.count)")
            }
            let columns = x.shape.dropFirst().reduce(1, *)
            let m = ActivationMatrix(rows: labels.count, columns: columns, scalars: x.values)
            let g = groupInputRows(m)
            groups = Set(g).count == g.count ? nil : g
            inputMatrix = m
        }
        let layers = Set(tasks.map(\.layer)).sorted()
        return ActivationSource(path: directory, labels: labels, inputGroups: groups, inputs: inputMatrix, trainMask: nil,
                                available: tasks,
                                layerNames: Dictionary(uniqueKeysWithValues: layers.map { ($0, "layer \($0)") }),
                                manifest: nil,
                                fileForLayerEpoch: { directory + "/" + RunDirectory.activationFileName(epoch: $0.epoch, layer: $0.layer) },
                                reader: nil)
    }

    /// Labels from a .npy: integers (N), or one-hot rows (N x k) turned into class indices.
    static func readLabels(_ path: String) throws -> [Int] {
        let array = try NPY.read(path: path)
        switch array.shape.count {
        case 1:
            let values: [Int]
            do { values = try array.ints() } catch { throw FileError(path: path, reason: "labels must be integers (\(error))") }
            guard values.allSatisfy({ $0 >= 0 }) else { throw FileError(path: path, reason: "labels must not be negative") }
            return values
        case 2:
            let (n, k) = (array.shape[0], array.shape[1])
            let v = array.doubles()
            return try (0..<n).map { i in
                let row = v[(i * k)..<((i + 1) * k)]
                guard row.allSatisfy({ $0 == 0 || $0 == 1 }), row.filter({ $0 == 1 }).count == 1 else {
                    throw FileError(path: path, reason: "row \(i) is not one-hot")
                }
                return row.firstIndex(of: 1)! - i * k
            }
        default:
            throw FileError(path: path, reason: "labels must be N integers or N x k one-hot rows, got shape \(array.shape)")
        }
    }

    /// Whether every input column takes at most two values (the 12-bit task's binary inputs).
    /// Then all distinct inputs are at the same max-norm distance, and a kNN estimate of
    /// I(X;T) is decided by its tie-breaking jitter, not by the data.
    public var inputsAreBinary: Bool {
        guard let inputs, inputs.rows > 0 else { return false }
        let d = inputs.columns
        return (0..<d).allSatisfy { j in
            let first = inputs.scalars[j]
            var second: Float?
            for i in 0..<inputs.rows {
                let v = inputs.scalars[i * d + j]
                if v == first { continue }
                if second == nil { second = v } else if v != second! { return false }
            }
            return true
        }
    }

    /// Loads the activations of one (epoch, layer) as N x d, each sample's tensor flattened.
    ///
    /// - Throws: `FileError` naming the file for a missing or damaged file, a
    ///   row count that differs from the labels, or a layer of zero width.
    public func activations(_ task: LayerEpoch) throws -> ActivationMatrix {
        try structuredActivations(task).matrix
    }

    /// Loads one (epoch, layer) as N x d rows with the shape of one sample's tensor
    /// ([d] for a vector, [C, H, W] or [L, D] for structured layers).
    ///
    /// - Throws: as `activations(_:)`, and for an exported array of rank other than 2, 3 or 4.
    public func structuredActivations(_ task: LayerEpoch) throws -> (matrix: ActivationMatrix, sampleShape: [Int]) {
        let file = fileForLayerEpoch(task)
        if let reader {
            let a = try reader.activations(epoch: task.epoch, layer: task.layer)
            return (ActivationMatrix(rows: a.rows, columns: a.columns, scalars: a.values),
                    reader.manifest.layers[task.layer - 1].sampleShape)
        }
        let array = try NPY.readFloats(path: file)
        guard (2...4).contains(array.shape.count) else {
            throw FileError(path: file, reason: "shape \(array.shape): activations must be N x d, N x L x D or N x C x H x W")
        }
        guard array.shape[0] == labels.count else {
            throw FileError(path: file, reason: "\(array.shape[0]) rows, but the labels have \(labels.count)")
        }
        let sampleShape = Array(array.shape.dropFirst())
        let width = sampleShape.reduce(1, *)
        guard width > 0 else { throw FileError(path: file, reason: "empty layer (shape \(array.shape))") }
        return (ActivationMatrix(rows: array.shape[0], columns: width, scalars: array.values), sampleShape)
    }
}
