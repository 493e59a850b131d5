// `infoplane train --task air`: a ReducedLSTM trained on the training winter
// and recorded into a run directory like every other task's (InstrumentedRun:
// manifest, metrics.csv, activations per epoch, checkpoints, resume), so that
// `estimate`, `plot` and `audit` read it.
//
// The probe set (the recorded samples) is every window of the training winter
// (train_mask true) and of the test winter at every station cell. Its inputs
// (inputs.npy, [N, 39, 14]) are each step's 12 meteorology inputs, the
// observed scaled PM of the step (read only up to the issue time) and the
// cell's precomputed mean. Recorded tensors, over the 24 forecast steps:
//   layer 1 "cell state"    c_t, the forecast concentration (scaled), [24]
//   layer 2 "hidden state"  h_t = c_t - c̄, the fluctuation around the mean, [24]
// Labels Y: the quartile (of the training winter's station values, 0-3) of
// the observed PM at the station at the last lead (72 h).
//
// RunSettings: task "air"; data_source names the field (a .npz path, or
// "simulated:GRID:YEARS:STATIONS:SEED" to simulate it again on resume);
// batch_size is whole-grid windows per minibatch; widths [12, 1] (the cell's
// input and state); metrics.csv: train_loss and test_loss are the mean
// losses over the training winter and the validation month (scaled units),
// the accuracies NaN (the subject does not classify).

import ActivationStore
import ArrayIO
import Autodiff
import NeuralNets
import Tensors
import Training

/// The ReducedLSTM as a recordable model of probe sequences [N, 39, 14].
public struct AirRecordedModel: RecordableModel {
    public var forecaster: AirForecaster
    public let history: Int

    public var recordedTensors: [RecordedTensorDescription] {
        let leads = AirRecordedModel.steps + 1 - history
        return [RecordedTensorDescription(name: "cell state", shape: [leads], activation: "relu"),
                RecordedTensorDescription(name: "hidden state", shape: [leads], activation: "linear")]
    }

    static let steps = 39
    static let width = AirData.inputWidth + 2

    /// The batch of probe rows [N, 39, 14].
    static func batch(probe input: Tensor, history: Int) -> AirBatch {
        let n = input.shape[0]
        precondition(input.shape == [n, steps, width], "AirRecordedModel: probe inputs \(input.shape), expected [N, \(steps), \(width)]")
        var inputs = [Tensor](), pm = [Tensor]()
        let v = input.scalars
        for t in 0..<steps {
            var x = [Float](repeating: 0, count: n * 12), p = [Float](repeating: 0, count: n)
            for r in 0..<n {
                let base = (r * steps + t) * width
                for k in 0..<12 { x[r * 12 + k] = v[base + k] }
                p[r] = v[base + 12]
            }
            inputs.append(Tensor(shape: [n, 12], scalars: x))
            pm.append(Tensor(shape: [n, 1], scalars: p))
        }
        pm.append(Tensor.zeros([n, 1]))   // frame 39 is never read (only frames up to the issue time are)
        let mean = Tensor(shape: [n, 1], scalars: (0..<n).map { v[($0 * steps) * width + 13] })
        return AirBatch(inputs: inputs, pm: pm, mean: mean, wind: nil, grid: nil, history: history)
    }

    public func recordedActivations(_ input: Tensor) -> [Tensor] {
        let batch = Self.batch(probe: input, history: history)
        let tape = Tape()
        let out = forecaster.forward(batch, tape: tape, forecaster.store.bind(to: tape, requiringGradients: false))
        let n = input.shape[0], leads = Self.steps + 1 - history
        func gather(_ states: [Variable]) -> Tensor {
            var values = [Float](repeating: 0, count: n * leads)
            for (k, state) in states[(history - 1)...].enumerated() {
                for r in 0..<n { values[r * leads + k] = state.value.scalars[r] }
            }
            return Tensor(shape: [n, leads], scalars: values)
        }
        return [gather(out.cells), gather(out.hiddens)]
    }

    public var parameters: [Tensor] {
        get { forecaster.store.tensors }
        set { forecaster.store.tensors = newValue }
    }

    public var parameterNames: [String] { forecaster.store.names }
}

/// Trains the ReducedLSTM epoch by epoch on the training winter.
public struct AirEpochTrainer: EpochTraining {
    public var model: AirRecordedModel
    public var optimizer: any Optimizer
    public var rng: RandomGenerator
    public var epoch = 0
    public let data: AirData
    public let batchWindows: Int

    public init(model: AirRecordedModel, optimizer: any Optimizer, rng: RandomGenerator, data: AirData, batchWindows: Int) {
        self.model = model
        self.optimizer = optimizer
        self.rng = rng
        self.data = data
        self.batchWindows = batchWindows
    }

    /// The cell's input weight [2, 12] (forget and input gates).
    public var weights: [Tensor] { [model.forecaster.store["reduced.inputWeight"]] }

    @discardableResult
    public mutating func trainEpoch(gradients: inout GradientAccumulator?) -> Double {
        var order = data.train
        rng.shuffle(&order)
        var total = 0.0, batches = 0
        let weightIndex = model.forecaster.store.names.firstIndex(of: "reduced.inputWeight")!
        for first in stride(from: 0, to: order.count, by: batchWindows) {
            let batch = data.batch(windows: Array(order[first..<min(order.count, first + batchWindows)]))
            var (loss, g) = model.forecaster.lossAndGradients(batch)
            gradients?.add([g[weightIndex]])
            clipByGlobalNorm(&g, maxNorm: 1)
            optimizer.update(&model.forecaster.store.tensors, gradients: g, multiplier: 1)
            total += Double(loss)
            batches += 1
        }
        epoch += 1
        return total / Double(batches)
    }

    /// train_loss: the mean loss over the training winter's windows; test_loss:
    /// over the validation month's (both in scaled units, all cells and steps).
    public func evaluate() -> EpochMetrics {
        let trainer = AirTrainer(model: model.forecaster, data: data)
        return EpochMetrics(epoch: epoch, trainLoss: trainer.loss(data: data, windows: data.train), trainAccuracy: .nan,
                            testLoss: trainer.loss(data: data, windows: data.validation), testAccuracy: .nan)
    }
}

extension AirTrainer {
    /// A trainer around an existing model, for its losses.
    init(model: AirForecaster, data: AirData) {
        self.init(kind: model.kind, settings: AirTrainingSettings(hidden: model.hidden))
        self.model = model
    }
}

/// The subject of an air run.
public enum AirRunSubject {
    public typealias Run = InstrumentedRun<AirEpochTrainer>

    /// The settings of `infoplane train --task air`.
    public static func settings(dataSource: String, epochs: Int, learningRate: Float, batchWindows: Int, seed: UInt64,
                                checkpointInterval: Int, schedule: String, dtype: String) -> RunSettings {
        RunSettings(task: "air", dataSource: dataSource, widths: [AirData.inputWidth, 1], activation: "relu",
                    initializer: "uniform", optimizer: ["name": "adam", "learning_rate": "\(learningRate)"],
                    batchSize: batchWindows, epochs: epochs, seed: seed, trainingFraction: 0, splitMethod: "winter",
                    schedule: schedule, activations: "post", dtype: dtype, checkpointInterval: checkpointInterval)
    }

    /// The field a data source names.
    public static func field(_ source: String) throws -> AirField {
        let prefix = "simulated:"
        if source.hasPrefix(prefix) {
            let parts = source.dropFirst(prefix.count).split(separator: ":")
            guard parts.count == 4, let grid = Int(parts[0]), let years = Double(parts[1]), let stations = Int(parts[2]),
                  let seed = UInt64(parts[3]) else {
                throw RunError("data source \"\(source)\" is not simulated:GRID:YEARS:STATIONS:SEED")
            }
            let settings = AirSimulationSettings(gridSize: grid, years: years, stationCount: stations, seed: seed)
            if let problem = settings.problem { throw RunError("data source \"\(source)\": \(problem)") }
            return AirSimulator(settings).run()
        }
        return try AirField.read(source)
    }

    /// The trainer and probe set of `settings`.
    public static func subject(_ settings: RunSettings, field: AirField? = nil) throws -> RunSubject<AirEpochTrainer> {
        let field = try field ?? Self.field(settings.dataSource)
        let data = try AirData(field: field)
        guard let lr = Float(settings.optimizer["learning_rate"] ?? "") else { throw RunError("air runs need a learning rate") }
        let forecaster = AirForecaster(kind: .reducedLSTM, seed: settings.seed)
        let model = AirRecordedModel(forecaster: forecaster, history: data.scheme.history)
        let trainer = AirEpochTrainer(model: model, optimizer: Adam(learningRate: lr), rng: RandomGenerator(seed: settings.seed &+ 0x5EED),
                                      data: data, batchWindows: settings.batchSize)
        // The probe set: both winters' windows at every station.
        let n = field.n, T = field.timeCount, F = AirField.featureCount, steps = AirRecordedModel.steps, width = AirRecordedModel.width
        var inputs = [Float](), labels = [Int](), mask = [Bool]()
        for (windows, isTrain) in [(data.train, true), (data.test, false)] {
            for start in windows {
                let batch = data.batch(windows: [start])
                for station in field.stations {
                    let c = station.lat * n + station.lon
                    for t in 0..<steps {
                        inputs += batch.inputs[t].scalars[(c * 12)..<(c * 12 + 12)]
                        inputs.append(batch.pm[t].scalars[c])
                        inputs.append(data.cellMean[c])
                    }
                    let future = field.values[(c * T + start + steps) * F + AirFeature.pm.rawValue]
                    labels.append(data.quartiles.filter { future >= $0 }.count)
                    mask.append(isTrain)
                }
            }
        }
        let count = labels.count
        return RunSubject(trainer: trainer, samples: RecordedSamples(
            inputs: Tensor(shape: [count, steps, width], scalars: inputs), labels: labels, trainMask: mask))
    }
}
