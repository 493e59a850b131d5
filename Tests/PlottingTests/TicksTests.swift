// Tick locations and labels against matplotlib 3.11's MaxNLocator/LogLocator output
// (computed with `MaxNLocator(nbins=9, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)`).

import Testing
@testable import Plotting

private func close(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }
}

@Suite struct TicksTests {
    @Test(arguments: [
        (0.0, 12.0, [0.0, 2, 4, 6, 8, 10, 12]),
        (-0.5, 0.5, [-0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6]),
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.001, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (1.0, 10000.0, [0.0, 2000, 4000, 6000, 8000, 10000]),
        (-3.7, 123.4, [-20.0, 0, 20, 40, 60, 80, 100, 120, 140]),
        (0.3, 0.31, [0.3, 0.302, 0.304, 0.306, 0.308, 0.31]),
        (1000.1, 1000.2, [1000.1, 1000.12, 1000.14, 1000.16, 1000.18, 1000.2]),
    ])
    func maxNLocatorMatchesMatplotlib(lo: Double, hi: Double, expected: [Double]) {
        let ticks = MaxNLocator(nbins: 9).ticks(lo, hi)
        #expect(close(ticks, expected), "\(ticks)")
    }

    @Test func visibleTicksOfMinusHalfToHalf() {
        let axis = AxisModel(scale: .linear, lo: -0.5, hi: 0.5, label: "")
        let t = axis.ticks(length: 1000, fontSize: 13.9, horizontal: true)
        #expect(close(t.major, [-0.4, -0.2, 0, 0.2, 0.4]))
        #expect(t.labels.map(\.plainText) == ["\u{2212}0.4", "\u{2212}0.2", "0.0", "0.2", "0.4"])
    }

    @Test func linearLabelsUseTheFewestDecimals() {
        #expect(TickFormatter.linear([0, 2, 4, 6, 8, 10, 12]).labels.map(\.plainText) == ["0", "2", "4", "6", "8", "10", "12"])
        #expect(TickFormatter.linear([0, 0.25, 0.5, 0.75]).labels.map(\.plainText) == ["0.00", "0.25", "0.50", "0.75"])
        #expect(TickFormatter.linear([-20, 0, 20]).labels.map(\.plainText) == ["\u{2212}20", "0", "20"])
        let big = TickFormatter.linear([0, 2e6, 4e6])
        #expect(big.exponent == 6)
        #expect(big.labels.map(\.plainText) == ["0", "2", "4"])
    }

    @Test func logMajorsAreDecades() {
        #expect(close(LogLocator(numticks: 9).majorTicks(0.001, 1), [1e-4, 1e-3, 1e-2, 1e-1, 1, 10]))
        #expect(close(LogLocator(numticks: 9).majorTicks(1, 10000), [0.1, 1, 10, 100, 1000, 10000, 1e5]))
        #expect(close(LogLocator(numticks: 9).majorTicks(1, 1e12), [1e-2, 1, 1e2, 1e4, 1e6, 1e8, 1e10, 1e12, 1e14]))
    }

    @Test func logAxisShowsDecadeLabelsAndMinorTicks() {
        let axis = AxisModel(scale: .log, lo: 0.001, hi: 1, label: "")
        let t = axis.ticks(length: 500, fontSize: 13.9, horizontal: true)
        #expect(close(t.major, [1e-3, 1e-2, 1e-1, 1]))
        #expect(t.labels.map(\.plainText) == ["10\u{2212}3", "10\u{2212}2", "10\u{2212}1", "100"])
        #expect(t.labels[0].runs.count == 2 && t.labels[0].runs[1].scale < 1)   // a superscript
        #expect(t.minor.count == 8 * 3)
        let wide = AxisModel(scale: .log, lo: 1, hi: 10000, label: "")
        #expect(close(wide.ticks(length: 500, fontSize: 13.9, horizontal: true).major, [1, 10, 100, 1000, 10000]))
    }

    @Test(arguments: [(3.0, 8.0), (1.5, 9.0), (0.2, 0.9), (20.0, 30.0)])
    func logAxisWithinADecadeStillHasTwoLabelledTicks(lo: Double, hi: Double) {
        let axis = AxisModel(scale: .log, lo: lo, hi: hi, label: "")
        let t = axis.ticks(length: 300, fontSize: 13.9, horizontal: false)
        #expect(t.major.count >= 2)
        #expect(t.major.allSatisfy { $0 >= lo * (1 - 1e-9) && $0 <= hi * (1 + 1e-9) })
    }

    @Test func ticksShrinkUntilLabelsDoNotOverlap() {
        let axis = AxisModel(scale: .linear, lo: 0, hi: 123456, label: "")
        let t = axis.ticks(length: 120, fontSize: 13.9, horizontal: true)
        #expect(!axis.overlaps(t, length: 120, fontSize: 13.9, horizontal: true))
        #expect(t.major.count >= 2)
    }
}
