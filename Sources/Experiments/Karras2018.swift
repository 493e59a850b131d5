// karras2018: Karras et al., "Progressive Growing of GANs for Improved
// Quality, Stability, and Variation" (ICLR 2018), at CPU scale on
// Fashion-MNIST padded to 32x32 (ProgressiveGAN's model, trainer and run
// directory; the metrics of SlicedWasserstein.swift and SampleMetrics.swift).
//
// Every run of the suite is an ordinary progressive run directory
// (`infoplane sample`, `estimate` on its critic-RxR/ work on it) plus, beside
// its files, `snapshots/ema-step-K.npz`: the moving-average generator after
// step K at fixed points of the schedule (8 a phase at the standard scale),
// from which the sliced Wasserstein distance against images shown is
// computed after training, and `timing.csv` (step, seconds of training so
// far: wall clock, the only file that is not byte-reproducible). A run is
// trained in segments between snapshot steps on one BLAS thread, so that its
// bytes are those of `infoplane train --task progan` with the same settings
// at one thread; a complete run is reused, an interrupted one resumed from its
// checkpoint (the snapshots after it are written again with the same bytes).
//
// The progressive run (`progressive/progressive`) is shared: `fade-in`,
// `speed` and `information` reuse it from the suite's runs directory
// (`ablations` trains its own rows, at a quarter of the images a phase).

import ArrayIO
import Datasets
import Foundation
import NeuralNets
import Plotting
import ProgressiveGAN
import Tensors

extension Experiments {
    /// The karras2018 suite.
    static let karras2018: [Experiment] = [
        Experiment(suite: "karras2018", name: "progressive",
                   abstract: "4x4 to 32x32 with fade-in on Fashion-MNIST: sample grids, losses and SWD against images shown, stage boundaries marked",
                   run: Karras2018.progressive),
        Experiment(suite: "karras2018", name: "fade-in",
                   abstract: "fade-in against a hard switch of each new block: the critic's loss and SWD around every stage change",
                   run: Karras2018.fadeIn),
        Experiment(suite: "karras2018", name: "speed",
                   abstract: "progressive against 32x32 from the start at equal compute (Fig. 4): SWD against measured seconds",
                   run: Karras2018.speed),
        Experiment(suite: "karras2018", name: "ablations",
                   abstract: "Table 1 rows: WGAN-GP baseline, + progressive growing, + minibatch stddev, + equalized LR, + pixel norm: SWD and per-pixel std",
                   run: Karras2018.ablations),
        Experiment(suite: "karras2018", name: "information",
                   abstract: "the information plane of the critic's layers at each stage (Y = real or fake), from the critic recordings",
                   run: Karras2018.information),
    ]
}

/// The sizes of the karras2018 experiments at each scale.
struct Karras2018Plan: Sendable, Equatable {
    /// Real images shown in each phase (stabilization or fade-in).
    var imagesPerPhase: Int
    var batchSize: Int
    /// Feature maps per stage, 4x4 first.
    var featureMaps: [Int]
    var latentDimension: Int
    /// Moving-average snapshots (SWD points) per phase.
    var snapshotsPerPhase: Int
    /// Generated and real images per SWD measurement.
    var swdImages: Int
    /// Samples for the final class coverage and Fréchet distance.
    var metricImages: Int
    /// The classifier's Adam steps.
    var classifierSteps: Int
    /// Real images in each half of the critic's probe.
    var probeCount: Int

    static func plan(_ scale: ExperimentScale) -> Karras2018Plan {
        switch scale {
        case .quick:
            Karras2018Plan(imagesPerPhase: 64, batchSize: 16, featureMaps: [16, 16, 8, 8], latentDimension: 16, snapshotsPerPhase: 2,
                           swdImages: 32, metricImages: 64, classifierSteps: 60, probeCount: 16)
        case .standard:
            Karras2018Plan(imagesPerPhase: 8000, batchSize: 16, featureMaps: [64, 64, 32, 32], latentDimension: 64, snapshotsPerPhase: 8,
                           swdImages: 256, metricImages: 1000, classifierSteps: 1500, probeCount: 64)
        case .full:
            Karras2018Plan(imagesPerPhase: 16000, batchSize: 16, featureMaps: [64, 64, 32, 32], latentDimension: 64, snapshotsPerPhase: 8,
                           swdImages: 512, metricImages: 1000, classifierSteps: 1500, probeCount: 64)
        }
    }

    /// The plan of `context`: its scale's, with `--epochs N` read as N images a phase.
    /// - Throws: `ExperimentError` for a count that is not a positive multiple of the batch size.
    static func plan(_ context: ExperimentContext) throws -> Karras2018Plan {
        var plan = Karras2018Plan.plan(context.scale)
        if let images = context.epochs {
            guard images >= plan.batchSize, images % plan.batchSize == 0 else {
                throw ExperimentError("karras2018: --epochs is the images shown per phase, a positive multiple of the batch size "
                                      + "\(plan.batchSize) (got \(images))")
            }
            plan.imagesPerPhase = images
        }
        return plan
    }

    var architecture: GANArchitecture {
        GANArchitecture(latentDimension: latentDimension, featureMaps: featureMaps)
    }

    /// The snapshot steps of a run of `settings`: step 0, every phase /
    /// `snapshotsPerPhase` images, and the last step.
    func snapshotSteps(_ settings: ProgressiveRunSettings) -> [Int] {
        let total = (settings.schedule.totalImages + settings.batchSize - 1) / settings.batchSize
        let every = max(1, imagesPerPhase / snapshotsPerPhase / settings.batchSize)
        var steps = Array(stride(from: 0, through: total, by: every))
        if steps.last != total { steps.append(total) }
        return steps
    }
}

/// One metrics.csv row of a progressive run.
struct GANMetricsRow: Sendable {
    var step: Int, stage: Int, resolution: Int, alpha: Double, fadingIn: Bool, imagesShown: Int
    var criticLoss: Double, generatorLoss: Double, gradientPenalty: Double, realScore: Double, fakeScore: Double
}

/// A trained run of the suite: its directory, settings, metrics and the SWD at its snapshots.
struct KarrasRun: Sendable {
    var name: String
    var path: String
    var settings: ProgressiveRunSettings
    var rows: [GANMetricsRow]
    /// Per snapshot: step, images shown, seconds of training (measured), SWD per level (finest first).
    var swd: [(step: Int, images: Int, seconds: Double, levels: [Double])]
    /// Per snapshot: the per-pixel standard deviation across the SWD's samples, averaged over pixels.
    var pixelStd: [Double]
    /// The SWD levels' resolutions.
    var swdResolutions: [Int]

    /// The images shown when each stage after the first starts (its fade-in,
    /// or the switch), and the fade-in ranges.
    var stageStarts: [Int] {
        let s = settings.schedule
        return ((s.initialStage + 1)..<s.stageCount).map { s.firstImage(ofStage: $0) }
    }
    var fadeIns: [(Int, Int)] {
        let s = settings.schedule
        guard s.fadeInImages > 0 else { return [] }
        return ((s.initialStage + 1)..<s.stageCount).map { (s.firstImage(ofStage: $0), s.firstImage(ofStage: $0) + s.fadeInImages) }
    }
    /// The mean SWD over the levels at each snapshot.
    var meanSWD: [Double] { swd.map { $0.levels.reduce(0, +) / Double($0.levels.count) } }
}

enum Karras2018 {
    // MARK: Set-up

    /// The Fashion-MNIST directory: `--data`, or the Debian package's.
    static func dataDirectory(_ context: ExperimentContext) throws -> String {
        let directory = context.data ?? FashionMNIST.defaultDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ExperimentError("karras2018: --data \(directory) is not a directory (the Fashion-MNIST IDX files; "
                                  + "the default is \(FashionMNIST.defaultDirectory))")
        }
        return directory
    }

    /// The settings of a run at `plan`'s scale: the paper's model, schedule
    /// 4x4 → 32x32 with fade-in unless changed by `modify`.
    static func settings(_ plan: Karras2018Plan, data: String, seed: UInt64,
                         modify: (inout ProgressiveRunSettings) -> Void = { _ in }) -> ProgressiveRunSettings {
        var s = ProgressiveRunSettings(images: "fashion-mnist:" + data, architecture: plan.architecture,
                                       imagesPerPhase: plan.imagesPerPhase, batchSize: plan.batchSize, seed: seed,
                                       checkpointInterval: max(1, plan.imagesPerPhase / plan.batchSize), probeCount: plan.probeCount)
        modify(&s)
        return s
    }

    /// The run directory shared by the suite's experiments: `RUNS/karras2018/progressive/NAME`.
    static func sharedRunPath(_ context: ExperimentContext, _ name: String) throws -> String {
        let root = (context.runs as NSString).deletingLastPathComponent + "/progressive"
        try AtomicFile.createDirectory(root)
        return root + "/" + name
    }

    /// Trains (or reuses, or resumes) the run at `path`, writing its
    /// snapshots and timing, then measures the SWD at every snapshot.
    ///
    /// - Parameter stopAfterSnapshotStep: stop training after the snapshot of this step, committing nothing
    ///   more, as a kill would (tests); the call then throws `ExperimentError`.
    static func train(name: String, path: String, settings: ProgressiveRunSettings, plan: Karras2018Plan,
                      images: TrainingImages, reals: Tensor, context: ExperimentContext, message: String,
                      stopAfterSnapshotStep: Int? = nil) throws -> KarrasRun {
        let snapshots = plan.snapshotSteps(settings)
        let snapshotDirectory = path + "/snapshots"
        func snapshotPath(_ step: Int) -> String { snapshotDirectory + "/ema-step-\(step).npz" }
        let timingPath = path + "/timing.csv"
        let manifestPath = path + "/manifest.json"
        var complete = false
        if AtomicFile.exists(manifestPath) {
            let manifest = try ProgressiveRunManifest.read(directory: path)
            guard manifest.settings == settings else {
                throw ExperimentError("\(path) holds a progressive run with other settings than this experiment's at this scale: "
                                      + "remove it, or give another --runs directory")
            }
            complete = manifest.complete
        }
        if !complete {
            try BLAS.withThreads(1) {
                var run = AtomicFile.exists(manifestPath) ? try ProgressiveRun.resume(at: path, images: images)
                                                          : try ProgressiveRun.start(settings: settings, at: path, images: images)
                try AtomicFile.createDirectory(snapshotDirectory)
                // Seconds of training so far: the timing file's rows up to the checkpoint resumed from.
                var timing = try readTiming(timingPath).filter { $0.step <= run.trainer.steps }
                var seconds = timing.last?.seconds ?? 0
                let total = settings.totalStepsForTiming
                for step in snapshots {
                    if step < run.trainer.steps {
                        guard AtomicFile.exists(snapshotPath(step)) else {
                            throw ExperimentError("\(path): the snapshot of step \(step) is missing behind the checkpoint of step "
                                                  + "\(run.trainer.steps): remove the run directory to train it again")
                        }
                        continue
                    }
                    if step > run.trainer.steps {
                        let start = Date()
                        try run.run(stopAfterSteps: step - run.trainer.steps) { r in
                            context.progress.update(r.step, total, message)
                        }
                        seconds += Date().timeIntervalSince(start)
                    }
                    try run.trainer.averagedGenerator.save(to: snapshotPath(step))
                    timing.removeAll { $0.step >= step }
                    timing.append((step, seconds))
                    try AtomicFile.write("step,seconds\n" + timing.map { "\($0.step),\(String(format: "%.3f", $0.seconds))\n" }.joined(),
                                         to: timingPath)
                    if step == stopAfterSnapshotStep { throw ExperimentError("\(path): stopped after step \(step)") }
                }
                try run.run()
            }
            context.progress.finish()
        }
        let rows = try readMetrics(path + "/metrics.csv")
        let timing = Dictionary(try readTiming(timingPath).map { ($0.step, $0.seconds) }, uniquingKeysWith: { a, _ in a })
        // The SWD of every snapshot: its samples at the level of its last step against the reals.
        let metric = SlicedWasserstein()
        let swdCache = path + "/swd-\(plan.swdImages).csv"
        var cached = [Int: [Double]]()
        if AtomicFile.exists(swdCache), let text = try? String(contentsOfFile: swdCache, encoding: .utf8) {
            for line in text.split(separator: "\n").dropFirst() {
                let v = line.split(separator: ",").map(String.init)
                if v.count >= 2, let step = Int(v[0]) { cached[step] = v.dropFirst().compactMap(Double.init) }
            }
        }
        let generatorAndStore: (ProgressiveGenerator, ParameterStore) = {
            var rng = RandomGenerator(seed: settings.seed)
            var store = ParameterStore()
            return (ProgressiveGenerator(settings.architecture, store: &store, rng: &rng), store)
        }()
        let z = ProgressiveTrainer.latents(count: plan.swdImages, dimension: settings.architecture.latentDimension, seed: 2021)
        var swd = [(step: Int, images: Int, seconds: Double, levels: [Double])]()
        var pixelStd = [Double]()
        let levelCount = metric.resolutions(for: reals.shape[2]).count
        for (k, step) in snapshots.enumerated() {
            let images = min(step * settings.batchSize, settings.schedule.totalImages)
            // The SWD per level, then the per-pixel standard deviation across the samples.
            let values: [Double]
            if let c = cached[step], c.count == levelCount + 1 {
                values = c
            } else {
                var store = generatorAndStore.1
                try store.load(from: snapshotPath(step))
                let level = settings.schedule.level(afterImages: max(0, step * settings.batchSize - settings.batchSize))
                let fakes = BLAS.withThreads(1) { upscaledSamples(generatorAndStore.0, store, z, level: level, resolution: reals.shape[2]) }
                values = metric.distances(fakes, reals, seed: 2022) + [perPixelStandardDeviation(fakes)]
            }
            cached[step] = values
            swd.append((step, images, timing[step] ?? .nan, Array(values.prefix(levelCount))))
            pixelStd.append(values[levelCount])
            context.progress.update(k + 1, snapshots.count, "SWD of \(name)")
        }
        context.progress.finish()
        let header: String = "step," + metric.resolutions(for: reals.shape[2]).map { "swd_\($0)" }.joined(separator: ",") + ",pixel_std\n"
        let lines: [String] = swd.indices.map { i in
            let values: [String] = (swd[i].levels + [pixelStd[i]]).map { String(format: "%.6f", $0) }
            return "\(swd[i].step)," + values.joined(separator: ",") + "\n"
        }
        try AtomicFile.write(header + lines.joined(), to: swdCache)
        return KarrasRun(name: name, path: path, settings: settings, rows: rows, swd: swd, pixelStd: pixelStd,
                         swdResolutions: metric.resolutions(for: reals.shape[2]))
    }

    /// The standard deviation of each pixel across images [N, C, R, R], averaged over the pixels.
    static func perPixelStandardDeviation(_ x: Tensor) -> Double {
        let n = x.shape[0], d = x.count / n, v = x.scalars
        var total = 0.0
        for j in 0..<d {
            var mean = 0.0, square = 0.0
            for i in 0..<n { let a = Double(v[i * d + j]); mean += a; square += a * a }
            mean /= Double(n)
            total += max(0, square / Double(n) - mean * mean).squareRoot()
        }
        return total / Double(d)
    }

    /// Images of latents `z` at `level`, nearest-upscaled to `resolution`, clamped to [-1, 1].
    static func upscaledSamples(_ generator: ProgressiveGenerator, _ store: ParameterStore, _ z: Tensor, level: GrowthLevel,
                                resolution: Int) -> Tensor {
        var x = generator.generate(z, parameters: store, level: level)
        while x.shape[2] < resolution { x = x.upsampledNearest2x() }
        return Tensor(shape: x.shape, scalars: x.scalars.map { min(1, max(-1, $0)) })
    }

    static func readTiming(_ path: String) throws -> [(step: Int, seconds: Double)] {
        guard AtomicFile.exists(path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let v = line.split(separator: ",")
            guard v.count == 2, let step = Int(v[0]), let s = Double(v[1]) else { return nil }
            return (step, s)
        }
    }

    /// The rows of a progressive run's metrics.csv.
    /// - Throws: `ExperimentError` naming the file for a row that does not parse.
    static func readMetrics(_ path: String) throws -> [GANMetricsRow] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var rows = [GANMetricsRow]()
        for (n, line) in text.split(separator: "\n").enumerated().dropFirst() {
            let v = line.split(separator: ",").map { Double($0) }
            guard v.count == 11, v.allSatisfy({ $0 != nil }) else { throw ExperimentError("\(path): line \(n + 1) is not a metrics row") }
            let x = v.map { $0! }
            rows.append(GANMetricsRow(step: Int(x[0]), stage: Int(x[1]), resolution: Int(x[2]), alpha: x[3], fadingIn: x[4] != 0,
                                      imagesShown: Int(x[5]), criticLoss: x[6], generatorLoss: x[7], gradientPenalty: x[8],
                                      realScore: x[9], fakeScore: x[10]))
        }
        return rows
    }

    /// The SWD reference images: the first `count` Fashion-MNIST test images,
    /// and as many training images (the first of the probe seed's permutation) for the reals-to-reals floor.
    /// What every experiment starts from: its plan, the Fashion-MNIST directory, the training
    /// images and the reference images of the SWD.
    static func inputs(_ context: ExperimentContext) throws
        -> (plan: Karras2018Plan, data: String, images: TrainingImages, reference: (test: Tensor, train: Tensor)) {
        let plan = try Karras2018Plan.plan(context)
        let data = try dataDirectory(context)
        let images = try TrainingImages.fashionMNIST(directory: data)
        return (plan, data, images, try referenceImages(data: data, count: plan.swdImages, training: images))
    }

    static func referenceImages(data: String, count: Int, training: TrainingImages) throws -> (test: Tensor, train: Tensor) {
        let test = try TrainingImages.fashionMNIST(directory: data, test: true, count: count)
        guard test.count == count else { throw ExperimentError("karras2018: \(data) has only \(test.count) test images, \(count) needed") }
        var rng = RandomGenerator(seed: 2023)
        return (test.batch(Array(0..<count)), training.batch(Array(rng.permutation(training.count).prefix(count))))
    }

    /// Averages of `value` over consecutive blocks of `width` steps (x: the block's mean images shown, in thousands).
    static func blockMeans(_ rows: [GANMetricsRow], width: Int, _ value: (GANMetricsRow) -> Double) -> (x: [Double], y: [Double]) {
        var xs = [Double](), ys = [Double]()
        var start = 0
        while start < rows.count {
            let block = rows[start..<min(rows.count, start + width)]
            xs.append(block.reduce(0.0) { $0 + Double($1.imagesShown) } / Double(block.count) / 1000)
            ys.append(block.reduce(0.0) { $0 + value($1) } / Double(block.count))
            start += width
        }
        return (xs, ys)
    }

    /// Stage boundaries (thousands of images) marked and fade-ins shaded on a panel.
    static func markStages(_ panel: inout CurvesPanel, _ run: KarrasRun) {
        panel.markedX = run.stageStarts.map { Double($0) / 1000 } + run.fadeIns.map { Double($0.1) / 1000 }
        panel.shadedX = run.fadeIns.map { (Double($0.0) / 1000, Double($0.1) / 1000) }
    }

    static func copyFile(_ from: String, to: String) throws {
        try AtomicFile.write(Array(try Data(contentsOf: URL(fileURLWithPath: from))), to: to)
    }

    static func describeScale(_ plan: Karras2018Plan, _ context: ExperimentContext) -> String {
        "scale \(context.scale.rawValue): \(plan.imagesPerPhase) images a phase, batch \(plan.batchSize), feature maps "
            + plan.featureMaps.map(String.init).joined(separator: "-") + ", latent \(plan.latentDimension), seed \(context.seed)"
    }

    // MARK: progressive

    static func progressive(_ context: ExperimentContext) throws -> ExperimentReport {
        let started = Date()
        let (plan, data, images, reference) = try inputs(context)
        let settings = self.settings(plan, data: data, seed: context.seed)
        let run = try train(name: "progressive", path: try sharedRunPath(context, "progressive"), settings: settings, plan: plan,
                            images: images, reals: reference.test, context: context, message: "progressive 4x4 → 32x32")
        let trained = Date()

        // References: reals against reals, uniform noise against reals.
        let metric = SlicedWasserstein()
        let realFloor = metric.distances(reference.train, reference.test, seed: 2022)
        var noiseRNG = RandomGenerator(seed: 2024)
        let noise = Tensor(shape: reference.test.shape, scalars: (0..<reference.test.count).map { _ in 2 * noiseRNG.nextFloat() - 1 })
        let noiseSWD = metric.distances(noise, reference.test, seed: 2022)

        // Final samples: class coverage and Fréchet distance in the classifier's features.
        let classifierPath = (context.runs as NSString).deletingLastPathComponent + "/classifier-\(plan.classifierSteps).npz"
        try AtomicFile.createDirectory((classifierPath as NSString).deletingLastPathComponent)
        let classifier = try FeatureClassifier.cached(at: classifierPath, images: images,
                                                      settings: FeatureClassifierSettings(steps: plan.classifierSteps),
                                                      source: "fashion-mnist:" + data)
        let sampler = try ProgressiveSampler(directory: run.path)
        let samples = BLAS.withThreads(1) { sampler.samples(count: plan.metricImages, seed: 2025) }
        let coverage = ClassCoverage(predictions: classifier.predictions(samples), classes: classifier.classes)
        let test = try TrainingImages.fashionMNIST(directory: data, test: true, count: 2 * plan.metricImages)
        let testA = test.batch(Array(0..<plan.metricImages)), testB = test.batch(Array(plan.metricImages..<(2 * plan.metricImages)))
        let realCoverage = ClassCoverage(predictions: classifier.predictions(testA), classes: classifier.classes)
        let fidSamples = FrechetDistance.distance(classifier.evaluate(samples).features, classifier.evaluate(testA).features)
        let fidReals = FrechetDistance.distance(classifier.evaluate(testB).features, classifier.evaluate(testA).features)

        // Figures.
        var outputs = [String]()
        let steps = run.rows.count
        let width = max(1, steps / 120)
        func lossPanel(_ title: String, _ label: String, _ value: (GANMetricsRow) -> Double) -> CurvesPanel {
            let m = blockMeans(run.rows, width: width, value)
            var p = CurvesPanel(series: [CurveSeries(name: title, x: m.x, y: m.y, color: Colormap.tab10Color(0))], title: title,
                                xLabel: "Real images shown (thousands)", yLabel: label)
            p.legend = false
            markStages(&p, run)
            return p
        }
        var losses = CurvesFigure(panels: [
            lossPanel("Critic loss L_D", "L_D", { $0.criticLoss }),
            lossPanel("Wasserstein estimate D(x) − D(G(z))", "mean score difference", { $0.realScore - $0.fakeScore }),
            lossPanel("Generator loss L_G", "L_G", { $0.generatorLoss }),
            lossPanel("Gradient penalty", "E[(|∇D| − 1)²] at the mixtures", { $0.gradientPenalty }),
        ], columns: 2)
        losses.title = "Progressive training, 4x4 to 32x32 (means over \(width) steps; dotted: stage changes, grey: fade-ins)"
        losses.sharedX = true
        outputs.append(try context.writeFigure(try losses.render(width: 1200, height: 760), "karras2018-progressive-losses.png"))

        var swdSeries = [CurveSeries]()
        let x = run.swd.map { Double($0.images) / 1000 }
        for (l, r) in run.swdResolutions.enumerated() {
            swdSeries.append(CurveSeries(name: "SWD at \(r)x\(r)", x: x, y: run.swd.map { $0.levels[l] }, color: Colormap.tab10Color(l),
                                         marker: .circle))
            swdSeries.append(CurveSeries(name: "train reals vs test, \(r)x\(r)", x: [x.first!, x.last!],
                                         y: [realFloor[l], realFloor[l]], color: Colormap.tab10Color(l), dashed: true))
        }
        var swdPanel = CurvesPanel(series: swdSeries, title: "SWD (x 10³) of \(plan.swdImages) EMA samples to \(plan.swdImages) test images",
                                   xLabel: "Real images shown (thousands)", yLabel: "SWD x 10³", yScale: .log)
        markStages(&swdPanel, run)
        var swdFigure = CurvesFigure(panels: [swdPanel])
        swdFigure.title = "Sliced Wasserstein distance per Laplacian level (samples below 32x32 nearest-upscaled; dotted: stage changes)"
        outputs.append(try context.writeFigure(try swdFigure.render(width: 1100, height: 520), "karras2018-progressive-swd.png"))

        for grid in ["growth", "samples-32x32", "interpolation", "reals"] {
            let from = run.path + "/grids/\(grid).png"
            guard AtomicFile.exists(from) else { continue }
            let to = try context.figurePath("karras2018-progressive-\(grid).png")
            try copyFile(from, to: to)
            outputs.append(to)
        }

        // Summary.
        let a = settings.architecture
        var md = "# karras2018 progressive: growing from 4x4 to 32x32 (Karras et al. 2018, §2-4)\n\n"
        md += "Karras et al. train G and D from 4x4 upwards, fading each new block in while the number of images shown rises, "
        md += "and report that this gives stable training and better images sooner than training at full resolution.\n\n"
        md += "Here: Fashion-MNIST padded to 32x32 in [−1, 1], \(images.count) training images; the paper's model "
        md += "(equalized learning rate, pixel norm, minibatch stddev, WGAN-GP with drift, Adam 0.001 (0, 0.99), EMA 0.999) "
        md += "with feature maps \(a.featureMaps.map(String.init).joined(separator: "-")) and latent \(a.latentDimension); "
        md += describeScale(plan, context) + ": seven phases (4x4; then fade-in and stabilization of 8x8, 16x16, 32x32), "
        md += "\(settings.schedule.totalImages) images, \(steps) steps, one BLAS thread (byte-reproducible on one machine). "
        md += "The paper shows 600-800 thousand images a phase to 1024x1024 CelebA-HQ; this is a CPU-sized version of the schedule.\n\n"
        md += "SWD (x 10³, the paper's Laplacian-pyramid form) of \(plan.swdImages) samples of the moving-average generator (fixed latents; "
        md += "below 32x32 nearest-upscaled, as the grids show them) against the first \(plan.swdImages) Fashion-MNIST test images:\n\n"
        var table = MarkdownTable(header: ["images shown", "stage"] + run.swdResolutions.map { "SWD \($0)x\($0)" },
                                  rightAligned: [true, false] + run.swdResolutions.map { _ in true })
        for r in run.stageStarts.map({ $0 }) + [settings.schedule.totalImages] {
            // The snapshot just before each stage change, and the last one.
            guard let point = run.swd.last(where: { $0.images <= r }) else { continue }
            let level = settings.schedule.level(afterImages: max(0, point.images - settings.batchSize))
            table.append(["\(point.images)", "\(a.resolution(ofStage: level.stage))x\(a.resolution(ofStage: level.stage))"]
                         + point.levels.map { fixed($0, 1) })
        }
        table.append(["training reals", "—"] + realFloor.map { fixed($0, 1) })
        table.append(["uniform noise", "—"] + noiseSWD.map { fixed($0, 1) })
        md += table.text + "\n"
        let last = run.swd.last!.levels
        md += "- The final SWD (\(last.map { fixed($0, 1) }.joined(separator: ", "))) is "
        md += last.enumerated().allSatisfy({ $0.element < noiseSWD[$0.offset] / 3 }) ? "far below" : "not far below"
        md += " that of noise (\(noiseSWD.map { fixed($0, 1) }.joined(separator: ", "))) and "
        md += "\(fixed(last[0] / max(1e-9, realFloor[0]), 1)) times the distance of training reals to test reals at 32x32.\n"
        let swdDrops = run.stageStarts.map { start -> String in
            let before = run.swd.last { $0.images <= start }, after = run.swd.last { $0.images <= start + 2 * plan.imagesPerPhase }
            guard let before, let after else { return "-" }
            return "\(fixed(before.levels[0], 0)) → \(fixed(after.levels[0], 0))"
        }
        md += "- The SWD is that of the images nearest-upscaled to 32x32 against 32x32 test images, so below the last stage it also "
        md += "measures the blocks of the low resolution; its values are comparable within the last stage, not across stages "
        md += "(4x4 blocks can score lower at the 32x32 level than 8x8 ones). The moving average (β = 0.999) lags the generator by "
        md += "about a thousand steps, so in a short run the samples trail the losses.\n"
        md += "- SWD at 32x32 from just before each stage change to the end of that stage: " + swdDrops.joined(separator: "; ") + ".\n"
        func meanPenalty(_ from: Int, _ to: Int) -> Double {
            let rows = run.rows.filter { $0.imagesShown > from && $0.imagesShown <= to }
            return rows.isEmpty ? .nan : rows.reduce(0.0) { $0 + $1.gradientPenalty } / Double(rows.count)
        }
        md += "- The gradient penalty (unweighted) in the last quarter phase before each fade-in against its first quarter phase: "
        md += run.stageStarts.map { start in
            "\(fixed(meanPenalty(start - plan.imagesPerPhase / 4, start), 3)) → \(fixed(meanPenalty(start, start + plan.imagesPerPhase / 4), 3))"
        }.joined(separator: "; ") + " (the new block's untrained layers enter the critic's gradient).\n"
        md += "- Class coverage of \(plan.metricImages) final samples by a small classifier of the training images (\(plan.classifierSteps) "
        md += "Adam steps): \(coverage.covered) of \(classifier.classes) classes with at least 1/\(2 * classifier.classes) of the samples, "
        md += "normalized entropy \(fixed(coverage.normalizedEntropy, 3)) (test reals: \(realCoverage.covered) classes, "
        md += "\(fixed(realCoverage.normalizedEntropy, 3))); counts " + coverage.counts.map(String.init).joined(separator: " ") + ".\n"
        md += "- Fréchet distance in the classifier's 64 features: samples to test reals \(fixed(fidSamples, 2)), "
        md += "other test reals to them \(fixed(fidReals, 2)).\n"
        md += "\nLook at the grids: `karras2018-progressive-growth.png` (one row per stage, the same latents), "
        md += "`karras2018-progressive-samples-32x32.png`, `karras2018-progressive-interpolation.png`, `karras2018-progressive-reals.png`.\n"
        let timing = String(format: "training %.0f s (measured training time of the run: %.0f s), metrics and figures %.0f s",
                            trained.timeIntervalSince(started), run.swd.last?.seconds ?? .nan, Date().timeIntervalSince(trained))
        return try finishSummary(md, experiment: "progressive", timing: timing, outputs: outputs, context: context)
    }

    // MARK: fade-in

    static func fadeIn(_ context: ExperimentContext) throws -> ExperimentReport {
        let started = Date()
        let (plan, data, images, reference) = try inputs(context)
        let fadeSettings = settings(plan, data: data, seed: context.seed)
        // The hard switch: each new block enters at full weight where the fade-in run's α reaches 1 (the end of its
        // fade-in phase); before that the networks train at the previous resolution, so both runs show the same images
        // and have the new block at full weight from the same image on.
        let hardSettings = settings(plan, data: data, seed: context.seed) { s in
            s.schedule = GrowthSchedule(stageCount: s.architecture.stageCount, stabilizationImages: 2 * plan.imagesPerPhase,
                                        fadeInImages: 0, totalImages: s.schedule.totalImages)
        }
        let fade = try train(name: "fade-in", path: try sharedRunPath(context, "progressive"), settings: fadeSettings, plan: plan,
                             images: images, reals: reference.test, context: context, message: "fade-in run")
        let hard = try train(name: "hard switch", path: try context.runDirectory("hard-switch"), settings: hardSettings, plan: plan,
                             images: images, reals: reference.test, context: context, message: "hard-switch run")
        let trained = Date()

        // Around every stage change: from one phase before the fade-in to two phases after it (images relative to the fade-in's start).
        let phase = plan.imagesPerPhase
        let changes = fade.stageStarts
        let a = fadeSettings.architecture
        let window = max(1, phase / plan.batchSize / 16)
        var panels = [CurvesPanel]()
        var outputs = [String]()
        let colors = [Colormap.tab10Color(0), Colormap.tab10Color(3)]
        for (k, start) in changes.enumerated() {
            let r = a.resolution(ofStage: k + 1)
            let lo = start - phase, hi = start + 2 * phase
            var loss = [CurveSeries](), swd = [CurveSeries]()
            for (i, run) in [fade, hard].enumerated() {
                let rows = run.rows.filter { $0.imagesShown > lo && $0.imagesShown <= hi }
                let m = blockMeans(rows, width: window) { $0.criticLoss }
                loss.append(CurveSeries(name: run.name, x: m.x.map { $0 - Double(start) / 1000 }, y: m.y, color: colors[i]))
                let points = run.swd.filter { $0.images >= lo && $0.images <= hi }
                swd.append(CurveSeries(name: run.name, x: points.map { Double($0.images - start) / 1000 }, y: points.map { $0.levels[0] },
                                       color: colors[i], marker: .circle))
            }
            var lp = CurvesPanel(series: loss, title: "\(r / 2)x\(r / 2) to \(r)x\(r): critic loss", xLabel: "Images since the fade-in began (thousands)",
                                 yLabel: "L_D (mean over \(window) steps)")
            lp.markedX = [0, Double(phase) / 1000]
            lp.shadedX = [(0, Double(phase) / 1000)]
            lp.legend = k == 0
            var sp = CurvesPanel(series: swd, title: "\(r / 2)x\(r / 2) to \(r)x\(r): SWD at 32x32", xLabel: "Images since the fade-in began (thousands)",
                                 yLabel: "SWD x 10³", yScale: .log)
            sp.markedX = lp.markedX
            sp.shadedX = lp.shadedX
            sp.legend = false
            panels.append(lp)
            panels.append(sp)
        }
        // Two rows: losses on top, SWD below, one column per stage change.
        let ordered = panels.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) + panels.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        var figure = CurvesFigure(panels: ordered, columns: changes.count)
        figure.title = "Fade-in (α rising over the grey phase) against a hard switch (the new block at full weight at its end)"
        figure.sharedX = true
        outputs.append(try context.writeFigure(try figure.render(width: 1400, height: 860), "karras2018-fade-in.png"))

        var whole = [CurvesPanel]()
        for (l, res) in fade.swdResolutions.enumerated() {
            var p = CurvesPanel(series: [fade, hard].enumerated().map { i, run in
                CurveSeries(name: run.name, x: run.swd.map { Double($0.images) / 1000 }, y: run.swd.map { $0.levels[l] }, color: colors[i])
            }, title: "SWD at \(res)x\(res)", xLabel: "Real images shown (thousands)", yLabel: "SWD x 10³", yScale: .log)
            markStages(&p, fade)
            p.legend = l == 0
            whole.append(p)
        }
        var wholeFigure = CurvesFigure(panels: whole)
        wholeFigure.title = "SWD over the whole runs (dotted: the fade-in run's stage changes; the hard switch happens at the end of each grey band)"
        outputs.append(try context.writeFigure(try wholeFigure.render(width: 1300, height: 480), "karras2018-fade-in-swd.png"))

        // Summary: per stage change, the peak critic loss (block means) just after the new block reaches full weight,
        // and the SWD at the end of the stage.
        var md = "# karras2018 fade-in: fading new blocks in against switching them on (Karras et al. 2018, §2, Fig. 2)\n\n"
        md += "The paper fades each new block in (α rising linearly with the images shown) so that the new, untrained layers do not "
        md += "shock the well-trained smaller-resolution layers. Here two runs of the same seed, data order and schedule length ("
        md += describeScale(plan, context) + "): the progressive run of `progressive` (fade-in over a phase), and a run whose new "
        md += "block enters at full weight (α from 0 to 1 at once) at the image where the fade-in run's α reaches 1; before it, that "
        md += "run trains on at the previous resolution. Both runs reset Adam when new layers appear.\n\n"
        var table = MarkdownTable(header: ["stage change", "run", "L_D before (mean of the last quarter phase)",
                                           "L_D peak after full weight (means of \(window) steps, one phase)",
                                           "SWD 32x32 at full weight", "SWD 32x32 half a phase later", "SWD 32x32 at the stage's end"],
                                  rightAligned: [false, false, true, true, true, true, true])
        var peaks = [[Double]](repeating: [], count: 2), ends = [[Double]](repeating: [], count: 2)
        for (k, start) in changes.enumerated() {
            let r = a.resolution(ofStage: k + 1)
            let full = start + phase
            for (i, run) in [fade, hard].enumerated() {
                let before = run.rows.filter { $0.imagesShown > start - phase / 4 && $0.imagesShown <= start }
                let after = run.rows.filter { $0.imagesShown > full && $0.imagesShown <= full + phase }
                let beforeMean = before.isEmpty ? .nan : before.reduce(0.0) { $0 + $1.criticLoss } / Double(before.count)
                let peak = blockMeans(after, width: window) { $0.criticLoss }.y.max() ?? .nan
                func swdAt(_ images: Int) -> Double { run.swd.last { $0.images <= images }?.levels[0] ?? .nan }
                let end = swdAt(full + phase)
                peaks[i].append(peak)
                ends[i].append(end)
                table.append(["\(r / 2)x\(r / 2) → \(r)x\(r)", run.name, fixed(beforeMean, 3), fixed(peak, 3), fixed(swdAt(full), 1),
                              fixed(swdAt(full + phase / 2), 1), fixed(end, 1)])
            }
        }
        md += table.text + "\n"
        let higherPeaks = zip(peaks[1], peaks[0]).filter { $0 > $1 }.count
        let betterEnds = zip(ends[0], ends[1]).filter { $0 < $1 }.count
        md += "- The hard switch's critic loss peaks higher after the switch than the fade-in run's at the same images in "
        md += "\(higherPeaks) of \(changes.count) stage changes.\n"
        md += "- The fade-in run ends its stages with the lower SWD at 32x32 in \(betterEnds) of \(changes.count) stage changes.\n"
        md += "- The SWD is that of the generator's images nearest-upscaled to 32x32 against 32x32 test images, so it also "
        md += "measures the blocks of a low resolution: within a stage change it rises as the blocks shrink before it can fall, and "
        md += "its values are not comparable across stages (4x4 blocks can score lower than 8x8 ones).\n"
        md += "- The paper reports no number for this comparison (it describes the fade-in as avoiding a sudden shock); at this scale "
        md += "one seed is shown, and differences of a few SWD units between the runs are within what another seed could change.\n"
        let timing = String(format: "training %.0f s, figures %.0f s",
                     trained.timeIntervalSince(started), Date().timeIntervalSince(trained))
        return try finishSummary(md, experiment: "fade-in", timing: timing, outputs: outputs, context: context)
    }
}

extension Karras2018 {
    /// A summary's closing lines (the time of the invocation, the figures), logged and written
    /// as `figures/karras2018-EXPERIMENT.md`.
    static func finishSummary(_ markdown: String, experiment: String, timing: String, outputs: [String],
                              context: ExperimentContext) throws -> ExperimentReport {
        var md = markdown
        md += "\nTime of this invocation (complete runs are reused): \(timing).\n"
        md += "\nFigures: " + outputs.map { "`\(($0 as NSString).lastPathComponent)`" }.joined(separator: ", ") + ".\n"
        context.log(md)
        return try writeSummary(md, title: "karras2018 \(experiment)", context: context, name: "karras2018-\(experiment).md",
                                outputs: outputs)
    }
}

extension ProgressiveRunSettings {
    /// The steps of the run, for progress.
    var totalStepsForTiming: Int { (schedule.totalImages + batchSize - 1) / batchSize }
}
