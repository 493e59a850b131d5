// The karras2018 suite at the quick scale, end to end: the runs really train,
// every figure and summary is written, and the metrics show the schedule the
// experiment states (stage boundaries, fade-in or hard switch).

import ArrayIO
import Datasets
@testable import Experiments
import Foundation
import ProgressiveGAN
import Testing

@Suite(.serialized) struct Karras2018Tests {
    static var hasData: Bool {
        AtomicFile.exists(FashionMNIST.defaultDirectory + "/train-labels-idx1-ubyte.gz")
            || AtomicFile.exists(FashionMNIST.defaultDirectory + "/train-labels-idx1-ubyte")
    }

    static func context(_ root: String, _ name: String) -> ExperimentContext {
        ExperimentContext(runs: root + "/runs/karras2018/" + name, figures: root + "/figures", scale: .quick, workers: 2)
    }

    @Test func snapshotStepsCoverTheRunAndEndAtItsLastStep() {
        let plan = Karras2018Plan.plan(.quick)
        let s = Karras2018.settings(plan, data: "/data", seed: 1)
        // 7 phases of 64 images in batches of 16: 28 steps, a snapshot every 2.
        #expect(plan.snapshotSteps(s) == Array(stride(from: 0, through: 28, by: 2)))
    }

    @Test func epochsAreImagesPerPhaseInBatches() throws {
        var c = Self.context(NSTemporaryDirectory(), "progressive")
        c.epochs = 96
        #expect(try Karras2018Plan.plan(c).imagesPerPhase == 96)
        c.epochs = 100
        #expect(throws: ExperimentError.self) { try Karras2018Plan.plan(c) }
    }

    @Test func anInterruptedRunResumesToTheSameBytes() throws {
        guard Self.hasData else { return }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("karras-resume-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let plan = Karras2018Plan.plan(.quick)
        let settings = Karras2018.settings(plan, data: FashionMNIST.defaultDirectory, seed: 1)
        let images = try TrainingImages.fashionMNIST(count: 2000)
        let reals = try TrainingImages.fashionMNIST(test: true, count: plan.swdImages).batch(Array(0..<plan.swdImages))
        let context = Self.context(root, "resume")
        let whole = try Karras2018.train(name: "a", path: root + "/a", settings: settings, plan: plan, images: images, reals: reals,
                                         context: context, message: "")
        // Killed after the snapshot of step 14 (the last checkpoint: step 12), then resumed.
        #expect(throws: ExperimentError.self) {
            try Karras2018.train(name: "b", path: root + "/b", settings: settings, plan: plan, images: images, reals: reals,
                                 context: context, message: "", stopAfterSnapshotStep: 14)
        }
        #expect(try ProgressiveRunManifest.read(directory: root + "/b").checkpointStep == 12)
        let resumed = try Karras2018.train(name: "b", path: root + "/b", settings: settings, plan: plan, images: images, reals: reals,
                                           context: context, message: "")
        #expect(resumed.swd.map(\.levels) == whole.swd.map(\.levels) && resumed.pixelStd == whole.pixelStd)
        let files = try FileManager.default.subpathsOfDirectory(atPath: root + "/a").filter { !$0.hasSuffix("timing.csv") }.sorted()
        #expect(try FileManager.default.subpathsOfDirectory(atPath: root + "/b").filter { !$0.hasSuffix("timing.csv") }.sorted() == files)
        for file in files {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/a/" + file, isDirectory: &isDirectory)
            if isDirectory.boolValue { continue }
            #expect(FileManager.default.contentsEqual(atPath: root + "/a/" + file, andPath: root + "/b/" + file), "\(file) differs")
        }
    }

    @Test func badDataDirectoryIsAClearError() {
        var c = Self.context(NSTemporaryDirectory(), "progressive")
        c.data = "/nonexistent/fashion"
        #expect(throws: ExperimentError.self) { try Karras2018.progressive(c) }
    }

    @Test func everyExperimentAtQuickScale() throws {
        guard Self.hasData else { return }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("karras-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let report = try Karras2018.progressive(Self.context(root, "progressive"))
        let names = Set(report.outputs.map { ($0 as NSString).lastPathComponent })
        for name in ["karras2018-progressive-losses.png", "karras2018-progressive-swd.png", "karras2018-progressive-growth.png",
                     "karras2018-progressive-samples-32x32.png", "karras2018-progressive-interpolation.png"] {
            #expect(names.contains(name), "missing \(name)")
            #expect(AtomicFile.exists(root + "/figures/" + name))
        }
        #expect(AtomicFile.exists(root + "/figures/karras2018-progressive.md"))
        #expect(report.markdown.contains("Class coverage"))

        // The run: the stages change where the schedule says, α rises linearly in images shown, SWD at every snapshot.
        let path = root + "/runs/karras2018/progressive/progressive"
        let rows = try Karras2018.readMetrics(path + "/metrics.csv")
        #expect(rows.count == 28)
        for (k, start) in [64, 192, 320].enumerated() {
            let first = rows.first { $0.stage == k + 1 }!
            #expect(first.imagesShown - 16 == start && first.fadingIn && first.alpha == 0)
            let fade = rows.filter { $0.stage == k + 1 && $0.fadingIn }
            #expect(fade.map(\.alpha) == [0, 0.25, 0.5, 0.75])
        }
        let swd = try String(contentsOfFile: path + "/swd-32.csv", encoding: .utf8).split(separator: "\n")
        #expect(swd.first == "step,swd_32,swd_16,pixel_std" && swd.count == 1 + 15)

        // Reused, not retrained: a second invocation leaves the run's bytes alone and gives the same summary table.
        let before = try Data(contentsOf: URL(fileURLWithPath: path + "/checkpoint.npz"))
        let again = try Karras2018.progressive(Self.context(root, "progressive"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/checkpoint.npz")) == before)
        #expect(again.markdown.components(separatedBy: "| images shown")[1].components(separatedBy: "\n\n")[0]
                == report.markdown.components(separatedBy: "| images shown")[1].components(separatedBy: "\n\n")[0])

        // fade-in: reuses the progressive run, trains the hard switch.
        let fade = try Karras2018.fadeIn(Self.context(root, "fade-in"))
        for name in ["karras2018-fade-in.png", "karras2018-fade-in-swd.png"] {
            #expect(fade.outputs.contains { $0.hasSuffix("/" + name) }, "missing \(name)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/checkpoint.npz")) == before)
        let hardPath = root + "/runs/karras2018/fade-in/hard-switch"
        let hard = try Karras2018.readMetrics(hardPath + "/metrics.csv")
        #expect(hard.count == 28 && hard.allSatisfy { !$0.fadingIn && $0.alpha == 1 })
        // The new block at full weight from the image where the fade-in run's α reaches 1.
        for (k, full) in [128, 256, 384].enumerated() {
            #expect(hard.first { $0.stage == k + 1 }!.imagesShown - 16 == full)
        }
        // A grid at the end of every stage, the switch included.
        for r in [4, 8, 16, 32] { #expect(AtomicFile.exists(hardPath + "/grids/samples-\(r)x\(r).png")) }
        #expect(fade.markdown.contains("hard switch"))

        // speed: the 32x32 run's images cost what the progressive run's do (the proxy), and it never grows.
        let speed = try Karras2018.speed(Self.context(root, "speed"))
        #expect(speed.outputs.contains { $0.hasSuffix("/karras2018-speed.png") })
        let flatPath = root + "/runs/karras2018/speed/fixed-32x32"
        let flat = try Karras2018.readMetrics(flatPath + "/metrics.csv")
        #expect(!flat.isEmpty && flat.allSatisfy { $0.stage == 3 && $0.resolution == 32 && !$0.fadingIn })
        let progressiveSettings = Karras2018.settings(Karras2018Plan.plan(.quick), data: FashionMNIST.defaultDirectory, seed: 1)
        let perImage = GANCost.forwardMultiplyAdds(progressiveSettings.architecture, level: .stable(3))
        let cost = GANCost.total(progressiveSettings)
        #expect(abs(Double(flat.last!.imagesShown) * perImage - cost) <= 16 * perImage)
        #expect(Double(flat.last!.imagesShown) < Double(rows.last!.imagesShown))
        let timing = try String(contentsOfFile: flatPath + "/timing.csv", encoding: .utf8).split(separator: "\n")
        #expect(timing.first == "step,seconds" && timing.count >= 2)

        // ablations: five runs with the switches of their rows; the baseline at 32x32 throughout.
        let ablations = try Karras2018.ablations(Self.context(root, "ablations"))
        #expect(ablations.outputs.contains { $0.hasSuffix("/karras2018-ablations.png") })
        for (row, expected) in zip(Karras2018.ablationRows, [(false, false, false), (false, false, false), (true, false, false),
                                                             (true, true, false), (true, true, true)]) {
            let m = try ProgressiveRunManifest.read(directory: root + "/runs/karras2018/ablations/" + row.name)
            #expect(m.complete)
            let a = m.settings.architecture
            #expect((a.usesMinibatchStandardDeviation, a.usesEqualizedLearningRate, a.usesPixelNormalization) == expected)
            #expect((m.settings.schedule.initialStage == 0) == row.progressive)
            #expect(m.settings.schedule.totalImages == 448)
        }
        #expect(ablations.markdown.contains("per-pixel std"))
        // The per-pixel std of the baseline's last snapshot, from its cache, is that of real-looking variation: positive and finite.
        let baselineSWD = try String(contentsOfFile: root + "/runs/karras2018/ablations/a-baseline/swd-32.csv", encoding: .utf8)
        let lastStd = Double(baselineSWD.split(separator: "\n").last!.split(separator: ",").last!)!
        #expect(lastStd > 0 && lastStd.isFinite)

        // information: estimates of every stage's critic recordings beside them, and the figures.
        let information = try Karras2018.information(Self.context(root, "information"))
        for name in ["karras2018-information-plane.png", "karras2018-information.png"] {
            #expect(information.outputs.contains { $0.hasSuffix("/" + name) }, "missing \(name)")
        }
        for r in [4, 8, 16, 32] {
            let table = try String(contentsOfFile: path + "/critic-\(r)x\(r)/mi-binning.csv", encoding: .utf8)
            #expect(table.hasPrefix("epoch,layer,I_XT,I_TY"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/checkpoint.npz")) == before)
    }
}
