// Scores of station forecasts, with the standard definitions of the
// forecast-verification literature:
//
//   POD = hits / (hits + misses)                    probability of detection
//   FAR = false alarms / (hits + false alarms)      false-alarm ratio
//   CSI = hits / (hits + misses + false alarms)     critical success index
//
// an event being PM ≥ the threshold. (The AirNet paper's Eq. 3 and 5 write
// POD's and CSI's formulas under each other's names; its Table 4 follows the
// standard ones, as here.) PMSE: the mean squared error of PM at the station
// cells, over windows, stations and lead times, in (µg/m³)².

import Foundation

/// The 2 x 2 table of forecast and observed events.
public struct ContingencyTable: Sendable, Equatable {
    public var hits = 0, misses = 0, falseAlarms = 0, correctNegatives = 0

    public init(hits: Int, misses: Int, falseAlarms: Int, correctNegatives: Int) {
        self.hits = hits
        self.misses = misses
        self.falseAlarms = falseAlarms
        self.correctNegatives = correctNegatives
    }

    /// Counts events (value ≥ threshold) of paired forecasts and observations.
    public init(forecast: [Float], observed: [Float], threshold: Float) {
        precondition(forecast.count == observed.count, "ContingencyTable: \(forecast.count) forecasts, \(observed.count) observations")
        for (f, o) in zip(forecast, observed) {
            switch (f >= threshold, o >= threshold) {
            case (true, true): hits += 1
            case (false, true): misses += 1
            case (true, false): falseAlarms += 1
            case (false, false): correctNegatives += 1
            }
        }
    }

    /// NaN when no event was observed.
    public var pod: Double { ratio(hits, hits + misses) }
    /// NaN when no event was forecast.
    public var far: Double { ratio(falseAlarms, hits + falseAlarms) }
    /// NaN when no event was observed or forecast.
    public var csi: Double { ratio(hits, hits + misses + falseAlarms) }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? .nan : Double(a) / Double(b) }
}

/// The mean squared error.
public func meanSquaredError(_ forecast: [Float], _ observed: [Float]) -> Double {
    precondition(forecast.count == observed.count && !forecast.isEmpty, "meanSquaredError: \(forecast.count) vs \(observed.count)")
    var s = 0.0
    for (f, o) in zip(forecast, observed) { s += (Double(f) - Double(o)) * (Double(f) - Double(o)) }
    return s / Double(forecast.count)
}

/// Forecasts and observations at the station cells: [window][station][lead], flattened.
public struct StationForecasts: Sendable {
    public var windows: Int, stations: Int, leads: Int
    public var forecast: [Float]
    public var observed: [Float]

    public init(windows: Int, stations: Int, leads: Int, forecast: [Float], observed: [Float]) {
        precondition(forecast.count == windows * stations * leads && observed.count == forecast.count,
                     "StationForecasts: \(forecast.count) forecasts for \(windows) x \(stations) x \(leads)")
        self.windows = windows
        self.stations = stations
        self.leads = leads
        self.forecast = forecast
        self.observed = observed
    }

    /// The values of one lead (1-based).
    public func atLead(_ lead: Int) -> (forecast: [Float], observed: [Float]) {
        var f = [Float](), o = [Float]()
        for w in 0..<windows {
            for s in 0..<stations {
                let k = (w * stations + s) * leads + lead - 1
                f.append(forecast[k]); o.append(observed[k])
            }
        }
        return (f, o)
    }

    public func table(threshold: Float) -> ContingencyTable {
        ContingencyTable(forecast: forecast, observed: observed, threshold: threshold)
    }

    public var pmse: Double { meanSquaredError(forecast, observed) }
}
