// The radix sorts against the standard library's sort.

import Testing
@testable import Tensors

@Suite struct RadixSortTests {
    /// Floats across signs, magnitudes (subnormal to huge), infinities, both zeros and ties come
    /// out as the standard sort puts them (zeros compared by value).
    @Test(arguments: [0, 1, 2, 7, 256, 5000])
    func floatSortIsTheStandardSort(count: Int) {
        var rng = RandomGenerator(seed: UInt64(count))
        var values = (0..<count).map { i -> Float in
            switch i % 6 {
            case 0: return Float((rng.normal() * 4).rounded() / 4)
            case 1: return Float(rng.normal()) * 1e-40
            case 2: return Float(rng.normal()) * 1e37
            case 3: return i % 4 == 1 ? -0.0 : 0.0
            case 4: return i % 5 == 0 ? .infinity : -.infinity
            default: return Float(rng.normal())
            }
        }
        let expected = values.sorted()
        radixSort(&values)
        func canonical(_ v: [Float]) -> [UInt32] { v.map { $0 == 0 ? 0 : $0.bitPattern } }
        #expect(canonical(values) == canonical(expected))
        #expect(values.count == expected.count)
    }

    /// Equal keys in every byte but one: the passes whose digit never varies are skipped, and
    /// the result is still sorted.
    @Test func skippedPassesStillSort() {
        var values: [Float] = [3, 1, 2, 1, 3, 2].map { 1 + $0 * Float.ulpOfOne }
        radixSort(&values)
        #expect(values == values.sorted())
        #expect(radixOrder([5, 5, 1, 5]) == [2, 0, 1, 3])
    }
}
