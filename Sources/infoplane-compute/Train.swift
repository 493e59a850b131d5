// `infoplane train`: train a network and record it into a run directory.

import ActivationStore
import ArgumentParser
import Foundation
import NeuralNets
import ProgressiveGAN
import Tensors
import Training

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network, recording activations, gradient statistics and metrics.",
        discussion: """
        Examples:
          infoplane train --task tishby --activation tanh --epochs 8000 --record log --out runs/tanh
          infoplane train --task tishby --data ../shared/data/tishby-var-u --out runs/original
          infoplane train --task fashion-mnist --hidden 1024,20,20,20 --optimizer sgd --lr 0.001 --batch-size 128 --out runs/fm
          infoplane train --resume runs/tanh
          infoplane train --task progan --out runs/progan
          infoplane train --task progan --images faces.npz --images-per-phase 20000 --out runs/faces
          infoplane train --task translation --corpus synthetic:1 --model teacher --out runs/teacher
          infoplane train --task translation --corpus synthetic:1 --model nat --teacher runs/teacher --out runs/nat
        """
    )

    @Option(help: "Task: \((Tasks.names.filter { $0 != "tishby-original" } + ["progan", "air", "translation"]).joined(separator: ", ")). (default: tishby)")
    var task: String?

    @Option(help: "Data directory: x.csv and y.csv of the original 12-bit data, or Fashion-MNIST's IDX files.")
    var data: String?

    @Option(help: "Hidden layer widths, comma-separated (default: 10,7,5,4,3 for tishby, 1024,20,20,20 for fashion-mnist).")
    var hidden: String?

    @Option(help: "Hidden activation: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")). (default: tanh)")
    var activation: String?

    @Option(help: "Weight initializer: \(Initializer.allCases.map(\.rawValue).joined(separator: ", ")). (default: truncatedNormal)")
    var initializer: String?

    @Option(help: "Number of epochs. (default: 1000)")
    var epochs: Int?

    @Option(help: "Minibatch size. (default: 256)")
    var batchSize: Int?

    @Option(help: "Optimizer: adam or sgd. (default: adam)")
    var optimizer: String?

    @Option(help: "Learning rate. (default: 4e-4)")
    var lr: Double?

    @Option(help: "SGD momentum. (default: 0)")
    var momentum: Double?

    @Option(help: ArgumentHelp(
        "Weight decay: l2:λ (added to the gradient), decoupled:λ (AdamW/SGDW as in Loshchilov & Hutter: θ -= η_t λ θ, not scaled by the learning rate) or pytorch:λ (torch.optim.AdamW: θ -= lr_t λ θ). The best λ differs by a factor of the learning rate between decoupled and pytorch.",
        valueName: "form:λ"))
    var weightDecay: String?

    @Option(help: "Learning-rate schedule: constant, step:K:F (×F every K epochs), cosine:T, or sgdr:T0:TMULT (warm restarts, updated every batch).")
    var lrSchedule: String?

    @Option(help: "mixup with Beta(α, α) mixing weights (Zhang et al. 2018).")
    var mixup: Double?

    @Option(help: "Seed for weights, minibatch order, split and subsets. (default: 1)")
    var seed: UInt64?

    @Option(help: "Fraction of samples used for training. (default: 0.8)")
    var trainingFraction: Double?

    @Option(help: "Split: random (seeded) or leading (first rows, as IDNNs). (default: random)")
    var split: String?

    @Option(help: "Training subset size for fashion-mnist (seeded). (default: all)")
    var trainSubset: Int?

    @Option(help: "Test subset size for fashion-mnist (seeded). (default: all)")
    var testSubset: Int?

    @Flag(help: "Downsample Fashion-MNIST to 14 x 14.")
    var downsample = false

    @Option(help: "Recorded epochs: every, every:K, log, log:N, ibsgd, or a list like 0,10,100. (default: log)")
    var record: String?

    @Option(help: "Record post- or pre-activations: post or pre. (default: post)")
    var activations: String?

    @Option(help: "Activation storage: float32 or float16. (default: float32)")
    var dtype: String?

    @Option(help: "Epochs between checkpoints. (default: 100)")
    var checkpointInterval: Int?

    @Option(help: "Whose activations to record: all, test or train; inputs.npy, labels.npy and train_mask.npy then hold those samples only. (default: all)")
    var recordedSamples: String?

    @Option(help: "Fraction of training labels replaced by a different random class (seeded); writes true_labels.npy, corrupted_mask.npy and label-noise.csv.")
    var labelNoise: Double?

    @Option(help: "progan: the images, a .npy/.npz of N x H x W or N x C x H x W, uint8 or float. (default: Fashion-MNIST from /usr/share/datasets/fashion-mnist)")
    var images: String?

    @Option(help: "progan: real images shown in each phase (each stabilization and each fade-in). (default: \(ProgressiveTraining.defaultImagesPerPhase))")
    var imagesPerPhase: Int?

    @Option(help: "air: the simulated field (.npz of `infoplane simulate air`). (default: simulate 32 x 32, 2 years, 40 stations with --seed)")
    var field: String?

    @Option(help: "translation: the corpus, synthetic:SEED or apertium:SEED (English to Spanish by Apertium). (default: synthetic:1)")
    var corpus: String?

    @Option(help: "translation: the model, teacher (autoregressive) or nat. (default: teacher)")
    var model: String?

    @Option(help: "translation: the complete teacher run a NAT's encoder and distilled targets come from.")
    var teacher: String?

    @Option(help: "translation: a NAT's targets, distilled (the teacher's translations) or raw. (default: distilled)")
    var targets: String?

    @Option(help: "translation: a NAT's decoder inputs, copied by fertility or uniform. (default: fertility)")
    var copying: String?

    @Option(help: "translation: mask each NAT decoder query from its own position, true or false. (default: true)")
    var selfMask: Bool?

    @Option(help: "translation: warm-up steps of the learning rate. (default: 1000)")
    var warmup: Int?

    @Option(help: "translation: layers, d_model, heads and d_ff, comma-separated. (default: 2,64,4,256)")
    var transformer: String?

    @Option(help: "Output run directory (must not hold a run).")
    var out: String?

    @Option(help: "Continue the run in this directory from its last checkpoint.")
    var resume: String?

    func validate() throws {
        if resume == nil && out == nil { throw ValidationError("give --out DIR for a new run, or --resume DIR") }
        if resume != nil && out != nil { throw ValidationError("--out and --resume exclude each other") }
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive (got \(epochs))") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive (got \(batchSize))") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive (got \(lr))") }
        if let f = trainingFraction, !(f > 0 && f <= 1) { throw ValidationError("--training-fraction must be in (0, 1] (got \(f))") }
        if task == "progan" || images != nil || imagesPerPhase != nil {
            try ProgressiveTraining.validate(self)
            return
        }
        if task == "air" || field != nil {
            try AirRunCommand.validate(self)
            return
        }
        if task == "translation" || TranslationRunCommand.options(self).count > 0 {
            try TranslationRunCommand.validate(self)
            return
        }
        if let task, !Tasks.names.contains(task) {
            throw ValidationError("unknown task \"\(task)\" (known: tishby, fashion-mnist)")
        }
        if let activation, Activation(rawValue: activation) == nil {
            throw ValidationError("unknown activation \"\(activation)\" (known: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let initializer, Initializer(rawValue: initializer) == nil {
            throw ValidationError("unknown initializer \"\(initializer)\"")
        }
        if let optimizer, !["adam", "sgd"].contains(optimizer) { throw ValidationError("unknown optimizer \"\(optimizer)\" (known: adam, sgd)") }
        if let split, !["random", "leading"].contains(split) { throw ValidationError("--split must be random or leading") }
        if let record, EpochSchedule(record) == nil {
            throw ValidationError("unknown schedule \"\(record)\" (use every, every:K, log, log:N, ibsgd, or a list such as 0,10,100)")
        }
        if let activations, !["post", "pre"].contains(activations) { throw ValidationError("--activations must be post or pre") }
        if let dtype, !["float32", "float16"].contains(dtype) { throw ValidationError("--dtype must be float32 or float16") }
        if let c = checkpointInterval, c <= 0 { throw ValidationError("--checkpoint-interval must be positive") }
        if let hidden, parseWidths(hidden) == nil { throw ValidationError("--hidden must be positive integers separated by commas (got \"\(hidden)\")") }
        if let s = trainSubset, s <= 0 { throw ValidationError("--train-subset must be positive") }
        if let s = testSubset, s <= 0 { throw ValidationError("--test-subset must be positive") }
        if let weightDecay {
            do { _ = try RecordedRun.weightDecay(weightDecay) } catch { throw ValidationError("--weight-decay: \(error)") }
        }
        if let lrSchedule {
            do { _ = try RecordedRun.learningRateSchedule(lrSchedule) } catch { throw ValidationError("--lr-schedule: \(error)") }
        }
        if let mixup, !(mixup > 0) { throw ValidationError("--mixup α must be positive (got \(mixup))") }
        if let recordedSamples, !["all", "test", "train"].contains(recordedSamples) {
            throw ValidationError("--recorded-samples must be all, test or train (got \"\(recordedSamples)\")")
        }
        if let labelNoise, !(labelNoise >= 0 && labelNoise <= 1) { throw ValidationError("--label-noise must be in [0, 1] (got \(labelNoise))") }
    }

    func parseWidths(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return parts.map { $0! }
    }

    /// Settings from the options, each missing one taken from `base`.
    func settings(over base: RunSettings?) throws -> RunSettings {
        var task = task ?? base?.task ?? "tishby"
        var dataSource = base?.dataSource ?? "generated"
        if task == "tishby" || task == "tishby-original" {
            if let data { task = "tishby-original"; dataSource = data }
            else if self.task != nil { task = "tishby"; dataSource = "generated" }
        } else if task == "fashion-mnist" {
            if data != nil || self.task != nil || downsample {
                dataSource = (data ?? "/usr/share/datasets/fashion-mnist") + (downsample ? "@14" : "")
            }
        }
        let classes = task == "fashion-mnist" ? 10 : 2
        var widths = base?.widths ?? Tasks.defaultWidths(task: task, downsample: downsample)!
        if let hidden {
            widths = [widths.first!] + parseWidths(hidden)! + [classes]
        } else if self.task != nil || downsample, base == nil || base?.task != task {
            widths = Tasks.defaultWidths(task: task, downsample: downsample)!
        }
        if downsample && task == "fashion-mnist" { widths[0] = 196 }
        let optimizerName = optimizer ?? base?.optimizer["name"] ?? "adam"
        var optimizerSettings = ["name": optimizerName]
        let learningRate = lr.map { Float($0) } ?? base?.optimizer["learning_rate"].flatMap(Float.init) ?? 4e-4
        optimizerSettings["learning_rate"] = "\(learningRate)"
        if optimizerName == "sgd" {
            let m = momentum.map { Float($0) } ?? base?.optimizer["momentum"].flatMap(Float.init) ?? 0
            optimizerSettings["momentum"] = "\(m)"
        }
        return RunSettings(
            task: task, dataSource: dataSource, widths: widths,
            activation: activation ?? base?.activation ?? "tanh",
            initializer: initializer ?? base?.initializer ?? Initializer.truncatedNormal.rawValue,
            optimizer: optimizerSettings,
            batchSize: batchSize ?? base?.batchSize ?? 256,
            epochs: epochs ?? base?.epochs ?? 1000,
            seed: seed ?? base?.seed ?? 1,
            trainingFraction: trainingFraction ?? base?.trainingFraction ?? 0.8,
            splitMethod: split ?? base?.splitMethod ?? "random",
            trainingSubset: trainSubset ?? base?.trainingSubset,
            testSubset: testSubset ?? base?.testSubset,
            schedule: record ?? base?.schedule ?? "log",
            activations: activations ?? base?.activations ?? "post",
            dtype: dtype ?? base?.dtype ?? "float32",
            checkpointInterval: checkpointInterval ?? base?.checkpointInterval ?? 100,
            weightDecay: weightDecay ?? base?.weightDecay,
            learningRateSchedule: lrSchedule ?? base?.learningRateSchedule,
            mixupAlpha: mixup ?? base?.mixupAlpha,
            recordedSamples: recordedSamples ?? base?.recordedSamples,
            labelNoise: labelNoise ?? base?.labelNoise)
    }

    func run() throws {
        BLASCore.restartWithRecognizedCoreIfNeeded()
        // The networks here are small: one BLAS thread is faster than two for
        // every product in them but the 784 x 1024 layer (see infoplane-bench).
        try BLAS.withThreads(1) { try train() }
    }

    /// Starts or resumes the run and trains it to the end.
    private func train() throws {
        if task == "progan" || resume.map(ProgressiveRunManifest.isProgressiveRun) == true {
            return try ProgressiveTraining.train(self)
        }
        if task == "air" || resume.map(AirRunCommand.isAirRun) == true {
            return try AirRunCommand.train(self)
        }
        if task == "translation" || resume.map(TranslationRunCommand.isTranslationRun) == true {
            return try TranslationRunCommand.train(self)
        }
        var recorded: RecordedRun
        if let resume {
            let manifest = try RunDirectory(resume).readManifest()
            recorded = try RecordedRun.resume(at: resume, requested: try settings(over: manifest.settings))
            if recorded.isComplete {
                print("\(resume) is already complete (\(manifest.settings.epochs) epochs).")
                return
            }
        } else {
            recorded = try RecordedRun.start(settings: try settings(over: nil), at: out!)
        }
        let progress = TerminalProgress()
        let start = Date()
        try recorded.run { p in
            progress.update(p.epoch, of: p.totalEpochs, String(format: "epoch %d: train loss %.4f acc %.3f, test acc %.3f",
                                                             p.epoch, p.metrics.trainLoss, p.metrics.trainAccuracy, p.metrics.testAccuracy))
        }
        progress.finish()
        let last = recorded.metricsHistory.last!
        print(String(format: "%@: %d epochs in %.1f s; train loss %.4f, accuracy %.4f; test loss %.4f, accuracy %.4f",
                     recorded.directory.path, last.epoch, Date().timeIntervalSince(start),
                     last.trainLoss, last.trainAccuracy, last.testLoss, last.testAccuracy))
    }
}
