// The transport scheme and the simulator: conservation, advection distance,
// non-negativity within the CFL limit (and its loss beyond it), seeding, and
// the .npz layout.

import AirQuality
import ArrayIO
import Foundation
import Tensors
import Testing

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "airquality-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Random face velocities (cells per second, not divergence-free) and a random positive field.
func randomFlow(n: Int, seed: UInt64, speed: Double) -> (east: [Double], north: [Double], mass: [Double]) {
    var rng = RandomGenerator(seed: seed)
    let east = (0..<(n * (n + 1))).map { _ in speed * rng.normal() }
    let north = (0..<((n + 1) * n)).map { _ in speed * rng.normal() }
    let mass = (0..<(n * n)).map { _ in rng.nextDouble() * 10 }
    return (east, north, mass)
}

@Test(arguments: [AirBoundary.periodic, AirBoundary.closed])
func transport_conserves_mass_without_sources_and_removal(boundary: AirBoundary) {
    let n = 16
    let transport = AirTransport(n: n, boundary: boundary)
    var (east, north, mass) = randomFlow(n: n, seed: 3, speed: 2e-4)
    let diffusion = 2000.0 / (25_000.0 * 25_000.0)
    let total = mass.reduce(0, +)
    var scratch = [Double]()
    let steps = transport.substeps(eastward: east, northward: north, diffusion: diffusion, dt: 10_800)
    #expect(steps > 1)   // the flow needs sub-steps: the test covers the CFL path
    for _ in 0..<(200 * steps) {
        transport.step(&mass, scratch: &scratch, eastward: east, northward: north, diffusion: diffusion, dt: 10_800 / Double(steps))
    }
    #expect(abs(mass.reduce(0, +) - total) / total < 1e-12)
    #expect(mass.allSatisfy { $0 >= 0 })
    // An open boundary lets mass out (the same flow, nothing flowing in).
    let open = AirTransport(n: n, boundary: .open, inflow: 0)
    (east, north, mass) = randomFlow(n: n, seed: 3, speed: 2e-4)
    for _ in 0..<(20 * steps) {
        open.step(&mass, scratch: &scratch, eastward: east, northward: north, diffusion: diffusion, dt: 10_800 / Double(steps))
    }
    #expect(mass.reduce(0, +) < total * 0.99)
}

@Test func a_blob_in_uniform_wind_moves_by_the_wind_times_the_time() {
    let n = 80, dx = 25_000.0, u = 6.0, v = -3.0   // m/s
    let transport = AirTransport(n: n, boundary: .periodic)
    let (east, north) = transport.uniformFaces(u: u / dx, v: v / dx)
    var mass = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0..<n {
            let di = Double(i) + 0.5 - 50, dj = Double(j) + 0.5 - 20
            mass[i * n + j] = exp(-(di * di + dj * dj) / 8)
        }
    }
    func centre(_ m: [Double]) -> (x: Double, y: Double) {
        var sx = 0.0, sy = 0.0, s = 0.0
        for i in 0..<n { for j in 0..<n { sx += (Double(j) + 0.5) * m[i * n + j]; sy += (Double(i) + 0.5) * m[i * n + j]; s += m[i * n + j] } }
        return (sx / s, sy / s)
    }
    let start = centre(mass)
    let diffusion = 2000.0 / (dx * dx)
    let dtStep = 10_800.0
    let steps = transport.substeps(eastward: east, northward: north, diffusion: diffusion, dt: dtStep)
    // (|u| + |v|) dt / dx = 3.888 plus 4 K dt / dx² = 0.138 over 3 hours: five sub-steps at the 0.9 limit.
    #expect(steps == 5)
    var scratch = [Double]()
    let hours = 24.0
    for _ in 0..<Int(hours / 3) * steps {
        transport.step(&mass, scratch: &scratch, eastward: east, northward: north, diffusion: diffusion, dt: dtStep / Double(steps))
    }
    let end = centre(mass)
    // 6 m/s for 24 h is 518.4 km, 20.736 cells east; -3 m/s is 10.368 cells south.
    #expect(abs((end.x - start.x) - 20.736) < 1e-9)
    #expect(abs((end.y - start.y) - (-10.368)) < 1e-9)
    #expect(mass.allSatisfy { $0 >= 0 })
}

@Test func within_the_limit_the_field_stays_non_negative_and_beyond_it_it_does_not() {
    let n = 12
    let transport = AirTransport(n: n, boundary: .open)
    let (east, north, start) = randomFlow(n: n, seed: 9, speed: 5e-4)
    let steps = transport.substeps(eastward: east, northward: north, diffusion: 0, dt: 10_800, limit: 1)
    var mass = start, scratch = [Double]()
    for _ in 0..<(10 * steps) {
        transport.step(&mass, scratch: &scratch, eastward: east, northward: north, diffusion: 0, dt: 10_800 / Double(steps))
        #expect(mass.allSatisfy { $0 >= 0 })
    }
    // One step of the whole 3 hours overshoots: some cell loses more than it held.
    mass = start
    transport.step(&mass, scratch: &scratch, eastward: east, northward: north, diffusion: 0, dt: 10_800)
    #expect(mass.contains { $0 < 0 })
}

func smallSettings(seed: UInt64 = 5) -> AirSimulationSettings {
    var s = AirSimulationSettings(gridSize: 12, years: 0.1, stationCount: 7, seed: seed)
    s.spinUpDays = 2
    return s
}

@Test func the_simulated_field_is_non_negative_finite_and_seeded() throws {
    let a = AirSimulator(smallSettings()).run(), b = AirSimulator(smallSettings()).run()
    let c = AirSimulator(smallSettings(seed: 6)).run()
    #expect(a.timeCount == Int((0.1 * 365 * 8).rounded()) && a.values.count == 12 * 12 * a.timeCount * 7)
    #expect(a.values.allSatisfy(\.isFinite) && a.forecastMeteorology.allSatisfy(\.isFinite))
    for lat in 0..<12 { for lon in 0..<12 { for t in 0..<a.timeCount {
        #expect(a.value(lat: lat, lon: lon, time: t, .pm) >= 0)
        #expect(a.value(lat: lat, lon: lon, time: t, .mixingHeight) > 0 && a.value(lat: lat, lon: lon, time: t, .rain) >= 0)
    } } }
    #expect(Set(a.stations.map { $0.lat * 12 + $0.lon }).count == 7)
    #expect(a.values == b.values && a.forecastMeteorology == b.forecastMeteorology)
    #expect(a.values != c.values)
    // The archive: same seed, same bytes; and it reads back.
    let dir = try temporaryDirectory()
    try a.write(to: dir + "/a.npz"); try b.write(to: dir + "/b.npz")
    #expect(try AtomicFile.read(dir + "/a.npz") == AtomicFile.read(dir + "/b.npz"))
    let back = try AirField.read(dir + "/a.npz")
    #expect(back.values == a.values && back.hours == a.hours && back.substeps == a.substeps)
    #expect(back.stations.map { [$0.lat, $0.lon] } == a.stations.map { [$0.lat, $0.lon] })
    let field = try NPZ.read(path: dir + "/a.npz", member: "field")
    #expect(field.shape == [12, 12, a.timeCount, 7])
}

@Test func a_malformed_field_file_is_refused_naming_the_file() throws {
    let dir = try temporaryDirectory()
    try NPZ.write([("field", NPYArray(floats: [1, 2], shape: [2]))], to: dir + "/bad.npz")
    #expect { try AirField.read(dir + "/bad.npz") } throws: { "\($0)".contains(dir + "/bad.npz") && "\($0)".contains("settings") }
}

@Test func winter_has_a_lower_mixing_height_than_summer() {
    let winterNight = AirSimulator.mixingHeight(winterness: 1, hourOfDay: 3, windSpeed: 2)
    let summerNoon = AirSimulator.mixingHeight(winterness: 0, hourOfDay: 12, windSpeed: 2)
    #expect(abs(winterNight - (300 * 0.35 + 80)) < 1e-9 && abs(summerNoon - (1100 + 80)) < 1e-9)
}
