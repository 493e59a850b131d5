// Tick locations and labels, following matplotlib's defaults: MaxNLocator with steps
// 1, 2, 2.5, 5, 10 for linear axes, LogLocator (majors at 10^k, minors at 2..9 x 10^k)
// for log axes, ScalarFormatter's choice of decimals, and LogFormatterSciNotation's
// 10^k labels with superscripts. This file deliberately omits matplotlib's offset text
// for narrow ranges far from zero (1000.1 .. 1000.2) and date/category locators.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where ticks go on a linear axis: matplotlib's `MaxNLocator(nbins, steps: [1, 2, 2.5, 5, 10])`.
public struct MaxNLocator: Sendable {
    /// At most `nbins` intervals between ticks.
    public var nbins: Int
    public var steps: [Double] = [1, 2, 2.5, 5, 10]
    public var minTicks = 2

    public init(nbins: Int = 9) { self.nbins = max(1, nbins) }

    /// All tick values, including the ones just outside [vmin, vmax] (matplotlib
    /// returns those too; axes show only the visible ones).
    ///
    /// The step is the smallest of steps x 10^floor(log10(range / nbins)) that is at
    /// least range / nbins; ticks are its multiples from below vmin to above vmax.
    public func ticks(_ vmin: Double, _ vmax: Double) -> [Double] {
        var (lo, hi) = (min(vmin, vmax), max(vmin, vmax))
        if hi - lo < 1e-300 { lo -= 1; hi += 1 }     // matplotlib's nonsingular expander, roughly
        let (scale, offset) = MaxNLocator.scaleRange(lo, hi, Double(nbins))
        let v0 = lo - offset, v1 = hi - offset
        // _staircase: 0.1 x steps[:-1], steps, 10 x steps[1].
        var extended = steps.dropLast().map { 0.1 * $0 } + steps + [10 * steps[1]]
        extended = extended.map { $0 * scale }
        let rawStep = (v1 - v0) / Double(nbins)
        let istep = extended.firstIndex { $0 >= rawStep } ?? extended.count - 1
        var result = [Double]()
        for step in extended[0...istep].reversed() {
            let best = (v0 / step).rounded(.down) * step
            let edge = EdgeInteger(step: step, offset: abs(offset))
            let low = edge.le(v0 - best), high = edge.ge(v1 - best)
            var ticks = [Double]()
            if high >= low {
                for k in low...high { ticks.append(Double(k) * step + best + offset) }
            }
            result = ticks
            let visible = ticks.filter { $0 >= lo - 1e-10 * step && $0 <= hi + 1e-10 * step }.count
            if visible >= minTicks { break }
        }
        // Snap values that are zero up to rounding (-0.6 + 3 x 0.2 = 1e-16).
        let step = result.count > 1 ? result[1] - result[0] : 1
        return result.map { abs($0) < 1e-10 * step ? 0 : $0 }
    }

    static func scaleRange(_ vmin: Double, _ vmax: Double, _ n: Double) -> (Double, Double) {
        let dv = abs(vmax - vmin)
        let meanv = (vmax + vmin) / 2
        var offset = 0.0
        if abs(meanv) / dv >= 100 {
            offset = (meanv < 0 ? -1 : 1) * pow(10, (log10(abs(meanv))).rounded(.down))
        }
        let scale = pow(10, (log10(dv / n)).rounded(.down))
        return (scale, offset)
    }

    /// matplotlib's _Edge_integer: floor/ceil of x / step, forgiving rounding error.
    struct EdgeInteger {
        let step: Double
        let offset: Double
        func closeTo(_ ms: Double, _ edge: Double) -> Bool {
            var tol = 1e-10
            if offset > 0 {
                let digits = log10(offset / step)
                tol = min(0.4999, max(1e-10, pow(10, digits - 12)))
            }
            return abs(ms - edge) < tol
        }
        func le(_ x: Double) -> Int {
            let d = (x / step).rounded(.down), m = x - d * step
            return closeTo(m / step, 1) ? Int(d) + 1 : Int(d)
        }
        func ge(_ x: Double) -> Int {
            let d = (x / step).rounded(.down), m = x - d * step
            return closeTo(m / step, 0) ? Int(d) : Int(d) + 1
        }
    }
}

/// Where ticks go on a log axis: matplotlib's `LogLocator(base: 10)`.
public struct LogLocator: Sendable {
    /// The most major ticks wanted.
    public var numticks: Int
    public init(numticks: Int = 9) { self.numticks = max(2, numticks) }

    /// Major ticks at 10^k every `stride` decades, from one stride below vmin to one
    /// above vmax (stride = numdec / numticks + 1, as in matplotlib >= 3.8).
    public func majorTicks(_ vmin: Double, _ vmax: Double) -> [Double] {
        precondition(vmin > 0 && vmax > 0, "LogLocator: limits must be positive (\(vmin), \(vmax))")
        let lmin = log10(min(vmin, vmax)), lmax = log10(max(vmin, vmax))
        let numdec = Int(lmax.rounded(.down)) - Int(lmin.rounded(.up))
        var stride = numdec / numticks + 1
        if stride >= numdec { stride = max(1, numdec - 1) }
        var ticks = [Double]()
        var k = Int(lmin.rounded(.down)) - stride
        while k < Int(lmax.rounded(.up)) + 2 * stride {
            ticks.append(pow(10, Double(k)))
            k += stride
        }
        return ticks
    }

    /// Minor ticks at 2..9 x 10^k over the decades touching [vmin, vmax].
    public func minorTicks(_ vmin: Double, _ vmax: Double) -> [Double] {
        let k0 = Int(log10(min(vmin, vmax)).rounded(.down)), k1 = Int(log10(max(vmin, vmax)).rounded(.up))
        var ticks = [Double]()
        for k in k0...k1 {
            for m in 2...9 { ticks.append(Double(m) * pow(10, Double(k))) }
        }
        return ticks
    }
}

/// Tick labels.
public enum TickFormatter {
    /// Labels for linear ticks with matplotlib's ScalarFormatter choice of decimals:
    /// the fewest decimals that show every tick to within 1e-3 of the ticks' range.
    ///
    /// Returns the labels and, for values beyond 10^±5, the exponent shown once as an
    /// axis multiplier (matplotlib's offset text "1e6").
    static func linear(_ ticks: [Double]) -> (labels: [Label], exponent: Int?) {
        guard !ticks.isEmpty else { return ([], nil) }
        let maxAbs = ticks.map(abs).max()!
        var exponent: Int?
        if maxAbs > 0 {
            let oom = Int(log10(maxAbs).rounded(.down))
            if oom <= -5 || oom >= 6 { exponent = oom }
        }
        let f = pow(10, Double(exponent ?? 0))
        let locs = ticks.map { $0 / f }
        var range = (locs.max()! - locs.min()!)
        if range == 0 { range = locs.map(abs).max()! }
        if range == 0 { range = 1 }
        let rangeOOM = Int(log10(range).rounded(.down))
        var sigfigs = max(0, 3 - rangeOOM)
        let thresh = 1e-3 * pow(10, Double(rangeOOM))
        while sigfigs >= 0 {
            let p = pow(10, Double(sigfigs))
            let err = locs.map { abs($0 - ($0 * p).rounded() / p) }.max()!
            if err < thresh { sigfigs -= 1 } else { break }
        }
        sigfigs += 1
        return (locs.map { Label(format($0, decimals: sigfigs)) }, exponent)
    }

    /// `v` with `decimals` digits after the point and a typographic minus (U+2212).
    public static func format(_ v: Double, decimals: Int) -> String {
        let p = pow(10, Double(decimals))
        var r = (abs(v) * p).rounded()
        if r == 0 { r = 0 }
        let negative = v < 0 && r != 0
        var digits = String(Int64(r))
        if decimals > 0 {
            while digits.count <= decimals { digits = "0" + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (negative ? "\u{2212}" : "") + digits
    }

    /// "10^k" with a superscript exponent, for a major log tick.
    static func power(_ v: Double) -> Label {
        let k = Int(log10(v).rounded())
        return Label.power(base: "10", exponent: k < 0 ? "\u{2212}\(-k)" : "\(k)")
    }

    /// "×10^k", the shared factor of an axis whose labels were divided by 10^k
    /// (matplotlib's offset text with useMathText).
    static func multiplier(_ k: Int) -> Label {
        Label.power(base: "\u{00D7}10", exponent: k < 0 ? "\u{2212}\(-k)" : "\(k)")
    }

    /// "m×10^k" for a minor log tick (matplotlib labels these when a log axis spans
    /// less than about one decade).
    static func minorPower(_ v: Double) -> Label {
        let k = Int(log10(v).rounded(.down))
        let m = Int((v / pow(10, Double(k))).rounded())
        if m == 1 { return power(v) }
        return Label.power(base: "\(m)\u{00D7}10", exponent: k < 0 ? "\u{2212}\(-k)" : "\(k)")
    }
}
