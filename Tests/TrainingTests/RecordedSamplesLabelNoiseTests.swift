// Runs that record a subset of the samples, and runs with corrupted labels.

import ActivationStore
import ArrayIO
import Datasets
import Foundation
import NeuralNets
import Tensors
import Testing
import Training

private func settings(recorded: String? = nil, noise: Double? = nil, mixup: Double? = nil, epochs: Int = 8) -> RunSettings {
    var s = smallSettings(epochs: epochs, schedule: "every:2", checkpoint: 3)
    s.recordedSamples = recorded
    s.labelNoise = noise
    s.mixupAlpha = mixup
    return s
}

@Test("recording only the test or training samples keeps inputs, labels, mask and activations aligned",
      arguments: ["test", "train"])
func recorded_subset_is_consistent(which: String) throws {
    let root = try temporaryDirectory()
    var all = try RecordedRun.start(settings: settings(epochs: 4), at: root + "/all")
    try all.run()
    var part = try RecordedRun.start(settings: settings(recorded: which, epochs: 4), at: root + "/part")
    try part.run()
    let a = try RunReader(path: root + "/all"), p = try RunReader(path: root + "/part")
    let mask = try a.trainMask()
    let rows = mask.indices.filter { mask[$0] == (which == "train") }
    #expect(p.manifest.sampleCount == rows.count)
    #expect(p.manifest.trainCount == (which == "train" ? rows.count : 0))
    #expect(p.manifest.testCount == (which == "test" ? rows.count : 0))
    #expect(try p.trainMask() == [Bool](repeating: which == "train", count: rows.count))
    let labels = try a.labels()
    #expect(try p.labels() == rows.map { labels[$0] })
    let xa = try a.inputs(), xp = try p.inputs()
    #expect(xp.rows == rows.count && xp.columns == xa.columns)
    #expect(xp.values == rows.flatMap { r in Array(xa.values[(r * xa.columns)..<((r + 1) * xa.columns)]) }, "inputs differ")
    // Same training (the recording does not touch it): the same metrics, and
    // each recorded activation row is the full run's row of that sample.
    #expect(try p.metrics() == a.metrics())
    for layer in 1...6 {
        let full = try a.activations(epoch: 4, layer: layer), sub = try p.activations(epoch: 4, layer: layer)
        #expect(sub.rows == rows.count)
        // The same rows up to the rounding of a matrix product over fewer rows.
        let expected = rows.flatMap { r in Array(full.values[(r * full.columns)..<((r + 1) * full.columns)]) }
        #expect(sub.values.count == expected.count)
        let worst = zip(sub.values, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-5, "largest difference \(worst)")
    }
}

@Test func an_unknown_recorded_samples_value_is_refused() throws {
    let root = try temporaryDirectory()
    #expect(throws: RunError.self) { try RecordedRun.start(settings: settings(recorded: "some"), at: root + "/r") }
    #expect(throws: RunError.self) { try RecordedRun.start(settings: settings(noise: 1.5), at: root + "/r") }
}

@Test func manifests_without_the_new_settings_decode_and_encode_the_same() throws {
    let root = try temporaryDirectory()
    var run = try RecordedRun.start(settings: settings(epochs: 2), at: root + "/r")
    try run.run()
    let bytes = try AtomicFile.read(RunDirectory(root + "/r").manifest)
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(!text.contains("recorded_samples") && !text.contains("label_noise"))
    let manifest = try RunManifest.decode(bytes, path: "manifest.json")
    #expect(manifest.settings.recordedSamples == nil && manifest.settings.labelNoise == nil)
    #expect(try manifest.encoded() == bytes)
}

@Test("corruption: exact count, every corrupted label differs, test labels untouched, same seed same labels",
      arguments: [0.0, 0.4, 0.8, 1.0])
func corruption_is_exact(fraction: Double) throws {
    // Ten classes, so the choice of the wrong class is not forced.
    var rng = RandomGenerator(seed: 3)
    let n = 503
    let labels = (0..<n).map { _ in rng.nextInt(below: 10) }
    let data = Dataset(name: "toy", inputs: Tensor(shape: [n, 1], scalars: (0..<n).map(Float.init)), labels: labels,
                       classCount: 10, split: Split.random(count: n, trainingFraction: 0.7, seed: 5))
    let c = LabelNoise.corrupt(data, fraction: fraction, seed: 11)
    let expected = Int((fraction * Double(data.split.train.count)).rounded())
    #expect(c.corruptedCount == expected)
    #expect(c.trueLabels == labels)
    for i in 0..<n {
        if c.corrupted[i] {
            #expect(c.dataset.labels[i] != labels[i])
            #expect(data.split.train.contains(i))
        } else {
            #expect(c.dataset.labels[i] == labels[i])
        }
    }
    #expect(LabelNoise.corrupt(data, fraction: fraction, seed: 11) == c)
    if fraction > 0 && fraction < 1 {
        #expect(LabelNoise.corrupt(data, fraction: fraction, seed: 12).corrupted != c.corrupted)
    }
    // The wrong classes are spread over all nine alternatives.
    if fraction >= 0.8 {
        let offsets = Set((0..<n).filter { c.corrupted[$0] }.map { (c.dataset.labels[$0] - labels[$0] + 10) % 10 })
        #expect(offsets == Set(1...9))
    }
}

@Test func a_noisy_run_writes_true_labels_mask_and_a_memorization_record_that_matches_its_activations() throws {
    let root = try temporaryDirectory()
    var run = try RecordedRun.start(settings: settings(recorded: "train", noise: 0.4, epochs: 6), at: root + "/r")
    try run.run()
    let reader = try RunReader(path: root + "/r")
    let labels = try reader.labels(), truth = try reader.trueLabels(), mask = try reader.corruptedMask()
    #expect(reader.manifest.sampleCount == 3277 && labels.count == 3277)
    #expect(mask.filter { $0 }.count == Int((0.4 * 3277).rounded()))
    for i in labels.indices { #expect((labels[i] != truth[i]) == mask[i]) }
    let rows = try reader.labelNoise()
    #expect(rows.map(\.epoch) == Array(0...6))
    let metrics = try reader.metrics()
    // Recompute a recorded epoch's row from the softmax activations of the training samples.
    for epoch in [0, 2, 6] {
        let p = try reader.activations(epoch: epoch, layer: 6)
        let predicted = (0..<p.rows).map { r in p.values[(2 * r)] >= p.values[2 * r + 1] ? 0 : 1 }
        let corrupted = mask.indices.filter { mask[$0] }, clean = mask.indices.filter { !mask[$0] }
        let memorized = Double(corrupted.filter { predicted[$0] == labels[$0] }.count) / Double(corrupted.count)
        let recovered = Double(corrupted.filter { predicted[$0] == truth[$0] }.count) / Double(corrupted.count)
        let cleanAccuracy = Double(clean.filter { predicted[$0] == labels[$0] }.count) / Double(clean.count)
        let row = rows[epoch]
        #expect(row.corrupted == corrupted.count)
        // Two classes: a corrupted sample predicted as its noisy label is not predicted as its true one.
        #expect(abs(row.memorized + row.corruptedTrueAccuracy - 1) < 1e-12)
        #expect(abs(row.memorized - memorized) <= 2.0 / Double(corrupted.count))
        #expect(abs(row.corruptedTrueAccuracy - recovered) <= 2.0 / Double(corrupted.count))
        #expect(abs(row.cleanTrainAccuracy - cleanAccuracy) <= 2.0 / Double(clean.count))
        #expect(row.testAccuracy == metrics[epoch].testAccuracy)
    }
}

@Test func measuring_memorization_by_hand() {
    let m = LabelNoiseMetrics.measure(epoch: 3, predictions: [0, 1, 2, 2, 1, 0], labels: [0, 2, 2, 1, 1, 1],
                                      trueLabels: [0, 1, 2, 2, 1, 0], corrupted: [false, true, false, true, false, true],
                                      testAccuracy: 0.5)
    // Corrupted rows 1, 3, 5: predictions 1, 2, 0; noisy labels 2, 1, 1; true labels 1, 2, 0.
    #expect(m.corrupted == 3)
    #expect(m.memorized == 0)
    #expect(m.corruptedTrueAccuracy == 1)
    #expect(m.cleanTrainAccuracy == 1)
    let n = LabelNoiseMetrics.measure(epoch: 0, predictions: [1, 1], labels: [1, 0], trueLabels: [1, 1],
                                      corrupted: [false, true], testAccuracy: .nan)
    #expect(n.memorized == 0 && n.corruptedTrueAccuracy == 1 && n.cleanTrainAccuracy == 1)
    #expect(LabelNoiseMetrics(values: m.values) == m)
}

@Test("resuming a run with recorded subset, label noise and mixup gives byte-identical files", arguments: [1, 4, 7])
func resume_with_new_settings_is_byte_identical(stopAfter: Int) throws {
    let root = try temporaryDirectory()
    let s = settings(recorded: "train", noise: 0.4, mixup: 1, epochs: 8)
    var whole = try RecordedRun.start(settings: s, at: root + "/whole")
    try whole.run()
    var first = try RecordedRun.start(settings: s, at: root + "/cut")
    try first.run(stopAfter: stopAfter)
    var resumed = try RecordedRun.resume(at: root + "/cut")
    try resumed.run()
    var a = try snapshot(root + "/whole"), b = try snapshot(root + "/cut")
    #expect(a.keys.sorted() == b.keys.sorted())
    #expect(a.keys.contains("label-noise.csv") && a.keys.contains("true_labels.npy") && a.keys.contains("corrupted_mask.npy"))
    for key in a.keys { #expect(a[key] == b[key], "\(key) differs after resuming") }
    a.removeAll(); b.removeAll()
}
