// A translation corpus: its description (kind, seed, split sizes), the
// train / valid / test pairs with every pair's fertilities, and the source
// and target vocabularies of the training split.
//
// A corpus is made in three steps, all determined by its description:
//
// 1. draw trainCount + validCount + testCount pairs with distinct source
//    sentences from `seed` (the synthetic generator, or the English grammar
//    translated by Apertium);
// 2. shuffle them with a generator seeded by seed ^ 0x5EED_5EED_5EED_5EED
//    (Fisher–Yates) and cut train, valid, test in that order, so the splits
//    share no source sentence;
// 3. give every pair its fertilities: the generator's exact ones for the
//    synthetic pair; for Apertium's, the Viterbi fertilities of an IBM Model
//    1+2 aligner (Aligner.swift) trained on the training split, as Gu et al.
//    ran fast_align on their training data.
//
// Only the description is saved (JSON): loading it makes the same corpus
// again, byte for byte for the synthetic pair and for Apertium's as long as
// the installed Apertium translates the same way.

import ArrayIO
import Foundation
import Tensors

/// Where the pairs come from.
public enum CorpusKind: String, Sendable, Codable, CaseIterable {
    /// `SyntheticLanguage.standard`, with exact fertilities.
    case synthetic
    /// English template sentences translated by `apertium eng-spa`.
    case apertiumEnglishSpanish = "apertium-eng-spa"
}

/// Everything needed to make a corpus again.
public struct CorpusDescription: Sendable, Equatable, Codable {
    public var kind: CorpusKind
    public var seed: UInt64
    public var trainCount: Int
    public var validCount: Int
    public var testCount: Int
    /// The aligner's iterations (used for the Apertium pairs).
    public var aligner: IBMAligner.Settings

    /// The default sizes: 20000 training, 500 validation and 500 test pairs.
    public init(kind: CorpusKind, seed: UInt64, trainCount: Int = 20000, validCount: Int = 500, testCount: Int = 500,
                aligner: IBMAligner.Settings = IBMAligner.Settings()) {
        self.kind = kind
        self.seed = seed
        self.trainCount = trainCount
        self.validCount = validCount
        self.testCount = testCount
        self.aligner = aligner
    }

    /// What is wrong with the sizes, if anything.
    public var problem: String? {
        if trainCount < 1 { return "the training split needs at least one pair (got \(trainCount))" }
        if validCount < 0 || testCount < 0 { return "split sizes cannot be negative (valid \(validCount), test \(testCount))" }
        return nil
    }

    /// Writes the description as JSON (sorted keys), atomically.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(self)) + Array("\n".utf8), to: path)
    }

    /// Reads a description written by `write(to:)`.
    public static func read(from path: String) throws -> CorpusDescription {
        try JSONDecoder().decode(CorpusDescription.self, from: Data(AtomicFile.read(path)))
    }
}

/// The splits of a corpus, with vocabularies and fertilities.
public struct TranslationCorpus: Sendable {
    /// The generator's records of a synthetic corpus, split for split.
    public struct SyntheticRecords: Sendable, Equatable {
        public var train: [SyntheticPair]
        public var valid: [SyntheticPair]
        public var test: [SyntheticPair]
    }

    public let description: CorpusDescription
    /// The pairs, each with fertilities summing to its target length.
    public let train: [SentencePair]
    public let valid: [SentencePair]
    public let test: [SentencePair]
    /// The vocabularies of the training split (every token kept).
    public let sourceVocabulary: Vocabulary
    public let targetVocabulary: Vocabulary
    /// A synthetic corpus's alignments and ambiguous choices; nil otherwise.
    public let synthetic: SyntheticRecords?
    /// The aligner trained on the training split (Apertium corpora; nil for
    /// the synthetic pair, whose fertilities are exact).
    public let aligner: IBMAligner?

    /// Makes the corpus `description` describes (see the top of this file).
    ///
    /// - Throws: `ApertiumError` for an Apertium corpus when Apertium is
    ///   missing, fails, or marks a word unknown.
    public init(_ description: CorpusDescription) throws {
        precondition(description.problem == nil, "TranslationCorpus: \(description.problem!)")
        self.description = description
        let total = description.trainCount + description.validCount + description.testCount
        var shuffler = RandomGenerator(seed: description.seed ^ 0x5EED_5EED_5EED_5EED)
        let order = shuffler.permutation(total)
        let trainRange = 0..<description.trainCount
        let validRange = description.trainCount..<(description.trainCount + description.validCount)
        let testRange = (description.trainCount + description.validCount)..<total
        func split<T>(_ items: [T]) -> ([T], [T], [T]) {
            let shuffled = order.map { items[$0] }
            return (Array(shuffled[trainRange]), Array(shuffled[validRange]), Array(shuffled[testRange]))
        }
        switch description.kind {
        case .synthetic:
            let (train, valid, test) = split(SyntheticLanguage.standard.generate(count: total, seed: description.seed))
            self.synthetic = SyntheticRecords(train: train, valid: valid, test: test)
            self.train = train.map(\.pair)
            self.valid = valid.map(\.pair)
            self.test = test.map(\.pair)
            self.aligner = nil
        case .apertiumEnglishSpanish:
            let (train, valid, test) = split(try ApertiumCorpus.generate(count: total, seed: description.seed))
            let aligner = IBMAligner(training: train, settings: description.aligner)
            func aligned(_ pairs: [SentencePair]) -> [SentencePair] {
                pairs.map { p in
                    // Sources have at least 3 tokens and targets far fewer than 147: m ≤ 49 l.
                    SentencePair(source: p.source, target: p.target, fertilities: aligner.fertilities(source: p.source, target: p.target)!)
                }
            }
            self.synthetic = nil
            self.train = aligned(train)
            self.valid = aligned(valid)
            self.test = aligned(test)
            self.aligner = aligner
        }
        sourceVocabulary = Vocabulary(sentences: self.train.map(\.source))
        targetVocabulary = Vocabulary(sentences: self.train.map(\.target))
    }

    /// Makes the corpus a description file describes.
    public init(contentsOf path: String) throws {
        try self.init(CorpusDescription.read(from: path))
    }

    /// The split named "train", "valid" or "test".
    public func split(_ name: String) -> [SentencePair]? {
        switch name {
        case "train": return train
        case "valid": return valid
        case "test": return test
        default: return nil
        }
    }
}

/// The pairs (source, new target) with the fertilities of `aligner`'s
/// Viterbi alignment, or, when `aligner` is nil, of a fresh aligner trained
/// on these pairs (with `settings`): how a distilled corpus, whose targets are
/// a teacher's translations, gets its fertilities. A pair whose target is
/// longer than 49 times its source has no fertilities (nil).
public func realign(_ pairs: [(source: [String], target: [String])], with aligner: IBMAligner? = nil,
                    settings: IBMAligner.Settings = IBMAligner.Settings()) -> [SentencePair] {
    let aligner = aligner ?? IBMAligner(training: pairs, settings: settings)
    return pairs.map { SentencePair(source: $0.source, target: $0.target, fertilities: aligner.fertilities(source: $0.source, target: $0.target)) }
}

// MARK: Sentence files

/// `sentences` as text, one a line, tokens joined by single spaces, every
/// line ending in a line break.
public func sentenceText(_ sentences: [[String]]) -> String {
    sentences.map { $0.joined(separator: " ") + "\n" }.joined()
}

/// Writes `sentences` to `path` atomically, one a line (`sentenceText`).
public func writeSentences(_ sentences: [[String]], to path: String) throws {
    try AtomicFile.write(sentenceText(sentences), to: path)
}

/// Writes sources, references and hypotheses beside each other as
/// `<prefix>.source.txt`, `<prefix>.reference.txt` and
/// `<prefix>.hypothesis.txt`, atomically, after checking that they have as
/// many sentences each.
public func writeTranslations(sources: [[String]], references: [[String]], hypotheses: [[String]], prefix: String) throws {
    precondition(sources.count == references.count && references.count == hypotheses.count,
                 "writeTranslations: \(sources.count) sources, \(references.count) references, \(hypotheses.count) hypotheses")
    try writeSentences(sources, to: prefix + ".source.txt")
    try writeSentences(references, to: prefix + ".reference.txt")
    try writeSentences(hypotheses, to: prefix + ".hypothesis.txt")
}

/// The lines of `text` split into tokens at whitespace, as sacreBLEU reads
/// them: lines end at "\n" (a "\r" before it is whitespace), a final line
/// break does not start another line, and a line of spaces is an empty
/// sentence. Tokens are not lowercased or re-tokenized.
public func sentenceLines(_ text: String) -> [[String]] {
    var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    return lines.map { line in
        line.split(whereSeparator: { $0.properties.isWhitespace }).map { String(String.UnicodeScalarView($0)) }
    }
}

/// The sentences of the file at `path` (`sentenceLines`).
public func readSentences(_ path: String) throws -> [[String]] {
    sentenceLines(try AtomicFile.readText(path))
}
