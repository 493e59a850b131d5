// The ReducedLSTM and WipeNet cells against central finite differences of
// Double references, the redistribution's conservation, the protocol's
// window and split counts, and the scores on a hand-made contingency table.

import AirQuality
import Autodiff
import Foundation
import NeuralNets
import Tensors
import TestSupport
import Testing

func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// Eq. 7-8 in Double: x [rows, 12], c and mean [rows], the four parameters → [h', c'] per row.
func reducedReference(_ v: [[Double]], rows: Int) -> [Double] {
    let (x, c, mean, wx, wh, bx, bh) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6])
    var out = [Double]()
    for r in 0..<rows {
        var a = [bx[0], bx[1]]
        for g in 0..<2 { for k in 0..<12 { a[g] += wx[g * 12 + k] * x[r * 12 + k] } }
        let h = c[r] - mean[r]
        let f = sigmoid(a[0] + wh[0] * h + bh[0]), i = a[1] + wh[1] * h + bh[1]
        let next = f * max(0, c[r] + i)
        out += [next - mean[r], next]
    }
    return out
}

@Test func the_reduced_lstm_cell_matches_finite_differences() {
    let rows = 4
    var store = ParameterStore(), rng = RandomGenerator(seed: 4)
    let cell = ReducedLSTMCell("reduced", inputSize: 12, store: &store, rng: &rng)
    // Contents well away from the ReLU's kink; row 2 far below it (the state clamps at 0).
    let c = Tensor(shape: [rows, 1], scalars: [1.5, 2.0, -5, 1.2])
    let inputs = [randomTensor([rows, 12], seed: 1), c, randomTensor([rows, 1], seed: 2, scale: 0.5),
                  randomTensor([2, 12], seed: 3, scale: 0.3), randomTensor([2, 1], seed: 5, scale: 0.3),
                  Tensor(shape: [2], scalars: [0.5, -0.2]), randomTensor([2], seed: 6, scale: 0.1)]
    let result = checkGradients(inputs) { v in
        let p = BoundParameters(store: store, variables: [v[3], v[4], v[5], v[6]])
        let next = cell(v[0], c: v[1], mean: v[2], p)
        return Variable.concatenate([next.h, next.c], axis: 1)
    } reference: { reducedReference($0, rows: rows) }
    #expect(result.worst < 2e-3, "\(result)")
    // The clamped row's state is exactly 0, and so is its gradient with respect to c.
    let tape = Tape()
    let p = store.bind(to: tape)
    let cv = tape.variable(c)
    let next = cell(tape.constant(inputs[0]), c: cv, mean: tape.constant(inputs[2]), p)
    let lowered = reducedReference(inputs.map { $0.scalars.map(Double.init) }, rows: rows)
    #expect(lowered[5] == 0 && lowered[1] > 0)   // c + i < 0 in row 2 only
    #expect(next.c.value.scalars[2] == 0 && next.c.value.scalars[0] > 0)
    let dc = tape.gradients(of: next.c.sum(), withRespectTo: [cv])[0].scalars
    #expect(dc[2] == 0 && dc[0] != 0)
}

/// WipeNet's redistribution step in Double: content [B, n, n], wind [B, 2, n, n], conv weight [25, 2, 3, 3], bias [25].
func wipeReference(_ v: [[Double]], batch B: Int, n: Int) -> [Double] {
    let (content, wind, weight, bias) = (v[0], v[1], v[2], v[3])
    var out = [Double](repeating: 0, count: B * n * n)
    for b in 0..<B {
        for i in 0..<n {
            for j in 0..<n {
                var logits = [Double](repeating: 0, count: 25)
                for o in 0..<25 {
                    var s = bias[o]
                    for ch in 0..<2 { for ki in 0..<3 { for kj in 0..<3 {
                        let y = i + ki - 1, x = j + kj - 1
                        if y >= 0 && y < n && x >= 0 && x < n {
                            s += weight[((o * 2 + ch) * 3 + ki) * 3 + kj] * wind[((b * 2 + ch) * n + y) * n + x]
                        }
                    } } }
                    logits[o] = s
                }
                let top = logits.max()!
                let e = logits.map { exp($0 - top) }, z = e.reduce(0, +)
                for di in -2...2 where i + di >= 0 && i + di < n {
                    for dj in -2...2 where j + dj >= 0 && j + dj < n {
                        out[(b * n + i + di) * n + j + dj] += e[(di + 2) * 5 + dj + 2] / z * content[(b * n + i) * n + j]
                    }
                }
            }
        }
    }
    return out
}

@Test func the_wipenet_redistribution_matches_finite_differences() {
    let B = 2, n = 6
    let inputs = [randomTensor([B, n, n], seed: 11).map { abs($0) }, randomTensor([B, 2, n, n], seed: 12),
                  randomTensor([25, 2, 3, 3], seed: 13, scale: 0.5), randomTensor([25], seed: 14, scale: 0.5)]
    let result = checkGradients(inputs) { v in
        v[0].redistributed(wipeNetWeights(wind: v[1], weight: v[2], bias: v[3]))
    } reference: { wipeReference($0, batch: B, n: n) }
    #expect(result.worst < 2e-3, "\(result)")
}

@Test func the_wipenet_cell_step_matches_finite_differences() {
    // ReducedLSTM then redistribution, as WipeNet applies them: gradients reach every parameter.
    let B = 1, n = 5, rows = B * n * n
    var store = ParameterStore(), rng = RandomGenerator(seed: 8)
    let cell = ReducedLSTMCell("reduced", inputSize: 12, store: &store, rng: &rng)
    let inputs = [randomTensor([rows, 12], seed: 21), randomTensor([rows, 1], seed: 22).map { 1 + abs($0) },
                  randomTensor([rows, 1], seed: 23, scale: 0.3), randomTensor([2, 12], seed: 24, scale: 0.2),
                  randomTensor([2, 1], seed: 25, scale: 0.2), Tensor(shape: [2], scalars: [1, 0.1]),
                  randomTensor([2], seed: 26, scale: 0.1), randomTensor([B, 2, n, n], seed: 27),
                  randomTensor([25, 2, 3, 3], seed: 28, scale: 0.5), randomTensor([25], seed: 29, scale: 0.5)]
    let result = checkGradients(inputs) { v in
        let p = BoundParameters(store: store, variables: [v[3], v[4], v[5], v[6]])
        let c = cell(v[0], c: v[1], mean: v[2], p).c
        return c.reshaped([B, n, n]).redistributed(wipeNetWeights(wind: v[7], weight: v[8], bias: v[9]))
    } reference: { v in
        let state = reducedReference(Array(v[0...6]), rows: rows)
        let content = (0..<rows).map { state[2 * $0 + 1] }
        return wipeReference([content, v[7], v[8], v[9]], batch: B, n: n)
    }
    #expect(result.worst < 2e-3, "\(result)")
}

@Test func the_redistribution_conserves_content_away_from_the_edges() {
    let n = 9
    var content = [Float](repeating: 0, count: n * n)
    for i in 2..<(n - 2) { for j in 2..<(n - 2) { content[i * n + j] = Float(i * n + j) / 10 } }
    let tape = Tape()
    let weights = wipeNetWeights(wind: tape.constant(randomTensor([1, 2, n, n], seed: 3)),
                                 weight: tape.constant(randomTensor([25, 2, 3, 3], seed: 4)),
                                 bias: tape.constant(randomTensor([25], seed: 5)))
    let out = tape.constant(Tensor(shape: [1, n, n], scalars: content)).redistributed(weights).value
    #expect(abs(Double(out.sum()) - Double(content.reduce(0, +))) < 1e-4)
    // A cell on the edge loses what it sends outside.
    var edge = [Float](repeating: 0, count: n * n)
    edge[0] = 1
    let lost = tape.constant(Tensor(shape: [1, n, n], scalars: edge)).redistributed(weights).value.sum()
    var kept: Float = 0
    for di in 0...2 { for dj in 0...2 { kept += weights.value.scalars[(di + 2) * 5 + dj + 2] } }
    #expect(abs(lost - kept) < 1e-6 && lost < 1)
}

@Test func window_and_split_counts() throws {
    #expect(ForecastProtocol.windowCount(length: 100, window: 40, stride: 8) == 8)   // starts 0, 8, …, 56
    #expect(ForecastProtocol.windowCount(length: 40, window: 40, stride: 8) == 1)
    #expect(ForecastProtocol.windowCount(length: 39, window: 40, stride: 8) == 0)
    let scheme = ForecastProtocol()
    #expect(scheme.leads == 24)
    let frames = 2 * 365 * 8
    // Train: 59 days = 472 frames, (472 - 40) / 8 + 1 = 55; validation 31 days = 248 frames: 27; test 90 days = 720 frames: 86.
    let train = try scheme.windowStarts(scheme.train, frames: frames)
    let validation = try scheme.windowStarts(scheme.validation, frames: frames)
    let test = try scheme.windowStarts(scheme.test, frames: frames)
    #expect(train.count == 55 && validation.count == 27 && test.count == 86)
    #expect(train.first == 0 && train.last! + 40 <= 472 && validation.first == 472 && validation.last! + 40 <= 720)
    #expect(test.first == 334 * 8 && test.last! + 40 <= 424 * 8)
    // A one-year field has no second winter: the error says how long to simulate.
    #expect { try scheme.windowStarts(scheme.test, frames: 365 * 8) } throws: { "\($0)".contains("test split") }
}

@Test func pod_far_and_csi_of_a_hand_made_table() {
    // threshold 80: forecasts vs observations, one pair per case.
    let forecast: [Float] = [90, 85, 100, 20, 30, 81, 79, 10, 95, 80]
    let observed: [Float] = [85, 120, 70, 90, 10, 82, 90, 15, 60, 80]
    // hits: (90,85) (85,120) (81,82) (80,80) = 4; misses: (20,90) (79,90) = 2;
    // false alarms: (100,70) (95,60) = 2; correct negatives: (30,10) (10,15) = 2.
    let table = ContingencyTable(forecast: forecast, observed: observed, threshold: 80)
    #expect(table == ContingencyTable(hits: 4, misses: 2, falseAlarms: 2, correctNegatives: 2))
    #expect(table.pod == 4.0 / 6 && table.far == 2.0 / 6 && table.csi == 4.0 / 8)
    #expect(ContingencyTable(hits: 0, misses: 0, falseAlarms: 3, correctNegatives: 5).pod.isNaN)
    #expect(meanSquaredError([1, 2, 3], [1, 4, 0]) == (0 + 4 + 9) / 3.0)
}

@Test func persistence_forecasts_the_last_observed_frame_at_every_lead() throws {
    var settings = AirSimulationSettings(gridSize: 6, years: 1.2, stationCount: 4, seed: 2)
    settings.spinUpDays = 1
    let field = AirSimulator(settings).run()
    var scheme = ForecastProtocol()
    scheme.test = AirSplit(name: "test", days: 400..<420)
    let data = try AirData(field: field, scheme: scheme)
    let forecasts = AirForecaster(kind: .persistence, seed: 1).stationForecasts(data: data, windows: Array(data.test.prefix(2)))
    for w in 0..<2 {
        for (s, station) in field.stations.enumerated() {
            let last = field.value(lat: station.lat, lon: station.lon, time: data.test[w] + 15, .pm)
            for lead in 1...24 {
                let k = (w * 4 + s) * 24 + lead - 1
                #expect(abs(forecasts.forecast[k] - last) <= 1e-4 * max(1, last))
                #expect(forecasts.observed[k] == field.value(lat: station.lat, lon: station.lon, time: data.test[w] + 15 + lead, .pm))
            }
        }
    }
}

@Test func training_lowers_the_loss_of_every_trained_model() throws {
    var settings = AirSimulationSettings(gridSize: 8, years: 1.2, stationCount: 4, seed: 3)
    settings.spinUpDays = 1
    let data = try AirData(field: AirSimulator(settings).run(), scheme: {
        var s = ForecastProtocol(); s.test = AirSplit(name: "test", days: 400..<420); return s }())
    let windows = Array(data.train.prefix(8))
    for kind in AirModelKind.allCases where kind.isTrained {
        var trainer = AirTrainer(kind: kind, settings: AirTrainingSettings(epochs: 3, learningRate: 0.01, batchWindows: 2, hidden: 8, seed: 1))
        let before = trainer.loss(data: data, windows: windows)
        for _ in 0..<3 { trainer.trainEpoch(data: data, windows: windows) }
        let after = trainer.loss(data: data, windows: windows)
        #expect(after < before, "\(kind): \(before) → \(after)")
    }
}
