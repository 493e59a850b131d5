// The experiment frame: Markdown tables and the batch trainer's reuse and
// resumption of runs.

import ActivationStore
import ArrayIO
import Experiments
import Foundation
import Testing
import Training

@Suite struct FrameTests {
    @Test func markdownTableLayout() {
        var table = MarkdownTable(header: ["layer", "I(X;T)"], rightAligned: [false, true])
        table.append(["1", fixed(2.345, 2)])
        table.append(["a|b", fixed(.nan, 2)])
        #expect(table.text == "| layer | I(X;T) |\n| --- | ---: |\n| 1 | 2.35 |\n| a\\|b | - |\n")
    }

    static func settings(seed: UInt64, epochs: Int) -> RunSettings {
        RunSettings(task: "tishby", dataSource: "generated", widths: [12, 4, 2], activation: "tanh",
                    initializer: "truncatedNormal", optimizer: ["name": "adam", "learning_rate": "0.001"],
                    batchSize: 256, epochs: epochs, seed: seed, trainingFraction: 0.8, splitMethod: "random",
                    schedule: "every", activations: "post", dtype: "float32", checkpointInterval: 2)
    }

    /// Two runs trained together equal the same runs trained one at a time,
    /// byte for byte; a second call reuses them; other settings are refused.
    @Test func batchTrainingMatchesSingleRunsAndReuses() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("frame-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let plans = (0..<3).map { PlannedRun(path: root + "/batch-\($0)", settings: Self.settings(seed: UInt64($0 + 1), epochs: 3)) }
        try trainRuns(plans, workers: 2, progress: .silent)
        for (i, plan) in plans.enumerated() {
            var single = try RecordedRun.start(settings: plan.settings, at: root + "/single-\(i)")
            try single.run()
            for name in ["metrics.csv", "weights.npz", "activations/epoch-3-layer-1.npy"] {
                #expect(try AtomicFile.read(plan.path + "/" + name) == AtomicFile.read(root + "/single-\(i)/" + name))
            }
        }
        let manifest = try AtomicFile.read(plans[0].path + "/manifest.json")
        try trainRuns(plans, workers: 2, progress: .silent)
        #expect(try AtomicFile.read(plans[0].path + "/manifest.json") == manifest)
        let other = [PlannedRun(path: plans[0].path, settings: Self.settings(seed: 1, epochs: 4))]
        #expect(throws: RunError.self) { try trainRuns(other, workers: 1, progress: .silent) }
    }
}
