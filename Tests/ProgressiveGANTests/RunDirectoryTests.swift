// The progressive run directory: what it holds, and a run stopped and
// resumed from its checkpoint equal, byte for byte, to one run straight.

import ActivationStore
import ArrayIO
import Foundation
@testable import ProgressiveGAN
import Testing

/// Three stages up to 16x16 on 24 squares, 48 images a phase, batch 8:
/// 5 phases, 30 steps, a checkpoint every 7 steps and at every stage end;
/// the critic recorded on 8 reals and 8 fakes every 3 steps (half a phase).
func tinyRunSettings() -> ProgressiveRunSettings {
    ProgressiveRunSettings(images: "squares", architecture: tinyArchitecture, imagesPerPhase: 48, batchSize: 8, seed: 5,
                           checkpointInterval: 7, gridCount: 6, probeCount: 8)
}

/// The critic's recorded epochs (images shown) of the tiny run, by stage
/// directory: every 3 steps (24 images) and at every phase end; a stage
/// starts where the previous one ends (images 48 and 144), the 8x8 fade-in
/// ends at 96 and the 16x16 one at 192.
let tinyCriticEpochs = ["critic-4x4": [0, 24, 48], "critic-8x8": [48, 72, 96, 120, 144],
                        "critic-16x16": [144, 168, 192, 216, 240]]

/// Every file under `directory`, by relative path, with its bytes.
func contents(_ directory: String) throws -> [String: [UInt8]] {
    var result = [String: [UInt8]]()
    let enumerator = FileManager.default.enumerator(atPath: directory)!
    while let name = enumerator.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
            result[name] = try AtomicFile.read(directory + "/" + name)
        }
    }
    return result
}

@Test func a_progressive_run_writes_its_manifest_metrics_checkpoint_and_grids() throws {
    let dir = try temporaryDirectory() + "/run"
    let images = squares(count: 24, resolution: 16, seed: 3)
    var run = try ProgressiveRun.start(settings: tinyRunSettings(), at: dir, images: images)
    try run.run()
    let files = try contents(dir)
    #expect(Set(files.keys) == Set(["manifest.json", "metrics.csv", "checkpoint.npz", "generator-ema.npz", "generator.npz",
                                "discriminator.npz", "grids/reals.png", "grids/samples-4x4.png", "grids/samples-8x8.png",
                                "grids/samples-16x16.png", "generator-ema-4x4.npz", "generator-ema-8x8.npz",
                                "generator-ema-16x16.npz", "grids/growth.png", "grids/interpolation.png"])
                               .union(criticFiles(layers: ["critic-4x4": 3, "critic-8x8": 4, "critic-16x16": 5])))
    // The last stage's average is the run's final one.
    #expect(files["generator-ema-16x16.npz"] == files["generator-ema.npz"])
    let manifest = try ProgressiveRunManifest.read(directory: dir)
    #expect(manifest.complete && manifest.stepsCompleted == 30 && manifest.checkpointStep == 30)
    #expect(manifest.settings == tinyRunSettings())
    let lines = String(decoding: files["metrics.csv"]!, as: UTF8.self).split(separator: "\n")
    #expect(lines.count == 31 && lines[0] == Substring(GANStepRecord.csvHeader))
    // Step 7 fades in 8x8 (images 48..<96): α = (48 - 48)/48 = 0 at its first step.
    #expect(lines[7].hasPrefix("7,1,8,0.0,1,56,"))
    #expect(lines[30].hasPrefix("30,2,16,1.0,0,240,"))
    #expect(throws: FileError.self) { _ = try ProgressiveRun.start(settings: tinyRunSettings(), at: dir, images: images) }
}

/// The files of the critic's directories with `layers` layers each, at the tiny run's epochs.
func criticFiles(layers: [String: Int]) -> Set<String> {
    var names = Set<String>()
    for (directory, count) in layers {
        names.formUnion(["manifest.json", "inputs.npy", "labels.npy", "train_mask.npy", "metrics.csv"].map { directory + "/" + $0 })
        for e in tinyCriticEpochs[directory]! {
            for l in 1...count { names.insert(directory + "/activations/epoch-\(e)-layer-\(l).npy") }
        }
    }
    return names
}

/// Stopping after 3 steps (before the first checkpoint; the critic recorded
/// at 0 and 24 images), 10 (in the 8x8 fade-in, checkpoint at 7), 17
/// (between two checkpoints, the 8x8 critic recorded at 120 images after the
/// checkpoint at 112) and 18 (just after the checkpoint at the end of the
/// 8x8 stage, with the 16x16 directory just started).
@Test(arguments: [3, 10, 17, 18])
func a_resumed_run_equals_a_straight_run_byte_for_byte(stopAfter: Int) throws {
    let root = try temporaryDirectory()
    let images = squares(count: 24, resolution: 16, seed: 3)
    var straight = try ProgressiveRun.start(settings: tinyRunSettings(), at: root + "/straight", images: images)
    try straight.run()

    var stopped = try ProgressiveRun.start(settings: tinyRunSettings(), at: root + "/resumed", images: images)
    try stopped.run(stopAfterSteps: stopAfter)
    let partial = try ProgressiveRunManifest.read(directory: root + "/resumed")
    // Checkpoints at steps 6 (4x4 ends), 7, 14, 18 (8x8 ends), 21, 28 and 30.
    let committed = [3: 0, 10: 7, 17: 14, 18: 18][stopAfter]!
    #expect(!partial.complete && partial.stepsCompleted == committed)
    if stopAfter == 17 {
        // The kill came after the 8x8 critic's recording at 120 images, past the checkpoint (112 images).
        #expect(try RunDirectory(root + "/resumed/critic-8x8").readManifest().recordedEpochs == [48, 72, 96, 120])
    }
    var resumed = try ProgressiveRun.resume(at: root + "/resumed", images: images)
    #expect(resumed.trainer.steps == partial.stepsCompleted && resumed.records.count == partial.stepsCompleted)
    try resumed.run()

    let a = try contents(root + "/straight"), b = try contents(root + "/resumed")
    #expect(a.keys.sorted() == b.keys.sorted())
    for (name, bytes) in a { #expect(b[name] == bytes, "\(name) differs") }
}

@Test func slerp_follows_the_great_circle() {
    let a: [Float] = [1, 0, 0], b: [Float] = [0, 1, 0]
    #expect(ProgressiveRun.slerp(a, b, 0) == a)
    let end = ProgressiveRun.slerp(a, b, 1)
    #expect(abs(end[0]) < 1e-6 && abs(end[1] - 1) < 1e-6)
    // Halfway between orthogonal unit vectors: (a + b) / sqrt 2, still of unit length.
    let mid = ProgressiveRun.slerp(a, b, 0.5)
    #expect(abs(mid[0] - Float(0.5).squareRoot()) < 1e-6 && abs(mid[1] - Float(0.5).squareRoot()) < 1e-6 && mid[2] == 0)
    // b of another length is scaled to a's: every point keeps a's norm.
    for t in stride(from: Float(0), through: 1, by: 0.125) {
        let p = ProgressiveRun.slerp([3, 0, 0], [0, 0, 10], t)
        #expect(abs((p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).squareRoot() - 3) < 1e-5)
    }
}
