// A grid of images with torchvision's make_grid + save_image semantics, so a batch of
// generated images saved by InfoPlane looks exactly like one saved by PyTorch:
// images are tiled nrow per row, separated and surrounded by `padding` pixels of
// `padValue`; `normalize` maps [low, high] (value_range, or the batch's or each image's
// min and max) to [0, 1] after clamping; every value becomes a byte as
// clamp(x * 255 + 0.5, 0, 255), truncated. A batch of one image gets no padding (make_grid
// returns the image itself). This file deliberately does no resampling but
// nearest-neighbour upscaling.

/// A batch of images laid out as one picture.
public struct ImageGrid: Sendable {
    /// The padding colour: a grey level, or an RGB colour, in the images' value scale
    /// (so 1.0 is white when values are in [0, 1]).
    public enum PadValue: Sendable, Equatable {
        case gray(Float)
        case rgb(Float, Float, Float)
    }

    /// Row-major values of shape (B, C, H, W) with C = 1 or 3, or (B, H, W) (grey images).
    public var values: [Float]
    public var shape: [Int]
    /// Images per row.
    public var nrow: Int = 8
    /// Pixels between and around images.
    public var padding: Int = 2
    /// Rescale to [0, 1] using `valueRange`, or the min and max.
    public var normalize: Bool = false
    /// (low, high) for `normalize`; nil uses the data's min and max.
    public var valueRange: (Float, Float)? = nil
    /// With `normalize`, use each image's own min and max (or `valueRange`).
    public var scaleEach: Bool = false
    public var padValue: PadValue = .gray(0)
    /// Integer nearest-neighbour magnification of the finished grid.
    public var upscale: Int = 1

    /// - Precondition: `shape` is (B, C, H, W) with C in {1, 3} or (B, H, W), all positive,
    ///   and `values.count` is their product.
    public init(values: [Float], shape: [Int]) {
        precondition(shape.count == 3 || shape.count == 4, "ImageGrid: shape \(shape) is not (B,C,H,W) or (B,H,W)")
        precondition(shape.allSatisfy { $0 > 0 }, "ImageGrid: shape \(shape) has an empty dimension")
        precondition(shape.count == 3 || shape[1] == 1 || shape[1] == 3, "ImageGrid: \(shape[1]) channels; need 1 or 3")
        precondition(values.count == shape.reduce(1, *), "ImageGrid: \(values.count) values for shape \(shape)")
        self.values = values
        self.shape = shape
    }

    var batch: Int { shape[0] }
    var channels: Int { shape.count == 4 ? shape[1] : 1 }
    var imageHeight: Int { shape[shape.count - 2] }
    var imageWidth: Int { shape[shape.count - 1] }

    /// Grid size in pixels before upscaling: make_grid's
    /// (H + p) * ceil(B / min(nrow, B)) + p by (W + p) * min(nrow, B) + p, or H x W for B = 1.
    public var gridSize: (width: Int, height: Int) {
        if batch == 1 { return (imageWidth, imageHeight) }
        let xmaps = min(nrow, batch), ymaps = (batch + xmaps - 1) / xmaps
        return ((imageWidth + padding) * xmaps + padding, (imageHeight + padding) * ymaps + padding)
    }

    /// Number of NaN values (drawn as 0 after normalization, like a NaN cast to a byte
    /// is undefined in PyTorch).
    public var nanCount: Int {
        values.withUnsafeBufferPointer { v in
            var n = 0
            for x in v { n &+= x.isNaN ? 1 : 0 }   // branch-free, so it vectorizes
            return n
        }
    }

    /// Human-readable warnings about the input.
    public var warnings: [String] {
        nanCount == 0 ? [] : ["image grid: \(nanCount) NaN value(s) drawn as the low end"]
    }

    /// The grid as an opaque RGB canvas.
    ///
    /// - Throws: `PlotError` if `nrow` < 1, `padding` < 0 or `upscale` < 1.
    public func render() throws -> Canvas {
        guard nrow >= 1 else { throw PlotError("image grid: nrow must be at least 1, got \(nrow)") }
        guard padding >= 0 else { throw PlotError("image grid: padding must be non-negative, got \(padding)") }
        guard upscale >= 1 else { throw PlotError("image grid: upscale must be at least 1, got \(upscale)") }
        let B = batch, C = channels, h = imageHeight, w = imageWidth
        let plane = h * w
        let p = B == 1 ? 0 : padding
        let (gw, gh) = gridSize
        let xmaps = min(nrow, B)
        // Per-image (or whole-batch) affine map x -> (clamp(x, lo, hi) - lo) / max(hi - lo, 1e-5).
        var lows = [Float](repeating: 0, count: B), highs = [Float](repeating: 1, count: B)
        if normalize {
            if let (lo, hi) = valueRange {
                lows = [Float](repeating: lo, count: B); highs = [Float](repeating: hi, count: B)
            } else if scaleEach {
                for b in 0..<B {
                    let slice = values[(b * C * plane)..<((b + 1) * C * plane)].filter { !$0.isNaN }
                    lows[b] = slice.min() ?? 0; highs[b] = slice.max() ?? 1
                }
            } else {
                let finite = values.filter { !$0.isNaN }
                let lo = finite.min() ?? 0, hi = finite.max() ?? 1
                lows = [Float](repeating: lo, count: B); highs = [Float](repeating: hi, count: B)
            }
        }
        @inline(__always) func byte(_ x: Float) -> UInt8 {
            let v = x * 255 + 0.5
            if !(v >= 0) { return 0 }   // NaN and negatives
            return v >= 255 ? 255 : UInt8(v)
        }
        let pad: (UInt8, UInt8, UInt8)
        switch padValue {
        case .gray(let v): pad = (byte(v), byte(v), byte(v))
        case .rgb(let r, let g, let b): pad = (byte(r), byte(g), byte(b))
        }
        var pixels = [UInt8](repeating: 255, count: gw * gh * 4)
        pixels.withUnsafeMutableBufferPointer { out in
            for i in 0..<(gw * gh) {
                out[4 * i] = pad.0; out[4 * i + 1] = pad.1; out[4 * i + 2] = pad.2
            }
            values.withUnsafeBufferPointer { v in
                for b in 0..<B {
                    let gx = p + (b % xmaps) * (w + p), gy = p + (b / xmaps) * (h + p)
                    let lo = lows[b], hi = highs[b]
                    let inv: Float = normalize ? 1 / max(hi - lo, 1e-5) : 1
                    let image = v.baseAddress! + b * C * plane
                    // One channel plane at a time; the normalization test sits outside
                    // the pixel loop.
                    for c in 0..<3 {
                        let source = image + (C == 1 ? 0 : c) * plane
                        for y in 0..<h {
                            let row = out.baseAddress! + 4 * ((gy + y) * gw + gx) + c
                            let line = source + y * w
                            if normalize {
                                for x in 0..<w { row[4 * x] = byte((min(max(line[x], lo), hi) - lo) * inv) }
                            } else {
                                for x in 0..<w { row[4 * x] = byte(line[x]) }
                            }
                        }
                    }
                }
            }
        }
        let grid = Canvas(width: gw, height: gh, pixels: pixels)
        guard upscale > 1 else { return grid }
        let k = upscale
        var big = [UInt8](repeating: 0, count: gw * k * gh * k * 4)
        big.withUnsafeMutableBufferPointer { o in
            pixels.withUnsafeBufferPointer { src in
                for y in 0..<(gh * k) {
                    let s = src.baseAddress! + 4 * (y / k) * gw
                    let d = o.baseAddress! + 4 * y * gw * k
                    for x in 0..<(gw * k) {
                        let q = s + 4 * (x / k)
                        d[4 * x] = q[0]; d[4 * x + 1] = q[1]; d[4 * x + 2] = q[2]; d[4 * x + 3] = q[3]
                    }
                }
            }
        }
        return Canvas(width: gw * k, height: gh * k, pixels: big)
    }
}
