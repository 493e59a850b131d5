// `train --task air`: a run directory like every other task's, readable by
// RunReader, with the probe set and labels the subject describes; the same
// seed writes the same bytes, and so does a run resumed from its checkpoint.

import ActivationStore
import AirQuality
import ArrayIO
import Testing
import Training

@Test func an_air_run_records_the_reduced_lstm_states_and_repeats_byte_for_byte() throws {
    let dir = try temporaryDirectory()
    var s = AirSimulationSettings(gridSize: 6, years: 1.2, stationCount: 3, seed: 4)
    s.spinUpDays = 1
    let field = AirSimulator(s).run()
    try field.write(to: dir + "/field.npz")
    let settings = AirRunSubject.settings(dataSource: dir + "/field.npz", epochs: 2, learningRate: 0.02, batchWindows: 4, seed: 3,
                                          checkpointInterval: 1, schedule: "every", dtype: "float32")
    for name in ["a", "b"] {
        var run = try AirRunSubject.Run.start(settings: settings, at: dir + "/" + name) { try AirRunSubject.subject($0) }
        try run.run()
    }
    let reader = try RunReader(path: dir + "/a")
    let m = reader.manifest
    #expect(m.complete && m.recordedEpochs == [0, 1, 2])
    #expect(m.layers.map(\.name) == ["cell state", "hidden state"] && m.layers.map(\.width) == [24, 24])
    #expect(m.trainCount == 55 * 3 && m.testCount == 86 * 3)
    let labels = try reader.labels()
    #expect(Set(labels).isSubset(of: [0, 1, 2, 3]) && Set(labels).count > 1)
    let cell = try reader.activations(epoch: 2, layer: 1), hidden = try reader.activations(epoch: 2, layer: 2)
    #expect(cell.values.allSatisfy { $0 >= 0 })   // the ReLU state is a concentration
    // h = c - c̄ with c̄ the row's mean (input column 13), the same for every step of a row.
    let inputs = try reader.inputs()
    for r in [0, 7, m.sampleCount - 1] {
        let mean = inputs.values[r * inputs.columns + 13]
        for k in 0..<24 { #expect(abs(hidden.values[r * 24 + k] - (cell.values[r * 24 + k] - mean)) < 1e-5) }
    }
    // A run stopped after one epoch (as by a kill) and resumed from its checkpoint ends with the same bytes.
    var cut = try AirRunSubject.Run.start(settings: settings, at: dir + "/c") { try AirRunSubject.subject($0) }
    try cut.run(stopAfter: 1)
    var resumed = try AirRunSubject.Run.resume(at: dir + "/c") { try AirRunSubject.subject($0) }
    #expect(resumed.epoch == 1)
    try resumed.run()
    for file in ["manifest.json", "metrics.csv", "inputs.npy", "labels.npy", "activations/epoch-2-layer-1.npy", "weights.npz"] {
        #expect(try AtomicFile.read(dir + "/a/" + file) == AtomicFile.read(dir + "/b/" + file), "\(file)")
        #expect(try AtomicFile.read(dir + "/a/" + file) == AtomicFile.read(dir + "/c/" + file), "resumed: \(file)")
    }
}
