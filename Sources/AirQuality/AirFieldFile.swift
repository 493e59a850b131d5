// The simulated field as one `.npz` archive (what `infoplane simulate air`
// writes), readable with `numpy.load`:
//
//   field                  float32 [lat, lon, time, 7]: u, v (m/s), temperature (°C),
//                          humidity (%), rain (mm/h), mixing_height (m), pm (µg/m³)
//   forecast_meteorology   float32 [lat, lon, time, 6]: the six meteorology channels
//                          as forecast for that time
//   stations               int64 [stations, 2]: (lat, lon) of each station cell
//   hours                  float64 [time]: hours since 1 January 00:00 of year 1
//   emission               float32 [lat, lon]: source rate at unit cycle factors, µg/m²/s
//   substeps               int64 [time]: transport sub-steps of each 3-hour step
//   feature_names          uint8: "u,v,temperature,humidity,rain,mixing_height,pm" (ASCII)
//   settings               uint8: the simulation settings as JSON (ASCII)
//
// Lat index 0 is the southern row, lon index 0 the western column.

import ArrayIO
import Foundation

extension AirField {
    /// The archive's members.
    public func arrays() throws -> [(String, NPYArray)] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(settings)
        let names = AirFeature.allCases.map(\.name).joined(separator: ",")
        return [
            ("field", NPYArray(floats: values, shape: [n, n, timeCount, Self.featureCount])),
            ("forecast_meteorology", NPYArray(floats: forecastMeteorology, shape: [n, n, timeCount, 6])),
            ("stations", NPYArray(int64s: stations.flatMap { [Int64($0.lat), Int64($0.lon)] }, shape: [stations.count, 2])),
            ("hours", NPYArray(doubles: hours, shape: [timeCount])),
            ("emission", NPYArray(floats: emission, shape: [n, n])),
            ("substeps", NPYArray(int64s: substeps.map(Int64.init), shape: [timeCount])),
            ("feature_names", NPYArray(uint8s: Array(names.utf8), shape: [names.utf8.count])),
            ("settings", NPYArray(uint8s: Array(json), shape: [json.count])),
        ]
    }

    /// Writes the archive atomically.
    /// - Throws: `FileError` naming `path`.
    public func write(to path: String) throws {
        try NPZ.write(arrays(), to: path)
    }

    /// Reads an archive written by `write(to:)`.
    /// - Throws: `FileError` naming the file for a missing member, a wrong shape or bad settings.
    public static func read(_ path: String) throws -> AirField {
        var byName = [String: NPYArray]()
        for (name, array) in try NPZ.read(path: path) { byName[name] = array }
        func member(_ name: String) throws -> NPYArray {
            guard let a = byName[name] else { throw FileError(path: path, reason: "not a simulated air field: no array \"\(name)\"") }
            return a
        }
        let settingsBytes = try member("settings")
        guard settingsBytes.dtype == .uint8,
              let settings = try? JSONDecoder().decode(AirSimulationSettings.self, from: Data(settingsBytes.bytes)) else {
            throw FileError(path: path, reason: "the \"settings\" member is not simulation settings")
        }
        let field = try member("field"), forecast = try member("forecast_meteorology")
        let hours = try member("hours"), stations = try member("stations"), emission = try member("emission")
        let substeps = try member("substeps")
        let n = settings.gridSize
        guard field.shape.count == 4, field.shape[0] == n, field.shape[1] == n, field.shape[3] == featureCount else {
            throw FileError(path: path, reason: "\"field\" has shape \(field.shape), expected [\(n), \(n), time, \(featureCount)]")
        }
        let t = field.shape[2]
        guard forecast.shape == [n, n, t, 6] else {
            throw FileError(path: path, reason: "\"forecast_meteorology\" has shape \(forecast.shape), expected \([n, n, t, 6])")
        }
        guard hours.shape == [t], emission.shape == [n, n], substeps.shape == [t],
              stations.shape.count == 2, stations.shape[1] == 2 else {
            throw FileError(path: path, reason: "hours, emission, substeps or stations have the wrong shape")
        }
        let s: [Int], steps: [Int]
        do { s = try stations.ints(); steps = try substeps.ints() } catch {
            throw FileError(path: path, reason: "stations and substeps must be integers (\(error))")
        }
        var cells = [(lat: Int, lon: Int)]()
        for k in 0..<stations.shape[0] {
            guard (0..<n).contains(s[2 * k]), (0..<n).contains(s[2 * k + 1]) else {
                throw FileError(path: path, reason: "station \(k) at (\(s[2 * k]), \(s[2 * k + 1])) is outside the \(n) x \(n) grid")
            }
            cells.append((s[2 * k], s[2 * k + 1]))
        }
        return AirField(settings: settings, values: field.floats(), forecastMeteorology: forecast.floats(), stations: cells,
                        hours: hours.doubles(), emission: emission.floats(), substeps: steps)
    }
}
