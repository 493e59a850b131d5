// Release-mode benchmarks of the Plotting module: an information plane of 6 layers x
// 1000 epochs at 1000 x 800 including PNG encoding, and an 8 x 8 grid of 32 x 32 RGB
// images. The data are synthetic trajectories with the shape of real runs (fitting,
// then compression); they only exist to time rendering.
// Setting PLOTTING_SAMPLES=<dir> also writes every kind of figure there at 1x and 2x.

import Plotting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Synthetic information-plane points: `layers` layers over epochs 0..<epochs.
func syntheticInformationPlane(layers: Int, epochs: Int, activation: Int = 0) -> [InformationPlanePoint] {
    var points = [InformationPlanePoint]()
    points.reserveCapacity(layers * epochs)
    for e in 0..<epochs {
        let t = log(Double(e) + 1) / log(Double(epochs))
        for l in 1...layers {
            let depth = Double(l - 1) / Double(max(1, layers - 1))
            let start = 11.5 - 6.5 * depth
            let compression = activation == 0 ? 0.35 * (1 - depth * 0.5) : 0.05
            let ixt = start * (1 + 0.08 * t) * (1 - compression * max(0, t - 0.4) / 0.6) + 0.05 * sin(Double(e * 7 + l))
            let ity = (0.99 - 0.6 * depth * (1 - t)) * (1 - exp(-4 * t - 0.3)) + 0.01 * cos(Double(e * 3 + l))
            points.append(InformationPlanePoint(epoch: e, layer: l, ixt: ixt, ity: ity,
                                                ixtLower: ixt - 1.2 - 0.3 * depth, ityLower: ity - 0.05))
        }
    }
    return points
}

/// A monotonic clock in seconds.
func plottingNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func runPlottingBenchmarks() {
    let dir = "/tmp"
    if let only = getenv("PLOTTING_ONLY") {
        // One figure as a user would make it, for timing the whole process.
        do {
            if String(cString: only) == "grid" {
                var images = [Float](repeating: 0, count: 64 * 3 * 32 * 32)
                for i in 0..<images.count { images[i] = Float((i &* 2654435761) % 1000) / 1000 }
                try ImageGrid(values: images, shape: [64, 3, 32, 32]).render().writePNG(to: "\(dir)/grid-bench.png")
            } else {
                let figure = InformationPlaneFigure(panels: [InformationPlanePanel(title: "tanh",
                    points: syntheticInformationPlane(layers: 6, epochs: 1000))])
                try figure.render(width: 1000, height: 800, scale: 1).writePNG(to: "\(dir)/infoplane-bench.png")
            }
        } catch {
            print("plotting benchmark failed: \(error)")
        }
        return
    }
    do {
        let t0 = plottingNow()
        let points = syntheticInformationPlane(layers: 6, epochs: 1000)
        let figure = InformationPlaneFigure(panels: [InformationPlanePanel(title: "tanh", points: points)])
        let t1 = plottingNow()
        let canvas = try figure.render(width: 1000, height: 800, scale: 1)
        let t2 = plottingNow()
        let png = try canvas.pngData()
        let t3 = plottingNow()
        try canvas.writePNG(to: "\(dir)/infoplane-bench.png")
        let t4 = plottingNow()
        print("plot infoplane 6x1000 at 1000x800: data \(ms(t1 - t0)) render \(ms(t2 - t1)) png encode \(ms(t3 - t2)) (\(png.count) bytes) encode+atomic write \(ms(t4 - t3))")
        var best = t2 - t1
        for _ in 0..<(getenv("PLOTTING_REPEAT") != nil ? 20 : 4) {
            let a = plottingNow()
            _ = try figure.render(width: 1000, height: 800, scale: 1)
            best = min(best, plottingNow() - a)
        }
        print("plot infoplane render, best of 5: \(ms(best))")

        var images = [Float](repeating: 0, count: 64 * 3 * 32 * 32)
        for i in 0..<images.count { images[i] = Float((i &* 2654435761) % 1000) / 1000 }
        let g0 = plottingNow()
        let grid = ImageGrid(values: images, shape: [64, 3, 32, 32])
        let gridCanvas = try grid.render()
        try gridCanvas.writePNG(to: "\(dir)/grid-bench.png")
        let g1 = plottingNow()
        print("plot grid 8x8 of 32x32 RGB (\(gridCanvas.width)x\(gridCanvas.height)) incl. PNG write: \(ms(g1 - g0))")
    } catch {
        print("plotting benchmark failed: \(error)")
    }
    if let samples = getenv("PLOTTING_SAMPLES") {
        writePlottingSamples(to: String(cString: samples))
    }
}

private func ms(_ s: Double) -> String {
    let v = (s * 10000).rounded() / 10
    return "\(v) ms"
}

/// Writes one PNG per kind of figure, at 1x and 2x, into `dir`.
func writePlottingSamples(to dir: String) {
    do {
        for scale in [1.0, 2.0] {
            let tag = scale == 1 ? "1x" : "2x"
            var info = InformationPlaneFigure(panels: [
                InformationPlanePanel(title: "tanh", points: syntheticInformationPlane(layers: 6, epochs: 300)),
                InformationPlanePanel(title: "ReLU", points: syntheticInformationPlane(layers: 6, epochs: 300, activation: 1)),
            ])
            try info.render(width: 1000, height: 450, scale: scale).writePNG(to: "\(dir)/infoplane-\(tag).png")
            info.title = "Information plane"
            try info.render(width: 480, height: 300, scale: scale).writePNG(to: "\(dir)/infoplane-small-\(tag).png")
            info.logEpochs = true
            try info.render(width: 640, height: 480, scale: scale).writePNG(to: "\(dir)/infoplane-default-\(tag).png")
            info.logEpochs = false
            info.title = ""
            info.logEpochs = true
            info.colormap = .viridis
            info.panels = [info.panels[0]]
            try info.render(width: 640, height: 480, scale: scale).writePNG(to: "\(dir)/infoplane-log-\(tag).png")
            info.coloring = .layer
            try info.render(width: 640, height: 480, scale: scale).writePNG(to: "\(dir)/infoplane-layers-\(tag).png")
            let epochs = (1...300).map(Double.init)
            var mi = CurvesFigure(panels: [
                CurvesPanel(series: (1...4).map { l in
                    CurveSeries(name: "Layer \(l)", x: epochs, y: epochs.map { 12 - 2 * Double(l) - 0.3 * log($0) * Double(5 - l) / 4 })
                }, title: "I(X;T)", xLabel: "Epoch", yLabel: "I(X;T) (bits)", xScale: .log),
                CurvesPanel(series: (1...4).map { l in
                    CurveSeries(name: "Layer \(l)", x: epochs, y: epochs.map { 1 - exp(-$0 / (20 * Double(l))) })
                }, title: "I(T;Y)", xLabel: "Epoch", yLabel: "I(T;Y) (bits)", xScale: .log),
            ])
            mi.title = "Mutual information, tanh network"
            try mi.render(width: 1000, height: 420, scale: scale).writePNG(to: "\(dir)/curves-mi-\(tag).png")
            var loss = CurvesFigure(panels: [
                CurvesPanel(series: [
                    CurveSeries(name: "train", x: epochs, y: epochs.map { 0.7 * exp(-$0 / 60) + 0.02 }),
                    CurveSeries(name: "test", x: epochs, y: epochs.map { 0.7 * exp(-$0 / 70) + 0.05 + 0.0002 * $0 }, dashed: true),
                ], xLabel: "Epoch", yLabel: "Loss"),
                CurvesPanel(series: [
                    CurveSeries(name: "train", x: epochs, y: epochs.map { 1 - 0.5 * exp(-$0 / 50) }),
                    CurveSeries(name: "test", x: epochs, y: epochs.map { 0.95 - 0.45 * exp(-$0 / 60) }, dashed: true),
                ], xLabel: "Epoch", yLabel: "Accuracy"),
            ])
            loss.panels[1].grid = true
            try loss.render(width: 900, height: 380, scale: scale).writePNG(to: "\(dir)/curves-loss-\(tag).png")
            var grads = [CurveSeries]()
            for l in 1...3 {
                grads.append(CurveSeries(name: "mean, layer \(l)", x: epochs, y: epochs.map { 0.1 / Double(l) * pow($0, -0.3) },
                                         color: Colormap.tab10Color(l - 1)))
                grads.append(CurveSeries(name: "std, layer \(l)", x: epochs, y: epochs.map { 0.01 / Double(l) * pow($0, 0.2) },
                                         color: Colormap.tab10Color(l - 1), dashed: true))
            }
            let snr = (1...3).map { l in
                CurveSeries(name: "layer \(l)", x: epochs, y: epochs.map { 10 * pow($0, -0.5) / Double(l) }, color: Colormap.tab10Color(l - 1))
            }
            var g = CurvesFigure(panels: [
                CurvesPanel(series: grads, title: "Gradient mean and std", xLabel: "Epoch", yLabel: "Norm", xScale: .log, yScale: .log),
                CurvesPanel(series: snr, title: "Signal-to-noise ratio", xLabel: "Epoch", yLabel: "mean / std", xScale: .log, yScale: .log),
            ])
            g.panels[0].legend = true
            try g.render(width: 1000, height: 420, scale: scale).writePNG(to: "\(dir)/curves-grad-\(tag).png")

            var quad = CurvesFigure(panels: (0..<4).map { k in
                CurvesPanel(series: [CurveSeries(name: "run \(k)", x: epochs, y: epochs.map { 2e6 * (1 + sin($0 / 30 + Double(k))) }, marker: k == 3 ? .circle : nil)],
                            title: "Panel \(k + 1)", xLabel: "Epoch", yLabel: "Samples")
            }, columns: 2)
            quad.panels[3].series[0].x = Array(epochs.prefix(20))
            quad.panels[3].series[0].y = Array(quad.panels[3].series[0].y.prefix(20))
            quad.sharedX = true
            quad.sharedY = true
            try quad.render(width: 640, height: 480, scale: scale).writePNG(to: "\(dir)/curves-grid-\(tag).png")

            let lrs = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
            let wds = [0, 1e-5, 1e-4, 1e-3, 1e-2]
            var table = [Double]()
            for (i, wd) in wds.enumerated() {
                for (j, lr) in lrs.enumerated() {
                    table.append(0.6 + 0.35 * exp(-pow(log10(lr) + 2.3, 2)) - 0.05 * Double(i) * (wd > 1e-3 ? 1 : 0.2) + 0.003 * Double(j))
                }
            }
            table[3] = .nan
            var heat = HeatmapFigure(values: table, xValues: lrs, yValues: wds)
            heat.xLabel = "Learning rate"; heat.yLabel = "Weight decay"; heat.colorbarLabel = "Test accuracy"
            heat.title = "Accuracy after 300 epochs"
            try heat.render(width: 640, height: 480, scale: scale).writePNG(to: "\(dir)/heatmap-\(tag).png")
            heat.colormap = .rdBu
            heat.logColor = true
            heat.annotate = false
            heat.best = .minimum
            heat.colorbarLabel = "Loss"
            try heat.render(width: 500, height: 400, scale: scale).writePNG(to: "\(dir)/heatmap-log-\(tag).png")

            var pixels = [Float]()
            for b in 0..<20 { for c in 0..<3 { for y in 0..<12 { for x in 0..<12 {
                pixels.append(Float(sin(Double(x * (b + 1) + y * c) * 0.3) * 0.5 + 0.5))
            } } } }
            var grid = ImageGrid(values: pixels, shape: [20, 3, 12, 12])
            grid.nrow = 5
            grid.padValue = .rgb(1, 1, 1)
            grid.upscale = Int(scale) * 4
            try grid.render().writePNG(to: "\(dir)/grid-\(tag).png")
        }
    } catch {
        print("samples failed: \(error)")
    }
}
