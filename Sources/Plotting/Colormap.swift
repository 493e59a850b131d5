// Colormaps: viridis and RdBu from 256-entry tables (ColormapData.swift), gnuplot
// from its formula, and tab10's ten categorical colours. Lookup quantizes like
// matplotlib's 256-entry LUTs (index = min(255, floor(256 t))), so colours match its
// output byte for byte. This file deliberately has no colormap registry or editing.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A map from [0, 1] to colours.
public enum Colormap: String, CaseIterable, Sendable {
    /// Perceptually uniform, dark purple to yellow; matplotlib's default.
    case viridis
    /// gnuplot's default palette (r = sqrt(t), g = t^3, b = max(0, sin(2 pi t))), the
    /// information-plane papers' colormap.
    case gnuplot
    /// ColorBrewer's diverging red-white-blue.
    case rdBu = "RdBu"
    /// Ten categorical colours (matplotlib's default colour cycle), t split in tenths.
    case tab10

    /// The colormap named `name` (case-insensitive: viridis, gnuplot, RdBu, tab10).
    public init?(name: String) {
        guard let m = Colormap.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() })
        else { return nil }
        self = m
    }

    /// The colour at `t`, clamped to [0, 1]; NaN maps to the low end.
    public func color(at t: Double) -> Color {
        let v = t.isNaN ? 0 : min(1, max(0, t))
        if self == .tab10 { return Colormap.tab10Color(min(9, Int(v * 10))) }
        let index = min(255, Int(v * 256))
        switch self {
        case .viridis: return Color(hex: viridisTable[index])
        case .rdBu: return Color(hex: rdBuTable[index])
        case .gnuplot:
            let x = Double(index) / 255
            return Color(red: x.squareRoot(), green: x * x * x, blue: max(0, sin(2 * Double.pi * x)))
        case .tab10: return Colormap.tab10Color(0)
        }
    }

    /// The `i`-th colour of matplotlib's tab10 cycle, repeating after ten.
    public static func tab10Color(_ i: Int) -> Color {
        let table: [UInt32] = [0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD,
                               0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF]
        return Color(hex: table[((i % 10) + 10) % 10])
    }
}
