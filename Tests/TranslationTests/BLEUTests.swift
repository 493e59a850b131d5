// Corpus BLEU-4 on hand-computed cases and on cases scored by sacreBLEU 2.6.0
// (`sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none")`).

import Foundation
import Testing
import Translation

private func words(_ lines: [String]) -> [[String]] { lines.map { $0.split(separator: " ").map(String.init) } }

@Test func bleu_of_a_perfect_corpus_is_100_and_of_a_disjoint_one_0() {
    let lines = words(["the cat sat on the mat", "a dog ran far away"])
    #expect(abs(corpusBLEU(hypotheses: lines, references: lines).score - 100) < 1e-9)
    let none = corpusBLEU(hypotheses: words(["x y z w"]), references: words(["a b c d"]))
    #expect(none.score == 0 && none.correct == [0, 0, 0, 0] && none.total == [4, 3, 2, 1])
}

@Test func bleu_matches_a_hand_computed_case_with_and_without_the_brevity_penalty() {
    // p = 4/5, 3/4, 2/3, 1/2: BLEU = (0.2)^(1/4).
    let one = corpusBLEU(hypotheses: words(["a b c d e"]), references: words(["a b c d f"]))
    #expect(one.correct == [4, 3, 2, 1] && one.total == [5, 4, 3, 2] && one.brevityPenalty == 1)
    #expect(abs(one.score - 100 * pow(0.2, 0.25)) < 1e-9)
    // All precisions 1, c = 4 < r = 6: BP = e^(1 - 6/4).
    let short = corpusBLEU(hypotheses: words(["a b c d"]), references: words(["a b c d e f"]))
    #expect(abs(short.brevityPenalty - exp(-0.5)) < 1e-12)
    #expect(abs(short.score - 100 * exp(-0.5)) < 1e-9)
    // Repeated words are clipped by the reference's count.
    let clipped = corpusBLEU(hypotheses: words(["the the the the"]), references: words(["the cat"]))
    #expect(clipped.correct == [1, 0, 0, 0])
}

@Test func bleu_agrees_with_sacrebleu_including_smoothing_and_an_order_without_ngrams() {
    let b = corpusBLEU(hypotheses: words(["the cat sat on the mat", "a dog", "the the the the", "green eggs and ham are tasty"]),
                       references: words(["the cat sat on a mat", "the dog ran", "the cat", "green eggs and ham are very tasty"]))
    #expect(b.correct == [13, 7, 5, 3] && b.total == [18, 14, 10, 7])
    #expect(b.hypothesisLength == 18 && b.referenceLength == 18)
    #expect(abs(b.score - 52.742233564013326) < 1e-9)
    // No 4-gram in any hypothesis: sacreBLEU gives 0 (after smoothing the 3-gram order to 50).
    let s = corpusBLEU(hypotheses: words(["a b c", "d e"]), references: words(["a b d", "d f"]))
    #expect(s.correct == [3, 1, 0, 0] && s.total == [5, 3, 1, 0] && s.score == 0)
}

@Test func translation_rates_count_exact_matches_lengths_and_repeated_tokens() {
    let r = TranslationRates(hypotheses: words(["a b c", "d d d e", "f", ""]), references: words(["a b c", "d e f g", "g h", "x"]))
    #expect(r.exactMatch == 0.25)
    #expect(r.lengthAccuracy == 0.5)
    // Pairs of neighbours: 2 in "a b c", 3 in "d d d e"; repeats: 2.
    #expect(r.repeatedTokens == 2.0 / 5.0)
}
