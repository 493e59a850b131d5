// A progressive GAN trained into a run directory, as `infoplane train --task
// progan` does: the manifest, one metrics row per step, checkpoints of the
// whole trainer state, and sample grids at the end of every stage.
//
//   manifest.json           task "progan", the settings, steps completed, the
//                           checkpoint's step, whether the run is complete
//   metrics.csv             GANStepRecord.csvHeader, one row per step
//   checkpoint.npz          ProgressiveTrainerState and the metrics so far
//   grids/reals.png         the first 64 real images
//   grids/samples-RxR.png   at the end of stage R x R: the moving-average
//                           generator's images of one fixed latent batch
//                           (seed 2018), nearest-upscaled to the final size
//   grids/growth.png        at the end: one row per stage, the same 8
//                           latents through each stage's moving average
//   grids/interpolation.png at the end: 6 rows of 8 images along great
//                           circles between pairs of latents (seed 2019)
//   generator-ema-RxR.npz   at the end of stage R x R: the moving-average
//                           generator's parameters (`sample --stage R`)
//   generator-ema.npz, generator.npz, discriminator.npz
//                           the parameters at the end of the run
//   critic-RxR/             from the first step of stage R x R's fade-in to
//                           its end: the critic's layers on a fixed probe
//                           batch of reals and fakes (Y = real 1 / fake 0),
//                           an ordinary run directory with images shown as
//                           its epochs, for `estimate`, `plot` and `audit`
//                           (CriticRecording.swift)
//
// Commit protocol (the one of `RecordedRun`): after a step, the critic's
// recordings it is due (each stage directory's files, then its manifest),
// then at every checkpoint step (every `checkpointInterval` steps, at the
// end of every stage and at the end), the
// grid of a stage that just ended, then metrics.csv, then
// checkpoint-next.npz, each written atomically, then manifest.json naming the
// step (the commit), then checkpoint-next.npz renamed onto checkpoint.npz. A
// kill leaves at worst files the manifest does not vouch for; a resume
// restarts from the checkpoint it names (forgetting the critic's recordings
// after it), and since a step and a recording are pure functions of the
// trainer's state, rewrites them with the same bytes: a resumed run's
// directory equals an uninterrupted one's, byte for byte, at the same BLAS
// thread count.
//
// Not here: the sample-quality metrics (`infoplane sample` computes them
// from a run's generator), `reproduce karras2018`.

import ArrayIO
import Foundation
import NeuralNets
import Plotting
import Tensors

/// What fixes a progressive run directory.
public struct ProgressiveRunSettings: Codable, Equatable, Sendable {
    public var architecture: GANArchitecture
    /// Real images shown in each phase (each stabilization and each fade-in).
    public var imagesPerPhase: Int
    public var schedule: GrowthSchedule
    public var batchSize: Int
    public var seed: UInt64
    /// Where the images come from: "fashion-mnist:DIRECTORY" or the path of a `.npy`/`.npz` file.
    public var images: String
    /// Steps between checkpoints (besides those at stage ends and at the end).
    public var checkpointInterval: Int
    /// The fixed latent batch of the sample grids: its size and seed.
    public var gridCount: Int
    public var gridSeed: UInt64
    /// The critic's recordings (CriticRecording.swift): real images in each
    /// half of the probe (training and held-out; as many fakes join each),
    /// the seed of their choice (the fakes' latents: this seed + 1 and + 2), and the steps between recordings
    /// (besides those at phase ends). All nil in a run that does not record
    /// its critic (one started before recording existed).
    public var probeCount: Int?
    public var probeSeed: UInt64?
    public var recordInterval: Int?

    /// - Parameters:
    ///   - images: see `images`.
    ///   - recordInterval: nil: half a phase's steps (at least 1).
    public init(images: String, architecture: GANArchitecture, imagesPerPhase: Int, batchSize: Int = 16, seed: UInt64 = 1,
                checkpointInterval: Int = 500, gridCount: Int = 64, gridSeed: UInt64 = 2018,
                probeCount: Int = 64, probeSeed: UInt64 = 2020, recordInterval: Int? = nil) {
        self.architecture = architecture
        self.imagesPerPhase = imagesPerPhase
        self.schedule = GrowthSchedule(stageCount: architecture.stageCount, stabilizationImages: imagesPerPhase,
                                       fadeInImages: imagesPerPhase)
        self.batchSize = batchSize
        self.seed = seed
        self.images = images
        self.checkpointInterval = checkpointInterval
        self.gridCount = gridCount
        self.gridSeed = gridSeed
        self.probeCount = probeCount
        self.probeSeed = probeSeed
        self.recordInterval = recordInterval ?? max(1, imagesPerPhase / batchSize / 2)
    }

    /// The trainer's configuration: the paper's optimizer, loss and average.
    public var configuration: ProgressiveTrainingConfiguration {
        ProgressiveTrainingConfiguration(architecture: architecture, schedule: schedule, batchSize: batchSize, seed: seed)
    }

    /// The default architecture for images of `channels` x `resolution`²:
    /// stages from 4x4 up, 64 feature maps at 4x4 and 8x8, halved every two
    /// stages after (at least 16): [64, 64, 32, 32] for 32x32.
    public static func architecture(channels: Int, resolution: Int) -> GANArchitecture {
        var maps = [Int](), side = 4
        while side <= resolution {
            maps.append(max(16, 64 >> (maps.count / 2)))
            side *= 2
        }
        return GANArchitecture(imageChannels: channels, featureMaps: maps)
    }

    /// The images `images` names.
    /// - Throws: `FileError` naming the file.
    public static func loadImages(_ source: String) throws -> TrainingImages {
        let prefix = "fashion-mnist:"
        if source.hasPrefix(prefix) { return try TrainingImages.fashionMNIST(directory: String(source.dropFirst(prefix.count))) }
        return try TrainingImages.numpy(path: source)
    }
}

/// The manifest of a progressive run (`manifest.json`).
public struct ProgressiveRunManifest: Codable, Equatable, Sendable {
    /// "progan": what tells this run from the MLP runs.
    public var task: String
    public var settings: ProgressiveRunSettings
    public var stepsCompleted: Int
    /// The step of checkpoint.npz (nil before the first).
    public var checkpointStep: Int?
    public var complete: Bool

    /// The manifest's JSON: sorted keys, snake case, so that equal manifests have equal bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return Array(try encoder.encode(self)) + [10]
    }

    /// The manifest in `directory`.
    /// - Throws: `FileError` naming the file when it is missing or not a progressive run's manifest.
    public static func read(directory: String) throws -> ProgressiveRunManifest {
        let path = directory + "/manifest.json"
        let bytes = try JSONLimits.read(path)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let manifest = try? decoder.decode(ProgressiveRunManifest.self, from: Data(bytes)), manifest.task == "progan" else {
            throw FileError(path: path, reason: "not the manifest of a progressive GAN run")
        }
        return manifest
    }

    /// Whether `directory` holds a progressive run (its manifest names the task progan).
    public static func isProgressiveRun(_ directory: String) -> Bool {
        (try? read(directory: directory)) != nil
    }
}

/// A progressive GAN training into its run directory.
public struct ProgressiveRun {
    public let directory: String
    public private(set) var manifest: ProgressiveRunManifest
    public private(set) var trainer: ProgressiveTrainer
    /// Every step's record so far.
    public private(set) var records: [GANStepRecord] = []
    /// The grids' latent batch.
    let gridLatents: Tensor
    /// The critic's probe batch and recordings (nil: the run does not record its critic).
    var critic: CriticRecorder?

    public var settings: ProgressiveRunSettings { manifest.settings }
    public var isComplete: Bool { manifest.complete }

    var manifestPath: String { directory + "/manifest.json" }
    var checkpointPath: String { directory + "/checkpoint.npz" }
    var nextCheckpointPath: String { directory + "/checkpoint-next.npz" }
    var metricsPath: String { directory + "/metrics.csv" }
    var gridsDirectory: String { directory + "/grids" }

    init(directory: String, manifest: ProgressiveRunManifest, images: TrainingImages) throws {
        let a = manifest.settings.architecture
        guard images.channels == a.imageChannels && images.resolution == a.finalResolution else {
            throw FileError(path: manifest.settings.images, reason: "images of \(images.channels)x\(images.resolution)x\(images.resolution) "
                            + "for a \(a.imageChannels)-channel \(a.finalResolution)x\(a.finalResolution) run")
        }
        self.directory = directory
        self.manifest = manifest
        trainer = ProgressiveTrainer(configuration: manifest.settings.configuration, images: images)
        gridLatents = ProgressiveTrainer.latents(count: manifest.settings.gridCount, dimension: a.latentDimension,
                                                 seed: manifest.settings.gridSeed)
        if manifest.settings.recordsCritic {
            critic = try CriticRecorder(settings: manifest.settings, images: images,
                                        heldOut: CriticRecorder.heldOutImages(manifest.settings.images), run: directory)
        }
    }

    /// A new run in `path` (created if needed), with its manifest and grid of reals.
    /// - Parameter images: the images `settings.images` names (nil: load them).
    /// - Throws: `FileError` if `path` already holds a run or cannot be written.
    public static func start(settings: ProgressiveRunSettings, at path: String, images: TrainingImages? = nil) throws -> ProgressiveRun {
        if AtomicFile.exists(path + "/manifest.json") {
            throw FileError(path: path, reason: "already holds a run; use --resume \(path) to continue it, or choose another --out")
        }
        guard settings.batchSize > 0, settings.imagesPerPhase > 0, settings.checkpointInterval > 0, settings.gridCount > 0,
              (settings.recordInterval ?? 1) > 0 else {
            throw FileError(path: path, reason: "batch size, images per phase, checkpoint interval, grid count and record interval must be positive")
        }
        let manifest = ProgressiveRunManifest(task: "progan", settings: settings, stepsCompleted: 0, checkpointStep: nil, complete: false)
        var run = try ProgressiveRun(directory: path, manifest: manifest, images: images ?? ProgressiveRunSettings.loadImages(settings.images))
        try AtomicFile.createDirectory(run.gridsDirectory)
        let reals = run.trainer.images.batch(Array(0..<min(settings.gridCount, run.trainer.images.count)))
        try run.writeGrid(reals, name: "reals.png")
        try run.recordCritic()
        try AtomicFile.write(Array(GANStepRecord.csvHeader.utf8) + [10], to: run.metricsPath)
        try AtomicFile.write(manifest.encoded(), to: run.manifestPath)
        return run
    }

    /// The run in `path`, continued from its last checkpoint (from its seed if it has none).
    /// - Throws: `FileError` for a missing or damaged manifest or checkpoint.
    public static func resume(at path: String, images: TrainingImages? = nil) throws -> ProgressiveRun {
        let manifest = try ProgressiveRunManifest.read(directory: path)
        var run = try ProgressiveRun(directory: path, manifest: manifest,
                                     images: images ?? ProgressiveRunSettings.loadImages(manifest.settings.images))
        for folder in [path, run.gridsDirectory] where AtomicFile.isDirectory(folder) {
            for name in try AtomicFile.listDirectory(folder) where name.contains(".tmp-") { AtomicFile.remove(folder + "/" + name) }
        }
        if AtomicFile.exists(run.nextCheckpointPath) {
            // Committed if the manifest names its step (a kill between the manifest and the rename).
            if let step = manifest.checkpointStep, (try? ProgressiveCheckpoint.step(of: run.nextCheckpointPath)) == step {
                try AtomicFile.move(run.nextCheckpointPath, onto: run.checkpointPath)
            } else {
                AtomicFile.remove(run.nextCheckpointPath)
            }
        }
        if let step = manifest.checkpointStep {
            let (state, records) = try ProgressiveCheckpoint.read(run.checkpointPath, fitting: run.trainer.state)
            guard state.steps == step, records.count == step else {
                throw FileError(path: run.checkpointPath, reason: "checkpoint of step \(state.steps), the manifest says \(step)")
            }
            run.trainer = ProgressiveTrainer(configuration: manifest.settings.configuration, images: run.trainer.images,
                                             resumingFrom: state)
            run.records = records
        }
        try run.critic?.reload(run: path, upTo: run.trainer.imagesShown)
        return run
    }

    /// Trains to the end of the schedule, committing as it goes.
    ///
    /// - Parameters:
    ///   - stopAfterSteps: return after this many steps, committing nothing
    ///     more (as a kill would), for tests.
    ///   - progress: called after every step.
    public mutating func run(stopAfterSteps: Int? = nil, progress: (GANStepRecord) -> Void = { _ in }) throws {
        var taken = 0
        while !trainer.isFinished {
            if let stopAfterSteps, taken >= stopAfterSteps { return }
            let record = trainer.step()
            taken += 1
            records.append(record)
            progress(record)
            try recordCritic()
            // The end of a stage's stabilization: the next step fades in a new block (or, without
            // fade-in, trains at the next stage), or the run is over.
            let stageEnds = !record.level.isFadingIn
                && (trainer.isFinished || trainer.level.isFadingIn || trainer.level.stage != record.level.stage)
            if stageEnds {
                let r = record.resolution
                try writeGrid(trainer.samples(gridLatents, level: record.level), name: "samples-\(r)x\(r).png")
                try trainer.averagedGenerator.save(to: directory + "/generator-ema-\(r)x\(r).npz")
            }
            if stageEnds || trainer.steps % settings.checkpointInterval == 0 { try commit() }
        }
        if !manifest.complete { try finish() }
    }

    /// The critic's recordings due after the steps taken so far.
    mutating func recordCritic() throws {
        guard critic != nil else { return }
        for point in settings.criticRecords(afterSteps: trainer.steps) {
            try critic!.record(point, trainer: trainer, run: directory)
        }
    }

    /// metrics.csv, the checkpoint and the manifest that vouches for both.
    mutating func commit() throws {
        try AtomicFile.write(Array((GANStepRecord.csvHeader + "\n" + records.map { $0.csvRow + "\n" }.joined()).utf8),
                             to: metricsPath, durability: .deferred)
        try AtomicFile.write(ProgressiveCheckpoint.encode(trainer.state, records: records), to: nextCheckpointPath,
                             durability: .deferred)
        AtomicFile.flushFileSystem(containing: directory)
        manifest.stepsCompleted = trainer.steps
        manifest.checkpointStep = trainer.steps
        try AtomicFile.write(manifest.encoded(), to: manifestPath)
        try AtomicFile.move(nextCheckpointPath, onto: checkpointPath)
    }

    mutating func finish() throws {
        try writeGrowthFigure()
        try writeInterpolationFigure()
        try trainer.averagedGenerator.save(to: directory + "/generator-ema.npz")
        try trainer.generatorParameters.save(to: directory + "/generator.npz")
        try trainer.discriminatorParameters.save(to: directory + "/discriminator.npz")
        manifest.complete = true
        try AtomicFile.write(manifest.encoded(), to: manifestPath)
    }

    /// One row per stage the run trained: the grid's first 8 latents through
    /// the moving average saved at the end of that stage, so that the rows
    /// show the same images growing.
    func writeGrowthFigure() throws {
        let a = settings.architecture
        let columns = min(8, gridLatents.shape[0])
        let z = gridLatents.rows(0..<columns)
        var images = [Float](), rows = 0, shape = [Int]()
        for s in 0..<a.stageCount {
            let r = a.resolution(ofStage: s)
            let path = directory + "/generator-ema-\(r)x\(r).npz"
            guard AtomicFile.exists(path) else { continue }
            var store = trainer.averagedGenerator
            try store.load(from: path)
            var x = trainer.generator.generate(z, parameters: store, level: .stable(s))
            while x.shape[2] < a.finalResolution { x = x.upsampledNearest2x() }
            images += x.scalars
            shape = x.shape
            rows += 1
        }
        guard rows > 0 else { return }
        try writeGrid(Tensor(shape: [rows * columns] + shape.dropFirst(), scalars: images), name: "growth.png", nrow: columns)
    }

    /// Six rows of eight images along great circles between pairs of latents
    /// (the latent is normalized to the hypersphere by the generator's first
    /// pixel norm, so the path between two of them is spherical: slerp), from
    /// the final moving average.
    func writeInterpolationFigure() throws {
        let d = settings.architecture.latentDimension
        let ends = ProgressiveTrainer.latents(count: 12, dimension: d, seed: 2019)
        var z = [Float]()
        for row in 0..<6 {
            let a = Array(ends.scalars[(2 * row * d)..<((2 * row + 1) * d)])
            let b = Array(ends.scalars[((2 * row + 1) * d)..<((2 * row + 2) * d)])
            for step in 0..<8 { z += Self.slerp(a, b, Float(step) / 7) }
        }
        let level = GrowthLevel.stable(settings.architecture.stageCount - 1)
        let x = trainer.generator.generate(Tensor(shape: [48, d], scalars: z), parameters: trainer.averagedGenerator, level: level)
        try writeGrid(x, name: "interpolation.png", nrow: 8)
    }

    /// The point a fraction t along the great circle from a to b (the two
    /// scaled to a's length), linear when they are (nearly) parallel.
    static func slerp(_ a: [Float], _ b: [Float], _ t: Float) -> [Float] {
        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let cosine = min(1, max(-1, zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (na * nb)))
        let omega = acosf(cosine)
        if omega < 1e-4 { return zip(a, b).map { (1 - t) * $0 + t * $1 } }
        let wa = sinf((1 - t) * omega) / sinf(omega), wb = sinf(t * omega) / sinf(omega) * na / nb
        return zip(a, b).map { wa * $0 + wb * $1 }
    }

    /// Images [N, C, r, r] in [-1, 1], nearest-upscaled to the final
    /// resolution, as a grid of 8 a row (make_grid's padding 2), magnified 3x.
    func writeGrid(_ images: Tensor, name: String, nrow: Int = 8) throws {
        try ProgressiveRun.grid(images, finalResolution: settings.architecture.finalResolution, nrow: nrow)
            .render().writePNG(to: gridsDirectory + "/" + name)
    }

    /// The grid of images [N, C, r, r] in [-1, 1] shown at `finalResolution`.
    public static func grid(_ images: Tensor, finalResolution: Int, nrow: Int = 8, padding: Int = 2,
                            upscale: Int = 3) -> ImageGrid {
        var x = images
        while x.shape[2] < finalResolution { x = x.upsampledNearest2x() }
        var grid = ImageGrid(values: x.scalars, shape: x.shape)
        grid.nrow = nrow
        grid.padding = padding
        grid.normalize = true
        grid.valueRange = (-1, 1)
        grid.upscale = upscale
        return grid
    }
}

/// ProgressiveTrainerState and the step records in one `.npz` archive.
///
/// Members: `g/NAME`, `d/NAME`, `ema/NAME` (float32 parameters), for each
/// optimizer (`opt_g`, `opt_d`) `_step` and `_slot_S_P`, with `_slots`
/// [slot count, parameter count]; `phase`, `images_shown`, `steps`,
/// `position` (int64 scalars), `noise`, `shuffling` (the generators' four
/// state words), `order` (int64), `records` (float64 [steps, 11], the
/// columns of `GANStepRecord.csvHeader`).
public enum ProgressiveCheckpoint {
    public static func encode(_ s: ProgressiveTrainerState, records: [GANStepRecord]) throws -> [UInt8] {
        var arrays = [(String, NPYArray)]()
        func store(_ prefix: String, _ p: ParameterStore) {
            for (name, t) in zip(p.names, p.tensors) { arrays.append((prefix + name, NPYArray(floats: t.scalars, shape: t.shape))) }
        }
        func int(_ name: String, _ v: Int) { arrays.append((name, NPYArray(int64s: [Int64(v)], shape: []))) }
        func optimizer(_ prefix: String, _ o: OptimizerState) {
            int(prefix + "_step", o.step)
            arrays.append((prefix + "_slots", NPYArray(int64s: [Int64(o.slots.count), Int64(o.slots.first?.count ?? 0)], shape: [2])))
            for (i, slot) in o.slots.enumerated() {
                for (j, t) in slot.enumerated() { arrays.append(("\(prefix)_slot_\(i)_\(j)", NPYArray(floats: t.scalars, shape: t.shape))) }
            }
        }
        store("g/", s.generatorParameters)
        store("d/", s.discriminatorParameters)
        store("ema/", s.averagedGenerator)
        optimizer("opt_g", s.generatorOptimizer)
        optimizer("opt_d", s.discriminatorOptimizer)
        int("phase", s.phase)
        int("images_shown", s.imagesShown)
        int("steps", s.steps)
        int("position", s.position)
        arrays.append(("noise", NPYArray(int64s: s.noise.stateWords.map { Int64(bitPattern: $0) }, shape: [4])))
        arrays.append(("shuffling", NPYArray(int64s: s.shuffling.stateWords.map { Int64(bitPattern: $0) }, shape: [4])))
        arrays.append(("order", NPYArray(int64s: s.order.map { Int64($0) }, shape: [s.order.count])))
        arrays.append(("records", NPYArray(doubles: records.flatMap { r in
            [Double(r.step), Double(r.level.stage), Double(r.resolution), Double(r.level.alpha), r.level.isFadingIn ? 1 : 0,
             Double(r.imagesShown), Double(r.criticLoss), Double(r.generatorLoss), Double(r.gradientPenalty),
             Double(r.realScore), Double(r.fakeScore)]
        }, shape: [records.count, 11])))
        return try NPZ.encode(arrays)
    }

    /// The step a checkpoint file holds.
    static func step(of path: String) throws -> Int {
        guard let entry = try NPZ.read(path: path).first(where: { $0.name == "steps" }),
              let v = try? entry.array.int64s(), v.count == 1 else {
            throw FileError(path: path, reason: "damaged checkpoint: no step count")
        }
        return Int(v[0])
    }

    /// The state and records in `path`; `template` (a fresh trainer's
    /// state) gives the parameters' names and shapes.
    /// - Throws: `FileError` naming the file for a missing member or a wrong shape.
    public static func read(_ path: String, fitting template: ProgressiveTrainerState) throws
        -> (state: ProgressiveTrainerState, records: [GANStepRecord]) {
        var byName = [String: NPYArray]()
        for (name, array) in try NPZ.read(path: path) { byName[name] = array }
        func array(_ name: String) throws -> NPYArray {
            guard let a = byName[name] else { throw FileError(path: path, reason: "damaged checkpoint: no array \"\(name)\"") }
            return a
        }
        func ints(_ name: String) throws -> [Int] {
            guard let v = try? array(name).ints() else { throw FileError(path: path, reason: "damaged checkpoint: \"\(name)\" is not integers") }
            return v
        }
        func int(_ name: String) throws -> Int {
            let v = try ints(name)
            guard v.count == 1 else { throw FileError(path: path, reason: "damaged checkpoint: \"\(name)\" is not one integer") }
            return v[0]
        }
        func tensor(_ name: String, shape: [Int]?) throws -> Tensor {
            let a = try array(name)
            if let shape, a.shape != shape {
                throw FileError(path: path, reason: "\"\(name)\" has shape \(a.shape), expected \(shape)")
            }
            return Tensor(shape: a.shape, scalars: a.floats())
        }
        func store(_ prefix: String, _ p: ParameterStore) throws -> ParameterStore {
            var p = p
            for (i, name) in p.names.enumerated() { p.tensors[i] = try tensor(prefix + name, shape: p.tensors[i].shape) }
            return p
        }
        func optimizer(_ prefix: String) throws -> OptimizerState {
            let counts = try ints(prefix + "_slots")
            guard counts.count == 2 else { throw FileError(path: path, reason: "damaged checkpoint: \(prefix)_slots") }
            let slots = try (0..<counts[0]).map { i in try (0..<counts[1]).map { j in try tensor("\(prefix)_slot_\(i)_\(j)", shape: nil) } }
            return OptimizerState(step: try int(prefix + "_step"), slots: slots)
        }
        func generator(_ name: String) throws -> RandomGenerator {
            let words = try ints(name)
            guard words.count == 4 else { throw FileError(path: path, reason: "damaged checkpoint: \"\(name)\" is not 4 words") }
            return RandomGenerator(state: words.map { UInt64(bitPattern: Int64($0)) })
        }
        let state = ProgressiveTrainerState(
            generatorParameters: try store("g/", template.generatorParameters),
            discriminatorParameters: try store("d/", template.discriminatorParameters),
            averagedGenerator: try store("ema/", template.averagedGenerator),
            generatorOptimizer: try optimizer("opt_g"), discriminatorOptimizer: try optimizer("opt_d"),
            phase: try int("phase"), imagesShown: try int("images_shown"), steps: try int("steps"),
            noise: try generator("noise"), shuffling: try generator("shuffling"), order: try ints("order"),
            position: try int("position"))
        let table = try array("records")
        guard table.shape.count == 2, table.shape[1] == 11 else {
            throw FileError(path: path, reason: "damaged checkpoint: records of shape \(table.shape)")
        }
        let v = table.doubles()
        let records = (0..<table.shape[0]).map { r -> GANStepRecord in
            let x = Array(v[(11 * r)..<(11 * r + 11)])
            let level = x[4] != 0 ? GrowthLevel.fadingIn(Int(x[1]), alpha: Float(x[3])) : GrowthLevel.stable(Int(x[1]))
            return GANStepRecord(step: Int(x[0]), level: level, resolution: Int(x[2]), imagesShown: Int(x[5]),
                                 criticLoss: Float(x[6]), generatorLoss: Float(x[7]), gradientPenalty: Float(x[8]),
                                 realScore: Float(x[9]), fakeScore: Float(x[10]))
        }
        return (state, records)
    }
}

// MARK: Sampling a finished (or interrupted) run

/// A run's moving-average generator, as `infoplane sample` draws from it.
public struct ProgressiveSampler {
    public let settings: ProgressiveRunSettings
    public let generator: ProgressiveGenerator
    /// The moving average of G's parameters.
    public let parameters: ParameterStore
    /// The level the run reached: the last stage, stabilized, for a complete run.
    public let level: GrowthLevel

    /// The generator of the run in `directory`: `generator-ema.npz` of a
    /// complete run, or the average in its last checkpoint; with `stage`
    /// (a resolution R), the average saved at the end of stage R x R.
    /// - Throws: `FileError` for a missing manifest, weights or checkpoint,
    ///   or a stage the architecture does not have or the run has not finished.
    public init(directory: String, stage: Int? = nil) throws {
        let manifest = try ProgressiveRunManifest.read(directory: directory)
        settings = manifest.settings
        var rng = RandomGenerator(seed: settings.seed)
        var store = ParameterStore()
        generator = ProgressiveGenerator(settings.architecture, store: &store, rng: &rng)
        let architecture = settings.architecture
        if let stage {
            let stages = (0..<architecture.stageCount).map { architecture.resolution(ofStage: $0) }
            guard let index = stages.firstIndex(of: stage) else {
                throw FileError(path: directory, reason: "no stage \(stage)x\(stage) (the stages are "
                    + stages.map { "\($0)x\($0)" }.joined(separator: ", ") + ")")
            }
            let path = directory + "/generator-ema-\(stage)x\(stage).npz"
            guard AtomicFile.exists(path) else {
                throw FileError(path: path, reason: "missing: the run has not finished stage \(stage)x\(stage)")
            }
            try store.load(from: path)
            level = .stable(index)
        } else if manifest.complete {
            try store.load(from: directory + "/generator-ema.npz")
            level = settings.schedule.level(afterImages: settings.schedule.totalImages)
        } else {
            let path = directory + "/checkpoint.npz"
            guard manifest.checkpointStep != nil else {
                throw FileError(path: path, reason: "the run has no checkpoint yet: nothing to sample")
            }
            var byName = [String: NPYArray]()
            for (name, array) in try NPZ.read(path: path) { byName[name] = array }
            for (i, name) in store.names.enumerated() {
                guard let a = byName["ema/" + name], a.shape == store.tensors[i].shape else {
                    throw FileError(path: path, reason: "damaged checkpoint: no averaged parameter \"\(name)\" of shape \(store.tensors[i].shape)")
                }
                store.tensors[i] = Tensor(shape: a.shape, scalars: a.floats())
            }
            guard let shown = try? byName["images_shown"]?.ints(), shown.count == 1 else {
                throw FileError(path: path, reason: "damaged checkpoint: no image count")
            }
            level = settings.schedule.level(afterImages: shown[0])
        }
        parameters = store
    }

    /// `count` samples from the latents of `seed`, [count, C, R, R] with R
    /// the final resolution (an earlier stage's images nearest-upscaled),
    /// clamped to [-1, 1].
    public func samples(count: Int, seed: UInt64) -> Tensor {
        let z = ProgressiveTrainer.latents(count: count, dimension: settings.architecture.latentDimension, seed: seed)
        var x = generator.generate(z, parameters: parameters, level: level)
        while x.shape[2] < settings.architecture.finalResolution { x = x.upsampledNearest2x() }
        return Tensor(shape: x.shape, scalars: x.scalars.map { min(1, max(-1, $0)) })
    }
}
