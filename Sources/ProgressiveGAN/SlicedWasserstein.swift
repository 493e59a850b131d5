// The sliced Wasserstein distance of Karras et al. (ICLR 2018, Section 5 and
// Appendix D): the statistical similarity of two image sets, level by level
// of a Laplacian pyramid, from 7 x 7 neighbourhoods.
//
// For each level (the finest, 32 x 32 for 32 x 32 images, down to 16 x 16):
// 128 neighbourhoods at random positions of every image give descriptors of
// C x 7 x 7 values; each set's descriptors are normalized per channel (mean 0,
// standard deviation 1 over all its descriptors and pixels); the distance is
// the mean over 4 x 128 random unit directions of the 1-D Wasserstein-1
// distance between the two sets' projections (sorted, then the mean absolute
// difference), reported x 10^3 as the paper does. The pyramid is OpenCV's
// (pyrDown / pyrUp: the 5 x 5 binomial kernel, borders mirrored without
// repeating the edge). The pyramid is linear and the normalization removes
// scale and offset, so images in [-1, 1] give the distances of the same
// images in [0, 255].

import Tensors

/// Karras et al.'s sliced Wasserstein distance between image sets.
public struct SlicedWasserstein: Sendable {
    /// The side of a neighbourhood (7).
    public var neighbourhood = 7
    /// Neighbourhoods drawn from every image (128).
    public var neighbourhoodsPerImage = 128
    /// Sets of random directions (4), each of `directionsPerRepeat` (128).
    public var repeats = 4
    public var directionsPerRepeat = 128
    /// The coarsest level's resolution (16): levels from the images' own
    /// resolution halving down to this.
    public var minimumResolution = 16

    public init() {}

    /// The pyramid levels' resolutions for images of side `resolution`.
    public func resolutions(for resolution: Int) -> [Int] {
        var r = resolution, out = [Int]()
        while r >= minimumResolution { out.append(r); r /= 2 }
        return out
    }

    /// The distance (x 10^3) at each level of the pyramid, finest first.
    ///
    /// - Parameters:
    ///   - a, b: image sets [N, C, R, R] of the same shape (N images each).
    ///   - seed: the neighbourhoods' positions and the directions.
    /// - Precondition: equal shapes, R a power of two >= `minimumResolution`,
    ///   R > `neighbourhood`.
    public func distances(_ a: Tensor, _ b: Tensor, seed: UInt64) -> [Double] {
        precondition(a.shape == b.shape && a.rank == 4 && a.shape[2] == a.shape[3],
                     "SlicedWasserstein: image sets \(a.shape) and \(b.shape)")
        let levels = resolutions(for: a.shape[2]).count
        precondition(levels >= 1 && a.shape[2] > neighbourhood, "SlicedWasserstein: images of \(a.shape[2])²")
        var rng = RandomGenerator(seed: seed)
        let pyramidA = Self.laplacianPyramid(a, levels: levels), pyramidB = Self.laplacianPyramid(b, levels: levels)
        return (0..<levels).map { l in
            let da = normalizedDescriptors(pyramidA[l], rng: &rng)
            let db = normalizedDescriptors(pyramidB[l], rng: &rng)
            let columns = a.shape[1] * neighbourhood * neighbourhood
            var total = 0.0
            for _ in 0..<repeats {
                let directions = Self.randomDirections(dimension: columns, count: directionsPerRepeat, rng: &rng)
                total += Self.distance(da, db, columns: columns, directions: directions, count: directionsPerRepeat)
            }
            return total / Double(repeats) * 1e3
        }
    }

    // MARK: Pyramid

    /// The 5-tap binomial filter [1, 4, 6, 4, 1] / 16 along both axes with
    /// mirrored borders (index -1 reads 1, index n reads n - 2), times `gain`.
    static func blur(_ x: Tensor, gain: Float = 1) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let taps: [Float] = [1, 4, 6, 4, 1].map { $0 / 16 }
        func mirror(_ i: Int, _ size: Int) -> Int { i < 0 ? -i : (i >= size ? 2 * size - 2 - i : i) }
        var rowsPass = [Float](repeating: 0, count: x.count)
        var out = [Float](repeating: 0, count: x.count)
        x.scalars.withUnsafeBufferPointer { src in
            for plane in 0..<(n * c) {
                let base = plane * h * w
                for y in 0..<h {
                    for xx in 0..<w {
                        var s: Float = 0
                        for t in 0..<5 { s += taps[t] * src[base + y * w + mirror(xx + t - 2, w)] }
                        rowsPass[base + y * w + xx] = s
                    }
                }
                for y in 0..<h {
                    for xx in 0..<w {
                        var s: Float = 0
                        for t in 0..<5 { s += taps[t] * rowsPass[base + mirror(y + t - 2, h) * w + xx] }
                        out[base + y * w + xx] = s * gain
                    }
                }
            }
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// OpenCV's pyrDown: blur, then every second pixel from the first.
    public static func pyramidDown(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let blurred = blur(x)
        let (h2, w2) = ((h + 1) / 2, (w + 1) / 2)
        var out = [Float](repeating: 0, count: n * c * h2 * w2)
        for plane in 0..<(n * c) {
            for y in 0..<h2 { for xx in 0..<w2 { out[(plane * h2 + y) * w2 + xx] = blurred.scalars[(plane * h + 2 * y) * w + 2 * xx] } }
        }
        return Tensor(shape: [n, c, h2, w2], scalars: out)
    }

    /// OpenCV's pyrUp: the pixels at even positions of a zero plane twice
    /// the size, blurred with the filter times 4.
    public static func pyramidUp(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var spread = [Float](repeating: 0, count: n * c * 4 * h * w)
        for plane in 0..<(n * c) {
            for y in 0..<h { for xx in 0..<w { spread[(plane * 2 * h + 2 * y) * 2 * w + 2 * xx] = x.scalars[(plane * h + y) * w + xx] } }
        }
        return blur(Tensor(shape: [n, c, 2 * h, 2 * w], scalars: spread), gain: 4)
    }

    /// The Laplacian pyramid, finest level first: each level the image minus
    /// pyrUp of the next (coarser) one, the last the coarsest image itself.
    public static func laplacianPyramid(_ x: Tensor, levels: Int) -> [Tensor] {
        var pyramid = [x]
        for _ in 1..<max(levels, 1) {
            let down = pyramidDown(pyramid[pyramid.count - 1])
            pyramid[pyramid.count - 1] = pyramid[pyramid.count - 1] - pyramidUp(down)
            pyramid.append(down)
        }
        return pyramid
    }

    /// The image a Laplacian pyramid holds (the inverse of `laplacianPyramid`).
    public static func reconstruct(_ pyramid: [Tensor]) -> Tensor {
        var x = pyramid[pyramid.count - 1]
        for level in pyramid.dropLast().reversed() { x = pyramidUp(x) + level }
        return x
    }

    // MARK: Descriptors and distance

    /// `neighbourhoodsPerImage` neighbourhoods of every image of `level`
    /// [N, C, R, R], centres uniform in [h, R - h) on both axes (h = side / 2),
    /// rows of C x side x side values, normalized per channel over the set.
    func normalizedDescriptors(_ level: Tensor, rng: inout RandomGenerator) -> [Float] {
        let (n, c, r) = (level.shape[0], level.shape[1], level.shape[2])
        let side = neighbourhood, half = side / 2, columns = c * side * side
        let rows = n * neighbourhoodsPerImage
        var d = [Float](repeating: 0, count: rows * columns)
        level.scalars.withUnsafeBufferPointer { src in
            for row in 0..<rows {
                let image = row / neighbourhoodsPerImage
                let cx = half + rng.nextInt(below: r - 2 * half), cy = half + rng.nextInt(below: r - 2 * half)
                for ch in 0..<c {
                    for dy in 0..<side {
                        for dx in 0..<side {
                            d[row * columns + (ch * side + dy) * side + dx] =
                                src[((image * c + ch) * r + cy + dy - half) * r + cx + dx - half]
                        }
                    }
                }
            }
        }
        // Per channel: mean 0 and standard deviation 1 (population) over every
        // descriptor and pixel; a constant channel is only centred.
        let perChannel = side * side
        for ch in 0..<c {
            var sum = 0.0, squares = 0.0
            for row in 0..<rows { for k in 0..<perChannel { let v = Double(d[row * columns + ch * perChannel + k]); sum += v; squares += v * v } }
            let count = Double(rows * perChannel)
            let mean = sum / count
            let std = max(squares / count - mean * mean, 0).squareRoot()
            let scale = std > 0 ? 1 / std : 1
            for row in 0..<rows {
                for k in 0..<perChannel {
                    let i = row * columns + ch * perChannel + k
                    d[i] = Float((Double(d[i]) - mean) * scale)
                }
            }
        }
        return d
    }

    /// `count` directions of `dimension` components, standard normal
    /// normalized to unit length, as a [dimension, count] row-major matrix.
    static func randomDirections(dimension: Int, count: Int, rng: inout RandomGenerator) -> [Float] {
        var dirs = (0..<(dimension * count)).map { _ in Float(rng.normal()) }
        for j in 0..<count {
            var norm: Float = 0
            for i in 0..<dimension { norm += dirs[i * count + j] * dirs[i * count + j] }
            let inverse = 1 / norm.squareRoot()
            for i in 0..<dimension { dirs[i * count + j] *= inverse }
        }
        return dirs
    }

    /// The mean over directions and ranks of |sorted(A u)_i − sorted(B u)_i|:
    /// A and B are [rows, columns] row-major with the same number of rows,
    /// `directions` [columns, count].
    public static func distance(_ a: [Float], _ b: [Float], columns: Int, directions: [Float], count: Int) -> Double {
        precondition(a.count == b.count && a.count % columns == 0 && directions.count == columns * count,
                     "SlicedWasserstein.distance: shapes")
        let rows = a.count / columns
        let u = Tensor(shape: [columns, count], scalars: directions)
        let pa = Tensor.matmul(Tensor(shape: [rows, columns], scalars: a), u)
        let pb = Tensor.matmul(Tensor(shape: [rows, columns], scalars: b), u)
        var total = 0.0
        var ca = [Float](repeating: 0, count: rows), cb = [Float](repeating: 0, count: rows)
        for j in 0..<count {
            for i in 0..<rows { ca[i] = pa.scalars[i * count + j]; cb[i] = pb.scalars[i * count + j] }
            radixSort(&ca); radixSort(&cb)
            var s = 0.0
            for i in 0..<rows { s += Double(abs(ca[i] - cb[i])) }
            total += s / Double(rows)
        }
        return total / Double(count)
    }
}
