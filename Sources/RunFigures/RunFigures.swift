// Figures of runs: the pieces `infoplane plot` and `infoplane demo` share.
//
// These turn run records and MI tables into the plotting library's figure
// values; they draw nothing themselves.

import ActivationStore
import ArrayIO
import Plotting

/// Information-plane points from an MI table: (I_XT, I_TY), or for KDE the
/// upper bounds with the lower bounds kept for the band.
public func informationPoints(_ table: InformationTable) -> [InformationPlanePoint] {
    if let ixt = table.column("I_XT"), let ity = table.column("I_TY") {
        return table.rows.indices.map {
            InformationPlanePoint(epoch: table.rows[$0].epoch, layer: table.rows[$0].layer, ixt: ixt[$0], ity: ity[$0])
        }
    }
    guard let xl = table.column("I_XT_lower"), let xu = table.column("I_XT_upper"),
          let yl = table.column("I_TY_lower"), let yu = table.column("I_TY_upper") else { return [] }
    return table.rows.indices.map {
        InformationPlanePoint(epoch: table.rows[$0].epoch, layer: table.rows[$0].layer, ixt: xu[$0], ity: yu[$0],
                              ixtLower: xl[$0], ityLower: yl[$0])
    }
}

/// Training and test loss or accuracy against epoch (log x), one colour per run.
public func metricCurves(_ runs: [(name: String, metrics: [EpochMetrics])], accuracy: Bool) -> CurvesFigure {
    var series = [CurveSeries]()
    for (i, run) in runs.enumerated() {
        let rows = run.metrics.filter { $0.epoch > 0 }
        let prefix = runs.count > 1 ? run.name + ", " : ""
        let color = Colormap.tab10Color(i)
        let x = rows.map { Double($0.epoch) }
        series.append(CurveSeries(name: prefix + "train", x: x, y: rows.map { accuracy ? $0.trainAccuracy : $0.trainLoss }, color: color))
        series.append(CurveSeries(name: prefix + "test", x: x, y: rows.map { accuracy ? $0.testAccuracy : $0.testLoss },
                                  color: color, dashed: true))
    }
    return CurvesFigure(panels: [CurvesPanel(series: series, xLabel: "Epoch",
                                             yLabel: accuracy ? "Accuracy" : "Cross-entropy (nats)", xScale: .log)])
}

/// Saxe et al. Fig. 20 and Shwartz-Ziv & Tishby's drift and diffusion: per
/// layer, the norms of the gradient mean and standard deviation (left) and
/// their ratio (right), log-log.
///
/// - Throws: `FileError` when the run recorded no gradient statistics.
public func gradientCurves(_ reader: RunReader, title: String = "") throws -> CurvesFigure {
    let rows = try reader.gradientStatistics()
    guard !rows.isEmpty else { throw FileError(path: reader.directory.gradients, reason: "no gradient statistics recorded") }
    let layers = Array(Set(rows.map(\.layer))).sorted()
    var normSeries = [CurveSeries](), ratioSeries = [CurveSeries]()
    for layer in layers {
        let r = rows.filter { $0.layer == layer }
        let x = r.map { Double($0.epoch) }
        let color = Colormap.tab10Color(layer - 1)
        let name = reader.manifest.layers[layer - 1].name
        normSeries.append(CurveSeries(name: "mean, \(name)", x: x, y: r.map(\.meanNorm), color: color))
        normSeries.append(CurveSeries(name: "std, \(name)", x: x, y: r.map(\.standardDeviationNorm), color: color, dashed: true))
        ratioSeries.append(CurveSeries(name: name, x: x, y: r.map(\.signalToNoise), color: color))
    }
    var norms = CurvesPanel(series: normSeries, title: "Gradient mean (solid) and std (dashed)", xLabel: "Epoch", yLabel: "Norm",
                            xScale: .log, yScale: .log)
    norms.legend = false
    let ratio = CurvesPanel(series: ratioSeries, title: "Signal-to-noise ratio", xLabel: "Epoch", yLabel: "mean / std",
                            xScale: .log, yScale: .log)
    var figure = CurvesFigure(panels: [norms, ratio])
    figure.title = title
    return figure
}
