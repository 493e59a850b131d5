// A simulated air-quality field with the structure of the AirNet data set
// (3-hourly frames on a 0.25-degree grid, meteorology and a pollutant): a
// column burden of one pollutant (PM2.5-like) transported by a wind field,
// emitted by cities and point sources, diluted in a mixing layer, removed by
// deposition and rain. Every random choice comes from the settings' seed.
//
// Physics, in the order of one 3-hour step:
//   meteorology at the step's midpoint:
//     regional wind    a uniform wind, seasonal mean (north-westerly, stronger
//                      in winter) plus an Ornstein-Uhlenbeck perturbation
//                      (τ = 48 h, σ = 3 m/s per component)
//     vortices         `vortexCount` Gaussian vortices (radius 3-7 cells, peak
//                      speed 3-8 m/s, either sense), drifting with the regional
//                      wind and replaced when they leave or age (2-6 days);
//                      their velocity comes from a streamfunction sampled at
//                      cell corners, so the discrete face velocities are
//                      exactly divergence-free
//     temperature      seasonal (-2 °C mid-January, 28 °C mid-July) and diurnal
//                      (±5 °C, peak 15:00) cycles, 0.15 °C colder per cell north,
//                      an Ornstein-Uhlenbeck anomaly (σ = 3 °C, τ = 72 h)
//     mixing height    H = H_season (300 m in winter to 1100 m in summer) x
//                      (0.35 + 0.65 max(0, sin(π (hour - 6) / 12))) + 40 s |U|
//     rain cells       born at random (more often in summer), Gaussian in
//                      space (radius 2-5 cells, peak 1-8 mm/h), drifting with the
//                      wind, living 6-36 h with a sine envelope
//     humidity         seasonal base plus the rain's footprint, in [10, 100] %
//   transport          upwind advection and diffusion (K = 2000 m²/s) of the
//                      burden M (µg/m²) in sub-steps within the CFL limit (see
//                      Transport.swift); the sub-step counts are stored
//   sources            cities (Gaussian area sources, radius 1-2 cells) and
//                      point sources (single cells), times a diurnal traffic
//                      cycle (peaks at 08:00 and 19:00) and winter heating
//                      (up to +60 %), plus a weak regional background
//   removal            dry deposition v_d / H (v_d = 2 mm/s) and wet removal
//                      Λ = 1e-4 s⁻¹ (rain in mm/h)^0.8, applied exactly as
//                      M ← M exp(-(v_d / H + Λ) dt)
//   output             surface concentration c = M / H (µg/m³)
//
// Time: hour 0 is 1 January 00:00 of year 1, years of 365 days; the field is
// spun up for `spinUpDays` before hour 0.

import Foundation
import Tensors

/// Everything that fixes a simulated field.
public struct AirSimulationSettings: Codable, Equatable, Sendable {
    public var gridSize: Int
    public var years: Double
    public var stationCount: Int
    public var seed: UInt64
    /// The cell side (0.25 degree of latitude).
    public var cellKilometres: Double = 25
    public var stepHours: Double = 3
    public var boundary: AirBoundary = .open
    public var cityCount: Int = 6
    public var pointSourceCount: Int = 3
    public var vortexCount: Int = 3
    /// Horizontal eddy diffusivity, m²/s.
    public var diffusivity: Double = 2000
    /// The largest outgoing share of a cell per sub-step.
    public var courantLimit: Double = 0.9
    public var spinUpDays: Double = 10
    /// The burden entering through open boundaries, µg/m² (20 µg/m³ in a 300 m layer).
    public var inflowBurden: Double = 6000

    public init(gridSize: Int = 32, years: Double = 2, stationCount: Int = 40, seed: UInt64 = 1) {
        self.gridSize = gridSize
        self.years = years
        self.stationCount = stationCount
        self.seed = seed
    }

    /// 3-hourly steps in the simulated span.
    public var stepCount: Int { Int((years * 365 * 24 / stepHours).rounded()) }

    /// Why the settings cannot be simulated, or nil.
    public var problem: String? {
        if gridSize < 4 { return "the grid must be at least 4 x 4 (got \(gridSize))" }
        if !(years > 0) || stepCount < 1 { return "the span must be positive (got \(years) years)" }
        if stationCount < 1 || stationCount > gridSize * gridSize {
            return "stations must be between 1 and \(gridSize * gridSize) for a \(gridSize) x \(gridSize) grid (got \(stationCount))"
        }
        if !(stepHours > 0) { return "the step must be positive" }
        if !(courantLimit > 0 && courantLimit <= 1) { return "the Courant limit must be in (0, 1]" }
        return nil
    }
}

/// The meteorology channels, in the order of the field's features.
public enum AirFeature: Int, CaseIterable, Sendable {
    case u, v, temperature, humidity, rain, mixingHeight, pm

    public var name: String {
        switch self {
        case .u: "u"
        case .v: "v"
        case .temperature: "temperature"
        case .humidity: "humidity"
        case .rain: "rain"
        case .mixingHeight: "mixing_height"
        case .pm: "pm"
        }
    }

    /// The six meteorology channels (all but the pollutant).
    public static let meteorology: [AirFeature] = [.u, .v, .temperature, .humidity, .rain, .mixingHeight]
}

/// A simulated field in the paper's layout.
public struct AirField: Sendable {
    public var settings: AirSimulationSettings
    /// [lat, lon, time, feature]: u, v (m/s), temperature (°C), humidity (%),
    /// rain (mm/h), mixing height (m), pm (µg/m³).
    public var values: [Float]
    /// [lat, lon, time, 6]: the meteorology as forecast (see `AirSimulator`).
    public var forecastMeteorology: [Float]
    /// Station cells (lat, lon).
    public var stations: [(lat: Int, lon: Int)]
    /// Hours since 1 January 00:00 of year 1, per frame.
    public var hours: [Double]
    /// The sources' emission rate at unit diurnal and seasonal factor, µg/m²/s, [lat, lon].
    public var emission: [Float]
    /// Transport sub-steps taken in each 3-hour step.
    public var substeps: [Int]

    public var n: Int { settings.gridSize }
    public var timeCount: Int { hours.count }
    public static let featureCount = AirFeature.allCases.count

    /// One value of the field.
    @inline(__always)
    public func value(lat: Int, lon: Int, time: Int, _ feature: AirFeature) -> Float {
        values[((lat * n + lon) * timeCount + time) * Self.featureCount + feature.rawValue]
    }

    /// One forecast meteorology value (feature: any of `AirFeature.meteorology`).
    @inline(__always)
    public func forecast(lat: Int, lon: Int, time: Int, _ feature: AirFeature) -> Float {
        forecastMeteorology[((lat * n + lon) * timeCount + time) * 6 + feature.rawValue]
    }

    /// The n x n frame of one feature at one time, row-major (lat, lon).
    public func frame(time: Int, _ feature: AirFeature) -> [Float] {
        var out = [Float](repeating: 0, count: n * n)
        for c in 0..<(n * n) { out[c] = values[(c * timeCount + time) * Self.featureCount + feature.rawValue] }
        return out
    }
}

/// Runs the simulation of `AirSimulationSettings`.
public struct AirSimulator {
    public let settings: AirSimulationSettings

    public init(_ settings: AirSimulationSettings) {
        precondition(settings.problem == nil, "AirSimulator: \(settings.problem!)")
        self.settings = settings
    }

    struct Vortex { var x, y, radius, speed, age, lifetime: Double }
    struct RainCell { var x, y, radius, peak, age, lifetime: Double }
    struct Source { var x, y, radius, rate: Double }
    /// A smooth random field for forecast errors: Σ_k a_k(t) cos(kx x + ky y + φ_k).
    struct ErrorModes { var kx, ky, phase, amplitude: [Double] }

    /// The day of year (0 ≤ d < 365) and the hour of day of `hour`.
    static func calendar(_ hour: Double) -> (day: Double, hourOfDay: Double) {
        let days = hour / 24
        let day = days - 365 * (days / 365).rounded(.down)
        return (day, hour - 24 * days.rounded(.down))
    }

    /// 1 in mid-January, 0 in mid-July.
    static func winterness(_ day: Double) -> Double { 0.5 * (1 + cos(2 * Double.pi * (day - 15) / 365)) }

    /// The emission factor of the diurnal traffic cycle (peaks 08:00 and 19:00).
    static func diurnalEmission(_ hourOfDay: Double) -> Double {
        let h = hourOfDay
        return 0.7 + 0.6 * (exp(-(h - 8) * (h - 8) / 8) + exp(-(h - 19) * (h - 19) / 12))
    }

    /// The mixing height (m) at a season, hour and regional wind speed (m/s).
    public static func mixingHeight(winterness w: Double, hourOfDay: Double, windSpeed: Double) -> Double {
        let seasonal = 300 + 800 * (1 - w)
        let daylight = max(0, sin(Double.pi * (hourOfDay - 6) / 12))
        return seasonal * (0.35 + 0.65 * daylight) + 40 * windSpeed
    }

    /// Simulates the whole span; `progress(done, total)` after every step.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> AirField {
        let s = settings, n = s.gridSize, cells = n * n
        var rng = RandomGenerator(seed: s.seed)
        let dx = s.cellKilometres * 1000, dtStep = s.stepHours * 3600
        let nf = Double(n)

        // Sources: cities (area) and power plants (points), away from the edges.
        var sources = [Source]()
        for _ in 0..<s.cityCount {
            sources.append(Source(x: Double(rng.uniform(0.15, 0.85)) * nf, y: Double(rng.uniform(0.15, 0.85)) * nf,
                                  radius: Double(rng.uniform(1, 2)) * nf / 32, rate: Double(rng.uniform(0.2, 0.5))))
        }
        for _ in 0..<s.pointSourceCount {
            sources.append(Source(x: (Double(rng.nextInt(below: max(1, n - 4))) + 2.5), y: Double(rng.nextInt(below: max(1, n - 4))) + 2.5,
                                  radius: 0, rate: Double(rng.uniform(1.0, 2.0))))
        }
        var emission = [Double](repeating: 0.05, count: cells)   // regional background
        for source in sources {
            if source.radius == 0 {
                let i = Int(source.y), j = Int(source.x)
                emission[i * n + j] += source.rate
            } else {
                for i in 0..<n {
                    for j in 0..<n {
                        let ddx = Double(j) + 0.5 - source.x, ddy = Double(i) + 0.5 - source.y
                        emission[i * n + j] += source.rate * exp(-(ddx * ddx + ddy * ddy) / (2 * source.radius * source.radius))
                    }
                }
            }
        }

        // Stations: distinct cells, drawn with weight 0.3 + emission / max emission.
        let peak = emission.max()!
        var weights = emission.map { 0.3 + $0 / peak }
        var stations = [(lat: Int, lon: Int)]()
        for _ in 0..<s.stationCount {
            let total = weights.reduce(0, +)
            var r = rng.nextDouble() * total, chosen = cells - 1
            for c in 0..<cells {
                r -= weights[c]
                if r < 0 && weights[c] > 0 { chosen = c; break }
            }
            while weights[chosen] == 0 { chosen = (chosen + 1) % cells }
            weights[chosen] = 0
            stations.append((chosen / n, chosen % n))
        }

        func newVortex(_ rng: inout RandomGenerator, anywhere: Bool, upwind: (Double, Double)) -> Vortex {
            var x = Double(rng.uniform(0, 1)) * nf, y = Double(rng.uniform(0, 1)) * nf
            if !anywhere {
                // Enter from the upwind side.
                if abs(upwind.0) > abs(upwind.1) { x = upwind.0 > 0 ? -3 : nf + 3 } else { y = upwind.1 > 0 ? -3 : nf + 3 }
            }
            return Vortex(x: x, y: y, radius: Double(rng.uniform(3, 7)) * nf / 32,
                          speed: Double(rng.uniform(3, 8)) * (rng.nextDouble() < 0.5 ? -1 : 1),
                          age: 0, lifetime: Double(rng.uniform(48, 144)))
        }
        var vortices = (0..<s.vortexCount).map { _ in newVortex(&rng, anywhere: true, upwind: (1, 0)) }
        var rainCells = [RainCell]()
        var windAnomaly = (0.0, 0.0), temperatureAnomaly = 0.0

        // Forecast errors: 4 modes per channel, AR(1) amplitudes with τ = 24 h.
        let errorScales = [1.5, 1.5, 1.5, 8.0, 0.5, 0.2]   // u, v, T, RH, rain (relative), H (log)
        var modes = (0..<6).map { _ in
            ErrorModes(kx: (0..<4).map { _ in Double(rng.uniform(-1, 1)) * 2 * Double.pi / nf * 2 },
                       ky: (0..<4).map { _ in Double(rng.uniform(-1, 1)) * 2 * Double.pi / nf * 2 },
                       phase: (0..<4).map { _ in Double(rng.uniform(0, 2 * Float.pi)) },
                       amplitude: (0..<4).map { _ in rng.normal() / 2 })
        }

        let transport = AirTransport(n: n, boundary: s.boundary, inflow: s.inflowBurden)
        var mass = [Double](repeating: s.inflowBurden, count: cells), scratch = [Double]()
        var psi = [Double](repeating: 0, count: (n + 1) * (n + 1))
        var east = [Double](repeating: 0, count: n * (n + 1)), north = [Double](repeating: 0, count: (n + 1) * n)
        var rain = [Double](repeating: 0, count: cells)
        let steps = s.stepCount, spinUp = Int((s.spinUpDays * 24 / s.stepHours).rounded())
        let F = AirField.featureCount
        var values = [Float](repeating: 0, count: cells * steps * F)
        var forecast = [Float](repeating: 0, count: cells * steps * 6)
        var hours = [Double](), substepCounts = [Int]()
        hours.reserveCapacity(steps)
        let ouWind = exp(-s.stepHours / 48), ouTemperature = exp(-s.stepHours / 72), arError = exp(-s.stepHours / 24)
        let kd = s.diffusivity / (dx * dx)

        for k in -spinUp..<steps {
            let hour = (Double(k) + 1) * s.stepHours          // the frame's time: the end of the step
            let mid = hour - s.stepHours / 2
            let (day, hourOfDay) = Self.calendar(mid)
            let w = Self.winterness(day)

            // Regional wind.
            windAnomaly.0 = windAnomaly.0 * ouWind + 3 * (1 - ouWind * ouWind).squareRoot() * rng.normal()
            windAnomaly.1 = windAnomaly.1 * ouWind + 3 * (1 - ouWind * ouWind).squareRoot() * rng.normal()
            let U = 1.5 + 2.5 * w + windAnomaly.0, V = -0.5 - 1.5 * w + windAnomaly.1
            let windSpeed = (U * U + V * V).squareRoot()

            // Vortices: drift with the wind (cells per step), age, renew.
            for q in vortices.indices {
                vortices[q].x += U * dtStep / dx
                vortices[q].y += V * dtStep / dx
                vortices[q].age += s.stepHours
                let v = vortices[q], margin = 2 * v.radius
                if v.age > v.lifetime || v.x < -margin - 4 || v.x > nf + margin + 4 || v.y < -margin - 4 || v.y > nf + margin + 4 {
                    vortices[q] = newVortex(&rng, anywhere: v.age > v.lifetime, upwind: (U, V))
                }
            }
            // Streamfunction at the corners (m/s x cells); u = -∂ψ/∂y, v = ∂ψ/∂x.
            for i in 0...n {
                for j in 0...n {
                    var value = 0.0
                    for v in vortices {
                        let ddx = Double(j) - v.x, ddy = Double(i) - v.y
                        let envelope = sin(Double.pi * min(1, v.age / v.lifetime))   // grows and fades
                        value += envelope * v.speed * v.radius * exp(0.5) * exp(-(ddx * ddx + ddy * ddy) / (2 * v.radius * v.radius))
                    }
                    psi[i * (n + 1) + j] = value
                }
            }
            for i in 0..<n {
                for j in 0...n {
                    east[i * (n + 1) + j] = (U - (psi[(i + 1) * (n + 1) + j] - psi[i * (n + 1) + j])) / dx
                }
            }
            for i in 0...n {
                for j in 0..<n {
                    north[i * n + j] = (V + (psi[i * (n + 1) + j + 1] - psi[i * (n + 1) + j])) / dx
                }
            }

            // Rain cells: birth (more in summer), drift, death.
            if rng.nextDouble() < 0.04 + 0.16 * (1 - w) {
                rainCells.append(RainCell(x: Double(rng.uniform(0, 1)) * nf, y: Double(rng.uniform(0, 1)) * nf,
                                          radius: Double(rng.uniform(2, 5)) * nf / 32, peak: Double(rng.uniform(1, 8)),
                                          age: 0, lifetime: Double(rng.uniform(6, 36))))
            }
            for q in rainCells.indices {
                rainCells[q].x += U * dtStep / dx
                rainCells[q].y += V * dtStep / dx
                rainCells[q].age += s.stepHours
            }
            rainCells.removeAll { $0.age >= $0.lifetime }
            for c in 0..<cells {
                let x = Double(c % n) + 0.5, y = Double(c / n) + 0.5
                var r = 0.0
                for cell in rainCells {
                    let ddx = x - cell.x, ddy = y - cell.y
                    r += cell.peak * sin(Double.pi * cell.age / cell.lifetime)
                        * exp(-(ddx * ddx + ddy * ddy) / (2 * cell.radius * cell.radius))
                }
                rain[c] = r
            }
            temperatureAnomaly = temperatureAnomaly * ouTemperature + 3 * (1 - ouTemperature * ouTemperature).squareRoot() * rng.normal()
            let height = Self.mixingHeight(winterness: w, hourOfDay: hourOfDay, windSpeed: windSpeed)

            // Transport in sub-steps, sources and removal in each.
            let count = transport.substeps(eastward: east, northward: north, diffusion: kd, dt: dtStep, limit: s.courantLimit)
            let dt = dtStep / Double(count)
            let emissionFactor = Self.diurnalEmission(hourOfDay) * (1 + 0.6 * w)
            let deposition = 0.002 / height
            for _ in 0..<count {
                transport.step(&mass, scratch: &scratch, eastward: east, northward: north, diffusion: kd, dt: dt)
                for c in 0..<cells {
                    let removal = deposition + 1e-4 * pow(rain[c], 0.8)
                    mass[c] = (mass[c] + emission[c] * emissionFactor * dt) * exp(-removal * dt)
                }
            }
            for m in modes.indices {
                for q in 0..<4 {
                    modes[m].amplitude[q] = modes[m].amplitude[q] * arError + 0.5 * (1 - arError * arError).squareRoot() * rng.normal()
                }
            }
            guard k >= 0 else { continue }

            // The frame.
            hours.append(hour)
            substepCounts.append(count)
            let (frameDay, frameHour) = Self.calendar(hour)
            let temperatureBase = 13 - 15 * cos(2 * Double.pi * (frameDay - 20) / 365) + 5 * cos(2 * Double.pi * (frameHour - 15) / 24)
                + temperatureAnomaly
            for i in 0..<n {
                for j in 0..<n {
                    let c = i * n + j
                    let u = 0.5 * (east[i * (n + 1) + j] + east[i * (n + 1) + j + 1]) * dx
                    let v = 0.5 * (north[i * n + j] + north[(i + 1) * n + j]) * dx
                    let temperature = temperatureBase - 0.15 * (Double(i) - nf / 2) * 32 / nf
                    let humidity = min(100, max(10, 45 + 20 * (1 - w) + 35 * min(1, rain[c] / 2) - 0.8 * (temperature - 13)))
                    var met = [u, v, temperature, humidity, rain[c], height]
                    let base = (c * steps + k) * F
                    for f in 0..<6 { values[base + f] = Float(met[f]) }
                    values[base + 6] = Float(mass[c] / height)
                    // The forecast: truth plus the smooth error of each channel.
                    for f in 0..<6 {
                        var e = 0.0
                        for q in 0..<4 {
                            e += modes[f].amplitude[q] * cos(modes[f].kx[q] * Double(j) + modes[f].ky[q] * Double(i) + modes[f].phase[q])
                        }
                        e *= errorScales[f]
                        switch f {
                        case 4: met[f] = max(0, met[f] * (1 + e) + 0.3 * e)
                        case 5: met[f] *= exp(e)
                        case 3: met[f] = min(100, max(10, met[f] + e))
                        default: met[f] += e
                        }
                        forecast[(c * steps + k) * 6 + f] = Float(met[f])
                    }
                }
            }
            progress(k + 1, steps)
        }
        var emissionMap = [Float](repeating: 0, count: cells)
        for c in 0..<cells { emissionMap[c] = Float(emission[c]) }
        return AirField(settings: s, values: values, forecastMeteorology: forecast, stations: stations, hours: hours,
                        emission: emissionMap, substeps: substepCounts)
    }
}
