// The autoregressive teacher: its masks (no look-ahead, no attention to
// padding), its gradients against central differences, the cached decoder
// against the uncached one, beam search against greedy decoding and against
// the teacher-forced log-likelihood, and a small task it must learn.

import Autodiff
import NeuralNets
import Tensors
import Testing
@testable import Translation

private func smallTeacher(seed: UInt64 = 3, vocabulary: Int = 14, maxLength: Int = 10, dropout: Float = 0,
                          smoothing: Float = 0) -> AutoregressiveTransformer {
    let configuration = TransformerConfiguration(layers: 2, modelDimension: 16, heads: 2, feedForward: 24,
                                                 dropout: dropout, labelSmoothing: smoothing, maxLength: maxLength)
    return AutoregressiveTransformer(configuration: configuration, sourceVocabulary: vocabulary,
                                     targetVocabulary: vocabulary, seed: seed)
}

/// Logits [N, n+1, V] of a teacher-forced pass.
private func logits(_ model: AutoregressiveTransformer, _ sources: [[Int]], _ targets: [[Int]]) -> Tensor {
    model.inference { c in model.teacherForced(sources: sources, targets: targets, &c).logits.value }
}

@Test func the_teacher_does_not_look_ahead() {
    let model = smallTeacher()
    let v = 14
    let a = logits(model, [[4, 5, 6]], [[7, 8, 9, 10]])
    let b = logits(model, [[4, 5, 6]], [[7, 8, 12, 13]])
    // Rows 0...2 read <s>, 7, 8 in both: equal. Row 3 reads 12 instead of 9: different.
    for k in 0..<(3 * v) { #expect(abs(a.scalars[k] - b.scalars[k]) < 1e-6) }
    #expect(zip(a.scalars[(3 * v)..<(4 * v)], b.scalars[(3 * v)..<(4 * v)]).contains { abs($0 - $1) > 1e-4 })
}

@Test func the_teacher_gives_a_pair_the_same_logits_alone_and_beside_a_longer_one() {
    let model = smallTeacher()
    let v = 14
    let alone = logits(model, [[4, 5]], [[7, 8]])
    let batched = logits(model, [[9, 10, 11, 12, 13, 4], [4, 5]], [[6, 7, 8, 9, 10], [7, 8]])
    // The second pair's rows start at 1·6 rows (targets padded to 5 + 1).
    var worst: Float = 0
    for k in 0..<(3 * v) { worst = max(worst, abs(alone.scalars[k] - batched.scalars[6 * v + k])) }
    #expect(worst < 1e-5)
    // The check can fail: a different source changes the logits.
    let other = logits(model, [[4, 6]], [[7, 8]])
    #expect(zip(alone.scalars, other.scalars).contains { abs($0 - $1) > 1e-4 })
}

@Test(arguments: [Float(0), 0.1])
func the_teacher_gradients_match_central_differences(smoothing: Float) {
    var model = smallTeacher(seed: 11, vocabulary: 10, smoothing: smoothing)
    let batch = SentenceBatch(sources: [[4, 5, 6], [7, 8]], targets: [[5, 6, 7, 8], [9]], fertilities: [[1, 2, 1], [1, 0]])
    var rng = RandomGenerator(seed: 1)
    let (_, gradients) = model.trainingStep(batch, rng: &rng)
    func loss() -> Double {
        var r = RandomGenerator(seed: 1)
        return Double(model.trainingStep(batch, rng: &r).loss)
    }
    let names = ["encoder.embedding.table", "encoder.layer0.selfAttention.query.weight", "decoder.embedding.table",
                 "decoder.layer1.selfAttention.key.weight", "decoder.layer0.crossAttention.value.weight",
                 "decoder.layer1.feedForward.inner.weight", "decoder.norm.scale", "decoder.output.bias"]
    var checked = 0
    for name in names {
        let index = model.store.position(of: name)!
        let count = model.store.tensors[index].count
        for k in [0, count / 3, count - 1] {
            let h: Float = 1e-2
            let saved = model.store.tensors[index].scalars[k]
            model.store.tensors[index].scalars[k] = saved + h
            let plus = loss()
            model.store.tensors[index].scalars[k] = saved - h
            let minus = loss()
            model.store.tensors[index].scalars[k] = saved
            let numeric = (plus - minus) / Double(2 * h)
            let analytic = Double(gradients[index].scalars[k])
            #expect(abs(numeric - analytic) <= 2e-3 + 0.05 * abs(numeric), "\(name)[\(k)]: \(analytic) vs \(numeric)")
            if abs(numeric) > 1e-3 { checked += 1 }
        }
    }
    // Enough of the checked entries have gradients large enough to catch a wrong sign or scale.
    #expect(checked >= 10)
}

@Test func the_cached_decoder_equals_the_uncached_one_token_for_token() {
    for seed in [UInt64(3), 4, 5] {
        let model = smallTeacher(seed: seed, maxLength: 9)
        let sources = [[4, 5, 6], [7], [8, 9, 10, 11, 12, 13]]
        let cached = model.greedy(sources)
        for (source, output) in zip(sources, cached) {
            #expect(output == model.greedyWithoutCache(source))
        }
        // Batching does not change a sentence's decoding.
        #expect(model.greedy([sources[2]]) == [cached[2]])
    }
}

@Test func beam_search_with_beam_one_is_greedy_and_its_scores_are_the_teacher_forced_ones() {
    for seed in [UInt64(3), 6, 7] {
        let model = smallTeacher(seed: seed, maxLength: 9)
        for source in [[4, 5, 6], [7, 8], [9, 10, 11, 12]] {
            let greedy = model.greedy([source])[0]
            #expect(model.beamSearch(source, beam: 1).tokens == greedy)
            let beam = model.beamSearch(source, beam: 4)
            if beam.tokens.count < model.configuration.maxLength {
                let forced = model.logLikelihoods(sources: [source], targets: [beam.tokens])[0]
                #expect(abs(forced - beam.logProbability) < 1e-3 * max(1, abs(forced)))
            }
        }
    }
}

@Test func the_length_penalty_is_gnmts() {
    #expect(AutoregressiveTransformer.lengthPenalty(1) == 1)
    #expect(abs(AutoregressiveTransformer.lengthPenalty(7) - Double.pow(2, 0.6)) < 1e-12)
}

@Test func the_teacher_learns_to_reverse_and_relabel_short_sentences() {
    // Source ids 4...11, target id = source id + 8 in reverse order: the
    // decoder must attend to the source in the right place, step by step.
    var model = smallTeacher(seed: 21, vocabulary: 20, maxLength: 8)
    var data = RandomGenerator(seed: 2)
    let sources = (0..<64).map { _ in (0..<(2 + data.nextInt(below: 3))).map { _ in 4 + data.nextInt(below: 8) } }
    let targets = sources.map { $0.reversed().map { $0 + 8 } }
    let batch = SentenceBatch(sources: sources, targets: targets, fertilities: sources.map { $0.map { _ in 1 } })
    var adam = Adam(learningRate: 1e-2, beta1: 0.9, beta2: 0.98, epsilon: 1e-9)
    var rng = RandomGenerator(seed: 4)
    let before = model.evaluate(batch)
    for _ in 0..<150 {
        var (_, g) = model.trainingStep(batch, rng: &rng)
        clipByGlobalNorm(&g, maxNorm: 1)
        adam.update(&model.store.tensors, gradients: g, multiplier: 1)
    }
    let after = model.evaluate(batch)
    #expect(after.loss < 0.1 * before.loss)
    let decoded = model.greedy(sources)
    let right = zip(decoded, targets).filter { $0 == $1 }.count
    #expect(right >= 56, "\(right) of 64 decoded exactly")
    let beamRight = zip(sources, targets).filter { model.beamSearch($0.0, beam: 4).tokens == $0.1 }.count
    #expect(beamRight >= 56, "beam 4: \(beamRight) of 64 decoded exactly")
}
