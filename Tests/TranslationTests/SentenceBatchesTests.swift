// Minibatching, the warm-up schedule, the fertility copy map and the probe
// rows of the translation subject.

import Tensors
import Testing
import Translation

@Test func the_fertility_copy_map_repeats_each_source_position_by_its_fertility() {
    #expect(fertilityCopyMap([2, 0, 1]) == [0, 0, 2])
    #expect(fertilityCopyMap([0, 0]) == [])
    #expect(fertilityCopyMap([1, 3]) == [0, 1, 1, 1])
}

@Test func the_warmup_multiplier_rises_linearly_to_one_then_decays_as_one_over_root_step() {
    #expect(warmupMultiplier(step: 1, warmup: 4) == 0.25)
    #expect(warmupMultiplier(step: 4, warmup: 4) == 1)
    #expect(warmupMultiplier(step: 16, warmup: 4) == 0.5)
    #expect(warmupMultiplier(step: 100, warmup: 4) == Float((4.0 / 100).squareRoot()))
}

@Test func probe_rows_decode_to_the_sentences_positions_and_source_positions_they_were_made_from() {
    let batch = SentenceBatch(sources: [[5, 6, 7], [8]], targets: [[9, 10, 11], [12, 13]], fertilities: [[2, 0, 1], [2]])
    let probe = TranslationProbe(batch)
    #expect(probe.rowWidth == 2 * 3 + 3 + 2)
    let positions = [fertilityCopyMap([2, 0, 1]), fertilityCopyMap([2])]
    let rows = probe.rows(sourcePositions: positions)
    #expect(rows.shape == [5, probe.rowWidth])
    #expect(Array(rows.scalars[(3 * 11)..<(4 * 11)]) == [8, -1, -1, 12, 13, -1, 2, -1, -1, 0, 0])
    let (decoded, samples) = TranslationProbe.decode(rows, sourceWidth: 3, targetWidth: 3)
    #expect(decoded.sources == batch.sources && decoded.targets == batch.targets && decoded.fertilities == batch.fertilities)
    #expect(samples.map(\.sentence) == [0, 0, 0, 1, 1])
    #expect(samples.map(\.position) == [0, 1, 2, 0, 1])
    #expect(samples.map(\.source) == [0, 0, 2, 0, 0])
}

@Test func an_epochs_batches_cover_every_sentence_once_group_lengths_and_repeat_with_the_seed() {
    var sources: [[Int]] = []
    var g = RandomGenerator(seed: 3)
    for _ in 0..<1000 { sources.append(Array(repeating: 4, count: 1 + g.nextInt(below: 12))) }
    let sentences = SentenceBatch(sources: sources, targets: sources, fertilities: sources.map { $0.map { _ in 1 } })
    var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
    let batches = sentences.epochBatches(size: 10, rng: &a)
    #expect(batches == sentences.epochBatches(size: 10, rng: &b))
    #expect(batches.count == 100)
    #expect(batches.flatMap { $0 }.sorted() == Array(0..<1000))
    // Sorted within pools of 320: a batch spans few lengths (random batches of 10 span about 9 of the 12).
    let spans = batches.map { batch in Set(batch.map { sources[$0].count }).count }
    #expect(Double(spans.reduce(0, +)) / Double(spans.count) < 2)
}
