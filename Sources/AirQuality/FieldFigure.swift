// Frames of a simulated field side by side: the pollutant's concentration on
// one colour scale, the wind as arrows, the station cells as circles, with
// each frame's date and its mixing height, regional wind and rain.
// Also used for true and forecast fields side by side (`maps`).

import Foundation
import Plotting

/// One panel: an n x n frame (row-major, row 0 south) and what to draw on it.
public struct FieldPanel: Sendable {
    public var title: String
    public var subtitle: String
    public var values: [Float]
    /// Cell-centred wind (m/s), or nil for no arrows.
    public var wind: (u: [Float], v: [Float])?
    public var stations: [(lat: Int, lon: Int)]

    public init(title: String, subtitle: String = "", values: [Float], wind: (u: [Float], v: [Float])? = nil,
                stations: [(lat: Int, lon: Int)] = []) {
        self.title = title
        self.subtitle = subtitle
        self.values = values
        self.wind = wind
        self.stations = stations
    }
}

/// Panels of n x n fields on one colour scale, in rows of `columns`.
public struct FieldFigure: Sendable {
    public var panels: [FieldPanel]
    public var n: Int
    public var columns: Int
    public var title: String
    public var colorbarLabel: String
    /// The colour limits (nil: 0 to the 99.5th percentile of every panel's values).
    public var limits: (Double, Double)?
    public var cellKilometres: Double = 25

    public init(panels: [FieldPanel], n: Int, columns: Int? = nil, title: String, colorbarLabel: String,
                limits: (Double, Double)? = nil) {
        self.panels = panels
        self.n = n
        self.columns = columns ?? panels.count
        self.title = title
        self.colorbarLabel = colorbarLabel
        self.limits = limits
    }

    /// A "nice" tick step for a range.
    static func tickStep(_ range: Double, target: Int = 5) -> Double {
        let raw = range / Double(target), magnitude = pow(10, (log10(raw)).rounded(.down))
        for m in [1.0, 2.0, 2.5, 5.0, 10.0] where m * magnitude >= raw { return m * magnitude }
        return 10 * magnitude
    }

    static func label(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(format: "%g", x)
    }

    public func render(panelSize: Int = 300) -> Canvas {
        let rows = (panels.count + columns - 1) / columns
        let left = 74.0, top = 84.0, gapX = 34.0, gapY = 84.0, colorbarWidth = 120.0
        let side = Double(panelSize)
        let width = Int(left + Double(columns) * side + Double(columns - 1) * gapX + colorbarWidth)
        let height = Int(top + Double(rows) * side + Double(rows - 1) * gapY + 52)
        var canvas = Canvas(width: width, height: height)
        let all = panels.flatMap(\.values).filter(\.isFinite).sorted()
        var (lo, hi) = limits ?? (0, Double(all.isEmpty ? 1 : all[min(all.count - 1, Int(Double(all.count) * 0.995))]))
        if !(hi > lo) { hi = lo + 1 }
        if limits == nil { hi = (hi / Self.tickStep(hi - lo)).rounded(.up) * Self.tickStep(hi - lo) }
        let colormap = Colormap.viridis
        let cell = side / Double(n)
        canvas.drawText(title, at: Point(Double(width) / 2, 30), size: 17, horizontal: .center)
        for (k, panel) in panels.enumerated() {
            let x0 = left + Double(k % columns) * (side + gapX), y0 = top + Double(k / columns) * (side + gapY)
            // The cells as an image, pixel by pixel (no seams between cells); row 0 is south, at the bottom.
            let colors = panel.values.map { value -> Color in
                let v = Double(value)
                return v.isFinite ? colormap.color(at: min(1, max(0, (v - lo) / (hi - lo)))) : .gray(0.8)
            }
            var pixels = [UInt8](repeating: 255, count: 4 * panelSize * panelSize)
            for py in 0..<panelSize {
                let i = n - 1 - py * n / panelSize
                for px in 0..<panelSize {
                    let color = colors[i * n + px * n / panelSize], k = 4 * (py * panelSize + px)
                    pixels[k] = color.r; pixels[k + 1] = color.g; pixels[k + 2] = color.b
                }
            }
            canvas.blit(Canvas(width: panelSize, height: panelSize, pixels: pixels), x: Int(x0), y: Int(y0))
            let frame = Rect(x0: x0, y0: y0, x1: x0 + side, y1: y0 + side)
            if let wind = panel.wind {
                let stride = max(1, n / 8)
                let speeds = zip(wind.u, wind.v).map { Double(($0 * $0 + $1 * $1).squareRoot()) }
                let scale = 0.9 * Double(stride) * cell / max(12, speeds.max() ?? 1)   // 12 m/s fills a spacing
                for i in Swift.stride(from: stride / 2, to: n, by: stride) {
                    for j in Swift.stride(from: stride / 2, to: n, by: stride) {
                        let u = Double(wind.u[i * n + j]), v = Double(wind.v[i * n + j])
                        let cx = x0 + (Double(j) + 0.5) * cell, cy = y0 + (Double(n - i) - 0.5) * cell
                        let dx = u * scale, dy = -v * scale, length = (dx * dx + dy * dy).squareRoot()
                        guard length > 1.5 else { continue }
                        let start = Point(cx - dx / 2, cy - dy / 2), end = Point(cx + dx / 2, cy + dy / 2)
                        let ux = dx / length, uy = dy / length, head = min(7, 0.45 * length)
                        canvas.stroke([start, Point(end.x - ux * head * 0.6, end.y - uy * head * 0.6)],
                                      color: .white, lineWidth: 1.6, clip: frame)
                        var p = Path()
                        p.addPolygon([end, Point(end.x - ux * head - uy * head * 0.45, end.y - uy * head + ux * head * 0.45),
                                      Point(end.x - ux * head + uy * head * 0.45, end.y - uy * head - ux * head * 0.45)])
                        canvas.fill(p, color: .white, clip: frame)
                    }
                }
            }
            let centers = panel.stations.map { Point(x0 + (Double($0.lon) + 0.5) * cell, y0 + (Double(n - $0.lat) - 0.5) * cell) }
            if !centers.isEmpty {
                let diameter = max(4, min(8, cell * 0.6))
                canvas.stamp(Marker(.circle, diameter: diameter + 2), at: centers, colors: [.black], clip: frame)
                canvas.stamp(Marker(.circle, diameter: diameter), at: centers, colors: [Color(hex: 0xF03B20)], clip: frame)
            }
            // Frame, ticks in km, titles.
            canvas.stroke([Point(x0, y0), Point(x0 + side, y0), Point(x0 + side, y0 + side), Point(x0, y0 + side)],
                          color: .black, lineWidth: 1, closed: true)
            let extent = Double(n) * cellKilometres, step = Self.tickStep(extent, target: 4)
            for km in Swift.stride(from: 0.0, through: extent + 1e-9, by: step) {
                let px = x0 + km / extent * side, py = y0 + side - km / extent * side
                canvas.verticalLine(x: px, y0: y0 + side, y1: y0 + side + 4, lineWidth: 1, color: .black)
                canvas.drawText(Self.label(km), at: Point(px, y0 + side + 16), size: 11, horizontal: .center)
                if k % columns == 0 {
                    canvas.horizontalLine(x0: x0 - 4, x1: x0, y: py, lineWidth: 1, color: .black)
                    canvas.drawText(Self.label(km), at: Point(x0 - 7, py), size: 11, horizontal: .right, vertical: .center)
                }
            }
            canvas.drawText("east (km)", at: Point(x0 + side / 2, y0 + side + 32), size: 12, horizontal: .center)
            if k % columns == 0 {
                canvas.drawText("north (km)", at: Point(x0 - 48, y0 + side / 2), size: 12, horizontal: .center,
                                vertical: .center, rotation: 90)
            }
            canvas.drawText(panel.title, at: Point(x0 + side / 2, y0 - 20), size: 13.5, horizontal: .center)
            if !panel.subtitle.isEmpty {
                canvas.drawText(panel.subtitle, at: Point(x0 + side / 2, y0 - 6), size: 11, color: .gray(0.3), horizontal: .center)
            }
        }
        // Colorbar.
        let cbx = Double(width) - colorbarWidth + 24, cby = top, cbh = Double(rows) * side + Double(rows - 1) * gapY
        let barHeight = Int(cbh)
        var bar = [UInt8](repeating: 255, count: 4 * 16 * barHeight)
        for y in 0..<barHeight {
            let color = colormap.color(at: 1 - (Double(y) + 0.5) / Double(barHeight))
            for x in 0..<16 { let k = 4 * (y * 16 + x); bar[k] = color.r; bar[k + 1] = color.g; bar[k + 2] = color.b }
        }
        canvas.blit(Canvas(width: 16, height: barHeight, pixels: bar), x: Int(cbx), y: Int(cby))
        canvas.stroke([Point(cbx, cby), Point(cbx + 16, cby), Point(cbx + 16, cby + cbh), Point(cbx, cby + cbh)],
                      color: .black, lineWidth: 1, closed: true)
        let step = Self.tickStep(hi - lo)
        for value in Swift.stride(from: (lo / step).rounded(.up) * step, through: hi + 1e-9, by: step) {
            let y = cby + cbh * (1 - (value - lo) / (hi - lo))
            canvas.horizontalLine(x0: cbx + 16, x1: cbx + 20, y: y, lineWidth: 1, color: .black)
            canvas.drawText(Self.label(value), at: Point(cbx + 23, y), size: 11, vertical: .center)
        }
        canvas.drawText(colorbarLabel, at: Point(cbx + 62, cby + cbh / 2), size: 12, horizontal: .center,
                        vertical: .center, rotation: 90)
        return canvas
    }
}

extension AirField {
    /// "15 Jan 06:00, year 1" for a frame.
    public func dateLabel(time: Int) -> String {
        let hour = hours[time]
        let (day, hourOfDay) = AirSimulator.calendar(hour)
        let year = Int(hour / (24 * 365)) + 1
        let months = [("Jan", 31), ("Feb", 28), ("Mar", 31), ("Apr", 30), ("May", 31), ("Jun", 30), ("Jul", 31),
                      ("Aug", 31), ("Sep", 30), ("Oct", 31), ("Nov", 30), ("Dec", 31)]
        var d = Int(day), month = 0
        while month < 11 && d >= months[month].1 { d -= months[month].1; month += 1 }
        return String(format: "%d %@ %02d:00, year %d", d + 1, months[month].0, Int(hourOfDay.rounded()), year)
    }

    /// The frames the overview shows: the most polluted frame of the first
    /// winter (January-February), 12 hours later, mid-July at 06:00, and the
    /// rainiest frame of the span.
    public func overviewFrames() -> [Int] {
        let stepsPerDay = Int((24 / settings.stepHours).rounded())
        let winterEnd = min(timeCount, 59 * stepsPerDay)
        func domainMean(_ t: Int, _ f: AirFeature) -> Double {
            var s = 0.0
            for c in 0..<(n * n) { s += Double(values[(c * timeCount + t) * Self.featureCount + f.rawValue]) }
            return s
        }
        let haze = (0..<winterEnd).max { domainMean($0, .pm) < domainMean($1, .pm) } ?? 0
        let later = min(timeCount - 1, haze + 12 / Int(settings.stepHours))
        let july = min(timeCount - 1, 196 * stepsPerDay + 2 - 1)   // 15 July 06:00 ends step 196·8 + 2
        let rainiest = (0..<timeCount).max { domainMean($0, .rain) < domainMean($1, .rain) } ?? 0
        return [haze, later, july, rainiest]
    }

    /// The overview figure of `frames`.
    public func overviewFigure(frames: [Int]) -> FieldFigure {
        let panels = frames.map { t -> FieldPanel in
            let u = frame(time: t, .u), v = frame(time: t, .v)
            let height = frame(time: t, .mixingHeight).reduce(0, +) / Float(n * n)
            let rain = frame(time: t, .rain).max() ?? 0
            let meanU = u.reduce(0, +) / Float(n * n), meanV = v.reduce(0, +) / Float(n * n)
            return FieldPanel(title: dateLabel(time: t),
                              subtitle: String(format: "H %.0f m, wind %.1f m/s, rain max %.1f mm/h", height,
                                               (meanU * meanU + meanV * meanV).squareRoot(), rain),
                              values: frame(time: t, .pm), wind: (u, v), stations: stations)
        }
        return FieldFigure(panels: panels, n: n, title: "Simulated PM field (\(n) x \(n) cells of \(Int(settings.cellKilometres)) km, seed \(settings.seed)): wind arrows, \(stations.count) stations",
                           colorbarLabel: "PM (µg/m³)")
    }
}
