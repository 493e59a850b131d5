// English→Spanish pairs: English sentences from a seeded template grammar,
// translated by the rule-based system Apertium (`apertium eng-spa`, Debian's
// `apertium` and `apertium-eng-spa`) at run time. Apertium's output is GPL, so
// it is generated on each machine and never stored in the repository.
//
// The grammar is
//
//     sentence := clause [("and" | "but") clause] "."
//     clause   := subject (transitive-verb object | copula adjective) [adverb]
//     subject  := determiner [adjective] person-or-animal     (singular or plural)
//     object   := determiner [adjective] thing                (singular or plural)
//
// with the verb agreeing with the subject's number and "a" becoming "an"
// before a vowel. Every word in the lists below is one the installed
// Apertium translates: Apertium marks a word it does not know with `*`, one
// it cannot generate with `#` and a transfer failure with `@`, and every
// output line is checked for the three; any mark is an error naming the word
// and its sentence (the lists must keep them out). English sentences have at
// most 13 tokens with the final period, so that the Spanish side stays near
// the 14 tokens of the paper's filtered corpora.
//
// All sentences go through one Apertium process, one sentence a line:
// Apertium's plain-text mode keeps line breaks, and the number of output lines
// is checked against the input's.

import Foundation
import Tensors

/// Failures of the Apertium corpus.
public enum ApertiumError: Error, CustomStringConvertible, Equatable {
    case notInstalled
    case failed(status: Int32, message: String)
    case lineCount(sent: Int, received: Int)
    case unknownWord(word: String, sentence: String, translation: String)

    public var description: String {
        switch self {
        case .notInstalled:
            return "apertium is not on PATH: install Debian's apertium and apertium-eng-spa (scripts/setup.sh does)"
        case .failed(let status, let message):
            return "apertium eng-spa exited with status \(status): \(message)"
        case .lineCount(let sent, let received):
            return "apertium eng-spa returned \(received) lines for \(sent) sentences"
        case .unknownWord(let word, let sentence, let translation):
            return "apertium eng-spa marked \"\(word)\" as unknown in \"\(sentence)\" → \"\(translation)\""
        }
    }
}

/// English sentences from the template grammar and their Apertium translations.
public enum ApertiumCorpus {
    /// The longest English sentence, in tokens with its period.
    public static let maximumEnglishLength = 13

    /// People and animals (singular, plural): the subjects.
    static let beings: [(String, String)] = pairs("""
        man:men woman:women child:children boy:boys girl:girls dog:dogs cat:cats horse:horses bird:birds \
        teacher:teachers doctor:doctors student:students friend:friends brother:brothers sister:sisters \
        father:fathers mother:mothers king:kings farmer:farmers writer:writers neighbour:neighbours
        """)
    /// Things (singular, plural): the objects.
    static let things: [(String, String)] = pairs("""
        house:houses car:cars book:books letter:letters apple:apples table:tables chair:chairs door:doors \
        window:windows city:cities garden:gardens tree:trees flower:flowers bottle:bottles picture:pictures \
        song:songs story:stories key:keys box:boxes ball:balls shirt:shirts bed:beds river:rivers cake:cakes
        """)
    /// Transitive verbs (third person singular, plural).
    static let verbs: [(String, String)] = pairs("""
        sees:see wants:want buys:buy reads:read writes:write has:have finds:find opens:open sells:sell \
        likes:like needs:need eats:eat paints:paint cleans:clean carries:carry
        """)
    static let adjectives = words("red big small old new good bad long short white black green blue happy sad beautiful young tall cold hot")
    static let adverbs = words("today now here yesterday there")
    static let singularDeterminers = words("the a this that my your his her our their")
    static let pluralDeterminers = words("the these those my your our their two three four many some")

    private static func words(_ s: String) -> [String] { s.split(separator: " ").map(String.init) }
    private static func pairs(_ s: String) -> [(String, String)] {
        s.split(whereSeparator: { $0 == " " || $0 == "\n" }).map {
            let p = $0.split(separator: ":")
            return (String(p[0]), String(p[1]))
        }
    }

    /// `count` distinct English sentences drawn from `seed` (a second clause
    /// with probability 0.3, an adjective in a noun phrase 0.4, a plural 0.3,
    /// the copula instead of a verb 0.2, an adverb 0.3; every word uniform in
    /// its list; sentences longer than `maximumEnglishLength` tokens or drawn
    /// before are rejected). Lowercase, tokens separated by single spaces.
    public static func englishSentences(count: Int, seed: UInt64) -> [String] {
        var rng = RandomGenerator(seed: seed)
        func chance(_ p: Double) -> Bool { rng.nextDouble() < p }
        func pick<T>(_ list: [T]) -> T { list[rng.nextInt(below: list.count)] }
        func nounPhrase(_ nouns: [(String, String)], plural: Bool) -> [String] {
            var np = [plural ? pick(pluralDeterminers) : pick(singularDeterminers)]
            if chance(0.4) { np.append(pick(adjectives)) }
            let noun = pick(nouns)
            np.append(plural ? noun.1 : noun.0)
            if np[0] == "a", let first = np[1].first, "aeiou".contains(first) { np[0] = "an" }
            return np
        }
        func clause() -> [String] {
            let plural = chance(0.3)
            var c = nounPhrase(beings, plural: plural)
            if chance(0.2) {
                c += [plural ? "are" : "is", pick(adjectives)]
            } else {
                let verb = pick(verbs)
                c.append(plural ? verb.1 : verb.0)
                c += nounPhrase(things, plural: chance(0.3))
            }
            if chance(0.3) { c.append(pick(adverbs)) }
            return c
        }
        var seen = Set<String>(), out: [String] = []
        while out.count < count {
            var s = clause()
            if chance(0.3) { s.append(chance(0.5) ? "and" : "but"); s += clause() }
            s.append(".")
            guard s.count <= maximumEnglishLength else { continue }
            let line = s.joined(separator: " ")
            if seen.insert(line).inserted { out.append(line) }
        }
        return out
    }

    /// One sentence for every word of the grammar in every form it takes
    /// (each determiner with each noun of its number, each adjective as
    /// modifier and predicate, each verb in both numbers, each adverb and
    /// conjunction), to check the lists against the installed Apertium.
    public static func probeSentences() -> [String] {
        var lines: [String] = []
        for (singular, plural) in beings + things {
            for d in singularDeterminers {
                let article = d == "a" && "aeiou".contains(singular.first!) ? "an" : d
                lines.append("\(article) \(singular) is here .")
            }
            for d in pluralDeterminers { lines.append("\(d) \(plural) are here .") }
        }
        for a in adjectives {
            lines.append("the \(a) dog is \(a) .")
            lines.append("the \(a) dogs are \(a) .")
        }
        for (singular, plural) in verbs {
            lines.append("the man \(singular) a book today .")
            lines.append("the men \(plural) the books now .")
        }
        for a in adverbs { lines.append("the man sees the dog \(a) .") }
        for c in ["and", "but"] { lines.append("the man sees the dog \(c) the woman reads a book .") }
        return lines
    }

    /// The path of `apertium` on PATH, if any.
    public static func executable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/apertium"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The translations of `lines` (no line breaks inside) by one run of
    /// `apertium <pair>`, one output line per input line, each checked for
    /// unknown-word marks.
    public static func translate(_ lines: [String], pair: String = "eng-spa") throws -> [String] {
        guard let apertium = executable() else { throw ApertiumError.notInstalled }
        precondition(lines.allSatisfy { !$0.contains("\n") && !$0.isEmpty }, "ApertiumCorpus.translate: a line is empty or holds a line break")
        let directory = FileManager.default.temporaryDirectory.path
        let stem = "\(directory)/infoplane-apertium-\(getpid())-\(UInt64(Date().timeIntervalSince1970 * 1e6))"
        let inputPath = stem + ".in", errorPath = stem + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: inputPath)
            try? FileManager.default.removeItem(atPath: errorPath)
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: inputPath))
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        guard let input = FileHandle(forReadingAtPath: inputPath), let errors = FileHandle(forWritingAtPath: errorPath) else {
            throw ApertiumError.failed(status: -1, message: "cannot open the temporary files \(stem).*")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: apertium)
        process.arguments = [pair]
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? input.close()
        try? errors.close()
        guard process.terminationStatus == 0 else {
            let message = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw ApertiumError.failed(status: process.terminationStatus, message: message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var translated = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if translated.last == "" { translated.removeLast() }
        guard translated.count == lines.count else { throw ApertiumError.lineCount(sent: lines.count, received: translated.count) }
        for (line, translation) in zip(lines, translated) {
            if let word = translation.split(separator: " ").first(where: { $0.contains(where: { "*#@".contains($0) }) }) {
                throw ApertiumError.unknownWord(word: String(word), sentence: line, translation: translation)
            }
        }
        return translated
    }

    /// `count` English→Spanish pairs from `seed`, both sides tokenized
    /// (`tokenize`), without fertilities (the aligner gives them).
    public static func generate(count: Int, seed: UInt64) throws -> [SentencePair] {
        let english = englishSentences(count: count, seed: seed)
        let spanish = try translate(english)
        return zip(english, spanish).map { SentencePair(source: tokenize($0), target: tokenize($1)) }
    }
}
