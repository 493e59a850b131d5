// Run directories: what is written, crash safety and resumption.

import ActivationStore
import ArrayIO
import Foundation
import Testing
import Training

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "infoplane-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func smallSettings(epochs: Int = 12, schedule: String = "every:2", checkpoint: Int = 4, dtype: String = "float32") -> RunSettings {
    RunSettings(task: "tishby", dataSource: "generated", widths: [12, 10, 7, 5, 4, 3, 2], activation: "tanh",
                initializer: "truncatedNormal", optimizer: ["name": "adam", "learning_rate": "0.001"],
                batchSize: 256, epochs: epochs, seed: 7, trainingFraction: 0.8, splitMethod: "random",
                schedule: schedule, activations: "post", dtype: dtype, checkpointInterval: checkpoint)
}

/// Every file of a directory tree, by relative path, with its bytes.
func snapshot(_ root: String) throws -> [String: [UInt8]] {
    var result = [String: [UInt8]]()
    let enumerator = FileManager.default.enumerator(atPath: root)!
    while let relative = enumerator.nextObject() as? String {
        let full = root + "/" + relative
        if !AtomicFile.isDirectory(full) { result[relative] = try AtomicFile.read(full) }
    }
    return result
}

@Test func a_run_writes_what_its_manifest_promises() throws {
    let dir = try temporaryDirectory() + "/run"
    var run = try RecordedRun.start(settings: smallSettings(), at: dir)
    try run.run()
    let reader = try RunReader(path: dir)
    #expect(reader.manifest.complete)
    #expect(reader.manifest.recordedEpochs == [0, 2, 4, 6, 8, 10, 12])
    #expect(reader.manifest.epochsCompleted == 12)
    #expect(try reader.metrics().map(\.epoch) == Array(0...12))
    let gradients = try reader.gradientStatistics()
    #expect(gradients.count == 6 * 6)  // recorded epochs 2...12, six layers each
    for epoch in reader.manifest.recordedEpochs {
        for layer in 1...6 {
            let a = try reader.activations(epoch: epoch, layer: layer)
            #expect(a.rows == 4096 && a.columns == reader.manifest.layers[layer - 1].width)
        }
    }
    // The softmax layer's rows sum to one.
    let p = try reader.activations(epoch: 12, layer: 6).values
    #expect(abs(p[0] + p[1] - 1) < 1e-6)
    #expect(try reader.labels().count == 4096)
    #expect(try reader.trainMask().filter { $0 }.count == 3277)
    #expect(throws: FileError.self) { try reader.activations(epoch: 3, layer: 1) }
}

@Test func float16_storage_halves_the_files_and_keeps_values() throws {
    let root = try temporaryDirectory()
    var a = try RecordedRun.start(settings: smallSettings(epochs: 2, schedule: "every", dtype: "float32"), at: root + "/a")
    try a.run()
    var b = try RecordedRun.start(settings: smallSettings(epochs: 2, schedule: "every", dtype: "float16"), at: root + "/b")
    try b.run()
    let fa = try AtomicFile.read(RunDirectory(root + "/a").activations(epoch: 2, layer: 1))
    let fb = try AtomicFile.read(RunDirectory(root + "/b").activations(epoch: 2, layer: 1))
    #expect(fb.count - 128 == (fa.count - 128) / 2)
    let va = try RunReader(path: root + "/a").activations(epoch: 2, layer: 1).values
    let vb = try RunReader(path: root + "/b").activations(epoch: 2, layer: 1).values
    // Half precision keeps 11 significant bits: relative error at most 2^-11.
    #expect(zip(va, vb).allSatisfy { abs($0 - $1) <= abs($0) * 0x1p-11 + 1e-7 })
}

@Test("resuming after an interruption gives byte-identical files", arguments: [1, 3, 5, 9])
func resume_is_byte_identical(stopAfter: Int) throws {
    let root = try temporaryDirectory()
    var whole = try RecordedRun.start(settings: smallSettings(), at: root + "/whole")
    try whole.run()

    var first = try RecordedRun.start(settings: smallSettings(), at: root + "/cut")
    try first.run(stopAfter: stopAfter)
    // What a crash leaves: the committed state, plus a stray temporary file.
    try AtomicFile.write([1, 2, 3], to: root + "/cut/activations/epoch-99-layer-1.npy.tmp-1-1")
    let committed = try RunReader(path: root + "/cut").manifest
    #expect(!committed.complete)
    #expect(committed.epochsCompleted <= stopAfter)

    var resumed = try RecordedRun.resume(at: root + "/cut")
    try resumed.run()
    let a = try snapshot(root + "/whole"), b = try snapshot(root + "/cut")
    #expect(a.keys.sorted() == b.keys.sorted())
    for (name, bytes) in a.sorted(by: { $0.key < $1.key }) {
        let other = b[name] ?? []
        let firstDifference = zip(bytes, other).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(other == bytes, "\(name) differs (sizes \(bytes.count) and \(other.count), first difference at byte \(firstDifference ?? -1))")
    }
}

@Test func bad_run_directories_give_clear_errors_and_lose_nothing() throws {
    let root = try temporaryDirectory()
    // No manifest.
    try AtomicFile.createDirectory(root + "/empty")
    #expect { try RecordedRun.resume(at: root + "/empty") } throws: { "\($0)".contains("missing manifest") }
    #expect { try RecordedRun.resume(at: root + "/nowhere") } throws: { "\($0)".contains("no such run directory") }
    // A damaged manifest.
    try AtomicFile.createDirectory(root + "/damaged")
    try AtomicFile.write("{\"format_version\": 1, \"software\": ", to: root + "/damaged/manifest.json")
    #expect { try RecordedRun.resume(at: root + "/damaged") } throws: {
        "\($0)".contains("damaged/manifest.json") && "\($0)".contains("damaged manifest")
    }
    // An existing run is never overwritten by a new one.
    var run = try RecordedRun.start(settings: smallSettings(epochs: 2), at: root + "/run")
    try run.run()
    let before = try snapshot(root + "/run")
    #expect { try RecordedRun.start(settings: smallSettings(epochs: 2), at: root + "/run") } throws: {
        "\($0)".contains("already holds a run")
    }
    // Resuming with other settings names the difference.
    var other = smallSettings(epochs: 2)
    other.seed = 8
    #expect { try RecordedRun.resume(at: root + "/run", requested: other) } throws: { "\($0)".contains("seed") }
    // An unknown schedule.
    #expect { try RecordedRun.start(settings: smallSettings(schedule: "sometimes"), at: root + "/new") } throws: {
        "\($0)".contains("unknown schedule")
    }
    #expect(try snapshot(root + "/run") == before)
}

@Test func resume_with_decay_schedule_and_mixup_is_byte_identical() throws {
    let root = try temporaryDirectory()
    var settings = smallSettings()
    settings.weightDecay = "decoupled:0.0001"
    settings.learningRateSchedule = "sgdr:4:2"
    settings.mixupAlpha = 1
    var whole = try RecordedRun.start(settings: settings, at: root + "/whole")
    try whole.run()
    var first = try RecordedRun.start(settings: settings, at: root + "/cut")
    try first.run(stopAfter: 6)
    var resumed = try RecordedRun.resume(at: root + "/cut")
    try resumed.run()
    #expect(try snapshot(root + "/whole") == snapshot(root + "/cut"))
    // The settings are recorded, and they change training.
    let manifest = try RunReader(path: root + "/whole").manifest
    #expect(manifest.settings.mixupAlpha == 1 && manifest.settings.learningRateSchedule == "sgdr:4:2")
    var plain = try RecordedRun.start(settings: smallSettings(), at: root + "/plain")
    try plain.run()
    #expect(try AtomicFile.read(root + "/plain/weights.npz") != AtomicFile.read(root + "/whole/weights.npz"))
    var bad = smallSettings()
    bad.weightDecay = "l3:0.1"
    #expect { try RecordedRun.start(settings: bad, at: root + "/bad") } throws: { "\($0)".contains("unknown weight decay form") }
}

@Test("how often recorded epochs are committed does not change a byte", arguments: [0.0, Double.infinity])
func commit_interval_changes_no_byte(interval: Double) throws {
    let root = try temporaryDirectory()
    var reference = try RecordedRun.start(settings: smallSettings(), at: root + "/reference")
    try reference.run()
    var run = try RecordedRun.start(settings: smallSettings(), at: root + "/run")
    run.commitInterval = interval
    try run.run()
    #expect(try snapshot(root + "/reference") == snapshot(root + "/run"))
    let manifest = try RunReader(path: root + "/run").manifest
    #expect(manifest.complete && !manifest.recordedEpochs.isEmpty)
}

@Test func uncommitted_recorded_epochs_are_not_in_the_manifest_and_a_resume_redoes_them() throws {
    let root = try temporaryDirectory()
    var whole = try RecordedRun.start(settings: smallSettings(), at: root + "/whole")
    try whole.run()
    var cut = try RecordedRun.start(settings: smallSettings(), at: root + "/cut")
    cut.commitInterval = .infinity
    try cut.run(stopAfter: 11)
    let manifest = try RunReader(path: root + "/cut").manifest
    // Only the checkpoints (every 4 epochs) committed; epoch 10 was recorded
    // after the last one: its files exist, but the manifest does not list it.
    #expect(manifest.epochsCompleted == 8)
    #expect(manifest.recordedEpochs == [0, 2, 4, 6, 8])
    #expect(AtomicFile.exists(RunDirectory(root + "/cut").activations(epoch: 10, layer: 1)))
    var resumed = try RecordedRun.resume(at: root + "/cut")
    try resumed.run()
    #expect(try snapshot(root + "/whole") == snapshot(root + "/cut"))
}

/// A kill while a checkpoint is being committed, at each of the protocol's
/// windows: the new checkpoint written but the manifest not yet (it must be
/// ignored), or the manifest written but the new checkpoint not yet renamed
/// into place (the rename must be completed). Either way the resumed run ends
/// byte-identical to an uninterrupted one.
@Test func a_kill_around_a_checkpoint_commit_resumes_byte_identical() throws {
    let root = try temporaryDirectory()
    let settings = smallSettings(epochs: 16)
    var whole = try RecordedRun.start(settings: settings, at: root + "/whole")
    try whole.run()
    #expect(!AtomicFile.exists(RunDirectory(root + "/whole").nextCheckpoint))

    // A run stopped at the epoch-8 checkpoint, and one at the epoch-12 checkpoint.
    for (name, epoch) in [("at8", 8), ("at12", 12)] {
        var run = try RecordedRun.start(settings: settings, at: root + "/" + name)
        try run.run(stopAfter: epoch)
        #expect(try RunReader(path: root + "/" + name).manifest.checkpointEpoch == epoch)
    }
    let at8 = RunDirectory(root + "/at8"), at12 = RunDirectory(root + "/at12")

    // Window 1: epoch 12's checkpoint written as checkpoint-next.npz, the manifest still at 8.
    try AtomicFile.write(AtomicFile.read(at12.checkpoint), to: at8.nextCheckpoint)
    var first = try RecordedRun.resume(at: at8.path)
    #expect(!AtomicFile.exists(at8.nextCheckpoint))
    try first.run()
    #expect(try snapshot(root + "/whole") == snapshot(at8.path))

    // Window 2: the manifest says 12, checkpoint.npz still holds epoch 8, and epoch 12's
    // checkpoint waits as checkpoint-next.npz.
    var eight = try RecordedRun.start(settings: settings, at: root + "/eight")
    try eight.run(stopAfter: 8)
    try AtomicFile.move(at12.checkpoint, onto: at12.nextCheckpoint)
    try AtomicFile.write(AtomicFile.read(RunDirectory(root + "/eight").checkpoint), to: at12.checkpoint)
    var second = try RecordedRun.resume(at: at12.path)
    #expect(!AtomicFile.exists(at12.nextCheckpoint))
    try second.run()
    #expect(try snapshot(root + "/whole") == snapshot(at12.path))
}

@Test func a_damaged_uncommitted_checkpoint_is_discarded() throws {
    let root = try temporaryDirectory()
    let settings = smallSettings(epochs: 16)
    var whole = try RecordedRun.start(settings: settings, at: root + "/whole")
    try whole.run()
    var cut = try RecordedRun.start(settings: settings, at: root + "/cut")
    try cut.run(stopAfter: 8)
    try AtomicFile.write(Array("not a checkpoint".utf8), to: RunDirectory(root + "/cut").nextCheckpoint)
    var resumed = try RecordedRun.resume(at: root + "/cut")
    try resumed.run()
    #expect(try snapshot(root + "/whole") == snapshot(root + "/cut"))
}
