// `infoplane train --task translation`: the autoregressive teacher or the
// non-autoregressive student of Gu et al. (2018) trained on a corpus made at
// run time and recorded into a run directory (see Translation/TranslationRun.swift).
//
// Defaults: the synthetic pair of seed 1 (20000 training sentences), the
// Transformer 2,64,4,256, 64 sentences per minibatch, Adam peaking at 1e-3
// after 1000 warm-up steps; the teacher 12 epochs, the NAT 20; every epoch
// recorded, a checkpoint every 4 epochs.

import ActivationStore
import ArgumentParser
import Foundation
import Training
import Translation

enum TranslationRunCommand {
    static func isTranslationRun(_ path: String) -> Bool {
        (try? RunDirectory(path).readManifest())?.settings.task == "translation"
    }

    /// The translation options given.
    static func options(_ t: Train) -> [String] {
        var given = [String]()
        func check(_ value: Any?, _ name: String) { if value != nil { given.append(name) } }
        check(t.corpus, "--corpus"); check(t.model, "--model"); check(t.teacher, "--teacher"); check(t.targets, "--targets")
        check(t.copying, "--copying"); check(t.selfMask, "--self-mask"); check(t.warmup, "--warmup")
        check(t.transformer, "--transformer")
        return given
    }

    static func validate(_ t: Train) throws {
        if t.task != "translation" && t.resume == nil {
            throw ValidationError("\(options(t).joined(separator: ", ")): options of --task translation")
        }
        var other = ProgressiveTraining.mlpOptions(t).filter { !["--epochs", "--lr", "--record", "--dtype"].contains($0) }
        if t.images != nil { other.append("--images") }
        if t.imagesPerPhase != nil { other.append("--images-per-phase") }
        if t.field != nil { other.append("--field") }
        if !other.isEmpty { throw ValidationError("--task translation does not take \(other.joined(separator: ", "))") }
        if t.resume != nil && (!options(t).isEmpty || t.seed != nil || t.epochs != nil || t.lr != nil || t.batchSize != nil) {
            throw ValidationError("--resume continues a translation run with its own settings; give no other options")
        }
        if let corpus = t.corpus { _ = try TranslationRunSubject.corpusDescription(corpus) }
        let kind = try model(t)
        if kind == .teacher {
            let natOnly = [(t.teacher, "--teacher"), (t.targets, "--targets"), (t.copying, "--copying"), (t.selfMask.map { "\($0)" }, "--self-mask")]
                .filter { $0.0 != nil }.map(\.1)
            if !natOnly.isEmpty { throw ValidationError("\(natOnly.joined(separator: ", ")): options of --model nat") }
        } else if t.resume == nil {
            guard let teacher = t.teacher else { throw ValidationError("--model nat needs --teacher RUN (a complete teacher run)") }
            guard FileManager.default.fileExists(atPath: teacher + "/manifest.json") else {
                throw ValidationError("--teacher \(teacher): no run there (no manifest.json)")
            }
        }
        if let targets = t.targets, TranslationTargets(rawValue: targets) == nil {
            throw ValidationError("--targets must be distilled or raw (got \(targets))")
        }
        if let copying = t.copying, CopyingMode(rawValue: copying) == nil {
            throw ValidationError("--copying must be fertility or uniform (got \(copying))")
        }
        if let w = t.warmup, w <= 0 { throw ValidationError("--warmup must be positive (got \(w))") }
        if t.transformer != nil { _ = try configuration(t) }
        if let n = t.batchSize, n <= 0 { throw ValidationError("--batch-size must be positive (got \(n))") }
        if let c = t.checkpointInterval, c <= 0 { throw ValidationError("--checkpoint-interval must be positive") }
        if let record = t.record, EpochSchedule(record) == nil { throw ValidationError("unknown schedule \"\(record)\"") }
        if let dtype = t.dtype, !["float32", "float16"].contains(dtype) { throw ValidationError("--dtype must be float32 or float16") }
    }

    static func model(_ t: Train) throws -> TranslationModelKind {
        guard let name = t.model else { return .teacher }
        guard let kind = TranslationModelKind(rawValue: name) else { throw ValidationError("--model must be teacher or nat (got \(name))") }
        return kind
    }

    static func configuration(_ t: Train) throws -> TransformerConfiguration {
        guard let text = t.transformer else { return TransformerConfiguration() }
        let w = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard w.count == 4, let l = w[0], let d = w[1], let h = w[2], let f = w[3], l >= 1, d >= 1, h >= 1, f >= 1, d % h == 0 else {
            throw ValidationError("--transformer \(text): expected LAYERS,D_MODEL,HEADS,D_FF with D_MODEL divisible by HEADS")
        }
        return TransformerConfiguration(layers: l, modelDimension: d, heads: h, feedForward: f)
    }

    static func settings(_ t: Train) throws -> RunSettings {
        let kind = try model(t)
        var subject = TranslationSubjectSettings(model: kind, warmup: t.warmup ?? 1000)
        if kind == .nat {
            subject.teacher = t.teacher
            subject.targets = t.targets.flatMap(TranslationTargets.init) ?? .distilled
            subject.nat = NATSettings(copying: t.copying.flatMap(CopyingMode.init) ?? .fertility, selfMask: t.selfMask ?? true)
        }
        return TranslationRunSubject.settings(
            corpus: t.corpus ?? "synthetic:1", configuration: try configuration(t), subject: subject,
            epochs: t.epochs ?? (kind == .teacher ? 12 : 20), learningRate: Float(t.lr ?? 1e-3), batchSize: t.batchSize ?? 64,
            seed: t.seed ?? 1, checkpointInterval: t.checkpointInterval ?? 4, schedule: t.record ?? "every", dtype: t.dtype ?? "float32")
    }

    static func train(_ t: Train) throws {
        let settings: RunSettings
        if let resume = t.resume { settings = try RunDirectory(resume).readManifest().settings } else { settings = try Self.settings(t) }
        let corpus = try TranslationCorpus(try TranslationRunSubject.corpusDescription(settings.dataSource))
        let vocabularies = TranslationVocabularies(source: corpus.sourceVocabulary, target: corpus.targetVocabulary)
        switch try TranslationSubjectSettings(settings.subject).model {
        case .teacher:
            let run = try start(t, settings) { try TranslationRunSubject.teacherSubject($0, corpus: corpus) }
            try vocabularies.write(run: run.directory.path)
            try train(run)
        case .nat:
            let run = try start(t, settings) { try TranslationRunSubject.natSubject($0, corpus: corpus) }
            try vocabularies.write(run: run.directory.path)
            try train(run)
        }
    }

    static func start<T: EpochTraining>(_ t: Train, _ settings: RunSettings,
                                        subject: (RunSettings) throws -> RunSubject<T>) throws -> InstrumentedRun<T> {
        if let resume = t.resume { return try InstrumentedRun<T>.resume(at: resume, subject: subject) }
        return try InstrumentedRun<T>.start(settings: settings, at: t.out!, subject: subject)
    }

    static func train<T: EpochTraining>(_ run: InstrumentedRun<T>) throws {
        var run = run
        if run.isComplete { print("\(run.directory.path) is already complete (\(run.settings.epochs) epochs)."); return }
        let progress = TerminalProgress()
        let start = Date()
        try run.run { p in
            progress.update(p.epoch, of: p.totalEpochs, String(format: "epoch %d: train loss %.4f, validation loss %.4f, validation token accuracy %.3f",
                                                             p.epoch, p.metrics.trainLoss, p.metrics.testLoss, p.metrics.testAccuracy))
        }
        progress.finish()
        let last = run.metricsHistory.last!
        print(String(format: "%@: %d epochs in %.1f s; train loss %.4f, validation loss %.4f nats per token, validation token accuracy %.3f",
                     run.directory.path, last.epoch, Date().timeIntervalSince(start), last.trainLoss, last.testLoss, last.testAccuracy))
    }
}
