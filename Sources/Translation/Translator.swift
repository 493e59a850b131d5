// A trained translation run as a translator: its vocabularies (written into
// the run directory beside the manifest), its final weights (weights.npz of
// a complete run) and, for a NAT, its teacher (which noisy parallel decoding
// scores candidates with), and the decoders of Gu et al.'s Table 1.

import ActivationStore
import ArrayIO
import Foundation
import NeuralNets
import Tensors
import Training

/// The decoders a translator offers.
public enum TranslationDecoder: String, Sendable, CaseIterable, Codable {
    /// The teacher, greedy, with cached keys and values.
    case arGreedy = "ar-greedy"
    /// The teacher, beam search (GNMT length penalty, α = 0.6).
    case arBeam = "ar-beam"
    /// The NAT with argmax fertilities.
    case nat
    /// The NAT with average fertilities (round of the expected fertility).
    case natAverage = "nat-average"
    /// Noisy parallel decoding: the NAT's `samples` fertility sequences
    /// decoded in one batch, the teacher's best kept.
    case npd

    public var needsNAT: Bool { [.nat, .natAverage, .npd].contains(self) }
}

/// The vocabularies of a translation run, as `vocabulary.json` in its directory.
public struct TranslationVocabularies: Codable, Sendable, Equatable {
    public var source: Vocabulary
    public var target: Vocabulary

    public init(source: Vocabulary, target: Vocabulary) {
        self.source = source
        self.target = target
    }

    public static func path(_ run: String) -> String { run + "/vocabulary.json" }

    public func write(run: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write([UInt8](try encoder.encode(self)), to: Self.path(run))
    }

    public static func read(run: String) throws -> TranslationVocabularies {
        let path = Self.path(run)
        let bytes = try AtomicFile.read(path)
        do { return try JSONDecoder().decode(TranslationVocabularies.self, from: Data(bytes)) } catch {
            throw FileError(path: path, reason: "not the vocabularies of a translation run (\(error))")
        }
    }
}

/// A complete translation run, ready to translate.
public struct Translator: Sendable {
    public let vocabularies: TranslationVocabularies
    /// The teacher: the run's model, or a NAT run's teacher.
    public let teacher: AutoregressiveTransformer?
    /// The NAT of a NAT run.
    public let nat: NonAutoregressiveTransformer?

    public init(vocabularies: TranslationVocabularies, teacher: AutoregressiveTransformer?, nat: NonAutoregressiveTransformer?) {
        self.vocabularies = vocabularies
        self.teacher = teacher
        self.nat = nat
    }

    /// Loads the run at `path` (and, for a NAT, its teacher run).
    /// - Throws: `RunError` or `FileError` naming the run that is not a
    ///   complete translation run, or a missing or damaged file.
    public init(run path: String) throws {
        let manifest = try RunDirectory(path).readManifest()
        guard manifest.settings.task == "translation" else { throw RunError("\(path) is a \(manifest.settings.task) run, not a translation run") }
        guard manifest.complete else {
            throw RunError("\(path) is not complete (\(manifest.epochsCompleted) of \(manifest.settings.epochs) epochs); finish it with train --resume")
        }
        let subject = try TranslationSubjectSettings(manifest.settings.subject)
        let vocabularies = try TranslationVocabularies.read(run: path)
        let configuration = try TranslationRunSubject.configuration(manifest.settings)
        switch subject.model {
        case .teacher:
            var teacher = AutoregressiveTransformer(configuration: configuration, sourceVocabulary: vocabularies.source.count,
                                                    targetVocabulary: vocabularies.target.count, seed: manifest.settings.seed)
            try teacher.store.load(from: RunDirectory(path).weights)
            self.init(vocabularies: vocabularies, teacher: teacher, nat: nil)
        case .nat:
            var nat = NonAutoregressiveTransformer(configuration: configuration, settings: subject.nat,
                                                   sourceVocabulary: vocabularies.source.count,
                                                   targetVocabulary: vocabularies.target.count, seed: manifest.settings.seed)
            try nat.store.load(from: RunDirectory(path).weights)
            let teacher = try Translator(run: subject.teacher!)
            guard teacher.vocabularies == vocabularies, let model = teacher.teacher, teacher.nat == nil else {
                throw RunError("the teacher run \(subject.teacher!) of \(path) is not a teacher with the same vocabularies")
            }
            self.init(vocabularies: vocabularies, teacher: model, nat: nat)
        }
    }

    /// Why `decoder` cannot run with this translator, or nil.
    public func problem(_ decoder: TranslationDecoder) -> String? {
        if decoder.needsNAT && nat == nil { return "decoder \(decoder.rawValue) needs a NAT run; this run is a teacher" }
        if !decoder.needsNAT && nat != nil {
            return "decoder \(decoder.rawValue) is the teacher's; translate with the teacher run instead"
        }
        return nil
    }

    /// Translations of token-id sources, in `chunk`-sentence batches (the
    /// teacher's beam search one sentence at a time). `rng` draws NPD's samples.
    public func translate(ids sources: [[Int]], decoder: TranslationDecoder, samples: Int = 10, beam: Int = 4,
                          chunk: Int = 128, rng: inout RandomGenerator) -> [[Int]] {
        precondition(problem(decoder) == nil, "Translator: \(problem(decoder)!)")
        let limit = (nat?.configuration ?? teacher!.configuration).maxLength
        let clipped = sources.map { Array($0.prefix(limit)) }
        var outputs: [[Int]] = []
        for start in stride(from: 0, to: clipped.count, by: chunk) {
            let part = Array(clipped[start..<min(clipped.count, start + chunk)])
            switch decoder {
            case .arGreedy: outputs += teacher!.greedy(part)
            case .arBeam: outputs += part.map { teacher!.beamSearch($0, beam: beam).tokens }
            case .nat: outputs += nat!.translate(part, .argmax)
            case .natAverage: outputs += nat!.translate(part, .average)
            case .npd:
                let teacher = self.teacher!
                outputs += nat!.noisyParallelDecode(part, samples: samples, rng: &rng) { s, c in
                    teacher.logLikelihoods(sources: s, targets: c)
                }
            }
        }
        return outputs
    }

    /// Translations of tokenized sentences (unknown words become <unk>).
    public func translate(_ sentences: [[String]], decoder: TranslationDecoder, samples: Int = 10, beam: Int = 4,
                          rng: inout RandomGenerator) -> [[String]] {
        translate(ids: sentences.map(vocabularies.source.encode), decoder: decoder, samples: samples, beam: beam, rng: &rng)
            .map(vocabularies.target.decode)
    }
}
