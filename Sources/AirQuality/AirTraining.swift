// Training a forecaster on the training winter's windows (Adam, gradients
// clipped to a global norm of 1, minibatches of whole-grid windows in a
// seeded order), and its forecasts at the station cells.

import Autodiff
import NeuralNets
import Tensors

/// How a forecaster is trained.
public struct AirTrainingSettings: Sendable, Equatable, Codable {
    public var epochs: Int
    public var learningRate: Float
    /// Whole-grid windows per minibatch.
    public var batchWindows: Int
    public var hidden: Int
    public var seed: UInt64

    public init(epochs: Int = 12, learningRate: Float = 0.01, batchWindows: Int = 2, hidden: Int = 16, seed: UInt64 = 1) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchWindows = batchWindows
        self.hidden = hidden
        self.seed = seed
    }
}

/// A forecaster being trained, one epoch at a time.
public struct AirTrainer: Sendable {
    public var model: AirForecaster
    public var optimizer: Adam
    public var rng: RandomGenerator
    public let settings: AirTrainingSettings
    public private(set) var epoch = 0

    public init(kind: AirModelKind, settings: AirTrainingSettings) {
        model = AirForecaster(kind: kind, hidden: settings.hidden, seed: settings.seed)
        optimizer = Adam(learningRate: settings.learningRate)
        rng = RandomGenerator(seed: settings.seed &+ 0x5EED)
        self.settings = settings
    }

    /// One pass over `windows` (window starts) in a seeded order; the mean minibatch loss.
    @discardableResult
    public mutating func trainEpoch(data: AirData, windows: [Int]) -> Double {
        epoch += 1
        guard model.kind.isTrained else { return .nan }
        var order = windows
        rng.shuffle(&order)
        var total = 0.0, batches = 0
        for first in stride(from: 0, to: order.count, by: settings.batchWindows) {
            let batch = data.batch(windows: Array(order[first..<min(order.count, first + settings.batchWindows)]))
            var (loss, gradients) = model.lossAndGradients(batch)
            clipByGlobalNorm(&gradients, maxNorm: 1)
            optimizer.update(&model.store.tensors, gradients: gradients, multiplier: 1)
            total += Double(loss)
            batches += 1
        }
        return total / Double(batches)
    }

    /// The mean loss (scaled units) over `windows`, without training.
    public func loss(data: AirData, windows: [Int]) -> Double {
        var total = 0.0, count = 0
        for first in stride(from: 0, to: windows.count, by: 4) {
            let batch = data.batch(windows: Array(windows[first..<min(windows.count, first + 4)]))
            total += Double(model.lossAndGradientsFree(batch)) * Double(batch.grid!.windows)
            count += batch.grid!.windows
        }
        return total / Double(count)
    }
}

extension AirForecaster {
    /// The loss without a backward pass.
    func lossAndGradientsFree(_ batch: AirBatch) -> Float {
        let tape = Tape()
        let p = kind.isTrained ? store.bind(to: tape, requiringGradients: false) : nil
        let predictions = forward(batch, tape: tape, p).predictions
        var total: Float = 0
        for (t, prediction) in predictions.enumerated() {
            total += ((prediction.value - batch.pm[t + 1]) * (prediction.value - batch.pm[t + 1])).mean()
        }
        return total / Float(predictions.count)
    }

    /// Forecasts and observations (µg/m³) at the station cells for the windows starting at `windows`.
    public func stationForecasts(data: AirData, windows: [Int]) -> StationForecasts {
        let n = data.field.n, cells = n * n, leads = data.scheme.leads, stations = data.field.stations
        var forecast = [Float](repeating: 0, count: windows.count * stations.count * leads)
        var observed = forecast
        for first in stride(from: 0, to: windows.count, by: 4) {
            let chunk = Array(windows[first..<min(windows.count, first + 4)])
            let batch = data.batch(windows: chunk)
            let predicted = self.forecast(batch, pmScale: data.pmScale)
            for (w, start) in chunk.enumerated() {
                for (s, station) in stations.enumerated() {
                    let row = w * cells + station.lat * n + station.lon
                    for lead in 1...leads {
                        let k = ((first + w) * stations.count + s) * leads + lead - 1
                        forecast[k] = predicted[lead - 1][row]
                        observed[k] = data.field.value(lat: station.lat, lon: station.lon, time: start + data.scheme.history - 1 + lead, .pm)
                    }
                }
            }
        }
        return StationForecasts(windows: windows.count, stations: stations.count, leads: leads, forecast: forecast, observed: observed)
    }

    /// The forecast fields (µg/m³) of one window at each lead, [lead][lat·n + lon].
    public func gridForecast(data: AirData, window: Int) -> [[Float]] {
        forecast(data.batch(windows: [window]), pmScale: data.pmScale)
    }
}
