// A synthetic language pair whose alignments, fertilities and ambiguities
// are known exactly.
//
// The source language has a small grammar,
//
//     sentence := clause | clause conjunction clause
//     clause   := np verb [particle] [np] [adverb | ambiguous]
//     np       := [determiner] [number] [adjective] noun
//
// and every source word has a fixed translation, so that each pair comes with
// the alignment that produced it. The rules are chosen to exercise what Gu et
// al. (2018) model with fertilities:
//
// - fertility 0: two of the four determiners and the particle have no
//   translation (they are dropped);
// - fertility 1: the other determiners, numbers, adjectives, simple nouns,
//   simple verbs, adverbs and conjunctions;
// - fertility 2: a compound noun becomes two target words, and a compound verb
//   an auxiliary (one of two, fixed per verb) followed by its stem;
// - local reordering: an adjective follows its noun on the target side
//   ("big house" becomes "house big"); phrase and clause order are kept;
// - multimodality: each of eight ambiguous words has two equally likely
//   translations of different lengths, mode A one token "x", mode B two tokens
//   "y z" (as "Danke schön" is "thank you" or "thanks"), chosen independently
//   for each occurrence by the generator. The tokens x, y and z of an ambiguous
//   word belong to it alone, so an output can be read back for the mode it
//   chose (`classifyAmbiguous`).
//
// The words are pronounceable and the two vocabularies are disjoint: source
// words are two or three syllables over the consonants b d k l m n p r s t,
// target words over f g h j v w z sh ch (a final n or r allowed), both with
// the vowels a e i o u, drawn without repetition by a generator with a fixed
// seed (the lexicon is part of the language, not of a corpus).

import Tensors

/// Which of an ambiguous word's two translations an occurrence took.
public enum AmbiguityMode: String, Sendable, Codable, CaseIterable {
    /// The one-token translation "x".
    case a
    /// The two-token translation "y z".
    case b
}

/// The mode one ambiguous source position chose.
public struct AmbiguousChoice: Sendable, Equatable, Codable {
    /// The position of the ambiguous word in the source sentence.
    public var position: Int
    public var mode: AmbiguityMode

    public init(position: Int, mode: AmbiguityMode) {
        self.position = position
        self.mode = mode
    }
}

/// A generated pair with everything the generator knows about it.
public struct SyntheticPair: Sendable, Equatable, Codable {
    /// The sentences and their exact fertilities.
    public var pair: SentencePair
    /// For each target position, the source position it translates.
    public var alignment: [Int]
    /// The mode each ambiguous source word chose, by increasing position.
    public var choices: [AmbiguousChoice]
}

/// How a hypothesis rendered one ambiguous source word (see `SyntheticLanguage.classifyAmbiguous`).
public enum AmbiguityOutcome: String, Sendable, Codable, CaseIterable {
    case modeA, modeB, mixed, missing
}

/// The outcome for one ambiguous word of a source sentence.
public struct AmbiguityClassification: Sendable, Equatable {
    /// The (first) position of the ambiguous word in the source.
    public var position: Int
    public var word: String
    public var outcome: AmbiguityOutcome
}

/// The synthetic language pair: its lexicon, its sentence generator and the
/// reading of ambiguous words in outputs.
public struct SyntheticLanguage: Sendable {
    public enum Category: String, Sendable, Codable, CaseIterable {
        case determiner, number, adjective, noun, verb, adverb, ambiguous, conjunction, particle
    }

    /// A source word and its translation(s): one token sequence (possibly
    /// empty), or for an ambiguous word mode A's and mode B's.
    public struct Entry: Sendable, Equatable {
        public let word: String
        public let category: Category
        public let translations: [[String]]
    }

    /// Every source word, by category in the order of `Category.allCases`.
    public let entries: [Entry]
    private let index: [String: Int]
    private let byCategory: [Category: [Int]]

    /// The standard pair every corpus uses (lexicon seed 2018).
    public static let standard = SyntheticLanguage(lexiconSeed: 2018)

    /// Sentence lengths the generator keeps (source tokens).
    public static let lengths = 4...12

    /// A language whose words are drawn with `lexiconSeed`.
    ///
    /// Categories and sizes: 4 determiners (2 dropped, 2 of fertility 1),
    /// 8 numbers, 24 adjectives, 48 simple and 12 compound nouns, 24 simple and
    /// 12 compound verbs (auxiliaries: 2 target words), 12 adverbs, 8
    /// ambiguous words, 2 conjunctions and 1 particle (dropped): 155 source
    /// words and 182 target words.
    public init(lexiconSeed: UInt64) {
        var rng = RandomGenerator(seed: lexiconSeed)
        var usedSource = Set<String>(), usedTarget = Set<String>()
        func draw(_ consonants: [String], _ finals: [String], _ used: inout Set<String>) -> String {
            let vowels = ["a", "e", "i", "o", "u"]
            while true {
                let syllables = 2 + (rng.nextInt(below: 4) == 0 ? 1 : 0)
                var w = ""
                for _ in 0..<syllables {
                    w += consonants[rng.nextInt(below: consonants.count)] + vowels[rng.nextInt(below: vowels.count)]
                }
                if !finals.isEmpty, rng.nextInt(below: 3) == 0 { w += finals[rng.nextInt(below: finals.count)] }
                if used.insert(w).inserted { return w }
            }
        }
        let sourceConsonants = ["b", "d", "k", "l", "m", "n", "p", "r", "s", "t"]
        let targetConsonants = ["f", "g", "h", "j", "v", "w", "z", "sh", "ch"]
        func src() -> String { draw(sourceConsonants, [], &usedSource) }
        func tgt() -> String { draw(targetConsonants, ["n", "r"], &usedTarget) }

        var entries: [Entry] = []
        func add(_ category: Category, _ count: Int, _ translation: () -> [[String]]) {
            for _ in 0..<count { entries.append(Entry(word: src(), category: category, translations: translation())) }
        }
        add(.determiner, 2) { [[]] }
        add(.determiner, 2) { [[tgt()]] }
        add(.number, 8) { [[tgt()]] }
        add(.adjective, 24) { [[tgt()]] }
        add(.noun, 48) { [[tgt()]] }
        add(.noun, 12) { [[tgt(), tgt()]] }
        add(.verb, 24) { [[tgt()]] }
        let auxiliaries = [tgt(), tgt()]
        var compoundVerbs = 0
        add(.verb, 12) {
            compoundVerbs += 1
            return [[auxiliaries[compoundVerbs % 2], tgt()]]
        }
        add(.adverb, 12) { [[tgt()]] }
        add(.ambiguous, 8) { [[tgt()], [tgt(), tgt()]] }
        add(.conjunction, 2) { [[tgt()]] }
        add(.particle, 1) { [[]] }
        self.init(entries: entries)
    }

    /// A language of exactly `entries` (distinct words; an ambiguous word has
    /// two translations, the first one token and the second two, of tokens no
    /// other entry produces).
    public init(entries: [Entry]) {
        var index: [String: Int] = [:], byCategory: [Category: [Int]] = [:]
        for (i, e) in entries.enumerated() {
            precondition(index[e.word] == nil, "SyntheticLanguage: \"\(e.word)\" appears twice")
            precondition(e.category == .ambiguous
                         ? e.translations.count == 2 && e.translations[0].count == 1 && e.translations[1].count == 2
                         : e.translations.count == 1,
                         "SyntheticLanguage: \"\(e.word)\" has translations \(e.translations)")
            index[e.word] = i
            byCategory[e.category, default: []].append(i)
        }
        self.entries = entries
        self.index = index
        self.byCategory = byCategory
    }

    /// The entry of source word `word`, if it is one.
    public func entry(_ word: String) -> Entry? { index[word].map { entries[$0] } }

    /// Every target word the language can produce.
    public var targetWords: Set<String> { Set(entries.flatMap { $0.translations.joined() }) }

    // MARK: Generation

    /// `count` pairs with distinct source sentences, drawn from `seed`.
    ///
    /// Each sentence is drawn from the grammar (a second clause with
    /// probability 0.35; in a noun phrase a determiner with probability 0.7, a
    /// number 0.25, an adjective 0.4; a particle after the verb 0.3; an object
    /// 0.75; a final adverb slot 0.6, filled by an ambiguous word half of the
    /// time) and rejected if its length is outside `lengths`, if it repeats an
    /// ambiguous word, or if its source sentence was drawn before. Every word
    /// is uniform in its category, every ambiguous occurrence picks its mode
    /// with a fair coin. The same seed gives the same pairs.
    public func generate(count: Int, seed: UInt64) -> [SyntheticPair] {
        var rng = RandomGenerator(seed: seed)
        var seen = Set<[String]>()
        var pairs: [SyntheticPair] = []
        pairs.reserveCapacity(count)
        while pairs.count < count {
            let words = drawSentence(&rng)
            guard SyntheticLanguage.lengths.contains(words.count) else { continue }
            let ambiguous = words.filter { entries[$0].category == .ambiguous }
            guard Set(ambiguous).count == ambiguous.count else { continue }
            let source = words.map { entries[$0].word }
            guard seen.insert(source).inserted else { continue }
            var modes: [AmbiguityMode?] = []
            for w in words {
                modes.append(entries[w].category == .ambiguous ? (rng.nextInt(below: 2) == 0 ? .a : .b) : nil)
            }
            pairs.append(translate(words, modes: modes))
        }
        return pairs
    }

    /// One sentence of the grammar, as entry indices.
    private func drawSentence(_ rng: inout RandomGenerator) -> [Int] {
        func chance(_ p: Double) -> Bool { rng.nextDouble() < p }
        func pick(_ c: Category) -> Int {
            let list = byCategory[c]!
            return list[rng.nextInt(below: list.count)]
        }
        func nounPhrase() -> [Int] {
            var np: [Int] = []
            if chance(0.7) { np.append(pick(.determiner)) }
            if chance(0.25) { np.append(pick(.number)) }
            if chance(0.4) { np.append(pick(.adjective)) }
            np.append(pick(.noun))
            return np
        }
        func clause() -> [Int] {
            var c = nounPhrase()
            c.append(pick(.verb))
            if chance(0.3) { c.append(pick(.particle)) }
            if chance(0.75) { c += nounPhrase() }
            if chance(0.6) { c.append(pick(chance(0.5) ? .ambiguous : .adverb)) }
            return c
        }
        var s = clause()
        if chance(0.35) { s.append(pick(.conjunction)); s += clause() }
        return s
    }

    /// The translation of a sentence of entry indices, with the mode of each
    /// ambiguous word: words in order, except that an adjective is emitted
    /// after the noun that follows it.
    private func translate(_ words: [Int], modes: [AmbiguityMode?]) -> SyntheticPair {
        var target: [String] = [], alignment: [Int] = [], fertilities = [Int](repeating: 0, count: words.count)
        var choices: [AmbiguousChoice] = []
        func emit(_ position: Int) {
            let e = entries[words[position]]
            let tokens = e.translations[modes[position] == .b ? 1 : 0]
            target += tokens
            alignment += Array(repeating: position, count: tokens.count)
            fertilities[position] = tokens.count
        }
        var i = 0
        while i < words.count {
            if let mode = modes[i] { choices.append(AmbiguousChoice(position: i, mode: mode)) }
            if entries[words[i]].category == .adjective, i + 1 < words.count, entries[words[i + 1]].category == .noun {
                emit(i + 1)
                emit(i)
                i += 2
            } else {
                emit(i)
                i += 1
            }
        }
        let source = words.map { entries[$0].word }
        return SyntheticPair(pair: SentencePair(source: source, target: target, fertilities: fertilities),
                             alignment: alignment, choices: choices)
    }

    /// The reference translation of `source` with the given mode for each of
    /// its ambiguous words (in order of position); nil if a word is not in the
    /// lexicon or the number of modes differs from the number of ambiguous words.
    public func translate(_ source: [String], modes: [AmbiguityMode]) -> SyntheticPair? {
        var words: [Int] = []
        for w in source {
            guard let i = index[w] else { return nil }
            words.append(i)
        }
        var remaining = modes[...]
        var perPosition: [AmbiguityMode?] = []
        for w in words {
            if entries[w].category == .ambiguous {
                guard let m = remaining.popFirst() else { return nil }
                perPosition.append(m)
            } else {
                perPosition.append(nil)
            }
        }
        guard remaining.isEmpty else { return nil }
        return translate(words, modes: perPosition)
    }

    // MARK: Reading outputs

    /// How `hypothesis` rendered each ambiguous word of `source`, one
    /// classification per distinct ambiguous word, by its first position.
    ///
    /// With x mode A's token and y z mode B's (tokens only this word produces):
    ///
    /// - `missing`: none of x, y, z occurs in the hypothesis;
    /// - `modeA`: x occurs, and neither y nor z;
    /// - `modeB`: y and z occur, each y immediately followed by a z and each z
    ///   immediately preceded by a y, and x does not occur;
    /// - `mixed`: anything else: tokens of both modes ("y x", "x z"), or an
    ///   incomplete or broken mode B ("y" alone, "z y", "y z z").
    ///
    /// A mixed output is what a model that averages over the two modes
    /// produces; its rate over all ambiguous occurrences is the subject's
    /// mixed-mode rate. The generator never repeats an ambiguous word in one
    /// sentence, so the outcome of a word is that of its occurrence.
    public func classifyAmbiguous(source: [String], hypothesis: [String]) -> [AmbiguityClassification] {
        var counts: [String: Int] = [:], bigrams: [[String]: Int] = [:]
        for (k, t) in hypothesis.enumerated() {
            counts[t, default: 0] += 1
            if k + 1 < hypothesis.count { bigrams[[t, hypothesis[k + 1]], default: 0] += 1 }
        }
        var done = Set<String>(), out: [AmbiguityClassification] = []
        for (position, word) in source.enumerated() {
            guard let e = entry(word), e.category == .ambiguous, done.insert(word).inserted else { continue }
            let x = e.translations[0][0], y = e.translations[1][0], z = e.translations[1][1]
            let nx = counts[x] ?? 0, ny = counts[y] ?? 0, nz = counts[z] ?? 0
            let outcome: AmbiguityOutcome
            if nx == 0 && ny == 0 && nz == 0 {
                outcome = .missing
            } else if ny == 0 && nz == 0 {
                outcome = .modeA
            } else if nx == 0 && ny == nz && bigrams[[y, z]] == ny {
                outcome = .modeB
            } else {
                outcome = .mixed
            }
            out.append(AmbiguityClassification(position: position, word: word, outcome: outcome))
        }
        return out
    }
}
