// Train/test splits: determinism per seed, disjoint and complete, sizes.

import Testing
import Tensors
@testable import Datasets

@Suite struct SplitTests {
    @Test(arguments: [(4096, 0.8, 3277), (10, 1.0, 10), (10, 0.01, 1), (7, 0.5, 4)])
    func randomSplitIsAPartition(count: Int, fraction: Double, expectedTrain: Int) {
        let split = Split.random(count: count, trainingFraction: fraction, seed: 42)
        #expect(split.train.count == expectedTrain)
        #expect((split.train + split.test).sorted() == Array(0..<count))
        #expect(Set(split.train).isDisjoint(with: split.test))
        #expect(split.train == split.train.sorted() && split.test == split.test.sorted())
    }

    @Test func deterministicPerSeed() {
        let a = Split.random(count: 4096, seed: 7)
        #expect(a == Split.random(count: 4096, seed: 7))
        #expect(a != Split.random(count: 4096, seed: 8))
        // Not the leading split: some test rows lie among the first 80 %.
        #expect(a.test.contains { $0 < 3277 })
        // The subset is the first rows of the seeded permutation.
        var rng = RandomGenerator(seed: 7)
        #expect(a.train == rng.permutation(4096)[..<3277].sorted())
    }

    @Test func leadingSplitIsTheIDNNsDefault() {
        let s = Split.leading(count: 4096)
        #expect(s.train == Array(0...3276) && s.test == Array(3277...4095))
    }

    @Test func datasetRowsFollowTheSplit() {
        let inputs = Tensor(shape: [4, 2], scalars: [0, 1, 10, 11, 20, 21, 30, 31])
        let d = Dataset(name: "t", inputs: inputs, labels: [0, 1, 2, 1], classCount: 3,
                        split: Split(train: [0, 2], test: [3, 1]))
        #expect(d.train.inputs == Tensor(shape: [2, 2], scalars: [0, 1, 20, 21]))
        #expect(d.train.labels == [0, 2])
        #expect(d.test.inputs.scalars == [30, 31, 10, 11] && d.test.labels == [1, 1])
    }

    @Test func badFractionTraps() async {
        await #expect(processExitsWith: .failure) { _ = Split.random(count: 10, trainingFraction: 0, seed: 1) }
        await #expect(processExitsWith: .failure) { _ = Split.leading(count: 10, trainingFraction: 1.5) }
    }
}
