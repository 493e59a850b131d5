// `infoplane train --task translation`: the autoregressive teacher or the
// non-autoregressive student of Gu et al. (2018), trained into a run
// directory like every other task's (InstrumentedRun: manifest, metrics.csv,
// activations per recorded epoch, checkpoints, resume byte for byte), so
// that `estimate`, `plot` and `audit` read it.
//
// RunSettings: task "translation"; data_source names the corpus
// ("synthetic:SEED" or "apertium:SEED", made again exactly on resume);
// widths [layers, d_model, heads, d_ff]; batch_size sentences per minibatch;
// optimizer Adam (β = 0.9, 0.98, ε = 1e-9, Vaswani et al.) peaking at
// learning_rate after `warmup` steps (`warmupMultiplier`); subject: "model"
// (teacher or nat), "warmup", and for a NAT "teacher" (the directory of a
// complete teacher run on the same corpus), "targets" (distilled: the
// teacher's greedy translations of the training sources, fertilities
// re-aligned on them; or raw), "copying" (fertility or uniform) and
// "self_mask" (true or false).
//
// Probe set (the recorded samples): every target position of the first 64
// training sentences (the targets the model trains on) and the first 64
// test sentences. Recorded tensors, each [d_model] per sample:
//   "encoder L"  the encoder's layer-L residual stream at the source token
//                whose fertility covers the position (source token i covers
//                the next f_i positions; what a fertility-copying NAT copies)
//   "decoder L"  the decoder's layer-L residual stream at the position
//                (teacher-forced; the NAT's inputs copied by the fertilities)
// Labels Y: the target token at the position. inputs.npy holds, per sample,
// the sentence's source ids, target ids and fertilities (padded with -1),
// the position and its source position (`TranslationProbe`).
//
// metrics.csv: train_loss and test_loss are the teacher-forced
// cross-entropy per target token (nats; the NAT's includes its fertility
// cross-entropy, summed over source tokens, in the numerator) over the
// first 512 training sentences and the validation split, without label
// smoothing or dropout; the accuracies are the token accuracies of the same
// passes.

import ActivationStore
import Foundation
import NeuralNets
import Tensors
import Training

/// The sentences of a split as token ids: a `SentenceBatch` of the whole split.
public typealias EncodedSentences = SentenceBatch

extension SentenceBatch {
    /// The pairs that have fertilities, a nonempty source and both sides
    /// within `maxLength` tokens, encoded.
    public init(_ pairs: [SentencePair], source: Vocabulary, target: Vocabulary, maxLength: Int) {
        var sources: [[Int]] = [], targets: [[Int]] = [], fertilities: [[Int]] = []
        for pair in pairs {
            guard let f = pair.fertilities, pair.source.count <= maxLength, pair.target.count <= maxLength,
                  !pair.source.isEmpty else { continue }
            sources.append(source.encode(pair.source))
            targets.append(target.encode(pair.target))
            fertilities.append(f)
        }
        self.init(sources: sources, targets: targets, fertilities: fertilities)
    }
}

/// A translation model as the run records it.
public struct TranslationRecordedModel<Model: TranslationModel>: RecordableModel {
    public var model: Model
    public let sourceWidth: Int, targetWidth: Int

    public init(model: Model, probe: TranslationProbe) {
        self.model = model
        sourceWidth = probe.sourceWidth
        targetWidth = probe.targetWidth
    }

    public var recordedTensors: [RecordedTensorDescription] {
        let (l, d) = (model.configuration.layers, model.configuration.modelDimension)
        return (1...l).map { RecordedTensorDescription(name: "encoder \($0)", shape: [d], activation: "linear") }
            + (1...l).map { RecordedTensorDescription(name: "decoder \($0)", shape: [d], activation: "linear") }
    }

    /// The layers' states at each probe row's positions.
    public func recordedActivations(_ input: Tensor) -> [Tensor] {
        let (batch, rows) = TranslationProbe.decode(input, sourceWidth: sourceWidth, targetWidth: targetWidth)
        let (encoder, decoder) = model.layerStates(batch)
        let d = model.configuration.modelDimension
        func gather(_ states: Tensor, _ position: ((sentence: Int, position: Int, source: Int)) -> Int) -> Tensor {
            let length = states.shape[1]
            var values = [Float](repeating: 0, count: rows.count * d)
            states.scalars.withUnsafeBufferPointer { s in
                for (r, row) in rows.enumerated() {
                    let base = (row.sentence * length + position(row)) * d
                    for k in 0..<d { values[r * d + k] = s[base + k] }
                }
            }
            return Tensor(shape: [rows.count, d], scalars: values)
        }
        return encoder.map { gather($0) { $0.source } } + decoder.map { gather($0) { $0.position } }
    }

    public var parameters: [Tensor] {
        get { model.store.tensors }
        set { model.store.tensors = newValue }
    }

    public var parameterNames: [String] { model.store.names }
}

/// Trains a translation model epoch by epoch with Adam and the warm-up schedule.
public struct TranslationEpochTrainer<Model: TranslationModel>: EpochTraining {
    public var model: TranslationRecordedModel<Model>
    public var optimizer: any Optimizer
    public var rng: RandomGenerator
    public var epoch = 0
    public let train: EncodedSentences, validation: EncodedSentences
    public let batchSize: Int, warmup: Int
    /// The training sentences evaluated for train_loss (a fixed subset).
    public let evaluatedTrain: [Int]
    /// The parameters whose gradient statistics are recorded (the first
    /// weight matrix of every encoder and decoder layer), by position.
    public let statisticsParameters: [Int]

    public init(model: TranslationRecordedModel<Model>, optimizer: any Optimizer, rng: RandomGenerator,
                train: EncodedSentences, validation: EncodedSentences, batchSize: Int, warmup: Int) {
        self.model = model
        self.optimizer = optimizer
        self.rng = rng
        self.train = train
        self.validation = validation
        self.batchSize = batchSize
        self.warmup = warmup
        evaluatedTrain = Array(0..<min(512, train.count))
        let names = model.model.store.names
        statisticsParameters = (0..<model.model.configuration.layers).flatMap { l in
            ["encoder.layer\(l).selfAttention.query.weight", "decoder.layer\(l).selfAttention.query.weight"]
        }.compactMap { names.firstIndex(of: $0) }
    }

    public var weights: [Tensor] { statisticsParameters.map { model.parameters[$0] } }

    /// Batches of one epoch.
    var batchesPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

    @discardableResult
    public mutating func trainEpoch(gradients: inout GradientAccumulator?) -> Double {
        let batches = train.epochBatches(size: batchSize, rng: &rng)
        var total = 0.0
        for (b, indices) in batches.enumerated() {
            var (loss, g) = model.model.trainingStep(train.batch(indices), rng: &rng)
            gradients?.add(statisticsParameters.map { g[$0] })
            clipByGlobalNorm(&g, maxNorm: 1)
            let step = epoch * batches.count + b + 1
            optimizer.update(&model.model.store.tensors, gradients: g, multiplier: warmupMultiplier(step: step, warmup: warmup))
            total += Double(loss)
        }
        epoch += 1
        return total / Double(max(batches.count, 1))
    }

    func evaluate(_ sentences: EncodedSentences, _ indices: [Int]) -> (loss: Double, accuracy: Double) {
        var sum = TranslationEvaluation()
        for start in stride(from: 0, to: indices.count, by: 128) {
            sum = sum + model.model.evaluate(sentences.batch(indices[start..<min(indices.count, start + 128)]))
        }
        return (sum.loss / Double(max(sum.tokens, 1)), Double(sum.correct) / Double(max(sum.tokens, 1)))
    }

    public func evaluate() -> EpochMetrics {
        let tr = evaluate(train, evaluatedTrain), va = evaluate(validation, Array(0..<validation.count))
        return EpochMetrics(epoch: epoch, trainLoss: tr.loss, trainAccuracy: tr.accuracy, testLoss: va.loss, testAccuracy: va.accuracy)
    }
}

// MARK: Settings

/// What kind of model a translation run trains.
public enum TranslationModelKind: String, Sendable, CaseIterable {
    case teacher, nat
}

/// Where a NAT's training targets come from.
public enum TranslationTargets: String, Sendable, CaseIterable {
    /// The corpus's references, with the corpus's fertilities.
    case raw
    /// The teacher's greedy translations of the training sources, with
    /// fertilities re-aligned on them (sequence-level distillation).
    case distilled
}

/// The subject settings of a translation run, read from `RunSettings.subject`.
public struct TranslationSubjectSettings: Sendable, Equatable {
    public var model: TranslationModelKind
    public var warmup: Int
    /// NAT only: the teacher run's directory, targets, copying, self-mask.
    public var teacher: String?
    public var targets: TranslationTargets
    public var nat: NATSettings

    public init(model: TranslationModelKind, warmup: Int = 1000, teacher: String? = nil,
                targets: TranslationTargets = .distilled, nat: NATSettings = NATSettings()) {
        self.model = model
        self.warmup = warmup
        self.teacher = teacher
        self.targets = targets
        self.nat = nat
    }

    public var dictionary: [String: String] {
        var d = ["model": model.rawValue, "warmup": "\(warmup)"]
        if model == .nat {
            d["teacher"] = teacher ?? ""
            d["targets"] = targets.rawValue
            d["copying"] = nat.copying.rawValue
            d["self_mask"] = "\(nat.selfMask)"
        }
        return d
    }

    /// - Throws: `RunError` naming an unknown or missing value.
    public init(_ d: [String: String]?) throws {
        guard let d else { throw RunError("a translation run's settings have no subject (model, warm-up, …)") }
        guard let model = d["model"].flatMap(TranslationModelKind.init) else {
            throw RunError("translation subject: model \"\(d["model"] ?? "")\" is not teacher or nat")
        }
        guard let warmup = d["warmup"].flatMap({ Int($0) }), warmup >= 1 else {
            throw RunError("translation subject: warm-up \"\(d["warmup"] ?? "")\" is not a positive number of steps")
        }
        self.init(model: model, warmup: warmup)
        guard model == .nat else { return }
        guard let teacher = d["teacher"], !teacher.isEmpty else { throw RunError("a NAT run needs the directory of its teacher run") }
        guard let targets = d["targets"].flatMap(TranslationTargets.init) else {
            throw RunError("translation subject: targets \"\(d["targets"] ?? "")\" are not raw or distilled")
        }
        guard let copying = d["copying"].flatMap(CopyingMode.init) else {
            throw RunError("translation subject: copying \"\(d["copying"] ?? "")\" is not fertility or uniform")
        }
        guard let selfMask = d["self_mask"].flatMap({ Bool($0) }) else {
            throw RunError("translation subject: self_mask \"\(d["self_mask"] ?? "")\" is not true or false")
        }
        self.teacher = teacher
        self.targets = targets
        nat = NATSettings(copying: copying, selfMask: selfMask)
    }
}

/// The subjects of translation runs.
public enum TranslationRunSubject {
    public typealias TeacherRun = InstrumentedRun<TranslationEpochTrainer<AutoregressiveTransformer>>
    public typealias NATRun = InstrumentedRun<TranslationEpochTrainer<NonAutoregressiveTransformer>>

    /// The settings of `infoplane train --task translation`.
    public static func settings(corpus: String, configuration: TransformerConfiguration, subject: TranslationSubjectSettings,
                                epochs: Int, learningRate: Float, batchSize: Int, seed: UInt64, checkpointInterval: Int,
                                schedule: String, dtype: String) -> RunSettings {
        RunSettings(task: "translation", dataSource: corpus,
                    widths: [configuration.layers, configuration.modelDimension, configuration.heads, configuration.feedForward],
                    activation: "relu", initializer: "glorotUniform",
                    optimizer: ["name": "adam", "learning_rate": "\(learningRate)", "beta1": "0.9", "beta2": "0.98", "epsilon": "1e-09"],
                    batchSize: batchSize, epochs: epochs, seed: seed, trainingFraction: 0, splitMethod: "seeded",
                    schedule: schedule, activations: "post", dtype: dtype, checkpointInterval: checkpointInterval,
                    subject: subject.dictionary)
    }

    /// The corpus a data source names: "synthetic:SEED" or "apertium:SEED"
    /// (20000, 500 and 500 sentences), or with the split sizes given,
    /// "synthetic:SEED:TRAIN:VALID:TEST".
    public static func corpusDescription(_ source: String) throws -> CorpusDescription {
        let parts = source.split(separator: ":", omittingEmptySubsequences: false)
        let numbers = parts.dropFirst().map { UInt64($0) }
        guard parts.count == 2 || parts.count == 5, numbers.allSatisfy({ $0 != nil }) else {
            throw RunError("data source \"\(source)\" is not synthetic:SEED or apertium:SEED (optionally :TRAIN:VALID:TEST)")
        }
        let kind: CorpusKind
        switch parts[0] {
        case "synthetic": kind = .synthetic
        case "apertium": kind = .apertiumEnglishSpanish
        default: throw RunError("data source \"\(source)\": unknown corpus \"\(parts[0])\" (synthetic or apertium)")
        }
        let n = numbers.map { Int($0!) }
        let description = parts.count == 2 ? CorpusDescription(kind: kind, seed: UInt64(n[0]))
            : CorpusDescription(kind: kind, seed: UInt64(n[0]), trainCount: n[1], validCount: n[2], testCount: n[3])
        if let problem = description.problem { throw RunError("data source \"\(source)\": \(problem)") }
        return description
    }

    /// The data source naming `description` (its aligner at the defaults).
    public static func dataSource(_ description: CorpusDescription) -> String {
        let kind = description.kind == .synthetic ? "synthetic" : "apertium"
        return "\(kind):\(description.seed):\(description.trainCount):\(description.validCount):\(description.testCount)"
    }

    /// The model configuration of `settings`.
    public static func configuration(_ settings: RunSettings) throws -> TransformerConfiguration {
        let w = settings.widths
        guard w.count == 4, w.allSatisfy({ $0 >= 1 }), w[1] % w[2] == 0 else {
            throw RunError("translation widths \(w) are not [layers, d_model, heads, d_ff] with d_model divisible by heads")
        }
        return TransformerConfiguration(layers: w[0], modelDimension: w[1], heads: w[2], feedForward: w[3])
    }

    static func optimizer(_ settings: RunSettings) throws -> Adam {
        guard let lr = Float(settings.optimizer["learning_rate"] ?? ""), lr > 0 else {
            throw RunError("translation runs need a positive learning rate")
        }
        return Adam(learningRate: lr, beta1: 0.9, beta2: 0.98, epsilon: 1e-9)
    }

    /// The probe set: every target position of the first 64 sentences of
    /// `train` and of `test`.
    static func probe(train: EncodedSentences, test: EncodedSentences) -> (probe: TranslationProbe, samples: RecordedSamples) {
        let tr = train.batch(0..<min(64, train.count)), te = test.batch(0..<min(64, test.count))
        let both = SentenceBatch(sources: tr.sources + te.sources, targets: tr.targets + te.targets,
                                 fertilities: tr.fertilities + te.fertilities)
        let probe = TranslationProbe(both)
        let inputs = probe.rows(sourcePositions: both.fertilities.map(fertilityCopyMap))
        let labels = both.targets.flatMap { $0 }
        let mask = tr.targets.flatMap { $0.map { _ in true } } + te.targets.flatMap { $0.map { _ in false } }
        return (probe, RecordedSamples(inputs: inputs, labels: labels, trainMask: mask))
    }

    /// The trainer and probe set of a teacher run.
    public static func teacherSubject(_ settings: RunSettings, corpus: TranslationCorpus? = nil) throws
        -> RunSubject<TranslationEpochTrainer<AutoregressiveTransformer>> {
        let subject = try TranslationSubjectSettings(settings.subject)
        guard subject.model == .teacher else { throw RunError("the run's model is \(subject.model.rawValue), not teacher") }
        let corpus = try corpus ?? TranslationCorpus(try corpusDescription(settings.dataSource))
        let configuration = try configuration(settings)
        let model = AutoregressiveTransformer(configuration: configuration, sourceVocabulary: corpus.sourceVocabulary.count,
                                              targetVocabulary: corpus.targetVocabulary.count, seed: settings.seed)
        return try Self.subject(settings, model: model, corpus: corpus, train: corpus.train, warmup: subject.warmup)
    }

    /// The trainer and probe set of a NAT run: its encoder initialized from
    /// the teacher's, its targets raw or distilled by the teacher.
    public static func natSubject(_ settings: RunSettings, corpus: TranslationCorpus? = nil,
                                  teacher: AutoregressiveTransformer? = nil) throws
        -> RunSubject<TranslationEpochTrainer<NonAutoregressiveTransformer>> {
        let subject = try TranslationSubjectSettings(settings.subject)
        guard subject.model == .nat, let teacherPath = subject.teacher else { throw RunError("the run's model is not a NAT") }
        let corpus = try corpus ?? TranslationCorpus(try corpusDescription(settings.dataSource))
        let teacher = try teacher ?? loadTeacher(teacherPath, dataSource: settings.dataSource, corpus: corpus)
        let configuration = try configuration(settings)
        guard configuration.layers == teacher.configuration.layers, configuration.modelDimension == teacher.configuration.modelDimension,
              configuration.heads == teacher.configuration.heads, configuration.feedForward == teacher.configuration.feedForward else {
            throw RunError("the NAT's widths \(settings.widths) differ from its teacher's (\(teacherPath)); the encoder is copied from it")
        }
        var model = NonAutoregressiveTransformer(configuration: configuration, settings: subject.nat,
                                                 sourceVocabulary: corpus.sourceVocabulary.count,
                                                 targetVocabulary: corpus.targetVocabulary.count, seed: settings.seed)
        model.initializeEncoder(from: teacher.store)
        let train = subject.targets == .raw ? corpus.train : distill(corpus.train, teacher: teacher, corpus: corpus)
        return try Self.subject(settings, model: model, corpus: corpus, train: train, warmup: subject.warmup)
    }

    static func subject<Model: TranslationModel>(_ settings: RunSettings, model: Model, corpus: TranslationCorpus,
                                                 train pairs: [SentencePair], warmup: Int) throws
        -> RunSubject<TranslationEpochTrainer<Model>> {
        let (sv, tv, maxLength) = (corpus.sourceVocabulary, corpus.targetVocabulary, model.configuration.maxLength)
        let train = EncodedSentences(pairs, source: sv, target: tv, maxLength: maxLength)
        let valid = EncodedSentences(corpus.valid, source: sv, target: tv, maxLength: maxLength)
        let test = EncodedSentences(corpus.test, source: sv, target: tv, maxLength: maxLength)
        guard train.count > 0, valid.count > 0, test.count > 0 else {
            throw RunError("the corpus \(settings.dataSource) leaves an empty split after filtering to \(maxLength) tokens")
        }
        let (probe, samples) = Self.probe(train: train, test: test)
        let trainer = TranslationEpochTrainer(model: TranslationRecordedModel(model: model, probe: probe),
                                              optimizer: try optimizer(settings), rng: RandomGenerator(seed: settings.seed &+ 0x5EED),
                                              train: train, validation: valid, batchSize: settings.batchSize, warmup: warmup)
        return RunSubject(trainer: trainer, samples: samples)
    }

    /// The teacher of a complete teacher run on `dataSource`, at its last epoch.
    public static func loadTeacher(_ path: String, dataSource: String, corpus: TranslationCorpus) throws -> AutoregressiveTransformer {
        let manifest = try RunDirectory(path).readManifest()
        guard manifest.settings.task == "translation", (try? TranslationSubjectSettings(manifest.settings.subject))?.model == .teacher else {
            throw RunError("\(path) is not a translation teacher run")
        }
        guard manifest.settings.dataSource == dataSource else {
            throw RunError("the teacher run \(path) was trained on \(manifest.settings.dataSource), not \(dataSource)")
        }
        guard manifest.complete else { throw RunError("the teacher run \(path) is not complete (\(manifest.epochsCompleted) of \(manifest.settings.epochs) epochs)") }
        let run = try TeacherRun.resume(at: path) { try teacherSubject($0, corpus: corpus) }
        return run.trainer.model.model
    }

    /// Sequence-level distillation: the teacher's greedy translations of the
    /// sources, with fertilities from an IBM aligner trained on them.
    public static func distill(_ pairs: [SentencePair], teacher: AutoregressiveTransformer, corpus: TranslationCorpus) -> [SentencePair] {
        let (sv, tv) = (corpus.sourceVocabulary, corpus.targetVocabulary)
        var translated: [(source: [String], target: [String])] = []
        for start in stride(from: 0, to: pairs.count, by: 256) {
            let chunk = pairs[start..<min(pairs.count, start + 256)]
            let outputs = teacher.greedy(chunk.map { sv.encode($0.source) })
            for (pair, output) in zip(chunk, outputs) { translated.append((pair.source, tv.decode(output))) }
        }
        return realign(translated, settings: corpus.description.aligner)
    }
}
