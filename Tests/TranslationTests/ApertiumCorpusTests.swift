// The English→Spanish corpus through the installed Apertium (skipped, with
// the reason, when `apertium` is not on PATH).

import Foundation
import Testing
import Translation

private let apertiumInstalled = ApertiumCorpus.executable() != nil

@Test(.enabled(if: apertiumInstalled, "apertium is not on PATH: install Debian's apertium and apertium-eng-spa"))
func every_word_of_the_grammar_is_known_to_apertium() throws {
    let probes = ApertiumCorpus.probeSentences()
    let spanish = try ApertiumCorpus.translate(probes)
    #expect(spanish.count == probes.count)
    #expect(spanish.allSatisfy { !$0.contains(where: { "*#@".contains($0) }) && !$0.isEmpty })
    #expect(try ApertiumCorpus.translate(["the dog is big .", "the dogs are small ."]) == ["El perro es grande .", "Los perros son pequeños ."])
}

@Test(.enabled(if: apertiumInstalled, "apertium is not on PATH: install Debian's apertium and apertium-eng-spa"))
func unknown_words_are_refused_by_name() throws {
    #expect(throws: ApertiumError.unknownWord(word: "*blorptaxe", sentence: "the dog sees blorptaxe .", translation: "El perro ve *blorptaxe .")) {
        _ = try ApertiumCorpus.translate(["the dog is big .", "the dog sees blorptaxe ."])
    }
}

@Test func english_sentences_are_seeded_distinct_and_short() {
    let a = ApertiumCorpus.englishSentences(count: 3000, seed: 4)
    #expect(a == ApertiumCorpus.englishSentences(count: 3000, seed: 4))
    #expect(a != ApertiumCorpus.englishSentences(count: 3000, seed: 5))
    #expect(Set(a).count == a.count)
    #expect(a.allSatisfy { tokenize($0).count <= ApertiumCorpus.maximumEnglishLength && $0.hasSuffix(" .") })
    #expect(a.contains { $0.contains(" and ") } && a.contains { $0.contains(" an ") })
    #expect(!a.contains { $0.contains(" a a") || $0.contains(" a e") || $0.contains(" a o") })
}

@Test(.enabled(if: apertiumInstalled, "apertium is not on PATH: install Debian's apertium and apertium-eng-spa"))
func the_default_apertium_corpus_is_aligned_line_for_line() throws {
    let start = Date()
    let corpus = try TranslationCorpus(CorpusDescription(kind: .apertiumEnglishSpanish, seed: 1))
    let seconds = Date().timeIntervalSince(start)
    #expect(corpus.train.count == 20000 && corpus.valid.count == 500 && corpus.test.count == 500)
    let all = corpus.train + corpus.valid + corpus.test
    #expect(all.allSatisfy { $0.fertilities!.reduce(0, +) == $0.target.count && !$0.target.isEmpty && $0.target.last == "." })
    #expect(Set(all.map(\.source)).count == all.count)
    let maxTarget = all.map(\.target.count).max()!, meanTarget = Double(all.map(\.target.count).reduce(0, +)) / Double(all.count)
    let maxFertility = all.flatMap { $0.fertilities! }.max()!
    // The period always aligns to the period.
    let periods = all.filter { $0.fertilities!.last! >= 1 }.count
    print("apertium corpus 20000/500/500 in \(seconds) s; vocabularies \(corpus.sourceVocabulary.count) source, \(corpus.targetVocabulary.count) target; target length max \(maxTarget), mean \(meanTarget); largest fertility \(maxFertility); period aligned in \(periods) of \(all.count)")
    #expect(Double(periods) / Double(all.count) > 0.99)
    #expect(corpus.aligner != nil && corpus.synthetic == nil)
}
