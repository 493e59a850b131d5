// The deep linear student: gradients against finite differences, the layer
// maps against naive products, E_g against Monte Carlo test error, learning
// the teacher by gradient descent, determinism, information records with the
// exact Gaussian MI, and the CSV files.

import ArrayIO
import Datasets
import Foundation
import InfoTheory
import Tensors
import Testing
import Training

/// The exact-MI measure for a task, as the command-line tool composes it.
func gaussianMeasure(_ task: LinearTeacherTask, split: Bool = false) -> (([Double], Int) throws -> GaussianLayerInformation) {
    let t = task.teacher
    let info = GaussianInformation(isotropicInputVariance: t.inputVariance, inputCount: t.inputCount,
                                   teacherWeights: t.weights, outputCount: t.outputCount,
                                   teacherNoiseVariance: t.noiseVariance,
                                   relevantInputs: split ? Array(0..<t.relevantCount) : nil)
    return { map, rows in
        let r = try info.information(layerMap: map, rows: rows)
        return GaussianLayerInformation(inputInformation: r.inputInformation, outputInformation: r.outputInformation,
                                      relevantInformation: r.relevantInformation, irrelevantInformation: r.irrelevantInformation)
    }
}

@Suite struct LinearStudentTests {
    @Test func gradients_match_central_differences() {
        var rng = RandomGenerator(seed: 1)
        let task = LinearTeacherTask(inputCount: 3, outputCount: 2, signalToNoiseRatio: 1, trainCount: 6, testCount: 1, seed: 2)
        let student = LinearStudent(widths: [3, 4, 5, 2], initialScale: 1, rng: &rng)
        let rows = [0, 2, 3, 5][...]
        let (_, gradients) = student.lossAndGradients(task.train, rows: rows)
        let h = 1e-6
        for l in student.weights.indices {
            for j in student.weights[l].indices {
                var plus = student, minus = student
                plus.weights[l][j] += h
                minus.weights[l][j] -= h
                let numeric = (plus.lossAndGradients(task.train, rows: rows).loss
                    - minus.lossAndGradients(task.train, rows: rows).loss) / (2 * h)
                #expect(abs(numeric - gradients[l][j]) <= 1e-7 * max(1, abs(numeric)), "W\(l + 1)[\(j)]")
            }
        }
    }

    @Test func layer_maps_and_predictions_are_the_products() {
        var rng = RandomGenerator(seed: 4)
        let s = LinearStudent(widths: [4, 3, 5, 2], initialScale: 1, rng: &rng)
        let maps = s.layerMaps
        #expect(maps.count == 3 && maps[0] == s.weights[0])
        let m2 = naiveProduct(s.weights[1], s.weights[0], m: 5, k: 3, n: 4)
        let m3 = naiveProduct(s.weights[2], m2, m: 2, k: 5, n: 4)
        for (a, b) in zip(maps[1], m2) { #expect(abs(a - b) < 1e-12) }
        for (a, b) in zip(s.totalMap, m3) { #expect(abs(a - b) < 1e-12) }
        let x = gaussianMatrix(6 * 4, rng: &rng)
        let y = naiveProduct(x, naiveTranspose(m3, m: 2, n: 4), m: 6, k: 4, n: 2)
        for (a, b) in zip(s.predict(x, count: 6), y) { #expect(abs(a - b) < 1e-12) }
    }

    /// E_g = ‖W_o - W_tot‖²_F / N_i + σ_o² for x ~ N(0, I/N_i): the mean
    /// squared error on fresh samples agrees within 4 standard errors, and
    /// the printed Eq. 5 (no 1/N_i) does not.
    @Test func generalization_error_formula_matches_monte_carlo_test_error() {
        let task = LinearTeacherTask(inputCount: 20, signalToNoiseRatio: 2, trainCount: 10, testCount: 20_000, seed: 3)
        var trainer = LinearStudentTrainer(task: task, options: LinearTrainingOptions(hiddenWidths: [8], epochs: 0,
                                                                                     learningRate: 1, initialScale: 1))
        trainer.trainEpoch()
        let record = trainer.errors()
        let prediction = trainer.student.predict(task.test.inputs, count: task.test.count)
        let squared = zip(prediction, task.test.targets).map { ($0 - $1) * ($0 - $1) }
        let (mean, error) = meanAndStandardError(squared)
        #expect(abs(mean - record.generalizationError) <= 4 * error, "test MSE \(mean) ± \(error), E_g \(record.generalizationError)")
        #expect(abs(record.testError - mean) < 1e-12)
        #expect(abs(record.generalizationError - (record.weightError / 20 + 0.5)) < 1e-12)
        #expect(abs(record.equationFive - (record.weightError + 0.5)) < 1e-12)
        #expect(abs(record.equationFive - mean) > 10 * error)
    }

    @Test func full_batch_gradient_descent_learns_the_teacher() {
        let task = LinearTeacherTask(inputCount: 10, signalToNoiseRatio: 100, trainCount: 60, testCount: 500, seed: 8)
        let options = LinearTrainingOptions(hiddenWidths: [10], epochs: 100, learningRate: 1, initialScale: 0.1,
                                            schedule: .list([0, 100]), seed: 1)
        var trainer = LinearStudentTrainer(task: task, options: options)
        let result = trainer.run()
        #expect(result.epochs.map(\.epoch) == [0, 100])
        let (start, end) = (result.epochs[0], result.epochs[1])
        #expect(end.trainingError < 0.1 * start.trainingError, "training error \(start.trainingError) → \(end.trainingError)")
        #expect(end.generalizationError < 0.2 * start.generalizationError, "E_g \(start.generalizationError) → \(end.generalizationError)")
        // Near the noise floor σ_o² = 0.01 plus the estimation error of 10 weights from 60 samples.
        #expect(end.generalizationError < 0.05)
    }

    @Test func minibatch_runs_are_deterministic_per_seed() {
        let task = LinearTeacherTask(inputCount: 8, signalToNoiseRatio: 1, trainCount: 20, testCount: 50, seed: 2)
        func run(_ seed: UInt64) -> LinearTrainingResult {
            var t = LinearStudentTrainer(task: task, options: LinearTrainingOptions(
                hiddenWidths: [6, 5], epochs: 5, learningRate: 0.5, batchSize: 3, initialScale: 0.3, schedule: .every, seed: seed))
            return t.run()
        }
        let a = run(7), b = run(7), c = run(8)
        #expect(a == b)
        #expect(a.student.weights != c.student.weights)
        #expect(a.epochs.count == 6)
    }

    @Test func information_records_and_csv_files() throws {
        let task = LinearTeacherTask(inputCount: 12, signalToNoiseRatio: 1, relevantCount: 4, trainCount: 30,
                                     testCount: 100, seed: 6)
        var trainer = LinearStudentTrainer(task: task, options: LinearTrainingOptions(
            hiddenWidths: [6], epochs: 20, learningRate: 5, initialScale: 0.05, schedule: .list([0, 10, 20]), seed: 3))
        let result = try trainer.run(information: gaussianMeasure(task, split: true))
        #expect(result.layers.map(\.epoch) == [0, 0, 10, 10, 20, 20])
        #expect(result.layers.map(\.layer) == [1, 2, 1, 2, 1, 2])
        // The records are the exact MI of the final maps.
        let last = result.layers[5].information
        let direct = try gaussianMeasure(task, split: true)(result.student.totalMap, 1)
        #expect(last == direct)
        // Small initial weights carry little information; training increases I(T;Y).
        #expect(result.layers[0].information.inputInformation < 0.1)
        #expect(result.layers[5].information.outputInformation > result.layers[1].information.outputInformation)

        let directory = temporaryDirectory() + "/run"
        try LinearRunCSV.write(result, to: directory)
        let info = try AtomicFile.readText(directory + "/information.csv")
        let lines = info.split(separator: "\n")
        #expect(lines.first == "epoch,layer,I_XT,I_TY,I_XT_relevant,I_XT_irrelevant" && lines.count == 7)
        let fields = lines[6].split(separator: ",").compactMap { Double($0) }
        #expect(fields == [20, 2, last.inputInformation, last.outputInformation,
                           last.relevantInformation!, last.irrelevantInformation!])
        let metrics = try AtomicFile.readText(directory + "/metrics.csv")
        #expect(metrics == LinearRunCSV.metricsText(result.epochs))
        #expect(metrics.hasPrefix(LinearRunCSV.metricsHeader + "\n0,"))
        // Without a split the header has four columns.
        let plain = LinearRunCSV.informationText([LinearLayerRecord(epoch: 1, layer: 1,
            information: GaussianLayerInformation(inputInformation: 0.5, outputInformation: 0.25))])
        #expect(plain == "epoch,layer,I_XT,I_TY\n1,1,0.5,0.25\n")
    }
}
