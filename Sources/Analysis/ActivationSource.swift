// Where activations come from: an InfoPlane run directory, or a directory of
// `epoch-<E>-layer-<L>.npy` files exported from any framework with a labels
// (and optionally an inputs) array beside them.
//
// Both give the estimators the same thing: labels, input groups, which
// samples are for training, and a loader for one (epoch, layer) whose errors
// name the file.

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
        return ActivationSource(path: path, labels: labels, inputGroups: inputGroups, trainMask: trainMask,
                                available: available, layerNames: layerNames, manifest: manifest,
                                fileForLayerEpoch: fileForLayerEpoch, reader: reader)
    }

    /// Opens a directory of exported activations.
    ///
    /// - Parameters:
    ///   - directory: holds `epoch-<E>-layer-<L>.npy` (N x d each; E ≥ 0, L ≥ 1).
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
        if let inputsPath {
            let x = try NPY.readFloats(path: inputsPath)
            guard x.shape.first == labels.count else {
                throw FileError(path: inputsPath, reason: "\(x.shape.first ?? 0) rows, the labels have \(labels.count)")
            }
            let columns = x.shape.dropFirst().reduce(1, *)
            let g = groupInputRows(ActivationMatrix(rows: labels.count, columns: columns, scalars: x.values))
            groups = Set(g).count == g.count ? nil : g
        }
        let layers = Set(tasks.map(\.layer)).sorted()
        return ActivationSource(path: directory, labels: labels, inputGroups: groups, trainMask: nil, available: tasks,
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

    /// Loads the activations of one (epoch, layer) as N x d.
    ///
    /// - Throws: `FileError` naming the file for a missing or damaged file, a
    ///   row count that differs from the labels, or a layer of zero width.
    public func activations(_ task: LayerEpoch) throws -> ActivationMatrix {
        let file = fileForLayerEpoch(task)
        if let reader {
            let a = try reader.activations(epoch: task.epoch, layer: task.layer)
            return ActivationMatrix(rows: a.rows, columns: a.columns, scalars: a.values)
        }
        let array = try NPY.readFloats(path: file)
        guard array.shape.count == 2 else {
            throw FileError(path: file, reason: "shape \(array.shape): activations must be N x d")
        }
        guard array.shape[0] == labels.count else {
            throw FileError(path: file, reason: "\(array.shape[0]) rows, but the labels have \(labels.count)")
        }
        guard array.shape[1] > 0 else { throw FileError(path: file, reason: "empty layer (0 columns)") }
        return ActivationMatrix(rows: array.shape[0], columns: array.shape[1], scalars: array.values)
    }
}
