// `infoplane simulate air`: a seeded AirNet-style air-quality field (see
// AirQuality/Simulator.swift) written as one .npz, with a figure of a few
// frames beside it.

import AirQuality
import ArgumentParser
import ArrayIO
import Foundation

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a data set: air (an advection-diffusion air-quality field with meteorology and stations).",
        discussion: """
        Examples:
          infoplane simulate air --seed 1 -o field.npz
          infoplane simulate air --grid 48 --years 1 --stations 60 --seed 7 -o field.npz --figure frames.png

        The archive holds field [lat, lon, time, 7] (u, v, temperature, humidity, rain,
        mixing_height, pm), forecast_meteorology [lat, lon, time, 6], stations [S, 2], hours,
        emission, substeps, feature_names and settings. The figure (default: the output path
        with -frames.png for .npz) shows four frames: the worst haze of the first winter, 12 h
        later, 15 July 06:00 and the rainiest frame.
        """
    )

    @Argument(help: "What to simulate: air.")
    var what: String

    @Option(help: "Grid cells per side.")
    var grid: Int = 32

    @Option(help: "Simulated years (365 days, 3-hourly frames).")
    var years: Double = 2

    @Option(help: "Station cells (distinct, seeded).")
    var stations: Int = 40

    @Option(help: "Boundary: open, closed or periodic.")
    var boundary: String = "open"

    @Option(help: "The seed of every random choice.")
    var seed: UInt64

    @Option(name: [.customShort("o"), .customLong("out")], help: "The .npz to write.")
    var out: String

    @Option(help: "The frames figure (PNG).")
    var figure: String?

    func validate() throws {
        guard what == "air" else { throw ValidationError("unknown data set \"\(what)\" (known: air)") }
        guard AirBoundary(rawValue: boundary) != nil else {
            throw ValidationError("--boundary must be open, closed or periodic (got \"\(boundary)\")")
        }
        if let problem = settings.problem { throw ValidationError("--grid/--years/--stations: \(problem)") }
        if !out.hasSuffix(".npz") { throw ValidationError("-o must name a .npz file (got \"\(out)\")") }
    }

    var settings: AirSimulationSettings {
        var s = AirSimulationSettings(gridSize: grid, years: years, stationCount: stations, seed: seed)
        s.boundary = AirBoundary(rawValue: boundary) ?? .open
        return s
    }

    func run() throws {
        let progress = TerminalProgress()
        let start = Date()
        let field = AirSimulator(settings).run { done, total in
            progress.update(done, of: total, "simulating")
        }
        progress.finish()
        let simulated = Date().timeIntervalSince(start)
        try field.write(to: out)
        let figurePath = figure ?? String(out.dropLast(4)) + "-frames.png"
        try field.overviewFigure(frames: field.overviewFrames()).render().writePNG(to: figurePath)
        let pm = field.values.enumerated().filter { $0.offset % AirField.featureCount == AirFeature.pm.rawValue }.map { Double($0.element) }
        print(String(format: "%@: %d x %d cells, %d frames, %d stations; %.2f s to simulate (sub-steps %d to %d per 3 h), %.2f s in all; PM mean %.1f, max %.1f µg/m³. Frames: %@",
                     out, grid, grid, field.timeCount, field.stations.count, simulated, field.substeps.min() ?? 0,
                     field.substeps.max() ?? 0, Date().timeIntervalSince(start), pm.reduce(0, +) / Double(pm.count),
                     pm.max() ?? 0, figurePath))
    }
}
