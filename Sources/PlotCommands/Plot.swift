// `infoplane plot …` and `infoplane grid`: figures from runs, tables and arrays.
//
// These commands run in the `infoplane` executable itself, which links neither
// OpenBLAS nor the whole of Foundation: they read tables and arrays, draw, and
// encode PNG, nothing more.

import ActivationStore
import ArgumentParser
import ArrayIO
import Plotting
import RunFigures
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct Plot: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw figures from runs and tables.",
        subcommands: [PlotInformationPlane.self, PlotCurves.self, PlotHeatmap.self]
    )
}

/// A run directory's or a table's information-plane points and a panel title.
struct InformationSource {
    var title: String
    var points: [InformationPlanePoint]

    /// Reads a run directory (its `mi-*.csv`, chosen by `estimate` when there
    /// are several) or an MI CSV.
    static func load(_ path: String, estimate: String?) throws -> InformationSource {
        var csv = path
        var title = lastPathComponent(path)
        if AtomicFile.isDirectory(path) {
            let manifest = try RunDirectory(path).readManifest()
            title = manifest.settings.activation == "relu" ? "ReLU" : manifest.settings.activation
            let tables = try AtomicFile.listDirectory(path)
                .filter { $0.hasPrefix("mi-") && $0.hasSuffix(".csv") && !$0.hasSuffix("-positions.csv") }
            if let estimate {
                let name = estimate.hasSuffix(".csv") ? estimate : "mi-\(estimate).csv"
                guard tables.contains(name) else {
                    throw FileError(path: path, reason: "no \(name) (estimates here: \(tables.isEmpty ? "none" : tables.joined(separator: ", ")))")
                }
                csv = path + "/" + name
            } else if tables.count == 1 {
                csv = path + "/" + tables[0]
            } else if tables.isEmpty {
                throw FileError(path: path, reason: "no mutual-information table yet; run `infoplane estimate \(path)` first")
            } else {
                throw FileError(path: path, reason: "several estimates (\(tables.joined(separator: ", "))); choose one with --estimate")
            }
        } else if title.hasSuffix(".csv") {
            title = String(title.dropLast(4))
        }
        let table = try InformationTable.read(path: csv)
        let points = informationPoints(table)
        return InformationSource(title: title, points: points, table: table)
    }

    var table: InformationTable
}

struct PlotInformationPlane: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infoplane",
        abstract: "The information plane: one panel per run directory or MI table, side by side with shared limits.",
        discussion: "Example: infoplane plot infoplane runs/tanh runs/relu -o figures/infoplane.png"
    )

    @Argument(help: "Run directories or CSV files with columns epoch,layer,I_XT,I_TY (or the KDE bound columns).")
    var sources: [String]

    @Option(help: "Which estimate of a run to plot when it has several (e.g. binning, kde).")
    var estimate: String?

    @Option(help: "Panel titles, comma-separated (default: the activation or file name).")
    var labels: String?

    @Option(help: "Colour points by epoch or by layer.")
    var color: String = "epoch"

    @Flag(help: "Log-scaled epoch colorbar.")
    var logEpochs = false

    @Flag(help: "Hide the band between KDE lower and upper bounds.")
    var noBounds = false

    @Flag(help: ArgumentHelp(
        "One panel per estimator (binning, KDE, kNN: the run's mi-*.csv) for each run, one run a row, with each layer's compression verdict under each estimator.",
        discussion: "The verdicts are printed and written beside the figure as <figure>-verdicts.csv."))
    var compareEstimators = false

    @Option(help: "Compression verdicts: recorded epochs in the running median (odd).")
    var window: Int = CompressionRule.defaultWindow

    @OptionGroup var figure: FigureOptions

    func validate() throws {
        if sources.isEmpty { throw ValidationError("give at least one run directory or MI table") }
        if window < 1 || window % 2 == 0 { throw ValidationError("--window must be odd and positive (got \(window))") }
        if compareEstimators && estimate != nil { throw ValidationError("--compare-estimators draws every estimate; drop --estimate") }
        if compareEstimators && labels != nil { throw ValidationError("--compare-estimators titles its panels by estimator; drop --labels") }
        if !["epoch", "layer"].contains(color) { throw ValidationError("--color must be epoch or layer") }
        if let labels, labels.split(separator: ",").count != sources.count {
            throw ValidationError("--labels needs one label per source (\(sources.count))")
        }
    }

    func run() throws {
        if compareEstimators { return try runComparison() }
        let names = labels?.split(separator: ",").map(String.init)
        let panels = try sources.enumerated().map { i, path in
            let source = try InformationSource.load(path, estimate: estimate)
            return InformationPlanePanel(title: names?[i] ?? source.title, points: source.points)
        }
        var plot = InformationPlaneFigure(panels: panels)
        plot.title = figure.title ?? ""
        plot.coloring = color == "layer" ? .layer : .epoch
        if let map = figure.colormapValue { plot.colormap = map }
        plot.logEpochs = logEpochs
        plot.showBounds = !noBounds
        let (w, h) = figure.dimensions(default: (panels.count > 1 ? 500 * panels.count : 640, 480))
        try figure.write(plot.render(width: w, height: h, scale: figure.scale), warnings: plot.warnings)
    }
}

extension PlotInformationPlane {
    /// The estimators a comparison draws, in this order, as `mi-<name>.csv` in a run.
    static let comparedEstimators = ["binning", "kde", "knn"]

    /// `--compare-estimators`: a row of panels per run, one per estimator it has.
    func runComparison() throws {
        var panels = [InformationPlanePanel]()
        var entries = [EstimatorVerdicts]()
        var columns = 0
        for path in sources {
            guard AtomicFile.isDirectory(path) else {
                throw FileError(path: path, reason: "--compare-estimators needs a run directory (with mi-binning.csv, mi-kde.csv, mi-knn.csv)")
            }
            let present = try Set(AtomicFile.listDirectory(path))
            let names = Self.comparedEstimators.filter { present.contains("mi-\($0).csv") }
            guard names.count >= 2 else {
                throw FileError(path: path, reason: "--compare-estimators needs at least two of mi-binning.csv, mi-kde.csv, mi-knn.csv "
                                + "(found \(names.isEmpty ? "none" : names.joined(separator: ", "))); run `infoplane estimate \(path) --estimator all`")
            }
            if columns != 0 && names.count != columns {
                throw FileError(path: path, reason: "has \(names.count) estimates, \(sources[0]) has \(columns): compare runs with the same estimates")
            }
            columns = names.count
            for name in names {
                let source = try InformationSource.load(path, estimate: name)
                let label = estimatorLabel(name, source.table.parameters)
                let title = sources.count > 1 ? "\(source.title): \(label)" : label
                panels.append(InformationPlanePanel(title: title, points: source.points))
                entries.append(EstimatorVerdicts(run: source.title, path: path, estimator: name,
                                                 verdicts: source.table.verdicts(rule: CompressionRule(window: window))))
            }
        }
        var plot = InformationPlaneFigure(panels: panels)
        plot.columns = columns
        plot.title = figure.title ?? ""
        plot.coloring = color == "layer" ? .layer : .epoch
        if let map = figure.colormapValue { plot.colormap = map }
        plot.logEpochs = logEpochs
        plot.showBounds = !noBounds
        let rows = panels.count / columns
        let (w, h) = figure.dimensions(default: (430 * columns + 90, 380 * rows + 40))
        try figure.write(plot.render(width: w, height: h, scale: figure.scale), warnings: plot.warnings)
        let rule = CompressionRule(window: window)
        print(verdictReport(entries, rule: rule), terminator: "")
        let csvPath = (figure.output.hasSuffix(".png") ? String(figure.output.dropLast(4)) : figure.output) + "-verdicts.csv"
        try AtomicFile.write(verdictCSV(entries), to: csvPath)
        print(csvPath)
    }

    /// A panel title from the estimator and the parameters file beside its table.
    func estimatorLabel(_ name: String, _ p: [String: String]) -> String {
        switch name {
        case "binning":
            if p["discretization"] == "width", let w = p["width"] { return "Binning (width \(w))" }
            if let bins = p["bins"] { return "Binning (\(bins) bins\(p["discretization"] == "global" ? ", global range" : ""))" }
            return "Binning"
        case "kde":
            let s2 = p["noise_variance"].map { ", σ² = \($0)" } ?? ""
            return (p["bound"] == "lower" ? "KDE lower bound" : "KDE upper bound") + s2
        default:
            let k = p["k"].map { ", k = \($0)" } ?? ""
            let noise = p["noise_variance"].flatMap { $0 == "none" ? nil : ", σ² = \($0)" } ?? ""
            return "kNN (KSG \(p["algorithm"] ?? "1")\(k)\(noise))"
        }
    }
}

/// One run's verdicts under one estimator.
struct EstimatorVerdicts {
    var run: String
    var path: String
    var estimator: String
    var verdicts: [(layer: Int, verdict: CompressionVerdict)]
}

/// The verdict table: a line per (run, layer), a column per estimator, and whether they agree.
func verdictReport(_ entries: [EstimatorVerdicts], rule: CompressionRule) -> String {
    var out = "Compression of I(X;T) by estimator (KDE: the upper bound).\nRule: \(rule).\n\n"
    let estimators = PlotInformationPlane.comparedEstimators.filter { e in entries.contains { $0.estimator == e } }
    func cell(_ v: CompressionVerdict?) -> String {
        guard let v else { return "-" }
        return (v.compressed ? "compresses" : "no") + " (drop " + TickFormatter.format(v.drop, decimals: 2) + " / " + TickFormatter.format(v.required, decimals: 2) + ")"
    }
    var lines = [["run", "layer"] + estimators + ["agree"]]
    var disagreements = 0, compared = 0
    for path in uniqued(entries.map(\.path)) {
        let forRun = entries.filter { $0.path == path }
        let layers = Set(forRun.flatMap { $0.verdicts.map(\.layer) }).sorted()
        for layer in layers {
            let vs = estimators.map { e in forRun.first { $0.estimator == e }?.verdicts.first { $0.layer == layer }?.verdict }
            let decided = vs.compactMap { $0?.compressed }
            let agree = Set(decided).count <= 1
            compared += 1
            if !agree { disagreements += 1 }
            lines.append([forRun[0].run, "\(layer)"] + vs.map(cell) + [agree ? "yes" : "NO"])
        }
    }
    let widths = lines[0].indices.map { c in lines.map { $0[c].count }.max()! }
    for line in lines {
        out += trimmingSpaces(line.indices.map { c in line[c] + String(repeating: " ", count: widths[c] - line[c].count) }
            .joined(separator: "  ")) + "\n"
    }
    out += "\nThe verdict depends on the estimator for \(disagreements) of \(compared) layer(s). "
        + "Drops and required drops in bits; the required drop is max(threshold, noise multiple × noise).\n"
    return out
}

/// The verdicts as CSV: run,layer,estimator,peak_epoch,peak,final,drop,required,compressed.
func verdictCSV(_ entries: [EstimatorVerdicts]) -> String {
    var out = "run,layer,estimator,peak_epoch,peak,final,drop,required,compressed\n"
    for e in entries {
        for (layer, v) in e.verdicts {
            out += "\(e.run),\(layer),\(e.estimator),\(v.peakEpoch),\(v.peak),\(v.final),\(v.drop),\(v.required),\(v.compressed)\n"
        }
    }
    return out
}

private func uniqued(_ values: [String]) -> [String] {
    var seen = Set<String>()
    return values.filter { seen.insert($0).inserted }
}

struct PlotCurves: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curves",
        abstract: "Curves over epochs: mutual information per layer, loss, accuracy, or gradient signal-to-noise.",
        discussion: """
        Kinds:
          mi         I(X;T) and I(T;Y) against epoch (log x), one line per layer (a run or an MI table)
          loss       training and test loss per run
          accuracy   training and test accuracy per run
          gradients  gradient mean and standard deviation norms, and their ratio, per layer (log-log)
        """
    )

    @Argument(help: "Run directories (or MI tables for --kind mi).")
    var sources: [String]

    @Option(help: "mi, loss, accuracy or gradients.")
    var kind: String = "mi"

    @Option(help: "Which estimate of a run to use for --kind mi.")
    var estimate: String?

    @OptionGroup var figure: FigureOptions

    func validate() throws {
        if sources.isEmpty { throw ValidationError("give at least one run directory") }
        if !["mi", "loss", "accuracy", "gradients"].contains(kind) {
            throw ValidationError("unknown --kind \"\(kind)\" (use mi, loss, accuracy or gradients)")
        }
        if kind == "mi" && sources.count != 1 { throw ValidationError("--kind mi draws one run or table at a time") }
    }

    func run() throws {
        var plot: CurvesFigure
        switch kind {
        case "mi":
            plot = CurvesFigure.mutualInformation(try InformationSource.load(sources[0], estimate: estimate).points)
        case "loss", "accuracy":
            let runs = try sources.map { (name: runName($0), metrics: try RunReader(path: $0).metrics()) }
            plot = metricCurves(runs, accuracy: kind == "accuracy")
        default:
            guard sources.count == 1 else { throw ValidationError("--kind gradients draws one run at a time") }
            plot = try gradientCurves(RunReader(path: sources[0]))
        }
        plot.title = figure.title ?? plot.title
        let (w, h) = figure.dimensions(default: (plot.panels.count > 1 ? 1000 : 640, 480))
        try figure.write(plot.render(width: w, height: h, scale: figure.scale), warnings: plot.warnings)
    }

    func runName(_ path: String) -> String { lastPathComponent(path) }
}

struct PlotHeatmap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heatmap",
        abstract: "A heatmap of a value over two hyper-parameters, from a CSV table.",
        discussion: "Example: infoplane plot heatmap sweep.csv --x lr --y weight_decay --value test_error --best min -o heat.png"
    )

    @Argument(help: "A CSV file with a header row.")
    var table: String

    @Option(help: "Column for the x axis (default: the first).")
    var x: String?

    @Option(help: "Column for the y axis (default: the second).")
    var y: String?

    @Option(help: "Column of values (default: the third). Rows with the same x and y are averaged.")
    var value: String?

    @Option(help: "Mark the best cell: max, min or none.")
    var best: String = "max"

    @Flag(help: "Log-scaled colours.")
    var logColor = false

    @Flag(help: "Do not write the values into the cells.")
    var noAnnotate = false

    @Option(help: "Colorbar label (default: the value column).")
    var colorbarLabel: String?

    @OptionGroup var figure: FigureOptions

    func validate() throws {
        if !["max", "min", "none"].contains(best) { throw ValidationError("--best must be max, min or none") }
    }

    func run() throws {
        let text = try AtomicFile.readText(table)
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        guard let header = lines.first, lines.count > 1 else { throw FileError(path: table, reason: "empty table") }
        let names = header.split(separator: ",").map { trimmingSpaces($0) }
        func column(_ name: String?, _ fallback: Int) throws -> Int {
            if let name {
                guard let i = names.firstIndex(of: name) else {
                    throw FileError(path: table, reason: "no column \"\(name)\" (columns: \(names.joined(separator: ", ")))")
                }
                return i
            }
            guard fallback < names.count else { throw FileError(path: table, reason: "needs at least three columns") }
            return fallback
        }
        let (cx, cy, cv) = (try column(x, 0), try column(y, 1), try column(value, 2))
        var sums = [String: (Double, Int)]()
        var xs = Set<Double>(), ys = Set<Double>()
        for (n, line) in lines.dropFirst().enumerated() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { trimmingSpaces($0) }
            guard f.count == names.count, let a = Double(f[cx]), let b = Double(f[cy]) else {
                throw FileError(path: table, reason: "line \(n + 2): malformed row")
            }
            let v = Double(f[cv]) ?? .nan
            xs.insert(a)
            ys.insert(b)
            let key = "\(a),\(b)"
            let s = sums[key] ?? (0, 0)
            sums[key] = v.isNaN ? s : (s.0 + v, s.1 + 1)
        }
        let xValues = xs.sorted(), yValues = ys.sorted()
        var values = [Double]()
        for b in yValues {
            for a in xValues {
                let s = sums["\(a),\(b)"] ?? (0, 0)
                values.append(s.1 > 0 ? s.0 / Double(s.1) : .nan)
            }
        }
        var plot = HeatmapFigure(values: values, xValues: xValues, yValues: yValues)
        plot.xLabel = names[cx]
        plot.yLabel = names[cy]
        plot.colorbarLabel = colorbarLabel ?? names[cv]
        plot.title = figure.title ?? ""
        plot.logColor = logColor
        plot.annotate = !noAnnotate
        plot.best = best == "max" ? .maximum : best == "min" ? .minimum : .none
        if let map = figure.colormapValue { plot.colormap = map }
        let (w, h) = figure.dimensions(default: (640, 480))
        try figure.write(plot.render(width: w, height: h, scale: figure.scale), warnings: plot.warnings)
    }
}

public struct Grid: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "An image grid from a .npy batch, with torchvision's make_grid/save_image semantics.",
        discussion: "Example: infoplane grid samples.npy -o grid.png --nrow 8 --padding 2 --normalize"
    )

    @Argument(help: "A .npy array of shape (B, C, H, W) with C = 1 or 3, or (B, H, W).")
    var images: String

    @Option(name: .shortAndLong, help: "Output PNG file.")
    var output: String

    @Option(help: "Images per row.")
    var nrow: Int = 8

    @Option(help: "Pixels between images.")
    var padding: Int = 2

    @Flag(help: "Shift and scale values into [0, 1] (by --value-range, or the batch's min and max).")
    var normalize = false

    // `.unconditional`: `--value-range -1,1` takes the negative pair as
    // typed, not as an unknown option.
    @Option(parsing: .unconditional, help: "lo,hi used by --normalize (for example -1,1).")
    var valueRange: String?

    @Flag(help: "Normalize each image by its own min and max.")
    var scaleEach = false

    @Option(help: "Padding colour: a number in [0, 1] or r,g,b.")
    var padValue: String = "0"

    @Option(help: "Nearest-neighbour upscaling factor for tiny images.")
    var upscale: Int = 1

    public func validate() throws {
        if nrow <= 0 { throw ValidationError("--nrow must be positive") }
        if padding < 0 { throw ValidationError("--padding must not be negative") }
        if !(1...32).contains(upscale) { throw ValidationError("--upscale must be between 1 and 32") }
        if let valueRange, parseNumbers(valueRange)?.count != 2 { throw ValidationError("--value-range must be lo,hi") }
        if ![1, 3].contains(parseNumbers(padValue)?.count ?? 0) { throw ValidationError("--pad-value must be a number or r,g,b") }
        if !output.hasSuffix(".png") { throw ValidationError("the output must be a .png file") }
    }

    func parseNumbers(_ text: String) -> [Float]? {
        let values = text.split(separator: ",").map { Float(trimmingSpaces($0)) }
        return values.allSatisfy { $0 != nil } ? values.map { $0! } : nil
    }

    public func run() throws {
        let array = try NPY.readFloats(path: images)
        let shape = array.shape
        guard shape.count == 3 || (shape.count == 4 && [1, 3].contains(shape[1])) else {
            throw FileError(path: images, reason: "shape \(shape): expected (B, C, H, W) with C = 1 or 3, or (B, H, W)")
        }
        guard shape.allSatisfy({ $0 > 0 }) else { throw FileError(path: images, reason: "empty batch \(shape)") }
        var grid = ImageGrid(values: array.values, shape: shape)
        grid.nrow = nrow
        grid.padding = padding
        grid.normalize = normalize
        if let valueRange, let r = parseNumbers(valueRange) { grid.valueRange = (r[0], r[1]) }
        grid.scaleEach = scaleEach
        let pad = parseNumbers(padValue)!
        grid.padValue = pad.count == 1 ? .gray(pad[0]) : .rgb(pad[0], pad[1], pad[2])
        grid.upscale = upscale
        printWarnings(grid.warnings)
        try grid.render().writePNG(to: output)
        print(output)
    }
}
