// The forecasting protocol of the AirNet paper's Section 5, on a simulated
// field: windows of 40 steps (5 days of 3-hourly frames), the first 16
// (2 days) observed and the last 24 (3 days) forecast; the target of each
// step is the change between consecutive frames; the inputs are the
// meteorology of the past (the simulated truth, as an analysis) and of the
// forecast horizon (the forecast meteorology, never the truth).
//
// Splits, in days since 1 January of year 1 (frames t with day ⌊t / 8⌋):
//   train        one winter: 1 January to 28 February of year 1 (days 0-58)
//   validation   the month after: March of year 1 (days 59-89)
//   test         another winter: 1 December of year 1 to 28 February of
//                year 2 (days 334-423)
// Windows start every `stride` frames (8: one a day) and lie wholly inside
// their split; a 2-year field gives 55, 27 and 86 windows.

import Tensors

/// A named span of frames.
public struct AirSplit: Sendable, Equatable {
    public var name: String
    public var days: Range<Int>
    public init(name: String, days: Range<Int>) { self.name = name; self.days = days }
}

/// The protocol: window length, history, stride and the three splits.
public struct ForecastProtocol: Sendable, Equatable {
    public var window = 40
    public var history = 16
    public var stride = 8
    public var stepsPerDay = 8
    public var train = AirSplit(name: "train", days: 0..<59)
    public var validation = AirSplit(name: "validation", days: 59..<90)
    public var test = AirSplit(name: "test", days: 334..<424)

    public init() {}

    /// Forecast steps per window (24: lead times 3 h to 72 h).
    public var leads: Int { window - history }

    /// Windows of `window` frames starting every `stride` frames in `length` frames.
    public static func windowCount(length: Int, window: Int, stride: Int) -> Int {
        length < window ? 0 : (length - window) / stride + 1
    }

    /// The first frames of the windows of `split`.
    /// - Throws: `ForecastError` when the field is too short for the split.
    public func windowStarts(_ split: AirSplit, frames: Int) throws -> [Int] {
        let first = split.days.lowerBound * stepsPerDay, end = split.days.upperBound * stepsPerDay
        guard end <= frames else {
            throw ForecastError("the \(split.name) split needs frames up to \(end) (day \(split.days.upperBound)); the field has \(frames) (simulate at least \(Double(split.days.upperBound) / 365) years)")
        }
        let count = Self.windowCount(length: end - first, window: window, stride: stride)
        return (0..<count).map { first + $0 * stride }
    }
}

public struct ForecastError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The field normalized for the models, and batches of windows from it.
///
/// Meteorology: each channel standardized with the training split's mean
/// and standard deviation. PM: divided by `pmScale` (the training split's
/// mean over all cells), not shifted, so that a non-negative state stays a
/// concentration. `cellMean`: each cell's training mean of scaled PM (the
/// "precomputed mean" of the ReducedLSTM's fluctuation h = c - mean).
public struct AirData: Sendable {
    public let field: AirField
    public let scheme: ForecastProtocol
    public let metMean: [Float], metStd: [Float]
    public let pmScale: Float
    public let cellMean: [Float]
    /// The event threshold: the 75th percentile of station PM over the training split (µg/m³).
    public let threshold: Float
    /// Quartiles of station PM over the training split, the bin edges of the recorded runs' labels.
    public let quartiles: [Float]
    public let train: [Int], validation: [Int], test: [Int]

    public static let inputWidth = 12

    public init(field: AirField, scheme: ForecastProtocol = ForecastProtocol()) throws {
        self.field = field
        self.scheme = scheme
        train = try scheme.windowStarts(scheme.train, frames: field.timeCount)
        validation = try scheme.windowStarts(scheme.validation, frames: field.timeCount)
        test = try scheme.windowStarts(scheme.test, frames: field.timeCount)
        guard !train.isEmpty, !validation.isEmpty, !test.isEmpty else { throw ForecastError("a split holds no window") }
        let n = field.n, T = field.timeCount, F = AirField.featureCount
        let frames = (scheme.train.days.lowerBound * scheme.stepsPerDay)..<(scheme.train.days.upperBound * scheme.stepsPerDay)
        var mean = [Double](repeating: 0, count: 7), square = [Double](repeating: 0, count: 7)
        var cellMean = [Float](repeating: 0, count: n * n)
        field.values.withUnsafeBufferPointer { v in
            for c in 0..<(n * n) {
                var cellSum = 0.0
                for t in frames {
                    for f in 0..<F {
                        let x = Double(v[(c * T + t) * F + f])
                        mean[f] += x; square[f] += x * x
                    }
                    cellSum += Double(v[(c * T + t) * F + 6])
                }
                cellMean[c] = Float(cellSum / Double(frames.count))
            }
        }
        let count = Double(n * n * frames.count)
        metMean = (0..<6).map { Float(mean[$0] / count) }
        metStd = (0..<6).map { Float(max(1e-6, (square[$0] / count - (mean[$0] / count) * (mean[$0] / count)).squareRoot())) }
        pmScale = Float(max(1e-6, mean[6] / count))
        self.cellMean = cellMean.map { $0 / Float(max(1e-6, mean[6] / count)) }
        var stationValues = [Float]()
        for s in field.stations { for t in frames { stationValues.append(field.value(lat: s.lat, lon: s.lon, time: t, .pm)) } }
        stationValues.sort()
        func quantile(_ q: Double) -> Float { stationValues[min(stationValues.count - 1, Int(q * Double(stationValues.count)))] }
        threshold = quantile(0.75)
        quartiles = [quantile(0.25), quantile(0.5), quantile(0.75)]
    }

    /// Meteorology channel `f` at `time` as the forecast issued at the end of
    /// the window's history sees it: the truth up to `issue`, the forecast after.
    @inline(__always)
    func meteorology(cell c: Int, time: Int, issue: Int, _ f: Int) -> Float {
        let T = field.timeCount
        let raw = time <= issue ? field.values[(c * T + time) * AirField.featureCount + f]
                                : field.forecastMeteorology[(c * T + time) * 6 + f]
        return (raw - metMean[f]) / metStd[f]
    }

    /// A batch of whole-grid windows (rows: window-major, then cell).
    public func batch(windows: [Int]) -> AirBatch {
        let n = field.n, cells = n * n, rows = windows.count * cells, L = scheme.window
        var inputs = [[Float]](repeating: [Float](repeating: 0, count: rows * Self.inputWidth), count: L - 1)
        var pm = [[Float]](repeating: [Float](repeating: 0, count: rows), count: L)
        var wind = [[Float]](repeating: [Float](repeating: 0, count: windows.count * 2 * cells), count: L - 1)
        var mean = [Float](repeating: 0, count: rows)
        let T = field.timeCount, F = AirField.featureCount
        for (w, start) in windows.enumerated() {
            let issue = start + scheme.history - 1
            for c in 0..<cells {
                let r = w * cells + c
                mean[r] = cellMean[c]
                for t in 0..<L { pm[t][r] = field.values[(c * T + start + t) * F + 6] / pmScale }
                for t in 0..<(L - 1) {
                    for f in 0..<6 {
                        inputs[t][r * 12 + f] = meteorology(cell: c, time: start + t, issue: issue, f)
                        inputs[t][r * 12 + 6 + f] = meteorology(cell: c, time: start + t + 1, issue: issue, f)
                    }
                    // The wind of the step's end, in units of 5 m/s, as [window, 2, lat, lon].
                    let time = start + t + 1
                    let u = time <= issue ? field.values[(c * T + time) * F] : field.forecastMeteorology[(c * T + time) * 6]
                    let v = time <= issue ? field.values[(c * T + time) * F + 1] : field.forecastMeteorology[(c * T + time) * 6 + 1]
                    wind[t][(w * 2) * cells + c] = u / 5
                    wind[t][(w * 2 + 1) * cells + c] = v / 5
                }
            }
        }
        return AirBatch(inputs: inputs.map { Tensor(shape: [rows, 12], scalars: $0) },
                        pm: pm.map { Tensor(shape: [rows, 1], scalars: $0) },
                        mean: Tensor(shape: [rows, 1], scalars: mean),
                        wind: wind.map { Tensor(shape: [windows.count, 2, n, n], scalars: $0) },
                        grid: (windows.count, n), history: scheme.history)
    }
}

/// Model inputs for a batch of rows (cells of windows), time-major.
public struct AirBatch: Sendable {
    /// Per step t = 0..<L-1: [rows, 12], meteorology of t and of t + 1 (standardized).
    public var inputs: [Tensor]
    /// Per frame t = 0..<L: [rows, 1], scaled PM (the observation; models read it up to the history's end).
    public var pm: [Tensor]
    /// [rows, 1]: each row's precomputed mean of scaled PM.
    public var mean: Tensor
    /// Per step: [windows, 2, n, n], the wind of the step's end (u, v over 5 m/s); for WipeNet.
    public var wind: [Tensor]?
    /// Whole grids: rows = windows · n · n (nil for rows that are not whole grids).
    public var grid: (windows: Int, n: Int)?
    public var history: Int

    public var rows: Int { mean.shape[0] }
    public var steps: Int { inputs.count }
}
