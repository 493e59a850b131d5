// saxe2018 fashion-mnist and mixup corrupted-labels at quick scale: every
// file written, and the summaries' numbers recomputed from the runs' files.

import ActivationStore
import ArrayIO
import Datasets
import Experiments
import Foundation
import Testing
import Training

private let haveFashionMNIST = AtomicFile.exists(FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz")
    || AtomicFile.exists(FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte")

private func quickContext(_ root: String, suite: String, name: String) -> ExperimentContext {
    ExperimentContext(runs: root + "/runs/" + suite + "/" + name, figures: root + "/figures", scale: .quick, workers: 2)
}

@Suite(.enabled(if: haveFashionMNIST, "needs the dataset-fashion-mnist package"))
struct FashionMNISTExperimentsTests {
    @Test func saxeFashionMNISTRecordsOnlyTheTestSamplesAndWritesEveryFile() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("saxe-fm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let experiment = try #require(Experiments.find(suite: "saxe2018", name: "fashion-mnist"))
        let context = quickContext(root, suite: "saxe2018", name: "fashion-mnist")
        let report = try experiment.run(context)
        for file in ["saxe2018-fashion-mnist.png", "saxe2018-fashion-mnist-mi-tanh.png", "saxe2018-fashion-mnist-mi-relu.png",
                     "saxe2018-fashion-mnist-accuracy.png", "saxe2018-fashion-mnist.md"] {
            #expect(AtomicFile.exists(root + "/figures/" + file), "\(file) missing")
        }
        #expect(report.outputs.count == 4)
        for activation in ["tanh", "relu"] {
            let path = context.runs + "/" + activation
            let reader = try RunReader(path: path)
            #expect(reader.manifest.settings.recordedSamples == "test")
            #expect(reader.manifest.sampleCount == 128 && reader.manifest.testCount == 128 && reader.manifest.trainCount == 0)
            #expect(try reader.trainMask().allSatisfy { !$0 })
            #expect(try reader.inputs().rows == 128)
            #expect(try reader.activations(epoch: 4, layer: 1).rows == 128)
            // The MI table: every recorded epoch and layer, on the 128 test samples.
            let text = try AtomicFile.readText(path + "/mi-kde.csv")
            let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(lines.count - 1 == reader.manifest.recordedEpochs.count * 5)
            #expect(try AtomicFile.readText(path + "/mi-kde.json").contains("\"sample_count\" : \"128\"")
                    || AtomicFile.readText(path + "/mi-kde.json").contains("\"sample_count\": \"128\""))
        }
    }

    @Test func mixupWritesEveryFileAndItsTableMatchesTheRuns() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mixup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let experiment = try #require(Experiments.find(suite: "mixup", name: "corrupted-labels"))
        let context = quickContext(root, suite: "mixup", name: "corrupted-labels")
        let report = try experiment.run(context)
        for file in ["mixup-memorization.png", "mixup-test-accuracy.png", "mixup-information.png",
                     "mixup-information-plane-40.png", "mixup-information-plane-80.png", "mixup-corrupted-labels.md"] {
            #expect(AtomicFile.exists(root + "/figures/" + file), "\(file) missing")
        }
        for noise in [0, 40, 80] {
            for method in ["erm", "mixup-1", "mixup-8", "mixup-32"] {
                let path = context.runs + "/noise-\(noise)-\(method)"
                let reader = try RunReader(path: path)
                #expect(reader.manifest.complete)
                #expect(reader.manifest.sampleCount == 200 && reader.manifest.trainCount == 200)
                let mask = try reader.corruptedMask(), labels = try reader.labels(), truth = try reader.trueLabels()
                #expect(mask.filter { $0 }.count == Int((Double(noise) / 100 * 200).rounded()))
                #expect(mask.indices.allSatisfy { (labels[$0] != truth[$0]) == mask[$0] })
                let rows = try reader.labelNoise()
                #expect(rows.map(\.epoch) == Array(0...3))
                #expect(rows.allSatisfy { $0.corrupted == mask.filter { $0 }.count })
                let metrics = try reader.metrics()
                #expect(zip(rows, metrics).allSatisfy { $0.testAccuracy == $1.testAccuracy })
                // The summary row of this run shows the last row's memorized fraction.
                if noise > 0 {
                    let name = method == "erm" ? "ERM" : "mixup α=" + method.dropFirst(6)
                    let line = report.markdown.split(separator: "\n").first { $0.hasPrefix("| \(noise) % | \(name) |") }
                    let cells = try #require(line).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                    #expect(cells[5] == fixed(rows.last!.memorized, 3))
                    #expect(cells[4] == fixed(metrics.last!.testAccuracy, 3))
                    #expect(cells[2] == fixed(metrics.map(\.testAccuracy).max()!, 3))
                }
                // Without corruption the two label sets are one: the two estimates agree exactly.
                let noisy = try AtomicFile.readText(path + "/mi-noisy-labels.csv")
                let clean = try AtomicFile.readText(path + "/mi-true-labels.csv")
                func body(_ text: String) -> [Substring] { text.split(separator: "\n").filter { !$0.hasPrefix("#") } }
                #expect(body(noisy).count - 1 == reader.manifest.recordedEpochs.count * 3)
                if noise == 0 { #expect(body(noisy) == body(clean)) } else { #expect(body(noisy) != body(clean)) }
            }
        }
    }
}
