// Corpus assembly: splits, vocabularies, the saved description that makes
// the same corpus again, re-alignment and the sentence files.

import ArrayIO
import Foundation
import Testing
import Translation

@Test func synthetic_splits_are_disjoint_deterministic_and_sized() throws {
    let d = CorpusDescription(kind: .synthetic, seed: 7, trainCount: 3000, validCount: 200, testCount: 100)
    let a = try TranslationCorpus(d), b = try TranslationCorpus(d)
    #expect(a.train == b.train && a.valid == b.valid && a.test == b.test && a.synthetic == b.synthetic)
    #expect(a.train.count == 3000 && a.valid.count == 200 && a.test.count == 100)
    let train = Set(a.train.map(\.source)), valid = Set(a.valid.map(\.source)), test = Set(a.test.map(\.source))
    #expect(train.count == 3000 && valid.count == 200 && test.count == 100)
    #expect(train.isDisjoint(with: valid) && train.isDisjoint(with: test) && valid.isDisjoint(with: test))
    // The splits are a shuffle of the generator's pairs, with its fertilities.
    let generated = SyntheticLanguage.standard.generate(count: 3300, seed: 7).map(\.pair)
    #expect(Set(generated.map(\.source)) == train.union(valid).union(test))
    #expect(Array(generated.prefix(3000)) != a.train)
    #expect(a.synthetic!.test.map(\.pair) == a.test)
    let other = try TranslationCorpus(CorpusDescription(kind: .synthetic, seed: 8, trainCount: 3000, validCount: 200, testCount: 100))
    #expect(other.test != a.test)
    // The vocabularies are the training split's.
    #expect(Set(a.sourceVocabulary.tokens.dropFirst(4)) == Set(a.train.flatMap(\.source)))
    #expect(Set(a.targetVocabulary.tokens.dropFirst(4)) == Set(a.train.flatMap(\.target)))
}

@Test func a_saved_description_makes_the_same_corpus() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try AtomicFile.createDirectory(dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let d = CorpusDescription(kind: .synthetic, seed: 12, trainCount: 400, validCount: 30, testCount: 20)
    try d.write(to: dir + "/corpus.json")
    #expect(try CorpusDescription.read(from: dir + "/corpus.json") == d)
    let text = try AtomicFile.readText(dir + "/corpus.json")
    #expect(text.contains("\"kind\" : \"synthetic\"") && text.contains("\"seed\" : 12"))
    #expect(try TranslationCorpus(contentsOf: dir + "/corpus.json").test == TranslationCorpus(d).test)
    let apertium = CorpusDescription(kind: .apertiumEnglishSpanish, seed: 3)
    try apertium.write(to: dir + "/a.json")
    #expect(try AtomicFile.readText(dir + "/a.json").contains("\"apertium-eng-spa\""))
    #expect(try CorpusDescription.read(from: dir + "/a.json") == apertium)
}

@Test func realigning_new_targets_gives_fertilities_that_sum_to_their_lengths() throws {
    let corpus = try TranslationCorpus(CorpusDescription(kind: .synthetic, seed: 5, trainCount: 3000, validCount: 100, testCount: 100))
    // A "distilled" target: each reference with its ambiguous words all in mode A.
    let language = SyntheticLanguage.standard
    let distilled = corpus.train.map { p -> (source: [String], target: [String]) in
        let modes = p.source.compactMap { language.entry($0)?.category == .ambiguous ? AmbiguityMode.a : nil }
        return (p.source, language.translate(p.source, modes: modes)!.pair.target)
    }
    let fresh = realign(distilled)
    #expect(fresh.count == distilled.count)
    #expect(fresh.allSatisfy { $0.fertilities!.reduce(0, +) == $0.target.count })
    let exact = zip(fresh, distilled).filter { f, d in
        let modes = d.source.compactMap { language.entry($0)?.category == .ambiguous ? AmbiguityMode.a : nil }
        return f.fertilities == language.translate(d.source, modes: modes)!.pair.fertilities
    }.count
    #expect(Double(exact) / Double(fresh.count) > 0.85, "\(exact) of \(fresh.count)")
    // With an aligner trained on the original corpus.
    let trained = IBMAligner(training: corpus.train)
    let again = realign(distilled, with: trained)
    #expect(again.allSatisfy { $0.fertilities!.reduce(0, +) == $0.target.count })
    // A target too long for capped fertilities has none.
    #expect(realign([(["a"], Array(repeating: "x", count: 50))], with: trained)[0].fertilities == nil)
}

@Test func sentence_files_hold_one_sentence_a_line() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentences-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try AtomicFile.createDirectory(dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let src = [["a", "b"], ["c"], []], ref = [["x"], [], ["y", "z", "."]], hyp = [["x", "x"], ["q"], ["y"]]
    try writeTranslations(sources: src, references: ref, hypotheses: hyp, prefix: dir + "/test")
    #expect(try AtomicFile.readText(dir + "/test.source.txt") == "a b\nc\n\n")
    #expect(try AtomicFile.readText(dir + "/test.reference.txt") == "x\n\ny z .\n")
    #expect(try readSentences(dir + "/test.hypothesis.txt") == hyp)
    #expect(try readSentences(dir + "/test.reference.txt") == ref)
    #expect(sentenceLines("a  b\r\n\t\nc") == [["a", "b"], [], ["c"]])
    #expect(sentenceLines("") == [])
    #expect(sentenceLines("\n") == [[]])
}
