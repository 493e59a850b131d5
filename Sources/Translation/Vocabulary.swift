// Tokens and vocabularies of the translation subject.
//
// Tokenization: a line is lowercased, then split into maximal runs of
// letters and digits (a word, "pequeño" or "12") and single other
// non-space characters (punctuation, "¿", "."), so "¿Dónde está?" becomes
// ["¿", "dónde", "está", "?"]. Joining tokens with single spaces is the
// detokenized form every BLEU score here is computed on.
//
// A vocabulary numbers its special symbols first: padding 0, start of
// sentence 1, end of sentence 2, unknown 3; then the words of the training
// split in order of decreasing count (ties by the words' order).

/// The tokens of `line`: lowercased words and single punctuation characters.
public func tokenize(_ line: String) -> [String] {
    var tokens: [String] = []
    var word = ""
    for ch in line.lowercased() {
        if ch.isLetter || ch.isNumber {
            word.append(ch)
        } else {
            if !word.isEmpty { tokens.append(word); word = "" }
            if !ch.isWhitespace { tokens.append(String(ch)) }
        }
    }
    if !word.isEmpty { tokens.append(word) }
    return tokens
}

/// A source sentence, its reference translation and, when known, how many
/// target tokens each source token becomes (its fertility).
public struct SentencePair: Sendable, Equatable, Codable {
    public var source: [String]
    public var target: [String]
    /// One count per source token, summing to `target.count`; nil when not known.
    public var fertilities: [Int]?

    public init(source: [String], target: [String], fertilities: [Int]? = nil) {
        if let fertilities {
            precondition(fertilities.count == source.count && fertilities.reduce(0, +) == target.count,
                         "SentencePair: fertilities \(fertilities) for \(source.count) source and \(target.count) target tokens")
        }
        self.source = source
        self.target = target
        self.fertilities = fertilities
    }
}

/// Tokens numbered for embedding tables, with the special symbols first.
public struct Vocabulary: Sendable, Equatable, Codable {
    public static let padding = 0, start = 1, end = 2, unknown = 3
    public static let specials = ["<pad>", "<s>", "</s>", "<unk>"]

    /// Every token, by index (`specials` first).
    public let tokens: [String]
    private let index: [String: Int]

    /// The vocabulary of `sentences`: the specials, then every token by
    /// decreasing count, ties in order of first appearance; tokens seen
    /// fewer than `minimumCount` times are left out (they read as unknown).
    public init(sentences: [[String]], minimumCount: Int = 1) {
        var counts: [String: Int] = [:], order: [String] = []
        for sentence in sentences {
            for token in sentence {
                if counts[token] == nil { order.append(token) }
                counts[token, default: 0] += 1
            }
        }
        let firstSeen = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        let kept = order.filter { counts[$0]! >= minimumCount && !Vocabulary.specials.contains($0) }
            .sorted { (counts[$0]!, firstSeen[$1]!) > (counts[$1]!, firstSeen[$0]!) }
        self.init(tokens: Vocabulary.specials + kept)
    }

    /// A vocabulary of exactly `tokens`, which must start with `specials` and not repeat.
    public init(tokens: [String]) {
        precondition(Array(tokens.prefix(Vocabulary.specials.count)) == Vocabulary.specials,
                     "Vocabulary: the first tokens must be \(Vocabulary.specials)")
        self.tokens = tokens
        var index: [String: Int] = [:]
        for (i, t) in tokens.enumerated() {
            precondition(index[t] == nil, "Vocabulary: token \"\(t)\" appears twice")
            index[t] = i
        }
        self.index = index
    }

    public var count: Int { tokens.count }

    /// The index of `token` (`unknown` when it is not in the vocabulary).
    public func id(_ token: String) -> Int { index[token] ?? Vocabulary.unknown }

    /// The indices of `sentence`, without start or end symbols.
    public func encode(_ sentence: [String]) -> [Int] { sentence.map(id) }

    /// The tokens of `ids` up to the first end symbol, with start and
    /// padding symbols left out.
    public func decode(_ ids: [Int]) -> [String] {
        var out: [String] = []
        for i in ids {
            if i == Vocabulary.end { break }
            if i == Vocabulary.padding || i == Vocabulary.start { continue }
            out.append(i >= 0 && i < tokens.count ? tokens[i] : Vocabulary.specials[Vocabulary.unknown])
        }
        return out
    }

    enum CodingKeys: String, CodingKey { case tokens }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let tokens = try container.decode([String].self, forKey: .tokens)
        guard Array(tokens.prefix(Vocabulary.specials.count)) == Vocabulary.specials, Set(tokens).count == tokens.count else {
            throw DecodingError.dataCorruptedError(forKey: .tokens, in: container,
                                                   debugDescription: "a vocabulary starts with \(Vocabulary.specials) and repeats no token")
        }
        self.init(tokens: tokens)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tokens, forKey: .tokens)
    }
}
