// Benchmarks of the translation models (Translation): one training step of
// the autoregressive teacher and of the NAT at the default configuration
// (2 layers, d 64, 4 heads, feed-forward 256, dropout 0.1, label smoothing
// 0.1), batch 64, with gradient clipping and the Adam update, on 1 and 2
// BLAS threads.
//
//   infoplane-bench translation
//
// The batch has no padding (every source 10 tokens, every target 10, the
// synthetic pair's vocabularies' sizes), so that `scripts/bench_pytorch.py
// transformer` times exactly the same arithmetic in PyTorch's CPU build.

import Autodiff
import NeuralNets
import Tensors
import Translation

/// The shapes of the benchmarked batch, shared with scripts/bench_pytorch.py.
enum TranslationBenchShape {
    static let batch = 64, sourceLength = 10, targetLength = 10
    static let sourceVocabulary = 64, targetVocabulary = 72
}

private func benchBatch() -> SentenceBatch {
    typealias S = TranslationBenchShape
    var rng = RandomGenerator(seed: 5)
    func ids(_ n: Int, _ vocabulary: Int) -> [Int] {
        (0..<n).map { _ in Vocabulary.unknown + 1 + Int(rng.next() % UInt64(vocabulary - Vocabulary.unknown - 1)) }
    }
    let sources = (0..<S.batch).map { _ in ids(S.sourceLength, S.sourceVocabulary) }
    let targets = (0..<S.batch).map { _ in ids(S.targetLength, S.targetVocabulary) }
    // Each source token becomes one target token: fertilities sum to the target length.
    let fertilities = (0..<S.batch).map { _ in [Int](repeating: 1, count: S.sourceLength) }
    return SentenceBatch(sources: sources, targets: targets, fertilities: fertilities)
}

/// One training step as `TranslationEpochTrainer` takes it.
private func step<Model: TranslationModel>(_ model: inout Model, _ optimizer: inout Adam, _ batch: SentenceBatch,
                                           _ rng: inout RandomGenerator) {
    var (_, g) = model.trainingStep(batch, rng: &rng)
    clipByGlobalNorm(&g, maxNorm: 1)
    optimizer.update(&model.store.tensors, gradients: g, multiplier: 1)
}

func runTranslationBenchmarks() {
    typealias S = TranslationBenchShape
    let configuration = TransformerConfiguration()
    let batch = benchBatch()
    print("\nTranslation training step (forward, backward, clipping, Adam), batch \(S.batch), "
          + "source \(S.sourceLength) and target \(S.targetLength) tokens, vocabularies \(S.sourceVocabulary) and \(S.targetVocabulary), "
          + "2 layers, d \(configuration.modelDimension), \(configuration.heads) heads, ff \(configuration.feedForward)")
    for threads in [1, 2] {
        BLAS.withThreads(threads) {
            var teacher = AutoregressiveTransformer(configuration: configuration, sourceVocabulary: S.sourceVocabulary,
                                                    targetVocabulary: S.targetVocabulary, seed: 1)
            var nat = NonAutoregressiveTransformer(configuration: configuration, sourceVocabulary: S.sourceVocabulary,
                                                   targetVocabulary: S.targetVocabulary, seed: 1)
            var rng = RandomGenerator(seed: 2)
            var adam = Adam(learningRate: 1e-4, beta1: 0.9, beta2: 0.98, epsilon: 1e-9)
            for _ in 0..<3 { step(&teacher, &adam, batch, &rng) }
            let t = nanosecondsPerCall(batches: 5) { step(&teacher, &adam, batch, &rng) }
            var natAdam = Adam(learningRate: 1e-4, beta1: 0.9, beta2: 0.98, epsilon: 1e-9)
            for _ in 0..<3 { step(&nat, &natAdam, batch, &rng) }
            let n = nanosecondsPerCall(batches: 5) { step(&nat, &natAdam, batch, &rng) }
            print("  threads \(threads): teacher \(format(t / 1e6, 2)) ms, NAT \(format(n / 1e6, 2)) ms")
        }
    }
}
