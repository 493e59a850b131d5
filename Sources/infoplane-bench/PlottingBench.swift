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
    do {
        let t0 = plottingNow()
        let points = syntheticInformationPlane(layers: 6, epochs: 1000)
        var figure = InformationPlaneFigure(panels: [InformationPlanePanel(title: "tanh", points: points)])
        figure.showBounds = false
        let t1 = plottingNow()
        let canvas = try figure.render(width: 1000, height: 800, scale: 1)
        let t2 = plottingNow()
        let png = try canvas.pngData()
        let t3 = plottingNow()
        try canvas.writePNG(to: "\(dir)/infoplane-bench.png")
        let t4 = plottingNow()
        print("plot infoplane 6x1000 at 1000x800: data \(ms(t1 - t0)) render \(ms(t2 - t1)) png \(ms(t3 - t2)) (\(png.count) bytes) write \(ms(t4 - t3))")

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
            info.logEpochs = true
            info.colormap = .viridis
            info.panels = [info.panels[0]]
            try info.render(width: 640, height: 480, scale: scale).writePNG(to: "\(dir)/infoplane-log-\(tag).png")
            info.coloring = .layer
            try info.render(width: 640, height: 480, scale: scale).writePNG(to: "\(dir)/infoplane-layers-\(tag).png")
        }
    } catch {
        print("samples failed: \(error)")
    }
}
