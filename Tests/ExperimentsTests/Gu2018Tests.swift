// The gu2018 suite at the quick scale, end to end: the shared runs train once
// and are reused, every summary, figure and text file is written, the text
// files score to the BLEU the table prints, and the information plane is
// not the saturated binning one.

import ActivationStore
import ArrayIO
@testable import Experiments
import Foundation
import Testing
import Translation

@Suite(.serialized, .enabled(if: ApertiumCorpus.executable() != nil, "apertium is not on PATH: install Debian's apertium and apertium-eng-spa"))
struct Gu2018Tests {
    static func context(_ root: String, _ name: String) -> ExperimentContext {
        ExperimentContext(runs: root + "/runs/gu2018/" + name, figures: root + "/figures", scale: .quick, workers: 2)
    }

    static func lines(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .map { $0.split(separator: " ").map(String.init) }
    }

    @Test func everyExperimentAtQuickScale() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gu2018-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let table1 = try Gu2018Experiment.table1(Self.context(root, "table1"))
        let shared = root + "/runs/gu2018/shared/synthetic-seed1-600"
        let teacherWeights = try Data(contentsOf: URL(fileURLWithPath: shared + "/teacher/weights.npz"))
        // The table's BLEU is the BLEU of the files written beside it.
        for decoder in Gu2018Decoder.table1 {
            let prefix = root + "/figures/gu2018-table1-synthetic-\(decoder.file)"
            let hypotheses = try Self.lines(prefix + ".hypothesis.txt"), references = try Self.lines(prefix + ".reference.txt")
            #expect(hypotheses.count == 40 && references.count == 40)
            let score = corpusBLEU(hypotheses: hypotheses, references: references).score
            #expect(table1.markdown.contains("| \(decoder.name) | \(fixed(score, 2)) |"), "\(decoder.name): BLEU \(score)")
        }
        for name in ["ablations", "latency", "multimodality", "information"] {
            let experiment = Experiments.gu2018.first { $0.name == name }!
            let report = try experiment.run(Self.context(root, name))
            #expect(AtomicFile.exists(report.summaryPath))
            for output in report.outputs { #expect(AtomicFile.exists(output), "\(output)") }
        }
        // The teacher trained once, for table1, and was reused since.
        #expect(try Data(contentsOf: URL(fileURLWithPath: shared + "/teacher/weights.npz")) == teacherWeights)
        for variant in Gu2018Variant.allCases { #expect(AtomicFile.exists(shared + "/\(variant.rawValue)/manifest.json")) }
        // Binning saturates at log2(samples) at every epoch; the KDE plane does not.
        let information = try String(contentsOfFile: root + "/figures/gu2018-information.md", encoding: .utf8)
        let kde = try InformationTable.read(path: shared + "/teacher/mi-kde-4-decoder.csv")
        let binned = try InformationTable.read(path: shared + "/teacher/mi-binning-30-decoder.csv")
        let (ixt, ity) = (kde.columns.firstIndex(of: "I_XT")!, kde.columns.firstIndex(of: "I_TY")!)
        let saturated = binned.rows.map { $0.values[binned.columns.firstIndex(of: "I_XT")!] }
        #expect(!saturated.isEmpty && !kde.rows.isEmpty)
        #expect(kde.rows.allSatisfy { $0.values[ixt] < saturated[0] - 0.01 && $0.values[ity] <= $0.values[ixt] + 1e-9 })
        #expect(information.contains("KDE upper bound"))
    }
}
