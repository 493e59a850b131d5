// IBM Models 1 and 2: EM on a corpus whose answer is known by hand, on the
// synthetic pair whose alignments are known by construction, and the
// fertility rules.

import Foundation
import Testing
import Translation

/// Two pairs, (a b → x y) and (a → x), with NULL.
private let tinyCorpus: [(source: [String], target: [String])] = [(["a", "b"], ["x", "y"]), (["a"], ["x"])]

@Test func one_model_1_iteration_gives_the_hand_computed_t() {
    // From t = 1/2: in the first pair each target word spreads 1/3 over NULL,
    // a, b; in the second x spreads 1/2 over NULL and a. Counts: c(x|a) =
    // c(x|NULL) = 5/6, c(y|a) = c(y|NULL) = c(x|b) = c(y|b) = 1/3.
    let aligner = IBMAligner(training: tinyCorpus, settings: .init(model1Iterations: 1, model2Iterations: 0))
    #expect(abs(aligner.translationProbability("x", given: "a") - 5.0 / 7) < 1e-12)
    #expect(abs(aligner.translationProbability("y", given: "a") - 2.0 / 7) < 1e-12)
    #expect(abs(aligner.translationProbability("x", given: "b") - 0.5) < 1e-12)
    #expect(abs(aligner.translationProbability("x", given: nil) - 5.0 / 7) < 1e-12)
    // Log-likelihood under t = 1/2: three target words, each log(1/2).
    #expect(aligner.logLikelihoods.count == 1)
    #expect(abs(aligner.logLikelihoods[0] - 3 * log(0.5)) < 1e-12)
    #expect(aligner.translationProbability("x", given: "c") == IBMAligner.unseenProbability)
}

@Test func model_1_converges_to_the_pairing_the_corpus_implies() {
    // x always comes with a, so EM gives x to a and y to b.
    let aligner = IBMAligner(training: tinyCorpus, settings: .init(model1Iterations: 50, model2Iterations: 0))
    #expect(aligner.translationProbability("x", given: "a") > 0.9)
    #expect(aligner.translationProbability("y", given: "b") > 0.6)
    #expect(aligner.translationProbability("y", given: "b") > aligner.translationProbability("x", given: "b"))
    #expect(aligner.align(source: ["a", "b"], target: ["x", "y"]) == [0, 1])
    #expect(aligner.align(source: ["b", "a"], target: ["y", "x"]) == [0, 1])
    let ll = aligner.logLikelihoods
    #expect(zip(ll, ll.dropFirst()).allSatisfy { $0 <= $1 + 1e-12 })
}

@Test func fertilities_give_null_words_to_a_neighbour_and_cap_at_49() {
    #expect(IBMAligner.fertilities(alignment: [nil, 0, nil, 2, nil], sourceCount: 3) == [3, 0, 2])
    #expect(IBMAligner.fertilities(alignment: [nil, nil, nil, nil], sourceCount: 2) == [2, 2])
    #expect(IBMAligner.fertilities(alignment: [], sourceCount: 2) == [0, 0])
    #expect(IBMAligner.fertilities(alignment: Array(repeating: 0, count: 60), sourceCount: 2) == [49, 11])
    #expect(IBMAligner.fertilities(alignment: Array(repeating: 1, count: 100), sourceCount: 3) == [49, 49, 2])
    #expect(IBMAligner.fertilities(alignment: Array(repeating: 0, count: 99), sourceCount: 2) == nil)
    #expect(IBMAligner.fertilities(alignment: [nil], sourceCount: 0) == nil)
}

@Test func the_aligner_recovers_the_synthetic_fertilities() {
    let pairs = SyntheticLanguage.standard.generate(count: 4000, seed: 21)
    let aligner = IBMAligner(training: pairs.map(\.pair))
    var exactSentences = 0, exactLinks = 0, links = 0
    for p in pairs {
        let alignment = aligner.align(source: p.pair.source, target: p.pair.target)
        links += alignment.count
        exactLinks += zip(alignment, p.alignment).filter { $0 == $1 }.count
        let f = aligner.fertilities(source: p.pair.source, target: p.pair.target)!
        #expect(f.reduce(0, +) == p.pair.target.count)
        if f == p.pair.fertilities! { exactSentences += 1 }
    }
    let sentenceRate = Double(exactSentences) / Double(pairs.count), linkRate = Double(exactLinks) / Double(links)
    print("aligner on 4000 synthetic pairs: all fertilities exact in \(sentenceRate), links exact \(linkRate)")
    #expect(sentenceRate >= 0.9)
    #expect(linkRate >= 0.97)
    // EM never lowers the likelihood, through Model 1 and into Model 2, and
    // Model 2 ends above Model 1.
    let ll = aligner.logLikelihoods
    #expect(ll.count == 10)
    #expect(zip(ll, ll.dropFirst()).allSatisfy { $0 <= $1 + 1e-9 * abs($1) }, "\(ll)")
    #expect(ll[9] > ll[4])
}

@Test func training_is_deterministic() {
    let pairs = SyntheticLanguage.standard.generate(count: 500, seed: 2).map(\.pair)
    let a = IBMAligner(training: pairs), b = IBMAligner(training: pairs)
    #expect(a.logLikelihoods == b.logLikelihoods)
    for p in pairs.prefix(100) {
        #expect(a.align(source: p.source, target: p.target) == b.align(source: p.source, target: p.target))
    }
    let w = pairs[0]
    #expect(a.translationProbability(w.target[0], given: w.source[0]) == b.translationProbability(w.target[0], given: w.source[0]))
}
