// The pieces the teacher and the student share: padded batches, the gather
// along the leading axis, and the encoder's independence of padding.

import Autodiff
import NeuralNets
import Tensors
import Testing
@testable import Translation

@Test func a_padded_batch_adds_start_and_end_symbols_and_masks_the_padding() {
    let b = PaddedBatch([[7, 8], [], [9, 10, 11]], prefix: Vocabulary.start, suffix: Vocabulary.end)
    #expect(b.lengths == [4, 2, 5])
    #expect(b.length == 5)
    #expect(b.ids == [1, 7, 8, 2, 0,
                      1, 2, 0, 0, 0,
                      1, 9, 10, 11, 2])
    #expect(b.rowMask.scalars == [1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1])
    let empty = PaddedBatch([[], []])
    #expect(empty.length == 1 && empty.ids == [0, 0] && empty.rowMask.scalars == [0, 0])
}

@Test func gather_leading_picks_whole_slices_of_any_rank() {
    let tape = Tape()
    let x = tape.constant(Tensor(shape: [3, 2, 2], scalars: (0..<12).map(Float.init)))
    let y = gatherLeading(x, [2, 0, 2])
    #expect(y.shape == [3, 2, 2])
    #expect(y.value.scalars == [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11])
}

@Test func the_encoder_gives_a_sentence_the_same_states_alone_and_beside_a_longer_one() {
    let configuration = TransformerConfiguration(layers: 2, modelDimension: 16, heads: 4, feedForward: 32, dropout: 0, maxLength: 16)
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 5)
    let encoder = TransformerEncoder(configuration, vocabulary: 20, store: &store, rng: &rng)
    let positions = PositionTable(length: 16, dimension: 16)
    func encode(_ sentences: [[Int]]) -> (Tensor, PaddedBatch) {
        let tape = Tape()
        var context = PassContext(p: store.bind(to: tape, requiringGradients: false), rate: 0, rng: RandomGenerator(seed: 1))
        let batch = PaddedBatch(sentences)
        return (encoder(batch, positions: positions, &context).memory.value, batch)
    }
    let (alone, _) = encode([[4, 5, 6]])
    let (together, batch) = encode([[7, 8, 9, 10, 11, 12], [4, 5, 6]])
    #expect(batch.length == 6)
    let d = 16
    var worst: Float = 0
    for t in 0..<3 {
        for k in 0..<d {
            worst = max(worst, abs(alone.scalars[t * d + k] - together.scalars[(6 + t) * d + k]))
        }
    }
    #expect(worst < 1e-5)
    // The test can fail: the first sentence's states depend on its own tokens.
    let (other, _) = encode([[7, 8, 9, 10, 11, 13], [4, 5, 6]])
    #expect(zip(other.scalars[0..<(6 * d)], together.scalars[0..<(6 * d)]).contains { abs($0 - $1) > 1e-3 })
}
