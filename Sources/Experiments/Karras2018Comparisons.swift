// karras2018 speed and ablations: progressive growing against training at
// 32x32 from the start (the paper's Fig. 4), and the rows of the paper's
// Table 1 that this model can switch (Karras2018.swift has the shared runs,
// snapshots and SWD).

import ActivationStore
import Analysis
import ArrayIO
import Foundation
import InfoTheory
import NeuralNets
import Plotting
import ProgressiveGAN
import Tensors

/// Multiply-adds of one forward pass of G and D for one image at a level:
/// the equal-compute proxy of the speed experiment (the step's backward
/// passes and the penalty's second order multiply it by about the same
/// factor at every resolution).
enum GANCost {
    static func forwardMultiplyAdds(_ a: GANArchitecture, level: GrowthLevel) -> Double {
        let f = a.featureMaps.map(Double.init), c = Double(a.imageChannels), s = level.stage
        func r(_ t: Int) -> Double { Double(a.resolution(ofStage: t)) }
        // G: dense to 4x4, the 4x4 convolution, two per later block, toRGB (and the previous one while fading in).
        var g = Double(a.latentDimension) * f[0] * 16 + f[0] * f[0] * 9 * 16
        var d = (f[0] + (a.usesMinibatchStandardDeviation ? 1 : 0)) * f[0] * 9 * 16 + f[0] * 16 * f[0] + f[0]
        if s >= 1 {
            for t in 1...s {
                g += (f[t - 1] * f[t] + f[t] * f[t]) * 9 * r(t) * r(t)
                d += (f[t] * f[t] + f[t] * f[t - 1]) * 9 * r(t) * r(t)
            }
        }
        g += f[s] * c * r(s) * r(s)
        d += c * f[s] * r(s) * r(s)
        if level.isFadingIn {
            g += f[s - 1] * c * r(s - 1) * r(s - 1)
            d += c * f[s - 1] * r(s - 1) * r(s - 1)
        }
        return g + d
    }

    /// The proxy's total of a schedule, in multiply-adds per image times images.
    static func total(_ settings: ProgressiveRunSettings) -> Double {
        let b = settings.batchSize, steps = (settings.schedule.totalImages + b - 1) / b
        return (0..<steps).reduce(0.0) { sum, k in
            sum + Double(b) * forwardMultiplyAdds(settings.architecture, level: settings.schedule.level(afterImages: k * b))
        }
    }
}

extension Karras2018 {
    // MARK: speed

    static func speed(_ context: ExperimentContext) throws -> ExperimentReport {
        let started = Date()
        let (plan, data, images, reference) = try inputs(context)
        let progressiveSettings = settings(plan, data: data, seed: context.seed)
        // The 32x32 run gets the images whose proxy cost equals the progressive run's.
        let budget = GANCost.total(progressiveSettings)
        let perImage = GANCost.forwardMultiplyAdds(progressiveSettings.architecture, level: .stable(plan.featureMaps.count - 1))
        let fixedImages = max(plan.batchSize, Int((budget / perImage / Double(plan.batchSize)).rounded()) * plan.batchSize)
        let fixedSettings = settings(plan, data: data, seed: context.seed) { s in
            s.schedule = GrowthSchedule(stageCount: s.architecture.stageCount, initialStage: s.architecture.stageCount - 1,
                                        stabilizationImages: fixedImages, fadeInImages: plan.imagesPerPhase, totalImages: fixedImages)
        }
        let progressive = try train(name: "progressive", path: try sharedRunPath(context, "progressive"), settings: progressiveSettings,
                                    plan: plan, images: images, reals: reference.test, context: context, message: "progressive run")
        let flat = try train(name: "32x32 from the start", path: try context.runDirectory("fixed-32x32"), settings: fixedSettings,
                              plan: plan, images: images, reals: reference.test, context: context, message: "32x32 from the start")
        let trained = Date()

        // The proxy's cumulative cost at every snapshot (in units of the progressive run's total).
        func proxy(_ run: KarrasRun) -> [Double] {
            let b = run.settings.batchSize
            var sum = 0.0, k = 0
            return run.swd.map { point in
                while k < point.step {
                    sum += Double(b) * GANCost.forwardMultiplyAdds(run.settings.architecture, level: run.settings.schedule.level(afterImages: k * b))
                    k += 1
                }
                return sum / budget
            }
        }
        let colors = [Colormap.tab10Color(0), Colormap.tab10Color(1)]
        var outputs = [String]()
        var panels = [CurvesPanel]()
        for (l, res) in progressive.swdResolutions.enumerated() {
            var p = CurvesPanel(series: [progressive, flat].enumerated().map { i, run in
                CurveSeries(name: run.name, x: run.swd.map { $0.seconds }, y: run.swd.map { $0.levels[l] }, color: colors[i], marker: .circle)
            }, title: "SWD at \(res)x\(res) against training time", xLabel: "Seconds of training (measured, one BLAS thread)",
                                yLabel: "SWD x 10³", yScale: .log)
            p.legend = l == 0
            p.markedX = progressive.stageStarts.compactMap { start in progressive.swd.first { $0.images >= start }?.seconds }
            panels.append(p)
        }
        var p = CurvesPanel(series: [progressive, flat].enumerated().map { i, run in
            CurveSeries(name: run.name, x: proxy(run), y: run.swd.map { $0.levels[0] }, color: colors[i], marker: .circle)
        }, title: "SWD at 32x32 against compute (the proxy)", xLabel: "Forward multiply-adds / the progressive run's total",
                            yLabel: "SWD x 10³", yScale: .log)
        p.legend = false
        let progressiveProxy = proxy(progressive)
        p.markedX = progressive.stageStarts.compactMap { start in progressive.swd.firstIndex { $0.images >= start }.map { progressiveProxy[$0] } }
        panels.append(p)
        var figure = CurvesFigure(panels: panels)
        figure.title = "Progressive growing against training at 32x32 from the start, at equal compute (Karras et al. Fig. 4; dotted: the progressive run's stage changes)"
        outputs.append(try context.writeFigure(try figure.render(width: 1500, height: 480), "karras2018-speed.png"))

        // The points where a run works at 32x32 with the last block at full weight (SWD below it measures blocks too).
        func finalStage(_ run: KarrasRun) -> [(step: Int, images: Int, seconds: Double, levels: [Double])] {
            let s = run.settings.schedule, last = s.stageCount - 1
            let from = s.firstImage(ofStage: last) + (s.initialStage < last ? s.fadeInImages : 0)
            return run.swd.filter { $0.images >= from }
        }
        // Measured seconds per step at each level of the progressive run, against the proxy.
        var table = MarkdownTable(header: ["run", "images", "steps", "measured s", "final SWD 32x32", "final SWD 16x16",
                                           "best SWD 32x32 at full 32x32", "at s"], rightAligned: [false, true, true, true, true, true, true, true])
        for run in [progressive, flat] {
            let best = finalStage(run).min { $0.levels[0] < $1.levels[0] }!
            table.append([run.name, "\(run.settings.schedule.totalImages)", "\(run.rows.count)", fixed(run.swd.last!.seconds, 0),
                          fixed(run.swd.last!.levels[0], 1), fixed(run.swd.last!.levels.last!, 1), fixed(best.levels[0], 1),
                          fixed(best.seconds, 0)])
        }
        // The progressive run's SWD when it has used as many measured seconds as the 32x32 run.
        let fixedSeconds = flat.swd.last!.seconds
        let atEqualTime = progressive.swd.last { $0.seconds <= fixedSeconds }
        // Time each run needs to reach the fixed run's final SWD at 32x32.
        let target = flat.swd.last!.levels[0]
        let progressiveReaches = finalStage(progressive).first { $0.levels[0] <= target }

        var md = "# karras2018 speed: progressive growing against training at 32x32 from the start (Karras et al. 2018, Fig. 4)\n\n"
        md += "The paper trains the same networks with and without growing for the same wall-clock time and finds the progressive "
        md += "run reaches a given SWD much sooner (about 5.4 times sooner at 1024x1024 in Fig. 4b), since it spends its early images "
        md += "at small resolutions.\n\n"
        md += "Here (" + describeScale(plan, context) + "): the progressive run of `progressive`, and a run at 32x32 from the first "
        md += "step whose image count (\(fixedImages)) is chosen so that both runs cost the same forward multiply-adds of G and D "
        md += "(\(String(format: "%.3g", budget)) in all; a 32x32 image costs \(String(format: "%.3g", perImage))). Equal wall-clock time "
        md += "itself would make the 32x32 run's length depend on the machine's speed and load, and the run would no longer be "
        md += "byte-reproducible; the equal-compute proxy fixes its images, and the measured seconds of training (wall clock, "
        md += "one BLAS thread, `timing.csv` of each run, not reproducible) are the x axis of the first panels.\n\n"
        md += table.text + "\n"
        let ratio = fixedSeconds / max(1e-9, progressive.swd.last!.seconds)
        md += "- Measured training time: the 32x32 run took \(fixed(ratio, 2)) times the progressive run's seconds for the same proxy cost "
        md += "(1 if the proxy were exact; the seconds were measured on a shared machine).\n"
        if let atEqualTime {
            md += "- After \(fixed(atEqualTime.seconds, 0)) s (no more than the 32x32 run's whole \(fixed(fixedSeconds, 0)) s) the progressive run's "
            md += "SWD at 32x32 is \(fixed(atEqualTime.levels[0], 1)), against the 32x32 run's final \(fixed(target, 1)).\n"
        }
        if let progressiveReaches {
            md += "- The progressive run first reaches the 32x32 run's final SWD at 32x32 after \(fixed(progressiveReaches.seconds, 0)) s "
            md += "(\(progressiveReaches.images) images), \(fixed(fixedSeconds / max(1e-9, progressiveReaches.seconds), 2)) times sooner.\n"
        } else {
            md += "- The progressive run never reaches the 32x32 run's final SWD at 32x32 (\(fixed(target, 1))): here growing does not pay "
            md += "for itself in SWD at this scale, unlike in the paper.\n"
        }
        md += "- Before the last stage the progressive run's SWD is that of upscaled low-resolution images (it measures their blocks "
        md += "too), so the comparison is made at full 32x32 only: the best and first-reached values above are from there.\n"
        md += "- The samples are the moving average's (β = 0.999, about a thousand steps of memory): the progressive run's 32x32 "
        md += "layers have trained for its last three phases only, the 32x32 run's for all its steps, so in a short run the "
        md += "average favours the 32x32 run.\n"
        md += "- One seed at CPU scale: the images at 4x4 and 8x8 are cheap, so the progressive run shows far more images for the same "
        md += "compute; whether that buys a lower final SWD at 32x32 is what the table says, not what the paper's 1024x1024 runs say.\n"
        let timing = String(format: "training %.0f s, figures %.0f s",
                     trained.timeIntervalSince(started), Date().timeIntervalSince(trained))
        return try finishSummary(md, experiment: "speed", timing: timing, outputs: outputs, context: context)
    }

    // MARK: ablations

    /// The rows of Table 1 this model can switch, in the paper's order.
    static let ablationRows: [(name: String, label: String, progressive: Bool, mbstd: Bool, equalized: Bool, pixelNorm: Bool)] = [
        ("a-baseline", "(a) WGAN-GP baseline at 32x32", false, false, false, false),
        ("b-progressive", "(b) + progressive growing", true, false, false, false),
        ("e-mbstd", "(e) + minibatch stddev", true, true, false, false),
        ("f-equalized-lr", "(f) + equalized learning rate", true, true, true, false),
        ("g-pixel-norm", "(g) + pixelwise normalization", true, true, true, true),
    ]

    /// The ablations' images a phase: a quarter of the progressive run's (five runs, one of them at 32x32
    /// throughout, must fit the suite's hour), unless `--epochs` sets them.
    static func ablationPlan(_ context: ExperimentContext) throws -> Karras2018Plan {
        var plan = try Karras2018Plan.plan(context)
        if context.scale != .quick && context.epochs == nil { plan.imagesPerPhase /= 4 }
        if context.scale != .quick { plan.snapshotsPerPhase /= 2 }
        return plan
    }

    static func ablations(_ context: ExperimentContext) throws -> ExperimentReport {
        let plan = try ablationPlan(context)
        let data = try dataDirectory(context)
        let started = Date()
        let images = try TrainingImages.fashionMNIST(directory: data)
        let reference = try referenceImages(data: data, count: plan.swdImages, training: images)
        let planned = ablationRows.map { row in
            (row, settings(plan, data: data, seed: context.seed) { s in
                s.architecture.usesMinibatchStandardDeviation = row.mbstd
                s.architecture.usesEqualizedLearningRate = row.equalized
                s.architecture.usesPixelNormalization = row.pixelNorm
                if !row.progressive {
                    // The same images shown, all at 32x32.
                    s.schedule = GrowthSchedule(stageCount: s.architecture.stageCount, initialStage: s.architecture.stageCount - 1,
                                                stabilizationImages: s.schedule.totalImages, fadeInImages: plan.imagesPerPhase,
                                                totalImages: s.schedule.totalImages)
                }
            })
        }
        // One run at a time, each on one BLAS thread (the suite's runs are byte-reproducible at one thread).
        var runs = [KarrasRun]()
        for (row, runSettings) in planned {
            runs.append(try train(name: row.label, path: try context.runDirectory(row.name), settings: runSettings, plan: plan,
                                  images: images, reals: reference.test, context: context, message: "ablation \(row.name)"))
        }
        let trained = Date()

        // Per-pixel standard deviation across the batch (the variation mbstd is for), against the reals'.
        let realStd = perPixelStandardDeviation(reference.test)
        let stds = runs.map { $0.pixelStd.last! }

        var outputs = [String]()
        var swdPanel = CurvesPanel(series: runs.enumerated().map { i, run in
            CurveSeries(name: run.name, x: run.swd.map { Double($0.images) / 1000 }, y: run.swd.map { $0.levels[0] },
                        color: Colormap.tab10Color(i))
        }, title: "SWD at 32x32", xLabel: "Real images shown (thousands)", yLabel: "SWD x 10³", yScale: .log)
        swdPanel.markedX = runs[1].stageStarts.map { Double($0) / 1000 }
        swdPanel.shadedX = runs[1].fadeIns.map { (Double($0.0) / 1000, Double($0.1) / 1000) }
        var stdPanel = CurvesPanel(series: runs.enumerated().map { i, run in
            CurveSeries(name: run.name, x: run.swd.map { Double($0.images) / 1000 }, y: run.pixelStd, color: Colormap.tab10Color(i))
        } + [CurveSeries(name: "real (test images)", x: [0, Double(runs[0].swd.last!.images) / 1000], y: [realStd, realStd],
                         color: .gray(0.3), dashed: true)],
                                   title: "Per-pixel std across \(plan.swdImages) EMA samples (upscaled below 32x32)",
                                   xLabel: "Real images shown (thousands)", yLabel: "mean per-pixel std")
        stdPanel.markedX = swdPanel.markedX
        stdPanel.shadedX = swdPanel.shadedX
        swdPanel.legend = false
        var figure = CurvesFigure(panels: [swdPanel, stdPanel])
        figure.title = "Table 1 rows added one at a time (progressive rows: dotted stage changes, grey fade-ins)"
        outputs.append(try context.writeFigure(try figure.render(width: 1400, height: 520), "karras2018-ablations.png"))

        var table = MarkdownTable(header: ["configuration", "SWD 32x32", "SWD 16x16", "mean SWD", "per-pixel std (real \(fixed(realStd, 3)))",
                                           "measured s"], rightAligned: [false, true, true, true, true, true])
        for (i, run) in runs.enumerated() {
            let last = run.swd.last!
            table.append([run.name, fixed(last.levels[0], 1), fixed(last.levels.last!, 1), fixed(run.meanSWD.last!, 1), fixed(stds[i], 3),
                          fixed(last.seconds, 0)])
        }
        var md = "# karras2018 ablations: the rows of Table 1 that fit (Karras et al. 2018, Table 1)\n\n"
        md += "The paper's Table 1 (CelebA at 128x128 and LSUN bedroom) starts from Gulrajani et al.'s WGAN-GP and adds, one at a time, "
        md += "progressive growing (b), small minibatches and revised hyperparameters (c, d), minibatch discrimination or the "
        md += "minibatch standard deviation (e*, e), equalized learning rate (f) and pixelwise normalization (g); the SWD falls "
        md += "mostly with (b) and (f), the minibatch stddev improves the variation, and (g) changes little in SWD but stabilizes.\n\n"
        md += "Here five rows (" + describeScale(plan, context) + "; every run the same seed, data order and \(runs[0].settings.schedule.totalImages) "
        md += "images; the baseline at 32x32 throughout): rows (c) and (d) are not separate (every row uses this project's batch 16 and "
        md += "the paper's final Adam settings and loss), and the baseline keeps the latent's normalization to the sphere (the "
        md += "authors' `normalize_latents`) and He's initialization in place of the equalized learning rate. The per-pixel "
        md += "standard deviation is taken over \(plan.swdImages) final EMA samples and averaged over pixels; the paper's mbstd aims at "
        md += "bringing it to the reals'.\n\n"
        md += table.text + "\n"
        let best = runs.indices.min { runs[$0].swd.last!.levels[0] < runs[$1].swd.last!.levels[0] }!
        md += "- Lowest final SWD at 32x32: \(runs[best].name).\n"
        md += "- Progressive growing (b against a): SWD at 32x32 \(fixed(runs[0].swd.last!.levels[0], 1)) → \(fixed(runs[1].swd.last!.levels[0], 1)).\n"
        md += "- Minibatch stddev (e against b): per-pixel std \(fixed(stds[1], 3)) → \(fixed(stds[2], 3)) (reals \(fixed(realStd, 3))).\n"
        md += "- Equalized learning rate (f against e): SWD \(fixed(runs[2].swd.last!.levels[0], 1)) → \(fixed(runs[3].swd.last!.levels[0], 1)); "
        md += "pixel norm (g against f): \(fixed(runs[3].swd.last!.levels[0], 1)) → \(fixed(runs[4].swd.last!.levels[0], 1)).\n"
        md += "- One seed each at CPU scale: a difference of a few SWD units can come from the seed alone.\n"
        let timing = String(format: "training %.0f s (one run at a time), figures %.0f s",
                     trained.timeIntervalSince(started), Date().timeIntervalSince(trained))
        return try finishSummary(md, experiment: "ablations", timing: timing, outputs: outputs, context: context)
    }
}

// MARK: information

extension Karras2018 {
    /// Bins over each layer's range across a stage's recordings (Saxe et al.'s global binning).
    static let informationBins = 30

    static func information(_ context: ExperimentContext) throws -> ExperimentReport {
        let started = Date()
        let (plan, data, images, reference) = try inputs(context)
        let settings = self.settings(plan, data: data, seed: context.seed)
        let run = try train(name: "progressive", path: try sharedRunPath(context, "progressive"), settings: settings, plan: plan,
                            images: images, reals: reference.test, context: context, message: "progressive run")
        let trained = Date()

        // Per stage: I(X;T) and I(T;Y) of every recorded layer (Y = real or fake) on the whole probe.
        let configuration = EstimatorConfiguration.binning(.global(bins: informationBins))
        let a = settings.architecture
        var planes = [InformationPlanePanel]()
        var outputs = [String]()
        var table = MarkdownTable(header: ["stage", "layer", "I(X;T) first", "I(X;T) last", "I(T;Y) first", "I(T;Y) last",
                                           "probe accuracy first → last (test half)"],
                                  rightAligned: [false, false, true, true, true, true, true])
        var ityCurves = [CurveSeries]()
        var accuracyCurves = [CurveSeries]()
        for stage in 0..<a.stageCount {
            let directory = run.path + "/critic-\(a.resolution(ofStage: stage))x\(a.resolution(ofStage: stage))"
            let source = try ActivationSource.run(directory)
            let estimate = try source.estimate(EstimationRequest(configuration: configuration, reduction: .meanPool))
            try estimate.write(to: directory + "/mi-binning.csv")
            let ixt = estimate.column("I_XT")!, ity = estimate.column("I_TY")!
            let points = estimate.rows.indices.map { i in
                InformationPlanePoint(epoch: estimate.rows[i].epoch, layer: estimate.rows[i].layer, ixt: ixt[i], ity: ity[i])
            }
            let r = a.resolution(ofStage: stage)
            planes.append(InformationPlanePanel(title: "\(r)x\(r) stage", points: points))
            let metrics = try RunCSV.readMetrics(directory + "/metrics.csv")
            accuracyCurves.append(CurveSeries(name: "\(r)x\(r) stage", x: metrics.map { Double($0.epoch) / 1000 }, y: metrics.map(\.testAccuracy),
                                              color: Colormap.tab10Color(stage), marker: .circle))
            let names = source.layerNames
            for layer in Set(points.map(\.layer)).sorted() {
                let rows = points.filter { $0.layer == layer }.sorted { $0.epoch < $1.epoch }
                guard let first = rows.first, let last = rows.last else { continue }
                table.append(["\(r)x\(r)", names[layer] ?? "\(layer)", fixed(first.ixt, 2), fixed(last.ixt, 2), fixed(first.ity, 3),
                              fixed(last.ity, 3), "\(fixed(metrics.first?.testAccuracy ?? .nan, 2)) → \(fixed(metrics.last?.testAccuracy ?? .nan, 2))"])
                if names[layer] == "4x4 dense" || names[layer] == "score" {
                    ityCurves.append(CurveSeries(name: "\(r)x\(r) stage, " + (names[layer] == "score" ? "score" : "dense"), x: rows.map { Double($0.epoch) / 1000 }, y: rows.map(\.ity),
                                                 color: Colormap.tab10Color(stage), dashed: names[layer] == "score", marker: .circle))
                }
            }
        }
        var plane = InformationPlaneFigure(panels: planes)
        plane.title = "The critic's layers on the probe (Y = real or fake), one panel per stage; colour: images shown"
        plane.coloring = .epoch
        plane.colorbarLabel = "Real images shown"
        outputs.append(try context.writeFigure(try plane.render(width: 1500, height: 460), "karras2018-information-plane.png"))

        var ityPanel = CurvesPanel(series: ityCurves, title: "I(T;Y) of the dense layer (solid) and the score (dashed)",
                                   xLabel: "Real images shown (thousands)", yLabel: "I(T;Y) (bits)")
        markStages(&ityPanel, run)
        var accuracyPanel = CurvesPanel(series: accuracyCurves, title: "Probe accuracy of the score (held-out half)",
                                        xLabel: "Real images shown (thousands)", yLabel: "accuracy")
        accuracyPanel.yLimits = (0, 1)
        markStages(&accuracyPanel, run)
        var curves = CurvesFigure(panels: [ityPanel, accuracyPanel])
        curves.title = "How much the critic's layers tell reals from fakes, stage by stage (dotted: stage changes)"
        outputs.append(try context.writeFigure(try curves.render(width: 1400, height: 480), "karras2018-information.png"))

        var md = "# karras2018 information: the critic's information plane at each stage\n\n"
        md += "Not a figure of Karras et al.: the information-bottleneck view of their critic. The run is the progressive run of "
        md += "`progressive` (" + describeScale(plan, context) + "); at each stage its `critic-RxR/` directory records D's block outputs, "
        md += "its 4x4 convolution, dense layer and score on a fixed probe of \(settings.probeCount ?? 0) training reals, as many fakes of "
        md += "the moving-average generator, \(settings.probeCount ?? 0) held-out reals and as many fakes (Y = 1 real, 0 fake), at the "
        md += "stage's start, twice a phase and at each phase end. I(X;T) and I(T;Y) by plug-in binning (\(informationBins) bins over each "
        md += "layer's range across the stage's recordings, Saxe et al.'s procedure for unbounded activations) of each feature map's "
        md += "mean over positions (`--reduce mean-pool`), on all \(4 * (settings.probeCount ?? 0)) probe images: with T a deterministic "
        md += "function of X, I(X;T) = H(T) ≤ log2 \(4 * (settings.probeCount ?? 0)) = \(fixed(log2(Double(4 * (settings.probeCount ?? 1))), 2)) bits "
        md += "and I(T;Y) ≤ H(Y) = 1 bit.\n\n"
        md += table.text + "\n"
        md += "- Read with care: with as many bins as here, most layers give nearly every probe image a bin of its own, so I(X;T) sits "
        md += "at its ceiling and says little; I(T;Y) then says how well the binned layer separates reals from fakes on the probe, "
        md += "which the score's probe accuracy shows directly. Same commands: `infoplane estimate RUN/critic-32x32 --reduce mean-pool`, "
        md += "`infoplane plot infoplane RUN/critic-*`.\n"
        let timing = String(format: "training %.0f s, estimates and figures %.0f s",
                     trained.timeIntervalSince(started), Date().timeIntervalSince(trained))
        return try finishSummary(md, experiment: "information", timing: timing, outputs: outputs, context: context)
    }
}
