// The critic's layers recorded for the information plane: one ordinary run
// directory per stage inside a progressive run (`critic-RxR/`), in the layout
// of ActivationStore, so that `infoplane estimate`, `plot` and `audit` read
// it as they read any run.
//
// Why one directory per stage: a run directory fixes each layer's shape for
// all its epochs (the manifest gives one shape per layer), and the critic
// gains a block, and a resolution, at every stage. Within a stage its layers
// and their shapes are fixed; a layer is named by its block ("block 16x16"),
// so the same block keeps its name in the directories of later stages.
//
// What is recorded (ProgressiveDiscriminator.recordedActivations): each
// block's output, the 4x4 convolution, the dense layer (after their leaky
// ReLUs) and the score, on a fixed probe of four groups of P images, in this
// order: P training reals (drawn without replacement with the probe seed),
// P images of the moving-average generator from fixed latents (seed probe
// seed + 1), P held-out reals and P more fakes (latents of seed + 2). Each
// group goes through the critic as one batch, so the minibatch-stddev groups
// of 4 never mix reals and fakes. Labels Y: 1 real, 0 fake; train_mask.npy
// marks the first two groups. The held-out reals are Fashion-MNIST's test
// images for a Fashion-MNIST run (drawn with the probe seed); an image set
// of your own has no held-out part, and they are P other images of the set
// (the next P of the same permutation). The reals are shown as the critic
// sees them at the recorded level (averaged down, blended while fading in),
// the fakes are the generator's at that level.
//
// "Epoch" is the number of images shown (the paper's unit). A stage's
// directory records at the stage's start (the first step of its fade-in,
// α = 0; image 0 for the first stage), every `recordInterval` steps, at the
// end of its fade-in and at the end of its stabilization, at the level of
// that moment (the end of the stage: the stabilized stage). The stage's
// start is recorded in the same state as the previous stage's end.
//
// In each directory: inputs.npy holds the probe at the final resolution
// ([4P, C, R, R]: the reals, and the fakes of the stage's first recording,
// nearest-upscaled; later epochs' fakes are other images from the same
// latents); metrics.csv has one row per recorded epoch: train_loss the
// critic's Wasserstein term mean D(fake) - mean D(real) on the first two
// groups, test_loss on the last two, and the accuracies of telling reals
// from fakes by a score above the midpoint of the first two groups' mean
// scores, on each half. A directory's manifest is written after the files
// it lists, and is marked complete after the stage's last recording.

import ActivationStore
import ArrayIO
import NeuralNets
import Tensors

/// One recording of the critic.
struct CriticRecordPoint: Equatable {
    /// The stage whose directory it goes to.
    let stage: Int
    /// Images shown: the epoch of its files.
    let images: Int
    /// The level the critic and the generator run at.
    let level: GrowthLevel
}

extension ProgressiveRunSettings {
    /// Whether the run records its critic (runs started before recording existed do not).
    var recordsCritic: Bool { probeCount != nil && probeSeed != nil && recordInterval != nil }

    /// The steps the trainer takes: until the schedule's images have been shown.
    var totalSteps: Int { (schedule.totalImages + batchSize - 1) / batchSize }

    /// The recordings due after `k` steps (k = 0: before the first step).
    func criticRecords(afterSteps k: Int) -> [CriticRecordPoint] {
        guard recordsCritic, let interval = recordInterval else { return [] }
        if k == 0 { return [CriticRecordPoint(stage: schedule.initialStage, images: 0, level: schedule.level(afterImages: 0))] }
        let images = k * batchSize, before = images - batchSize
        let trained = schedule.level(afterImages: before), s = trained.stage
        let finished = images >= schedule.totalImages
        let next = schedule.level(afterImages: images)
        var points = [CriticRecordPoint]()
        let phaseEnds = finished || schedule.phase(afterImages: images) != schedule.phase(afterImages: before)
        if phaseEnds || k % interval == 0 {
            points.append(CriticRecordPoint(stage: s, images: images, level: !finished && next.stage == s ? next : .stable(s)))
        }
        if !finished && next.stage != s { points.append(CriticRecordPoint(stage: next.stage, images: images, level: next)) }
        return points
    }

    /// Every recording of stage `stage`, in order.
    func plannedCriticRecords(stage: Int) -> [CriticRecordPoint] {
        (0...totalSteps).flatMap { criticRecords(afterSteps: $0) }.filter { $0.stage == stage }
    }

    /// `critic-RxR`, the directory of stage `stage`'s recordings.
    func criticDirectoryName(stage: Int) -> String {
        let r = architecture.resolution(ofStage: stage)
        return "critic-\(r)x\(r)"
    }
}

/// The recordings of one stage so far (what its manifest and metrics.csv hold).
struct CriticStageRecords {
    let directory: RunDirectory
    var manifest: RunManifest
    var metrics: [EpochMetrics]
}

/// The probe batch and the recordings of a progressive run.
struct CriticRecorder {
    let settings: ProgressiveRunSettings
    /// The probe's real images at the final resolution: the training ones, the held-out ones (P each).
    let reals: Tensor, heldOutReals: Tensor
    /// The latents of the probe's fakes: the training half's and the held-out half's (P each).
    let latents: Tensor, heldOutLatents: Tensor
    /// The stages recorded so far, by stage.
    var stages: [Int: CriticStageRecords] = [:]

    static let software = "infoplane 0.1.0"

    /// - Parameter heldOut: the held-out reals to draw from (nil: P other images of `images`).
    /// - Throws: `FileError` naming the run for a probe of more images than
    ///   there are, or not a multiple of the minibatch group size.
    init(settings: ProgressiveRunSettings, images: TrainingImages, heldOut: TrainingImages?, run path: String) throws {
        self.settings = settings
        let p = settings.probeCount ?? 0, group = settings.architecture.minibatchGroupSize
        let available = heldOut == nil ? images.count / 2 : min(images.count, heldOut!.count)
        guard p > 0, p <= available, p % group == 0 || !settings.architecture.usesMinibatchStandardDeviation else {
            throw FileError(path: path, reason: "a probe of \(p) real images: it needs 1...\(available) (the images there are"
                            + (heldOut == nil ? ", halved: as many others are held out" : "") + "), "
                            + "a multiple of the minibatch group size \(group)")
        }
        let seed = settings.probeSeed ?? 0
        var rng = RandomGenerator(seed: seed)
        let order = rng.permutation(images.count)
        reals = images.batch(Array(order.prefix(p)))
        if let heldOut {
            var other = RandomGenerator(seed: seed)
            heldOutReals = heldOut.batch(Array(other.permutation(heldOut.count).prefix(p)))
        } else {
            heldOutReals = images.batch(Array(order[p..<(2 * p)]))
        }
        let d = settings.architecture.latentDimension
        latents = ProgressiveTrainer.latents(count: p, dimension: d, seed: seed &+ 1)
        heldOutLatents = ProgressiveTrainer.latents(count: p, dimension: d, seed: seed &+ 2)
    }

    /// The held-out reals of a run's image source: Fashion-MNIST's test
    /// images for a Fashion-MNIST run, else none.
    /// - Throws: `FileError` naming the file, from the IDX reader.
    static func heldOutImages(_ source: String) throws -> TrainingImages? {
        let prefix = "fashion-mnist:"
        guard source.hasPrefix(prefix) else { return nil }
        return try TrainingImages.fashionMNIST(directory: String(source.dropFirst(prefix.count)), test: true)
    }

    /// The layers stage `stage` records.
    func layers(stage: Int, discriminator: ProgressiveDiscriminator) -> [LayerDescription] {
        let a = settings.architecture, f = a.featureMaps
        var shapes = [[Int]]()
        for t in stride(from: stage, through: 1, by: -1) {
            let r = a.resolution(ofStage: t) / 2
            shapes.append([f[t - 1], r, r])
        }
        shapes += [[f[0], 4, 4], [f[0]], [1]]
        let names = discriminator.recordedNames(at: .stable(stage))
        return zip(names, shapes).enumerated().map { k, layer in
            LayerDescription(index: k + 1, name: layer.0, shape: layer.1, activation: layer.0 == "score" ? "linear" : "leaky_relu")
        }
    }

    /// The manifest's settings of a stage directory.
    func runSettings(stage: Int, layers: [LayerDescription]) -> RunSettings {
        let a = settings.architecture, r = a.resolution(ofStage: stage)
        let c = settings.configuration
        return RunSettings(task: "progan", dataSource: settings.images, widths: [a.imageChannels * r * r] + layers.map(\.width),
                           activation: "leaky_relu", initializer: a.usesEqualizedLearningRate ? "equalized" : "he",
                           optimizer: ["name": "adam", "learning_rate": "\(c.learningRate)", "beta1": "\(c.beta1)",
                                       "beta2": "\(c.beta2)", "epsilon": "\(c.epsilon)"],
                           batchSize: settings.batchSize, epochs: settings.schedule.totalImages, seed: settings.seed,
                           trainingFraction: 0.5, splitMethod: "probe halves",
                           schedule: "images shown: every \(settings.recordInterval ?? 0) steps and at every phase end",
                           activations: "post", dtype: "float32", checkpointInterval: settings.checkpointInterval)
    }

    /// Records `point` from the trainer's current networks: starts the
    /// stage's directory at its first recording, then writes the
    /// activation files, metrics.csv and the manifest that lists them.
    mutating func record(_ point: CriticRecordPoint, trainer: ProgressiveTrainer, run path: String) throws {
        let a = settings.architecture, r = a.resolution(ofStage: point.level.stage)
        let d = trainer.discriminator, level = point.level
        let fakes = [trainer.samples(latents, level: level), trainer.samples(heldOutLatents, level: level)]
        let groups = [reals.realImages(at: level, resolution: r), fakes[0], heldOutReals.realImages(at: level, resolution: r), fakes[1]]
        let recorded = groups.map { d.recordedActivations($0, parameters: trainer.discriminatorParameters, level: level) }
        let outputs = recorded[0].indices.map { l in Tensor.concatenate(recorded.map { $0[l] }, axis: 0) }
        if stages[point.stage] == nil { try startStage(point, fakes: fakes, discriminator: d, run: path) }
        var stage = stages[point.stage]!
        let layers = stage.manifest.layers
        precondition(outputs.count == layers.count && zip(outputs, layers).allSatisfy { $0.shape == [4 * reals.shape[0]] + $1.sampleShape },
                     "CriticRecorder: the critic recorded \(outputs.map(\.shape)) for \(layers.map(\.sampleShape))")
        for (l, output) in outputs.enumerated() {
            guard output.isFinite else {
                throw FileError(path: stage.directory.path, reason: "layer \(l + 1) (\(layers[l].name)) has NaN or infinite "
                                + "activations after \(point.images) images: training diverged")
            }
            try NPY.write(NPYArray(floats: output.scalars, shape: output.shape),
                          to: stage.directory.activations(epoch: point.images, layer: l + 1), durability: .deferred)
        }
        stage.metrics.append(Self.metrics(epoch: point.images, scores: recorded.map { $0.last!.scalars }))
        try AtomicFile.write(Array(RunCSV.text(header: EpochMetrics.csvHeader, rows: stage.metrics.map(\.csvRow)).utf8),
                             to: stage.directory.metrics, durability: .deferred)
        AtomicFile.flushFileSystem(containing: stage.directory.path)
        stage.manifest.recordedEpochs.append(point.images)
        stage.manifest.epochsCompleted = point.images
        stage.manifest.complete = settings.plannedCriticRecords(stage: point.stage).last == point
        try AtomicFile.write(stage.manifest.encoded(), to: stage.directory.manifest)
        stages[point.stage] = stage
    }

    /// The metrics row of the scores of the four probe groups (training
    /// reals, fakes, held-out reals, fakes): losses mean D(fake) - mean
    /// D(real) per half; accuracies of "real when the score is above the
    /// midpoint of the training half's two means" (a score on the midpoint
    /// counts as fake).
    static func metrics(epoch: Int, scores: [[Float]]) -> EpochMetrics {
        func mean(_ x: [Float]) -> Double { x.reduce(0.0) { $0 + Double($1) } / Double(x.count) }
        let threshold = (mean(scores[0]) + mean(scores[1])) / 2
        func accuracy(_ real: [Float], _ fake: [Float]) -> Double {
            Double(real.filter { Double($0) > threshold }.count + fake.filter { Double($0) <= threshold }.count)
                / Double(real.count + fake.count)
        }
        return EpochMetrics(epoch: epoch, trainLoss: mean(scores[1]) - mean(scores[0]), trainAccuracy: accuracy(scores[0], scores[1]),
                            testLoss: mean(scores[3]) - mean(scores[2]), testAccuracy: accuracy(scores[2], scores[3]))
    }

    /// The directory of a stage at its first recording: the probe's inputs,
    /// labels and mask, the manifest with no epoch yet.
    mutating func startStage(_ point: CriticRecordPoint, fakes: [Tensor], discriminator: ProgressiveDiscriminator, run path: String) throws {
        let directory = RunDirectory(path + "/" + settings.criticDirectoryName(stage: point.stage))
        try AtomicFile.createDirectory(directory.activationsDirectory)
        let upscaled = fakes.map { f in
            var x = f
            while x.shape[2] < settings.architecture.finalResolution { x = x.upsampledNearest2x() }
            return x
        }
        let inputs = Tensor.concatenate([reals, upscaled[0], heldOutReals, upscaled[1]], axis: 0), p = reals.shape[0]
        let real = [Int64](repeating: 1, count: p), fake = [Int64](repeating: 0, count: p)
        try NPY.write(NPYArray(floats: inputs.scalars, shape: inputs.shape), to: directory.inputs)
        try NPY.write(NPYArray(int64s: real + fake + real + fake, shape: [4 * p]), to: directory.labels)
        try NPY.write(NPYArray(bools: [Bool](repeating: true, count: 2 * p) + [Bool](repeating: false, count: 2 * p), shape: [4 * p]),
                      to: directory.trainMask)
        let layers = self.layers(stage: point.stage, discriminator: discriminator)
        let manifest = RunManifest(software: Self.software, settings: runSettings(stage: point.stage, layers: layers), layers: layers,
                                   sampleCount: 4 * p, trainCount: 2 * p, testCount: 2 * p,
                                   plannedEpochs: settings.plannedCriticRecords(stage: point.stage).map(\.images))
        stages[point.stage] = CriticStageRecords(directory: directory, manifest: manifest, metrics: [])
    }

    /// The recordings on disk up to `images` images shown (a resume from the
    /// checkpoint of that moment): recordings made after it are dropped
    /// from memory, to be made again with the same bytes.
    /// - Throws: `FileError` for a stage directory whose manifest or metrics are damaged.
    mutating func reload(run path: String, upTo images: Int) throws {
        stages = [:]
        for s in 0..<settings.architecture.stageCount {
            let directory = RunDirectory(path + "/" + settings.criticDirectoryName(stage: s))
            for folder in [directory.path, directory.activationsDirectory] where AtomicFile.isDirectory(folder) {
                for name in try AtomicFile.listDirectory(folder) where name.contains(".tmp-") { AtomicFile.remove(folder + "/" + name) }
            }
            // A directory without a manifest was being started: it is started again.
            guard AtomicFile.exists(directory.manifest) else { continue }
            var manifest = try directory.readManifest()
            manifest.recordedEpochs = manifest.recordedEpochs.filter { $0 <= images }
            guard let last = manifest.recordedEpochs.last else { continue }
            manifest.epochsCompleted = last
            manifest.complete = settings.plannedCriticRecords(stage: s).last?.images == last
            let metrics = try RunCSV.readMetrics(directory.metrics).filter { $0.epoch <= last }
            guard metrics.map(\.epoch) == manifest.recordedEpochs else {
                throw FileError(path: directory.metrics, reason: "rows for images \(metrics.map(\.epoch)), the manifest "
                                + "records \(manifest.recordedEpochs)")
            }
            stages[s] = CriticStageRecords(directory: directory, manifest: manifest, metrics: metrics)
        }
    }
}
