// The sliced Wasserstein distance: the pyramid against a direct 5 x 5
// convolution with mirrored borders and its exact inverse, the 1-D
// distances against hand-derived values, and the distance telling images of
// one kind from another and from noise.

import Foundation
@testable import ProgressiveGAN
import Tensors
import Testing
import TestSupport

/// pyrDown by the 2-D definition: the 5 x 5 kernel w_i w_j, indices mirrored
/// (−1 reads 1, n reads n − 2), every second pixel from the first.
private func naivePyramidDown(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let taps: [Double] = [1, 4, 6, 4, 1].map { $0 / 16 }
    func mirror(_ i: Int, _ size: Int) -> Int { i < 0 ? -i : (i >= size ? 2 * size - 2 - i : i) }
    var out = [Float]()
    for plane in 0..<(n * c) {
        for y in stride(from: 0, to: h, by: 2) {
            for xx in stride(from: 0, to: w, by: 2) {
                var s = 0.0
                for i in 0..<5 {
                    for j in 0..<5 {
                        s += taps[i] * taps[j] * Double(x.scalars[(plane * h + mirror(y + i - 2, h)) * w + mirror(xx + j - 2, w)])
                    }
                }
                out.append(Float(s))
            }
        }
    }
    return Tensor(shape: [n, c, (h + 1) / 2, (w + 1) / 2], scalars: out)
}

@Test func pyramid_down_is_the_mirrored_binomial_convolution() {
    let x = randomTensor([2, 3, 16, 16], seed: 4)
    let got = SlicedWasserstein.pyramidDown(x), want = naivePyramidDown(x)
    #expect(got.shape == [2, 3, 8, 8])
    #expect(zip(got.scalars, want.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
    // A constant image stays constant; so does pyrUp of it (the filter sums to 1, times 4 for the zeros).
    let constant = Tensor(shape: [1, 1, 8, 8], scalars: [Float](repeating: 0.5, count: 64))
    #expect(SlicedWasserstein.pyramidDown(constant).scalars.allSatisfy { abs($0 - 0.5) < 1e-6 })
    #expect(SlicedWasserstein.pyramidUp(constant).scalars.allSatisfy { abs($0 - 0.5) < 1e-6 })
}

@Test func the_laplacian_pyramid_reconstructs_its_image() {
    let x = randomTensor([2, 1, 32, 32], seed: 5)
    let pyramid = SlicedWasserstein.laplacianPyramid(x, levels: 3)
    #expect(pyramid.map(\.shape) == [[2, 1, 32, 32], [2, 1, 16, 16], [2, 1, 8, 8]])
    let back = SlicedWasserstein.reconstruct(pyramid)
    #expect(zip(back.scalars, x.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
}

@Test func the_one_dimensional_distances_by_hand() {
    // One direction e_1 of two components: the first coordinates {0, 1, 5}
    // against {2, 3, 1}: sorted 0 1 5 against 1 2 3, mean |d| = (1 + 1 + 2) / 3.
    let a: [Float] = [0, 9, 1, 9, 5, 9], b: [Float] = [2, -1, 3, -1, 1, -1]
    let e1: [Float] = [1, 0]
    #expect(abs(SlicedWasserstein.distance(a, b, columns: 2, directions: e1, count: 1) - 4.0 / 3) < 1e-12)
    // The order of the rows does not matter: a set is at distance 0 from itself reordered.
    let shuffled: [Float] = [5, 9, 0, 9, 1, 9]
    var rng = RandomGenerator(seed: 3)
    let dirs = SlicedWasserstein.randomDirections(dimension: 2, count: 16, rng: &rng)
    #expect(SlicedWasserstein.distance(a, shuffled, columns: 2, directions: dirs, count: 16) == 0)
    // B = 2A: every sorted projection doubles, so the distance is the mean |projection| of A.
    let doubled = a.map { 2 * $0 }
    var meanAbs = 0.0
    for j in 0..<16 { for r in 0..<3 { meanAbs += Double(abs(a[2 * r] * dirs[j] + a[2 * r + 1] * dirs[16 + j])) } }
    meanAbs /= 48
    #expect(abs(SlicedWasserstein.distance(a, doubled, columns: 2, directions: dirs, count: 16) - meanAbs) < 1e-5)
    // The directions have unit length.
    for j in 0..<16 { #expect(abs(dirs[j] * dirs[j] + dirs[16 + j] * dirs[16 + j] - 1) < 1e-6) }
}

/// Images of soft vertical bars (one kind) or of soft discs (another), at random places, in [-1, 1].
private func shapes(_ count: Int, discs: Bool, seed: UInt64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    var out = [Float]()
    for _ in 0..<count {
        let cx = 8 + Double(rng.nextInt(below: 16)), cy = 8 + Double(rng.nextInt(below: 16)), r = 3 + 4 * Double(rng.nextFloat())
        for y in 0..<32 {
            for x in 0..<32 {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let d = discs ? (dx * dx + dy * dy).squareRoot() : abs(dx)
                out.append(Float(2 / (1 + Foundation.exp(min(max(d - r, -20), 20))) - 1))
            }
        }
    }
    return Tensor(shape: [count, 1, 32, 32], scalars: out)
}

@Test func the_distance_tells_one_kind_of_image_from_another_and_from_noise() {
    var swd = SlicedWasserstein()
    swd.neighbourhoodsPerImage = 64
    swd.repeats = 2
    let bars = shapes(96, discs: false, seed: 1), moreBars = shapes(96, discs: false, seed: 2)
    let discs = shapes(96, discs: true, seed: 3)
    var rng = RandomGenerator(seed: 9)
    let noise = Tensor(shape: [96, 1, 32, 32], scalars: (0..<(96 * 1024)).map { _ in 2 * rng.nextFloat() - 1 })
    #expect(swd.resolutions(for: 32) == [32, 16])
    // The two sets' neighbourhoods are drawn at independent places (as in
    // the paper's code), so even a set against itself is not at 0, only as
    // close as a held-out set of the same kind.
    let itself = swd.distances(bars, bars, seed: 7)
    let held = swd.distances(bars, moreBars, seed: 7)
    let other = swd.distances(bars, discs, seed: 7)
    let random = swd.distances(bars, noise, seed: 7)
    // Measured: itself 19 and 10, held-out 23 and 32, discs 336 and 351, noise 314 and 346.
    for level in 0..<2 {
        #expect(itself[level] * 4 < other[level], "level \(level): \(itself) \(other)")
        #expect(held[level] * 4 < other[level], "level \(level): \(held) \(other)")
        #expect(held[level] * 4 < random[level], "level \(level): \(held) \(random)")
    }
}
