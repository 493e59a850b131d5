// The linear teacher: determinism per seed, the relevant/irrelevant split,
// targets against a naive product, and the input and noise statistics.

import Datasets
import Tensors
import Testing

@Suite struct LinearTeacherTests {
    @Test func same_seed_same_task_other_seed_other_task() {
        let a = LinearTeacherTask(inputCount: 10, signalToNoiseRatio: 1, trainCount: 20, testCount: 50, seed: 5)
        let b = LinearTeacherTask(inputCount: 10, signalToNoiseRatio: 1, trainCount: 20, testCount: 50, seed: 5)
        let c = LinearTeacherTask(inputCount: 10, signalToNoiseRatio: 1, trainCount: 20, testCount: 50, seed: 6)
        #expect(a == b)
        #expect(a.teacher.weights != c.teacher.weights && a.train.inputs != c.train.inputs)
        #expect(a.train.inputs != a.test.inputs.prefix(200).map { $0 })
    }

    @Test func split_teacher_has_zero_weight_on_irrelevant_inputs() {
        let task = LinearTeacherTask(inputCount: 100, outputCount: 2, signalToNoiseRatio: 2, relevantCount: 30,
                                     trainCount: 5, testCount: 5, seed: 1)
        let t = task.teacher
        #expect(t.relevantCount == 30 && t.noiseVariance == 0.5 && t.signalToNoiseRatio == 2)
        for k in 0..<2 {
            #expect((30..<100).allSatisfy { t.weights[k * 100 + $0] == 0 })
            #expect((0..<30).allSatisfy { t.weights[k * 100 + $0] != 0 })
        }
    }

    @Test func noiseless_targets_are_the_teacher_map_of_the_inputs() {
        var rng = RandomGenerator(seed: 2)
        let teacher = LinearTeacher(inputCount: 7, outputCount: 3, weightVariance: 1, noiseVariance: 0, rng: &rng)
        let s = teacher.sample(count: 9, rng: &rng)
        let expected = naiveProduct(s.inputs, naiveTranspose(teacher.weights, m: 3, n: 7), m: 9, k: 7, n: 3)
        for (a, b) in zip(s.targets, expected) { #expect(abs(a - b) < 1e-12) }
        #expect(s.inputTensor.shape == [9, 7])
    }

    @Test func inputs_have_variance_one_over_n_and_noise_has_its_variance() {
        // With a zero teacher the targets are the noise alone.
        let n = 50
        let teacher = LinearTeacher(weights: [Double](repeating: 0, count: n), inputCount: n, outputCount: 1,
                                    weightVariance: 0, noiseVariance: 0.25)
        var rng = RandomGenerator(seed: 9)
        let s = teacher.sample(count: 400, rng: &rng)
        let (vx, ex) = meanAndStandardError(s.inputs.map { $0 * $0 })
        #expect(abs(vx - 1.0 / Double(n)) <= 4 * ex, "input variance \(vx) ± \(ex)")
        let (vy, ey) = meanAndStandardError(s.targets.map { $0 * $0 })
        #expect(abs(vy - 0.25) <= 4 * ey, "noise variance \(vy) ± \(ey)")
    }
}
