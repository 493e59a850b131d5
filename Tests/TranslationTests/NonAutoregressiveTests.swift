// The non-autoregressive Transformer: its copied decoder inputs, the self
// mask, independence of padding, gradients against finite differences,
// the encoder copied from a teacher, learning a small task, and noisy
// parallel decoding.

import Autodiff
import Foundation
import NeuralNets
import Tensors
import Testing
@testable import Translation

private func natConfiguration(smoothing: Float = 0) -> TransformerConfiguration {
    TransformerConfiguration(layers: 2, modelDimension: 16, heads: 2, feedForward: 32, dropout: 0,
                             labelSmoothing: smoothing, maxLength: 12)
}

private func natModel(seed: UInt64, settings: NATSettings = NATSettings(fertilityClasses: 6), smoothing: Float = 0,
                      vocabulary: Int = 16) -> NonAutoregressiveTransformer {
    NonAutoregressiveTransformer(configuration: natConfiguration(smoothing: smoothing), settings: settings,
                                 sourceVocabulary: vocabulary, targetVocabulary: vocabulary, seed: seed)
}

/// Rows [b, t] of a [N, T, d] tensor.
private func natRow(_ x: Tensor, _ b: Int, _ t: Int) -> [Float] {
    let (length, d) = (x.shape[1], x.shape[2])
    return Array(x.scalars[((b * length + t) * d)..<((b * length + t + 1) * d)])
}

private func natMaxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Test func the_decoder_inputs_copy_the_source_embeddings_named_by_the_fertilities_or_spread_uniformly() {
    let model = natModel(seed: 1)
    model.inference { c in
        let e = model.encode([[5, 6, 7], [8, 9]], &c)
        // The copied embeddings are the scaled table rows, without positions.
        let table = model.store["encoder.embedding.table"]
        let d = 16
        #expect(natMaxDifference(natRow(e.embedded.value, 0, 2), Array(table.scalars[(7 * d)..<(8 * d)]).map { 4 * $0 }) < 1e-6)

        let maps = [fertilityCopyMap([2, 0, 1]), fertilityCopyMap([1, 3])]
        #expect(maps == [[0, 0, 2], [0, 1, 1, 1]])
        #expect(model.copyMap(fertilities: [2, 0, 1], targetLength: 3, sourceLength: 3) == [0, 0, 2])
        let inputs = model.decoderInputs(e, rows: [0, 1], maps: maps, tape: c.tape).value
        #expect(inputs.shape == [2, 4, d])
        let positions = sinusoidalPositions(length: 4, dimension: d)
        for (b, map) in maps.enumerated() {
            for (t, source) in map.enumerated() {
                let expected = zip(natRow(e.embedded.value, b, source), positions.scalars[(t * d)..<((t + 1) * d)]).map { $0 + $1 }
                #expect(natMaxDifference(natRow(inputs, b, t), expected) < 1e-6)
            }
        }
        // The check can fail: sentence 0's position 2 is not a copy of its source token 1.
        let wrong = zip(natRow(e.embedded.value, 0, 1), positions.scalars[(2 * d)..<(3 * d)]).map { $0 + $1 }
        #expect(natMaxDifference(natRow(inputs, 0, 2), wrong) > 1e-2)
    }

    // Uniform copying: t → round(t·(Ls − 1)/(T − 1)), 0 when T = 1.
    #expect(uniformCopyMap(targetLength: 5, sourceLength: 3) == [0, 1, 1, 2, 2])
    #expect(uniformCopyMap(targetLength: 3, sourceLength: 5) == [0, 2, 4])
    #expect(uniformCopyMap(targetLength: 1, sourceLength: 4) == [0])
    #expect(uniformCopyMap(targetLength: 0, sourceLength: 4) == [])
    let uniform = natModel(seed: 1, settings: NATSettings(copying: .uniform, fertilityClasses: 6))
    #expect(uniform.copyMap(fertilities: [2, 0, 1], targetLength: 5, sourceLength: 3) == [0, 1, 1, 2, 2])
    // A uniform model's teacher-forced inputs follow the uniform map.
    let batch = SentenceBatch(sources: [[5, 6, 7]], targets: [[4, 5, 6, 7, 8]], fertilities: [[2, 0, 3]])
    uniform.inference { u in
        let encoded = uniform.encode(batch.sources, &u)
        let (_, pass) = uniform.teacherForced(batch, &u)
        let byMap = uniform.decode(encoded, rows: [0], maps: [[0, 1, 1, 2, 2]], &u).states[0].value
        let byFertility = uniform.decode(encoded, rows: [0], maps: [[0, 0, 2, 2, 2]], &u).states[0].value
        #expect(natMaxDifference(pass.states[0].value.scalars, byMap.scalars) < 1e-6)
        #expect(natMaxDifference(pass.states[0].value.scalars, byFertility.scalars) > 1e-3)
    }
}

@Test func the_translation_loss_reaches_the_embedding_table_through_the_copy() {
    // ∂/∂table of Σ R ⊙ inputs is √d·Σ of R's rows over the positions copying each token.
    let model = natModel(seed: 1)
    let sources = [[5, 6, 7], [8, 5]]
    let maps = [fertilityCopyMap([2, 0, 1]), fertilityCopyMap([1, 2])]
    var rng = RandomGenerator(seed: 4)
    let d = 16
    let weights = Tensor(shape: [2, 3, d], scalars: (0..<(6 * d)).map { _ in rng.uniform(-1, 1) })
    let tape = Tape()
    let gradient: Tensor = withExtendedLifetime(tape) {
        let p = model.store.bind(to: tape)
        var c = PassContext(p: p, rate: 0, rng: RandomGenerator(seed: 0))
        let e = model.encode(sources, &c)
        let inputs = model.decoderInputs(e, rows: [0, 1], maps: maps, tape: tape)
        return p.gradients(of: (inputs * tape.constant(weights)).sum())[model.store.position(of: "encoder.embedding.table")!]
    }
    var expected = Tensor.zeros([16, d])
    for (b, map) in maps.enumerated() {
        for (t, i) in map.enumerated() {
            for k in 0..<d { expected.scalars[sources[b][i] * d + k] += 4 * weights.scalars[(b * 3 + t) * d + k] }
        }
    }
    #expect(natMaxDifference(gradient.scalars, expected.scalars) < 1e-5)
    #expect(natMaxDifference(expected.scalars, Array(repeating: 0, count: 16 * d)) > 0.5)
}

@Test func the_fertility_decodings_read_the_predicted_distribution_and_decoding_keeps_lengths_in_bounds() {
    // Zero fertility weights: every token gets the distribution softmax(bias).
    func model(_ p: [Float]) -> NonAutoregressiveTransformer {
        var m = natModel(seed: 5)
        m.store["fertility.weight"] = Tensor.zeros([6, 16])
        m.store["fertility.bias"] = Tensor(shape: [6], scalars: p.map { log(max($0, 1e-9)) })
        return m
    }
    let sources = [[5, 6, 7, 8], [9, 10]]
    // Argmax 1; mean 0.4 + 0.4 + 0.9 = 1.7 → 2.
    let spread = model([0.1, 0.4, 0.2, 0.3, 0, 0])
    #expect(spread.fertilities(sources, .argmax) == [[1, 1, 1, 1], [1, 1]])
    #expect(spread.fertilities(sources, .average) == [[2, 2, 2, 2], [2, 2]])
    #expect(spread.translate(sources).map(\.count) == [4, 2])
    #expect(spread.translate(sources, .average).map(\.count) == [8, 4])
    // Mean 1.4 → 1 (rounding, not truncation of 1.7 nor ceiling).
    #expect(model([0.2, 0.3, 0.4, 0.1, 0, 0]).fertilities(sources, .average) == [[1, 1, 1, 1], [1, 1]])
    // All fertilities 0: one token from the first source token.
    let silent = model([1, 0, 0, 0, 0, 0])
    #expect(silent.fertilities(sources, .argmax) == [[0, 0, 0, 0], [0, 0]])
    #expect(silent.translate(sources).map(\.count) == [1, 1])
    #expect(silent.translate(sources) == silent.decode(sources: sources, fertilities: [[1, 0, 0, 0], [1, 0]]))
    // Fertility 5 everywhere: 20 and 10 tokens, cut to maxLength 12.
    let many = model([0, 0, 0, 0, 0, 1])
    #expect(many.translate(sources).map(\.count) == [12, 10])
    // Never padding, <s> or </s>; an empty source translates to nothing.
    #expect(many.translate(sources).joined().allSatisfy { $0 > Vocabulary.end })
    #expect(many.translate([[], [5]]).map(\.count) == [0, 5])
}

@Test func the_self_mask_keeps_each_decoder_query_from_its_own_position() {
    let batch = SentenceBatch(sources: [[5, 6, 7], [8]], targets: [[4, 5, 6, 7], [9]], fertilities: [[1, 2, 1], [1]])
    for masked in [true, false] {
        let model = natModel(seed: 2, settings: NATSettings(selfMask: masked, fertilityClasses: 6))
        let pass = model.inference { c in model.teacherForced(batch, &c).1 }
        for (l, w) in pass.selfAttentionWeights.enumerated() {
            let weights = w.value
            #expect(weights.shape == [4, 4, 4])
            for h in 0..<2 {
                for t in 0..<4 {
                    let own = weights.scalars[(h * 4 + t) * 4 + t]
                    if masked { #expect(own == 0, "layer \(l) head \(h) query \(t)") } else { #expect(own > 1e-3) }
                }
                // The one-token sentence sees only itself, never the padding.
                let single = Array(weights.scalars[((2 + h) * 4) * 4..<((2 + h) * 4 + 1) * 4])
                #expect(abs(single[0] - 1) < 1e-6 && single[1...].allSatisfy { $0 == 0 })
            }
        }
    }
}

@Test func a_sentence_decodes_and_scores_the_same_alone_and_beside_a_longer_one() {
    let model = natModel(seed: 3)
    let short = SentenceBatch(sources: [[5, 6, 7]], targets: [[8, 9, 10, 11]], fertilities: [[2, 1, 1]])
    let single = SentenceBatch(sources: [[4]], targets: [[12]], fertilities: [[1]])
    let long = SentenceBatch(sources: [[9, 8, 7, 6, 5, 4]], targets: [[4, 5, 6, 7, 8, 9, 10]], fertilities: [[1, 1, 2, 0, 1, 2]])
    let together = SentenceBatch(sources: long.sources + short.sources + single.sources,
                                 targets: long.targets + short.targets + single.targets,
                                 fertilities: long.fertilities + short.fertilities + single.fertilities)
    let batched = model.layerStates(together)
    for (b, alone) in [(1, short), (2, single)] {
        let states = model.layerStates(alone)
        for (l, state) in states.decoder.enumerated() {
            #expect(batched.decoder[l].shape == [3, 7, 16])
            for t in alone.targets[0].indices {
                #expect(natMaxDifference(natRow(state, 0, t), natRow(batched.decoder[l], b, t)) < 1e-4, "sentence \(b) layer \(l)")
            }
        }
    }
    let sum = model.evaluate(long).loss + model.evaluate(short).loss + model.evaluate(single).loss
    let joint = model.evaluate(together)
    #expect(abs(joint.loss - sum) < 1e-4 * abs(sum))
    #expect(joint.tokens == 12)
    let sources = together.sources
    #expect(model.translate(sources) == sources.map { model.translate([$0])[0] })
    #expect(model.decode(sources: sources, fertilities: together.fertilities)
        == sources.indices.map { model.decode(sources: [sources[$0]], fertilities: [together.fertilities[$0]])[0] })
    // The test can fail: another long sentence changes the long sentence's states.
    let other = SentenceBatch(sources: [[9, 8, 7, 6, 5, 5]], targets: long.targets, fertilities: long.fertilities)
    #expect(natMaxDifference(model.layerStates(other).decoder[1].scalars, model.layerStates(long).decoder[1].scalars) > 1e-3)
}

@Test func the_losses_are_the_token_and_fertility_cross_entropies() {
    let batch = SentenceBatch(sources: [[5, 6, 7], [8, 9]], targets: [[11, 12, 4], [5, 6, 7, 9, 9, 9, 9, 9]],
                              fertilities: [[2, 0, 1], [1, 7]])
    for smoothing: Float in [0, 0.2] {
        let model = natModel(seed: 8, smoothing: smoothing)
        let (tokenLogits, fertilityLogits) = model.inference { c in
            let (e, pass) = model.teacherForced(batch, &c)
            return (pass.logits.value, e.fertilityLogits.value)
        }
        #expect(tokenLogits.shape == [2, 8, 16] && fertilityLogits.shape == [2, 3, 6])
        // Per-row cross-entropy against (1 − ε)·onehot + ε/V, in Double.
        func rowLoss(_ z: ArraySlice<Float>, _ y: Int, _ epsilon: Double) -> Double {
            let row = z.map(Double.init)
            let m = row.max()!
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            return lse - (1 - epsilon) * row[y] - epsilon / Double(row.count) * row.reduce(0, +)
        }
        var tokens = 0.0, smoothed = 0.0, fertilities = 0.0, correct = 0
        for (b, target) in batch.targets.enumerated() {
            for (t, y) in target.enumerated() {
                let z = tokenLogits.scalars[((b * 8 + t) * 16)..<((b * 8 + t + 1) * 16)]
                tokens += rowLoss(z, y, 0)
                smoothed += rowLoss(z, y, Double(smoothing))
                if z.indices.max(by: { z[$0] < z[$1] })! - z.startIndex == y { correct += 1 }
            }
        }
        for (b, row) in batch.fertilities.enumerated() {
            for (i, f) in row.enumerated() {
                fertilities += rowLoss(fertilityLogits.scalars[((b * 3 + i) * 6)..<((b * 3 + i + 1) * 6)], min(f, 5), 0)
            }
        }
        var rng = RandomGenerator(seed: 1)
        let (loss, _) = model.trainingStep(batch, rng: &rng)
        let expected = smoothed / 11 + fertilities / 5
        #expect(abs(Double(loss) - expected) < 1e-4 * expected, "smoothing \(smoothing): \(loss) vs \(expected)")
        let evaluation = model.evaluate(batch)
        #expect(abs(evaluation.loss - (tokens + fertilities)) < 1e-4 * evaluation.loss)
        #expect(evaluation.tokens == 11 && evaluation.correct == correct)
    }
}

@Test func the_training_gradients_match_central_finite_differences() {
    let batch = SentenceBatch(sources: [[5, 6, 7], [8, 9], [10]], targets: [[11, 12, 4], [5, 6, 7], [13, 14, 15, 4, 5, 6, 7, 8]],
                              fertilities: [[2, 0, 1], [1, 2], [8]])
    let names = ["encoder.embedding.table", "encoder.layer0.selfAttention.value.weight", "fertility.weight", "fertility.bias",
                 "decoder.layer0.positionalAttention.query.weight", "decoder.layer1.positionalAttention.key.weight",
                 "decoder.layer1.selfAttention.query.weight", "decoder.output.weight", "decoder.output.bias"]
    for (smoothing, copying): (Float, CopyingMode) in [(0, .fertility), (0.2, .fertility), (0.1, .uniform)] {
        let model = natModel(seed: 7, settings: NATSettings(copying: copying, fertilityClasses: 6), smoothing: smoothing)
        var rng = RandomGenerator(seed: 1)
        let (_, gradients) = model.trainingStep(batch, rng: &rng)
        #expect(gradients.count == model.store.tensors.count)
        for name in names {
            let i = model.store.position(of: name)!
            let g = gradients[i].scalars
            // The two scalars of largest gradient, where Float's rounding is small beside it.
            let picks = g.indices.sorted { abs(g[$0]) > abs(g[$1]) }.prefix(2)
            for j in picks {
                // The table enters multiplied by √d = 4: a step 4 times smaller.
                let h: Float = name == "encoder.embedding.table" ? 2.5e-3 : 1e-2
                func loss(_ delta: Float) -> Float {
                    var moved = model
                    moved.store.tensors[i].scalars[j] += delta
                    var r = RandomGenerator(seed: 1)
                    return moved.trainingStep(batch, rng: &r).loss
                }
                let numeric = (loss(h) - loss(-h)) / (2 * h)
                // |g| ≥ 0.002 against a 3% + 1e-4 tolerance (Float's rounding of
                // the loss, ~1e-5 here): a wrong sign or a scale 10% off fails.
                #expect(abs(g[j]) > 0.002, "\(name)[\(j)] gradient \(g[j]) too small to check")
                #expect(abs(numeric - g[j]) <= 0.03 * abs(g[j]) + 1e-4,
                        "\(name)[\(j)], \(copying), smoothing \(smoothing): analytic \(g[j]), numeric \(numeric)")
            }
        }
    }
}

@Test func the_encoder_is_initialized_from_a_teachers_parameters() {
    var student = natModel(seed: 1)
    let teacher = natModel(seed: 2)
    let batch = SentenceBatch(sources: [[5, 6, 7], [8, 9]], targets: [[4, 5, 6], [7, 8]], fertilities: [[1, 1, 1], [1, 1]])
    let before = student.store
    #expect(natMaxDifference(student.layerStates(batch).encoder[1].scalars, teacher.layerStates(batch).encoder[1].scalars) > 1e-2)
    student.initializeEncoder(from: teacher.store)
    let (mine, theirs) = (student.layerStates(batch).encoder, teacher.layerStates(batch).encoder)
    #expect(mine.count == 2 && mine == theirs)
    for (name, value) in zip(student.store.names, student.store.tensors) {
        if name.hasPrefix("encoder.") { #expect(value == teacher.store[name], "\(name)") } else { #expect(value == before[name], "\(name)") }
    }
    #expect(student.store["fertility.weight"] != teacher.store["fertility.weight"])
    #expect(student.store.names.contains("decoder.layer1.positionalAttention.key.weight"))
    #expect(student.store.names.contains("decoder.norm.scale") && student.store.names.contains("decoder.output.bias"))
}

@Test func a_small_nat_learns_a_word_for_word_translation() {
    // Target = each source word mapped through a fixed table; fertility 1.
    let table = [4: 9, 5: 4, 6: 11, 7: 6, 8: 10, 9: 5, 10: 8, 11: 7]
    var rng = RandomGenerator(seed: 11)
    var sources: [[Int]] = []
    for _ in 0..<60 { sources.append((0..<(2 + rng.nextInt(below: 4))).map { _ in 4 + rng.nextInt(below: 8) }) }
    let data = SentenceBatch(sources: sources, targets: sources.map { $0.map { table[$0]! } },
                             fertilities: sources.map { $0.map { _ in 1 } })
    for copying in CopyingMode.allCases {
        var model = natModel(seed: 12, settings: NATSettings(copying: copying, fertilityClasses: 6), vocabulary: 12)
        let initial = model.evaluate(data)
        var adam = Adam(learningRate: 1e-2)
        for _ in 0..<60 {
            for indices in data.epochBatches(size: 20, rng: &rng) {
                let (_, gradients) = model.trainingStep(data.batch(indices), rng: &rng)
                adam.update(&model.store.tensors, gradients: gradients, multiplier: 1)
            }
        }
        let final = model.evaluate(data)
        #expect(final.loss < 0.01 * initial.loss, "\(copying): loss \(initial.loss) → \(final.loss)")
        #expect(model.fertilities(sources, .argmax) == data.fertilities)
        #expect(model.fertilities(sources, .average) == data.fertilities)
        let translations = model.translate(sources)
        let exact = zip(translations, data.targets).filter { $0 == $1 }.count
        #expect(final.correct >= 190 && exact >= 54, "\(copying): \(exact) of 60 translated exactly")
    }
}

@Test func noisy_parallel_decoding_returns_the_candidate_the_score_prefers() {
    let model = natModel(seed: 4, settings: NATSettings(fertilityClasses: 4))
    let source = [5, 6, 7]
    var rng = RandomGenerator(seed: 9)
    var offered: [[Int]] = []
    let first = model.noisyParallelDecode(source, samples: 8, rng: &rng) { candidates in
        offered = candidates
        return candidates.map { _ in 0 }
    }
    #expect(offered.count >= 2 && offered.count <= 8)
    #expect(Set(offered).count == offered.count)
    #expect(offered[0] == model.translate([source])[0])
    #expect(first == offered[0])
    for chosen in [offered[offered.count - 1], offered[1]] {
        var again = RandomGenerator(seed: 9)
        let picked = model.noisyParallelDecode(source, samples: 8, rng: &again) { candidates in
            #expect(candidates == offered)
            return candidates.map { $0 == chosen ? -1 : -5 }
        }
        #expect(picked == chosen)
    }
    // One sample is argmax decoding.
    var one = RandomGenerator(seed: 3)
    var called = false
    let argmax = model.noisyParallelDecode(source, samples: 1, rng: &one) { candidates in
        called = true
        return candidates.map { _ in 0 }
    }
    #expect(argmax == model.decode(sources: [source], fertilities: model.fertilities([source], .argmax))[0])
    #expect(!called)
    // Many sources at once pick what one source at a time picks with the same draws.
    let sources = [[5, 6, 7], [8, 9], [10, 11, 12, 13]]
    func longest(_ candidates: [[Int]]) -> [Double] { candidates.map { Double($0.count) + 0.01 * Double($0.reduce(0, +)) } }
    var batchRNG = RandomGenerator(seed: 21), singleRNG = RandomGenerator(seed: 21)
    let batched = model.noisyParallelDecode(sources, samples: 5, rng: &batchRNG) { batchSources, candidates in
        #expect(batchSources.count == candidates.count)
        return longest(candidates)
    }
    let singles = sources.map { model.noisyParallelDecode($0, samples: 5, rng: &singleRNG, score: longest) }
    #expect(batched == singles)
}

@Test func dropout_in_training_follows_the_generator_and_leaves_evaluation_alone() {
    let batch = SentenceBatch(sources: [[5, 6, 7], [8, 9]], targets: [[11, 12, 4], [5, 6]], fertilities: [[2, 0, 1], [1, 1]])
    let configuration = TransformerConfiguration(layers: 2, modelDimension: 16, heads: 2, feedForward: 32, dropout: 0.3,
                                                 labelSmoothing: 0, maxLength: 12)
    let dropped = NonAutoregressiveTransformer(configuration: configuration, settings: NATSettings(fertilityClasses: 6),
                                               sourceVocabulary: 16, targetVocabulary: 16, seed: 7)
    var plain = natModel(seed: 7)
    plain.store = dropped.store
    var a = RandomGenerator(seed: 2), b = RandomGenerator(seed: 2), c = RandomGenerator(seed: 2)
    let first = dropped.trainingStep(batch, rng: &a), again = dropped.trainingStep(batch, rng: &b)
    #expect(first.loss == again.loss && first.gradients == again.gradients && a == b)
    #expect(a != RandomGenerator(seed: 2))
    let second = dropped.trainingStep(batch, rng: &a)
    #expect(second.loss != first.loss)
    #expect(plain.trainingStep(batch, rng: &c).loss != first.loss)
    #expect(dropped.evaluate(batch) == plain.evaluate(batch))
}
