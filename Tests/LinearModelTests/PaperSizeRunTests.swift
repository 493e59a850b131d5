// The `linear` experiment at the paper's size (Saxe et al. 2018, Fig. 3:
// N_i = 100, one hidden layer of 100, one output, P = 100, SNR 1, full-batch
// gradient descent), run only when INFOPLANE_LINEAR_PAPER is set, and meant
// for a release build:
//
//   INFOPLANE_LINEAR_PAPER=10000 OPENBLAS_NUM_THREADS=1 \
//     swift test -c release --scratch-path .build-release --filter paper_size
//
// (the value is the number of epochs). It checks the paper's qualitative
// claims: the hidden layer's I(X;T) never decreases (no compression) while
// the test error first falls below its starting value (the network
// generalizes), and with long training the test error rises again
// (overtraining: P = N_i is the hardest sample size for the fully fitted
// solution).

import Datasets
import Foundation
import Testing
import Training

@Test(.enabled(if: ProcessInfo.processInfo.environment["INFOPLANE_LINEAR_PAPER"] != nil))
func paper_size_linear_run_shows_no_compression_and_late_overtraining() throws {
    let epochs = Int(ProcessInfo.processInfo.environment["INFOPLANE_LINEAR_PAPER"] ?? "") ?? 10_000
    let task = LinearTeacherTask(inputCount: 100, signalToNoiseRatio: 1, trainCount: 100, testCount: 10_000, seed: 1)
    var trainer = LinearStudentTrainer(task: task, options: LinearTrainingOptions(
        hiddenWidths: [100], epochs: epochs, learningRate: 1, initialScale: 0.01, schedule: .ibsgd, seed: 1))
    let clock = ContinuousClock()
    var result: LinearTrainingResult?
    let elapsed = try clock.measure { result = try trainer.run(information: gaussianMeasure(task)) }
    let r = try #require(result)
    let hidden = r.layers.filter { $0.layer == 1 }, output = r.layers.filter { $0.layer == 2 }
    print("linear paper-size run: \(epochs) epochs, \(r.epochs.count) recorded, \(elapsed)")
    let best = r.epochs.min { $0.testError < $1.testError }!
    for e in r.epochs where [0, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000].contains(e.epoch) || e.epoch == best.epoch || e.epoch == epochs {
        let h = hidden.first { $0.epoch == e.epoch }!.information, o = output.first { $0.epoch == e.epoch }!.information
        print("epoch \(e.epoch): train \(e.trainingError) test \(e.testError) E_g \(e.generalizationError) | hidden I(X;T) \(h.inputInformation) I(T;Y) \(h.outputInformation) | output I(X;T) \(o.inputInformation) I(T;Y) \(o.outputInformation)")
    }
    // No compression: the hidden layer's I(X;T) never falls.
    for (a, b) in zip(hidden, hidden.dropFirst()) {
        #expect(b.information.inputInformation >= a.information.inputInformation - 1e-9,
                "I(X;T) fell from \(a.information.inputInformation) (epoch \(a.epoch)) to \(b.information.inputInformation) (epoch \(b.epoch))")
    }
    // It generalizes (test error below its start), then overtrains late.
    #expect(best.testError < r.epochs[0].testError)
    #expect(r.epochs.last!.testError > best.testError)
    #expect(r.epochs.last!.trainingError < best.trainingError)
}

/// The `relevant` configuration (Saxe et al. 2018, §6, Fig. 6): 30
/// task-relevant and 70 irrelevant inputs, SGD with batch 5. Run only when
/// INFOPLANE_LINEAR_RELEVANT is set (its value: the number of epochs); prints
/// the information about each input block and checks that the relevant
/// information ends higher than it started.
@Test(.enabled(if: ProcessInfo.processInfo.environment["INFOPLANE_LINEAR_RELEVANT"] != nil))
func relevant_split_run_prints_block_information() throws {
    let env = ProcessInfo.processInfo.environment
    let epochs = Int(env["INFOPLANE_LINEAR_RELEVANT"] ?? "") ?? 2000
    let trainCount = Int(env["INFOPLANE_LINEAR_P"] ?? "") ?? 100
    let rate = Double(env["INFOPLANE_LINEAR_RATE"] ?? "") ?? 0.1
    let scale = Double(env["INFOPLANE_LINEAR_INIT"] ?? "") ?? 0.01
    let task = LinearTeacherTask(inputCount: 100, signalToNoiseRatio: 1, relevantCount: 30, trainCount: trainCount,
                                 testCount: 10_000, seed: 1)
    var trainer = LinearStudentTrainer(task: task, options: LinearTrainingOptions(
        hiddenWidths: [100], epochs: epochs, learningRate: rate, batchSize: 5, initialScale: scale, schedule: .ibsgd, seed: 1))
    let clock = ContinuousClock()
    var result: LinearTrainingResult?
    let elapsed = try clock.measure { result = try trainer.run(information: gaussianMeasure(task, split: true)) }
    let r = try #require(result)
    print("linear relevant run: P \(trainCount), rate \(rate), init \(scale), \(epochs) epochs, \(elapsed)")
    let hidden = r.layers.filter { $0.layer == 1 }
    for (e, h) in zip(r.epochs, hidden) where [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000].contains(e.epoch) || e.epoch == epochs {
        let i = h.information
        print("epoch \(e.epoch): train \(e.trainingError) test \(e.testError) | hidden I(X;T) \(i.inputInformation) rel \(i.relevantInformation!) irr \(i.irrelevantInformation!) I(T;Y) \(i.outputInformation)")
    }
    let peak = hidden.max { $0.information.irrelevantInformation! < $1.information.irrelevantInformation! }!
    print("irrelevant peak \(peak.information.irrelevantInformation!) at epoch \(peak.epoch), final \(hidden.last!.information.irrelevantInformation!)")
    #expect(hidden.last!.information.relevantInformation! > hidden.first!.information.relevantInformation!)
}
