// The synthetic language pair: exact fertilities and alignments, seeded
// determinism, real multimodality, and the reading of ambiguous words.

import Testing
import Translation

@Test func the_lexicon_has_the_stated_sizes_and_disjoint_vocabularies() {
    let language = SyntheticLanguage.standard
    #expect(language.entries.count == 155)
    #expect(language.targetWords.count == 182)
    let source = Set(language.entries.map(\.word))
    #expect(source.isDisjoint(with: language.targetWords))
    // Ambiguous words own their tokens: no other entry produces them.
    for e in language.entries where e.category == .ambiguous {
        let own = Set(e.translations.joined())
        #expect(own.count == 3)
        for other in language.entries where other.word != e.word {
            #expect(own.isDisjoint(with: other.translations.joined()))
        }
    }
}

@Test func every_pair_is_reproduced_by_its_alignment_and_fertilities() {
    let language = SyntheticLanguage.standard
    let pairs = language.generate(count: 3000, seed: 11)
    #expect(Set(pairs.map(\.pair.source)).count == pairs.count)
    var fertilityCounts = [Int](repeating: 0, count: 3), swapped = 0
    for p in pairs {
        let s = p.pair
        #expect(SyntheticLanguage.lengths.contains(s.source.count))
        let fertilities = s.fertilities!
        #expect(fertilities.reduce(0, +) == s.target.count)
        #expect(p.alignment.count == s.target.count)
        // The target words aligned to source word i, in order, are its
        // translation in its mode.
        let modes = Dictionary(uniqueKeysWithValues: p.choices.map { ($0.position, $0.mode) })
        for (i, word) in s.source.enumerated() {
            let entry = language.entry(word)!
            let expected = entry.translations[modes[i] == .b ? 1 : 0]
            let aligned = p.alignment.indices.filter { p.alignment[$0] == i }.map { s.target[$0] }
            #expect(aligned == expected, "\(s.source) → \(s.target): word \(i)")
            #expect(fertilities[i] == expected.count)
            fertilityCounts[fertilities[i]] += 1
            #expect((modes[i] != nil) == (entry.category == .ambiguous))
        }
        // Order: monotone except adjacent adjective-noun swaps.
        for j in 1..<max(1, p.alignment.count) where p.alignment[j] < p.alignment[j - 1] {
            #expect(language.entry(s.source[p.alignment[j]])!.category == .adjective)
            #expect(p.alignment[j] == p.alignment[j - 1] - 1)
            swapped += 1
        }
        #expect(language.translate(s.source, modes: p.choices.map(\.mode)) == p)
    }
    // Fertilities 0, 1 and 2 all occur, and so do reorderings.
    #expect(fertilityCounts.allSatisfy { $0 > 500 }, "\(fertilityCounts)")
    #expect(swapped > 300)
}

@Test func the_same_seed_gives_the_same_pairs() {
    let language = SyntheticLanguage.standard
    #expect(language.generate(count: 200, seed: 5) == language.generate(count: 200, seed: 5))
    #expect(language.generate(count: 200, seed: 5) != language.generate(count: 200, seed: 6))
    // A prefix of a longer draw: the count only stops the generator.
    #expect(Array(language.generate(count: 300, seed: 5).prefix(200)) == language.generate(count: 200, seed: 5))
    #expect(SyntheticLanguage(lexiconSeed: 2018).entries == language.entries)
}

@Test func ambiguous_words_take_both_modes_about_equally_often() {
    let language = SyntheticLanguage.standard
    let pairs = language.generate(count: 6000, seed: 3)
    var perWord: [String: [Int]] = [:]
    for p in pairs {
        for c in p.choices { perWord[p.pair.source[c.position], default: [0, 0]][c.mode == .a ? 0 : 1] += 1 }
    }
    let a = perWord.values.map { $0[0] }.reduce(0, +), b = perWord.values.map { $0[1] }.reduce(0, +)
    let n = Double(a + b)
    #expect(n > 1500)
    // A fair coin: the share of mode A within 4 standard deviations of 1/2.
    #expect(abs(Double(a) / n - 0.5) < 4 * 0.5 / n.squareRoot(), "mode A \(a), mode B \(b)")
    #expect(perWord.count == 8)
    for (word, counts) in perWord {
        #expect(counts.allSatisfy { $0 > 50 }, "\(word): \(counts)")
    }
    // The same source word gets targets of different lengths.
    let lengthsByWord = Dictionary(grouping: pairs.flatMap { p in p.choices.map { (p.pair.source[$0.position], p.pair.fertilities![$0.position]) } },
                                   by: { $0.0 }).mapValues { Set($0.map { $0.1 }) }
    #expect(lengthsByWord.values.allSatisfy { $0 == [1, 2] })
}

@Test func the_classifier_reads_modes_mixtures_and_absences() throws {
    let language = SyntheticLanguage.standard
    let ambiguous = language.entries.filter { $0.category == .ambiguous }
    let w = ambiguous[0], v = ambiguous[1]
    let x = w.translations[0][0], y = w.translations[1][0], z = w.translations[1][1]
    let noun = language.entries.first { $0.category == .noun }!
    let n = noun.translations[0][0]
    let source = [noun.word, w.word, v.word]
    func outcome(_ hypothesis: [String]) -> AmbiguityOutcome {
        let c = language.classifyAmbiguous(source: source, hypothesis: hypothesis)
        #expect(c.map(\.position) == [1, 2] && c.map(\.word) == [w.word, v.word])
        return c[0].outcome
    }
    #expect(outcome([n, x]) == .modeA)
    #expect(outcome([n, y, z]) == .modeB)
    #expect(outcome([y, z, n]) == .modeB)
    #expect(outcome([n, y, x]) == .mixed)
    #expect(outcome([x, z]) == .mixed)
    #expect(outcome([y]) == .mixed)
    #expect(outcome([z, y]) == .mixed)
    #expect(outcome([y, z, z]) == .mixed)
    #expect(outcome([y, n, z]) == .mixed)
    #expect(outcome([n, n]) == .missing)
    #expect(outcome([]) == .missing)
    // The second ambiguous word is read on its own tokens.
    let c = language.classifyAmbiguous(source: source, hypothesis: [n, x, v.translations[1][0], v.translations[1][1]])
    #expect(c.map(\.outcome) == [.modeA, .modeB])
    #expect(language.classifyAmbiguous(source: [noun.word], hypothesis: [x]).isEmpty)

    // On references the classifier recovers the generator's choices exactly.
    for p in language.generate(count: 1000, seed: 9) {
        let read = language.classifyAmbiguous(source: p.pair.source, hypothesis: p.pair.target)
        #expect(read.map(\.position) == p.choices.map(\.position))
        #expect(read.map(\.outcome) == p.choices.map { $0.mode == .a ? .modeA : .modeB })
    }
}
