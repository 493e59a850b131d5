// gu2018: Gu et al., "Non-Autoregressive Neural Machine Translation" (ICLR
// 2018), at CPU scale on two corpora made at run time: the synthetic pair
// (exact fertilities, adjective-noun swaps, ambiguous words with two
// translations of different lengths) and English to Spanish by Apertium.
//
//   table1         BLEU, latency at batch 1 and speed-up over AR beam 4 of
//                  AR greedy, AR beam 4, NAT (argmax and average fertilities),
//                  NPD s = 10 and s = 100 (the paper's Table 1)
//   ablations      raw against distilled targets, fertility against uniform
//                  copying, with and without the self-mask (Table 2's rows)
//   latency        latency against source length (Fig. 7)
//   multimodality  mixed-mode and repeated-token rates, raw against distilled
//   information    the information planes of the AR and NAT decoders
//
// The corpora and the trained models are shared by the experiments: they
// live in RUNS/gu2018/shared/<corpus>-seed<S>/ (teacher, nat, nat-raw,
// nat-uniform, nat-no-self-mask: complete `infoplane train --task
// translation` runs, reused). Every decoder's sources, references and
// hypotheses go beside the summary as text files, one sentence a line.

import ActivationStore
import Analysis
import ArrayIO
import Dispatch
import Foundation
import InfoTheory
import Plotting
import RunFigures
import Tensors
import Training
import Translation

extension Experiments {
    /// The gu2018 suite.
    static let gu2018: [Experiment] = [
        Experiment(suite: "gu2018", name: "table1",
                   abstract: "BLEU, latency and speed-up of AR greedy, AR beam 4, NAT, NPD s = 10 and 100 on both corpora (Table 1)",
                   run: Gu2018Experiment.table1),
        Experiment(suite: "gu2018", name: "ablations",
                   abstract: "raw against distilled targets, fertility against uniform copying, with and without the self-mask (Table 2)",
                   run: Gu2018Experiment.ablations),
        Experiment(suite: "gu2018", name: "latency", abstract: "latency at batch 1 against source length for AR and NAT decoders (Fig. 7)",
                   run: Gu2018Experiment.latency),
        Experiment(suite: "gu2018", name: "multimodality",
                   abstract: "mixed-mode and repeated-token rates of the raw and the distilled NAT",
                   run: Gu2018Experiment.multimodality),
        Experiment(suite: "gu2018", name: "information", abstract: "the information planes of the AR and NAT decoders side by side",
                   run: Gu2018Experiment.information),
    ]
}

/// The sizes of the gu2018 experiments at each scale.
struct Gu2018Plan: Sendable, Equatable {
    var train: Int, valid: Int, test: Int
    var teacherEpochs: Int, natEpochs: Int, warmup: Int
    /// Test sentences timed one at a time.
    var latencySentences: Int

    static func plan(_ context: ExperimentContext) -> Gu2018Plan {
        var p: Gu2018Plan
        switch context.scale {
        case .quick: p = Gu2018Plan(train: 600, valid: 40, test: 40, teacherEpochs: 3, natEpochs: 3, warmup: 20, latencySentences: 8)
        case .standard: p = Gu2018Plan(train: 20000, valid: 500, test: 500, teacherEpochs: 12, natEpochs: 20, warmup: 1000, latencySentences: 100)
        case .full: p = Gu2018Plan(train: 20000, valid: 500, test: 500, teacherEpochs: 24, natEpochs: 40, warmup: 1000, latencySentences: 500)
        }
        if let epochs = context.epochs { p.teacherEpochs = epochs; p.natEpochs = epochs }
        return p
    }
}

/// One NAT of the ablations.
enum Gu2018Variant: String, CaseIterable, Sendable {
    case nat, raw = "nat-raw", uniform = "nat-uniform", noSelfMask = "nat-no-self-mask", rawUniform = "nat-raw-uniform"

    var targets: TranslationTargets { self == .raw || self == .rawUniform ? .raw : .distilled }
    var settings: NATSettings {
        NATSettings(copying: self == .uniform || self == .rawUniform ? .uniform : .fertility, selfMask: self != .noSelfMask)
    }

    var label: String {
        switch self {
        case .nat: return "NAT (distilled, fertility copy, self-mask)"
        case .raw: return "raw targets"
        case .uniform: return "uniform copy"
        case .noSelfMask: return "no self-mask"
        case .rawUniform: return "raw targets, uniform copy"
        }
    }

    /// Targets and copying, as the multimodality experiment names them ("raw targets, uniform copy").
    var targetsAndCopying: String {
        (targets == .raw ? "raw targets" : "distilled") + (settings.copying == .uniform ? ", uniform copy" : ", fertility copy")
    }
}

/// The decoders of Table 1.
struct Gu2018Decoder: Sendable, Equatable {
    var name: String, file: String
    var decoder: TranslationDecoder
    var samples: Int

    static let table1: [Gu2018Decoder] = [
        Gu2018Decoder(name: "AR greedy", file: "ar-greedy", decoder: .arGreedy, samples: 1),
        Gu2018Decoder(name: "AR beam 4", file: "ar-beam4", decoder: .arBeam, samples: 1),
        Gu2018Decoder(name: "NAT argmax", file: "nat", decoder: .nat, samples: 1),
        Gu2018Decoder(name: "NAT average", file: "nat-average", decoder: .natAverage, samples: 1),
        Gu2018Decoder(name: "NPD s = 10", file: "npd10", decoder: .npd, samples: 10),
        Gu2018Decoder(name: "NPD s = 100", file: "npd100", decoder: .npd, samples: 100),
    ]
}

/// A corpus with its trained models.
struct Gu2018Models {
    var corpus: TranslationCorpus
    var directory: String
    var teacherRun: String
    var natRuns: [Gu2018Variant: String]
    var vocabularies: TranslationVocabularies

    var name: String { corpus.description.kind == .synthetic ? "synthetic" : "apertium" }
    var title: String { corpus.description.kind == .synthetic ? "synthetic pair" : "English to Spanish (Apertium)" }

    func translator(_ variant: Gu2018Variant?) throws -> Translator {
        try Translator(run: variant.map { natRuns[$0]! } ?? teacherRun)
    }

    /// The test split as token ids and words.
    var testSources: [[String]] { corpus.test.map(\.source) }
    var testReferences: [[String]] { corpus.test.map(\.target) }
}

/// What one decoder produced on the test split.
struct Gu2018Scores {
    var hypotheses: [[String]]
    var bleu: BLEUScore
    var rates: TranslationRates
    /// Synthetic pair: outcomes of the ambiguous words, as fractions.
    var mixed: Double?, modeA: Double?, modeB: Double?, missing: Double?
}

enum Gu2018Experiment {
    static let corpora: [CorpusKind] = [.synthetic, .apertiumEnglishSpanish]

    static func shared(_ context: ExperimentContext) throws -> String {
        let path = (context.runs as NSString).deletingLastPathComponent + "/shared"
        try AtomicFile.createDirectory(path)
        return path
    }

    // MARK: Runs

    /// The corpus of `kind` and its teacher and NATs (`variants`), trained as needed.
    static func models(_ context: ExperimentContext, _ kind: CorpusKind, variants: [Gu2018Variant]) throws -> Gu2018Models {
        let plan = Gu2018Plan.plan(context)
        let description = CorpusDescription(kind: kind, seed: context.seed, trainCount: plan.train, validCount: plan.valid, testCount: plan.test)
        let source = TranslationRunSubject.dataSource(description)
        let directory = try shared(context) + "/\(kind == .synthetic ? "synthetic" : "apertium")-seed\(context.seed)-\(plan.train)"
        try AtomicFile.createDirectory(directory)
        context.log("making the \(kind == .synthetic ? "synthetic" : "Apertium English-Spanish") corpus (\(plan.train) training pairs, seed \(context.seed))")
        let corpus = try TranslationCorpus(description)
        let vocabularies = TranslationVocabularies(source: corpus.sourceVocabulary, target: corpus.targetVocabulary)
        let configuration = TransformerConfiguration()
        func settings(_ subject: TranslationSubjectSettings, epochs: Int) -> RunSettings {
            TranslationRunSubject.settings(corpus: source, configuration: configuration, subject: subject, epochs: epochs,
                                           learningRate: 1e-3, batchSize: 64, seed: context.seed, checkpointInterval: 4,
                                           schedule: "every", dtype: "float32")
        }
        let teacherPath = directory + "/teacher"
        let teacherSettings = settings(TranslationSubjectSettings(model: .teacher, warmup: plan.warmup), epochs: plan.teacherEpochs)
        try trainRuns([PlannedRun(path: teacherPath, settings: teacherSettings)], workers: 1, progress: context.progress,
                      message: "\(description.kind == .synthetic ? "synthetic" : "apertium"): training the teacher") {
            try TranslationRunSubject.teacherSubject($0, corpus: corpus)
        }
        try vocabularies.write(run: teacherPath)
        let teacher = try Translator(run: teacherPath).teacher!
        var paths: [Gu2018Variant: String] = [:]
        for variant in variants { paths[variant] = directory + "/" + variant.rawValue }
        // The NATs train side by side, one a core.
        let planned = variants.map { variant in
            PlannedRun(path: paths[variant]!, settings: settings(TranslationSubjectSettings(
                model: .nat, warmup: plan.warmup, teacher: teacherPath, targets: variant.targets, nat: variant.settings), epochs: plan.natEpochs))
        }
        try trainRuns(planned, workers: context.workers, progress: context.progress,
                      message: "\(description.kind == .synthetic ? "synthetic" : "apertium"): training \(variants.map(\.rawValue).joined(separator: ", "))") {
            try TranslationRunSubject.natSubject($0, corpus: corpus, teacher: teacher)
        }
        for path in paths.values { try vocabularies.write(run: path) }
        return Gu2018Models(corpus: corpus, directory: directory, teacherRun: teacherPath, natRuns: paths, vocabularies: vocabularies)
    }

    // MARK: Decoding and scores

    /// The test split translated by `decoder` (batched).
    static func decode(_ translator: Translator, _ models: Gu2018Models, _ decoder: Gu2018Decoder, seed: UInt64) -> [[String]] {
        var rng = RandomGenerator(seed: seed)
        let ids = models.testSources.map(models.vocabularies.source.encode)
        let chunk = max(1, 1024 / decoder.samples)
        return translator.translate(ids: ids, decoder: decoder.decoder, samples: decoder.samples, chunk: chunk, rng: &rng)
            .map(models.vocabularies.target.decode)
    }

    static func scores(_ hypotheses: [[String]], _ models: Gu2018Models) -> Gu2018Scores {
        let references = models.testReferences
        var s = Gu2018Scores(hypotheses: hypotheses, bleu: corpusBLEU(hypotheses: hypotheses, references: references),
                             rates: TranslationRates(hypotheses: hypotheses, references: references))
        if models.corpus.description.kind == .synthetic {
            var counts: [AmbiguityOutcome: Int] = [:], total = 0
            for (source, h) in zip(models.testSources, hypotheses) {
                for c in SyntheticLanguage.standard.classifyAmbiguous(source: source, hypothesis: h) {
                    counts[c.outcome, default: 0] += 1
                    total += 1
                }
            }
            func rate(_ o: AmbiguityOutcome) -> Double { Double(counts[o] ?? 0) / Double(max(total, 1)) }
            (s.mixed, s.modeA, s.modeB, s.missing) = (rate(.mixed), rate(.modeA), rate(.modeB), rate(.missing))
        }
        return s
    }

    /// Writes the sources, references and hypotheses of one decoder beside the summary.
    static func writeTexts(_ context: ExperimentContext, _ models: Gu2018Models, _ hypotheses: [[String]], name: String) throws -> [String] {
        let prefix = try context.figurePath(name)
        try writeTranslations(sources: models.testSources, references: models.testReferences, hypotheses: hypotheses, prefix: prefix)
        return [".source.txt", ".reference.txt", ".hypothesis.txt"].map { prefix + $0 }
    }

    /// Times each sentence is translated for its latency (the fastest counts).
    static let latencyRepeats = 3

    /// Milliseconds to translate each of the first `count` test sentences
    /// alone (batch 1, one BLAS thread; the fastest of `latencyRepeats`
    /// runs), after one untimed sentence.
    static func latencies(_ translator: Translator, _ models: Gu2018Models, _ decoder: Gu2018Decoder, count: Int) -> [Double] {
        var rng = RandomGenerator(seed: 7)
        let ids = models.testSources.prefix(count).map(models.vocabularies.source.encode)
        return BLAS.withThreads(1) {
            _ = translator.translate(ids: [ids[0]], decoder: decoder.decoder, samples: decoder.samples, chunk: 1, rng: &rng)
            return ids.map { s in
                (0..<latencyRepeats).map { _ in
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = translator.translate(ids: [s], decoder: decoder.decoder, samples: decoder.samples, chunk: 1, rng: &rng)
                    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                }.min()!
            }
        }
    }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

    static func rate(_ x: Double?) -> String { x.map { fixed(100 * $0, 1) + " %" } ?? "–" }

    static func runNote(_ models: Gu2018Models, _ plan: Gu2018Plan) -> String {
        let d = models.corpus.description
        return "Corpus: \(models.title), seed \(d.seed): \(models.corpus.train.count) training, \(models.corpus.valid.count) validation and \(models.corpus.test.count) test pairs "
            + "(source vocabulary \(models.vocabularies.source.count), target \(models.vocabularies.target.count) tokens, specials included). "
            + "Models: Transformer 2 layers, d 64, 4 heads, d_ff 256, dropout 0.1, label smoothing 0.1, Adam (0.9, 0.98, 1e-9) peaking at 1e-3 after \(plan.warmup) steps, 64 sentences a batch; "
            + "the teacher \(plan.teacherEpochs) epochs, each NAT \(plan.natEpochs) (runs in `RUNS/gu2018/shared/\((models.directory as NSString).lastPathComponent)`).\n\n"
    }

    // MARK: table1

    static func table1(_ context: ExperimentContext) throws -> ExperimentReport {
        let start = Date()
        let plan = Gu2018Plan.plan(context)
        var md = "# gu2018 table1: BLEU and latency of autoregressive and non-autoregressive decoding\n\n"
        md += "BLEU: corpus BLEU-4 of the test split as sacreBLEU computes it (`tokenize=\"none\"`, exp smoothing; `infoplane bleu` recomputes it from the text files). "
        md += "Latency: milliseconds to translate one sentence alone (batch 1, encoder included), mean over the first \(plan.latencySentences) test sentences of the fastest of \(latencyRepeats) runs each, one thread. "
        md += "AR beam: beam 4 with GNMT's length penalty (α = 0.6). NPD: s fertility sequences (the argmax one and s − 1 samples) decoded in one batch, the teacher's most likely kept.\n\n"
        var outputs: [String] = []
        var panels: [CurvesPanel] = []
        for kind in corpora {
            let models = try models(context, kind, variants: [.nat])
            md += "## \(models.title)\n\n" + runNote(models, plan)
            let teacher = try models.translator(nil), nat = try models.translator(.nat)
            var t = MarkdownTable(header: ["decoder", "BLEU", "exact match", "length right", "repeated tokens", "latency (ms)", "speed-up over AR beam 4"],
                                  rightAligned: [false] + Array(repeating: true, count: 6))
            var rows: [(Gu2018Decoder, Gu2018Scores, Double)] = []
            for d in Gu2018Decoder.table1 {
                context.progress.update(rows.count, Gu2018Decoder.table1.count, "\(models.name): decoding with \(d.name)")
                let translator = d.decoder.needsNAT ? nat : teacher
                let s = scores(decode(translator, models, d, seed: context.seed), models)
                let latency = mean(latencies(translator, models, d, count: plan.latencySentences))
                outputs += try writeTexts(context, models, s.hypotheses, name: "gu2018-table1-\(models.name)-\(d.file)")
                rows.append((d, s, latency))
            }
            context.progress.finish()
            let beam = rows.first { $0.0.decoder == .arBeam }!.2
            for (d, s, latency) in rows {
                t.append([d.name, fixed(s.bleu.score, 2), rate(s.rates.exactMatch), rate(s.rates.lengthAccuracy), rate(s.rates.repeatedTokens),
                          fixed(latency, 2), fixed(beam / latency, 1) + "×"])
            }
            md += t.text + "\n"
            let greedy = rows[0], npd10 = rows[4], argmax = rows[2]
            md += "At batch 1 AR greedy takes \(fixed(greedy.2 / argmax.2, 1))× the time of NAT argmax decoding; NAT argmax scores \(fixed(greedy.1.bleu.score - argmax.1.bleu.score, 2)) BLEU "
            md += greedy.1.bleu.score >= argmax.1.bleu.score ? "below AR greedy" : "above AR greedy"
            md += "; NPD s = 10 scores \(fixed(npd10.1.bleu.score - argmax.1.bleu.score, 2)) BLEU "
            md += npd10.1.bleu.score >= argmax.1.bleu.score ? "above" : "below"
            md += " argmax decoding at \(fixed(npd10.2 / argmax.2, 1))× its latency.\n\n"
            md += "Files: `gu2018-table1-\(models.name)-<decoder>.{source,reference,hypothesis}.txt` for each decoder (\(Gu2018Decoder.table1.map(\.file).joined(separator: ", "))).\n\n"
            let ar = rows.filter { !$0.0.decoder.needsNAT }, na = rows.filter { $0.0.decoder == .nat || $0.0.decoder == .npd }
            var panel = CurvesPanel(series: [
                CurveSeries(name: "AR: greedy, beam 4", x: ar.map(\.2), y: ar.map(\.1.bleu.score), marker: .square),
                CurveSeries(name: "NAT: argmax, NPD 10, NPD 100", x: na.map(\.2), y: na.map(\.1.bleu.score), marker: .circle),
            ], title: models.title, xLabel: "latency per sentence at batch 1 (ms)", yLabel: "test BLEU", xScale: .log)
            panel.grid = true
            panels.append(panel)
        }
        var figure = CurvesFigure(panels: panels)
        figure.title = "BLEU against latency: the autoregressive teacher and the NAT"
        let png = try context.writeFigure(try figure.render(width: 1100, height: 460), "gu2018-table1.png")
        md += "![BLEU against latency](gu2018-table1.png)\n\n" + String(format: "Time: %.0f s.\n", Date().timeIntervalSince(start))
        return try writeSummary(md, title: "gu2018 table1", context: context, name: "gu2018-table1.md", outputs: [png] + outputs)
    }

    // MARK: ablations

    static func ablations(_ context: ExperimentContext) throws -> ExperimentReport {
        let start = Date()
        let plan = Gu2018Plan.plan(context)
        var md = "# gu2018 ablations: distillation, fertility copying and the self-mask\n\n"
        md += "Each NAT differs from the first row in one choice, as the rows of Gu et al.'s Table 2 that fit this scale: raw targets (the corpus's references and fertilities, no distillation), "
        md += "uniform copying of the source embeddings (decoder length still from the predicted fertilities), or decoder self-attention without the mask that keeps each query from its own position. "
        md += "Test BLEU with argmax fertilities and with NPD s = 10 (teacher rescoring).\n\n"
        var outputs: [String] = []
        for kind in corpora {
            let models = try models(context, kind, variants: Gu2018Variant.allCases)
            md += "## \(models.title)\n\n" + runNote(models, plan)
            let synthetic = kind == .synthetic
            var t = MarkdownTable(header: ["NAT", "BLEU argmax", "BLEU NPD 10", "repeated tokens", "length right"] + (synthetic ? ["mixed-mode"] : []),
                                  rightAligned: [false] + Array(repeating: true, count: synthetic ? 5 : 4))
            for (k, variant) in Gu2018Variant.allCases.enumerated() {
                context.progress.update(k, Gu2018Variant.allCases.count, "\(models.name): decoding \(variant.rawValue)")
                let translator = try models.translator(variant)
                let argmax = scores(decode(translator, models, Gu2018Decoder.table1[2], seed: context.seed), models)
                let npd = scores(decode(translator, models, Gu2018Decoder.table1[4], seed: context.seed), models)
                outputs += try writeTexts(context, models, argmax.hypotheses, name: "gu2018-ablations-\(models.name)-\(variant.rawValue)")
                outputs += try writeTexts(context, models, npd.hypotheses, name: "gu2018-ablations-\(models.name)-\(variant.rawValue)-npd10")
                t.append([variant.label, fixed(argmax.bleu.score, 2), fixed(npd.bleu.score, 2), rate(argmax.rates.repeatedTokens),
                          rate(argmax.rates.lengthAccuracy)] + (synthetic ? [rate(argmax.mixed)] : []))
            }
            context.progress.finish()
            md += t.text + "\n"
        }
        md += String(format: "Time: %.0f s.\n", Date().timeIntervalSince(start))
        return try writeSummary(md, title: "gu2018 ablations", context: context, name: "gu2018-ablations.md", outputs: outputs)
    }

    // MARK: latency

    static func latency(_ context: ExperimentContext) throws -> ExperimentReport {
        let start = Date()
        let plan = Gu2018Plan.plan(context)
        var md = "# gu2018 latency: time per sentence against source length\n\n"
        md += "Each of the first \(plan.latencySentences) test sentences translated alone (batch 1, one thread, encoder included), timed (the fastest of \(latencyRepeats) runs), and the times averaged by source length. "
        md += "The teacher's greedy and beam decoders run one decoder step per token (cached keys and values), so their time grows with the output; "
        md += "the NAT runs its decoder once whatever the length.\n\n"
        let decoders = [Gu2018Decoder.table1[0], Gu2018Decoder.table1[1], Gu2018Decoder.table1[2], Gu2018Decoder.table1[4], Gu2018Decoder.table1[5]]
        var panels: [CurvesPanel] = []
        for kind in corpora {
            let models = try models(context, kind, variants: [.nat])
            md += "## \(models.title)\n\n" + runNote(models, plan)
            let teacher = try models.translator(nil), nat = try models.translator(.nat)
            let lengths = models.testSources.prefix(plan.latencySentences).map(\.count)
            let distinct = Array(Set(lengths)).sorted()
            var t = MarkdownTable(header: ["source length", "sentences"] + decoders.map { $0.name + " (ms)" },
                                  rightAligned: Array(repeating: true, count: 2 + decoders.count))
            var byDecoder: [[Double]] = []
            for (k, d) in decoders.enumerated() {
                context.progress.update(k, decoders.count, "\(models.name): timing \(d.name)")
                let times = latencies(d.decoder.needsNAT ? nat : teacher, models, d, count: plan.latencySentences)
                byDecoder.append(distinct.map { n in mean(zip(lengths, times).filter { $0.0 == n }.map(\.1)) })
            }
            context.progress.finish()
            for (i, n) in distinct.enumerated() {
                t.append(["\(n)", "\(lengths.filter { $0 == n }.count)"] + byDecoder.map { fixed($0[i], 2) })
            }
            md += t.text + "\n"
            func slope(_ y: [Double]) -> Double {
                let x = distinct.map(Double.init), mx = mean(x), my = mean(y)
                let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
                return sxx == 0 ? .nan : zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / sxx
            }
            let meanLength = Double(lengths.reduce(0, +)) / Double(max(lengths.count, 1))
            md += "Least-squares slopes: " + decoders.indices.map { "\(decoders[$0].name) \(fixed(slope(byDecoder[$0]), 3)) ms per source token" }.joined(separator: ", ")
            md += ". Mean source length \(fixed(meanLength, 1)) tokens.\n\n"
            var panel = CurvesPanel(series: decoders.indices.map {
                CurveSeries(name: decoders[$0].name, x: distinct.map(Double.init), y: byDecoder[$0], dashed: decoders[$0].decoder.needsNAT, marker: .circle)
            }, title: models.title, xLabel: "source length (tokens)", yLabel: "latency per sentence (ms)", yScale: .log)
            panel.grid = true
            panels.append(panel)
        }
        var figure = CurvesFigure(panels: panels)
        figure.title = "Latency at batch 1 against source length"
        let png = try context.writeFigure(try figure.render(width: 1100, height: 460), "gu2018-latency.png")
        md += "![latency against length](gu2018-latency.png)\n\n" + String(format: "Time: %.0f s.\n", Date().timeIntervalSince(start))
        return try writeSummary(md, title: "gu2018 latency", context: context, name: "gu2018-latency.md", outputs: [png])
    }

    // MARK: multimodality

    static func multimodality(_ context: ExperimentContext) throws -> ExperimentReport {
        let start = Date()
        let plan = Gu2018Plan.plan(context)
        var md = "# gu2018 multimodality: mixed modes and repeated tokens, raw against distilled\n\n"
        md += "On the synthetic pair each ambiguous source word has two translations of different lengths, \"x\" (mode A) and \"y z\" (mode B), chosen by a fair coin in the references. "
        md += "An output that mixes them (\"y x\", \"x z\", \"y\" alone, …) is what a model averaging over the two modes writes; the mixed-mode rate is the fraction of ambiguous test occurrences so rendered. "
        md += "The repeated-token rate is the fraction of output tokens equal to the token before them (Gu et al.'s Fig. 4 error). "
        md += "The teacher's greedy translations make the distilled targets: the share of mode B in them is shown as the distilled targets' row.\n\n"
        var outputs: [String] = []
        var series: [ScatterSeries] = []
        for kind in corpora {
            let models = try models(context, kind, variants: [.nat, .raw, .uniform, .rawUniform])
            md += "## \(models.title)\n\n" + runNote(models, plan)
            let synthetic = kind == .synthetic
            var t = MarkdownTable(header: ["model and decoder", "BLEU", "repeated tokens"] + (synthetic ? ["mixed-mode", "mode A", "mode B", "missing"] : []),
                                  rightAligned: [false] + Array(repeating: true, count: synthetic ? 6 : 2))
            func row(_ name: String, _ s: Gu2018Scores) {
                t.append([name, fixed(s.bleu.score, 2), rate(s.rates.repeatedTokens)]
                         + (synthetic ? [rate(s.mixed), rate(s.modeA), rate(s.modeB), rate(s.missing)] : []))
            }
            row("references", scores(models.testReferences, models))
            let teacher = try models.translator(nil)
            let greedy = scores(decode(teacher, models, Gu2018Decoder.table1[0], seed: context.seed), models)
            row("teacher, greedy (= distilled targets' decoder)", greedy)
            var points: [ScatterSeries] = []
            for variant in [Gu2018Variant.raw, .rawUniform, .nat, .uniform] {
                let translator = try models.translator(variant)
                for d in [Gu2018Decoder.table1[2], Gu2018Decoder.table1[4]] {
                    let s = scores(decode(translator, models, d, seed: context.seed), models)
                    row("NAT, " + variant.targetsAndCopying + ", " + d.name, s)
                    outputs += try writeTexts(context, models, s.hypotheses, name: "gu2018-multimodality-\(models.name)-\(variant.rawValue)-\(d.file)")
                    if synthetic && d.decoder == .nat {
                        points.append(ScatterSeries(name: variant.targetsAndCopying, x: [100 * (s.mixed ?? .nan)], y: [100 * s.rates.repeatedTokens],
                                                    marker: variant.targets == .raw ? .square : .circle))
                    }
                }
            }
            md += t.text + "\n"
            if synthetic {
                series = [ScatterSeries(name: "teacher greedy", x: [100 * (greedy.mixed ?? .nan)], y: [100 * greedy.rates.repeatedTokens], marker: .diamond)]
                    + points
                let (raw, rawUniform, distilled, distilledUniform) = (points[0].x[0] / 100, points[1].x[0] / 100, points[2].x[0] / 100, points[3].x[0] / 100)
                md += "With fertility copying, the raw NAT mixes modes on \(rate(raw)) of the ambiguous words and the distilled one on \(rate(distilled)). "
                md += "There an ambiguous word's fertility (1 for mode A, 2 for mode B) fixes its mode before the decoder runs: the fertility latent removes the multimodality that distillation is meant to remove, as Gu et al. argue. "
                md += "With uniform copying, the decoder gets no fertility, only the target length: the raw NAT mixes modes on \(rate(rawUniform)), the distilled one on \(rate(distilledUniform))"
                md += distilledUniform < 0.5 * rawUniform ? ": distillation removes most of what is left.\n\n" : ".\n\n"
            }
        }
        var figure = ScatterFigure(series: series)
        figure.title = "Synthetic pair: NAT errors from multimodality (argmax decoding)"
        figure.xLabel = "mixed-mode rate (% of ambiguous words)"
        figure.yLabel = "repeated-token rate (% of tokens)"
        let png = try context.writeFigure(try figure.render(width: 720, height: 520), "gu2018-multimodality.png")
        md += "![multimodality](gu2018-multimodality.png)\n\n" + String(format: "Time: %.0f s.\n", Date().timeIntervalSince(start))
        return try writeSummary(md, title: "gu2018 multimodality", context: context, name: "gu2018-multimodality.md", outputs: [png] + outputs)
    }

    // MARK: information

    /// The noise variance of the plane's KDE estimates, and the two beside it in the table.
    static let informationNoiseVariance = 4.0
    static let comparedNoiseVariances = [1.0, 16.0]

    static func information(_ context: ExperimentContext) throws -> ExperimentReport {
        let start = Date()
        let plan = Gu2018Plan.plan(context)
        let s2 = informationNoiseVariance
        var md = "# gu2018 information: the AR and NAT decoders in the information plane\n\n"
        md += "T: each decoder layer's residual stream (d = 64) at every target position of 64 test sentences (teacher-forced; the NAT's inputs copied by the reference fertilities), recorded every epoch; "
        md += "Y: the target token at the position; X: the input (sentence and position); the probe's test half is estimated. "
        md += "A deterministic layer of distinct inputs has I(X;T) = H(T), and in 64 dimensions every position's state is distinct: "
        md += "30-bin binning gives log2(samples) at every epoch (the `binning` column), and so would any estimator without noise. "
        md += "The plane therefore shows Kolchinsky and Tracey's KDE upper bound (as Saxe et al.) of I(X; T + Z) and I(T + Z; Y), Z Gaussian of variance \(fixed(s2, 0)) per unit "
        md += "(the states' per-unit variance is about 2 to 3, their squared distances a few hundred), with s2 = \(comparedNoiseVariances.map { fixed($0, 0) }.joined(separator: " and ")) beside it: "
        md += "the values move with the noise, the ordering of layers and models is what to read. I(T;Y) is bounded by H(Y).\n\n"
        var panels: [InformationPlanePanel] = []
        var outputs: [String] = []
        let layers = TransformerConfiguration().layers
        let decoderLayers = Array((layers + 1)...(2 * layers))
        for kind in corpora {
            let models = try models(context, kind, variants: [.nat])
            md += "## \(models.title)\n\n" + runNote(models, plan)
            let compared = comparedNoiseVariances.flatMap { ["I(X;T) s2 \(fixed($0, 0))", "I(T;Y) s2 \(fixed($0, 0))"] }
            var t = MarkdownTable(header: ["model", "layer", "epoch", "I(X;T)", "I(T;Y)", "last epoch", "I(X;T)", "I(T;Y)", "peak I(X;T)"]
                                  + compared + ["binning I(X;T)"],
                                  rightAligned: [false] + Array(repeating: true, count: 9 + compared.count))
            for (name, path) in [("AR teacher", models.teacherRun), ("NAT", models.natRuns[.nat]!)] {
                let source = try ActivationSource.run(path)
                func estimate(_ configuration: EstimatorConfiguration, epochs: [Int]? = nil, file: String) throws -> InformationTable {
                    let table = try source.estimate(EstimationRequest(configuration: configuration, samples: .test, epochs: epochs, layers: decoderLayers))
                    try table.write(to: path + "/" + file)
                    outputs.append(path + "/" + file)
                    return table
                }
                let table = try estimate(.kde(noiseVariance: s2, bound: .upper), file: "mi-kde-\(fixed(s2, 0))-decoder.csv")
                let points = informationPoints(table).map { p -> InformationPlanePoint in
                    var p = p
                    p.layer -= layers
                    return p
                }
                panels.append(InformationPlanePanel(title: "\(models.name): \(name) decoder", points: points))
                let epochs = Array(Set(points.map(\.epoch))).sorted()
                let last = [epochs.last!]
                let others = try comparedNoiseVariances.map {
                    informationPoints(try estimate(.kde(noiseVariance: $0, bound: .upper), epochs: last, file: "mi-kde-\(fixed($0, 0))-decoder.csv"))
                }
                let binned = informationPoints(try estimate(.binning(.edges(bins: 30)), epochs: last, file: "mi-binning-30-decoder.csv"))
                for layer in 1...layers {
                    let mine = points.filter { $0.layer == layer }
                    let first = mine.first { $0.epoch == epochs.first! }!, end = mine.first { $0.epoch == epochs.last! }!
                    let peak = mine.map(\.ixt).max()!
                    let extra = others.flatMap { o -> [String] in
                        let p = o.first { $0.layer == layer + layers }!
                        return [fixed(p.ixt, 2), fixed(p.ity, 2)]
                    }
                    t.append([name, "decoder \(layer)", "\(first.epoch)", fixed(first.ixt, 2), fixed(first.ity, 2),
                              "\(end.epoch)", fixed(end.ixt, 2), fixed(end.ity, 2), fixed(peak, 2)] + extra
                             + [fixed(binned.first { $0.layer == layer + layers }!.ixt, 2)])
                }
            }
            md += t.text + "\n"
        }
        var figure = InformationPlaneFigure(panels: panels)
        figure.columns = 2
        figure.title = "Decoder layers in the information plane (KDE upper bound, noise variance \(fixed(s2, 0)); Y = target token)"
        let png = try context.writeFigure(try figure.render(width: 1000, height: 860), "gu2018-information.png")
        md += "![information planes](gu2018-information.png)\n\n" + String(format: "Time: %.0f s.\n", Date().timeIntervalSince(start))
        return try writeSummary(md, title: "gu2018 information", context: context, name: "gu2018-information.md", outputs: [png] + outputs)
    }
}
