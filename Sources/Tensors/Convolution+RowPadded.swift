// Stride-1 convolution through row-padded planes: the path `conv2d` and its
// gradients take for every stride-1 convolution whose padding is less than
// its kernel (all of the progressive GAN's: 3x3 with padding 1, 4x4 and 1x1
// with padding 0).
//
// Zero-pad each input plane: p rows of zeros above and below, and p zeros
// before each row, laid out with row pitch wp = W + p (the zeros before a
// row are also the padding after the one above it). On an output grid whose
// rows are wp wide instead of Wo, the im2col row (c, a, b) of a sample is
// then one contiguous slice of padded plane c, starting at a·wp + b, Ho·wp
// long: im2col is k² straight copies per channel, with no bounds tests and no
// zero fill, and the GEMM
//
//   out [O, Ho·wp] = W [O, C·k·k] · col [C·k·k, Ho·wp]
//
// gives the outputs on that grid; the wp - Wo = k - 1 - p extra columns of
// each row are dropped when out is copied into y (for 3x3 kernels with
// padding 1, 1/(W+1) of the GEMM: a fifth at 4x4, 3 % at 32x32; copying 4x4
// maps row by row instead, without them, measured twice as slow). A plane
// keeps k - 1 zeros past its end, so that the last slice stays inside it.
//
// The weight gradient is dW = g̃ · colᵀ, g̃ being g spread on the same grid
// with zeros in the extra columns (so that they add nothing). The input
// gradient of a stride-1 convolution is itself one: the convolution of g,
// padded by k - 1 - p, with the kernel flipped in both spatial axes and its
// channel axes swapped. It goes through the same path, a GEMM with
// K = O·k·k instead of the K = O of Wᵀ·g', and no col2im scatter.
//
// A 1x1 kernel without padding needs no copy at all: a sample's [C, H·W]
// block is its im2col matrix, and y's [O, H·W] block the GEMM's output.
//
// The batch is taken in blocks of samples whose im2col matrix stays near
// `blockFloats` (in the core's cache), one GEMM per block; a sample whose
// matrix alone is larger (32x32 maps of 16 or more channels) is taken in
// blocks of output rows, whose im2col columns are again contiguous slices. On n > 1 BLAS
// threads the blocks are shared among n workers, each running one-thread
// GEMMs on its own scratch and its own partial dW, summed in worker order at
// the end: OpenBLAS's own threading splits these flat products (16 or 32
// rows) poorly. The partition depends on the geometry and the thread count
// only, so results are the same from run to run.

/// The im2col matrix a forward pass kept for its backward pass
/// (`Tensor.conv2dKeepingPatches`); its layout is private to the path that
/// made it.
public struct ConvolutionPatches: Sendable {
    let geometry: ConvolutionGeometry
    /// Samples per im2col block of the pass that made them.
    let blockSamples: Int
    let scalars: [Float]
}

/// One stride-1 convolution's layout on row-padded planes (file comment).
struct RowPaddedConvolution {
    /// The im2col block size, in floats: 64 Ki (256 KiB).
    static let blockFloats = 1 << 16
    /// The largest im2col matrix a forward pass keeps for the backward pass.
    static let keptFloats = 1 << 19

    let q: ConvolutionGeometry
    /// Row pitch of the padded planes and of the output grid: W + p.
    let pitch: Int
    /// Floats from one padded plane to the next: (H + 2p)·wp + k - 1.
    let planeStride: Int
    /// im2col columns of one sample: Ho·wp.
    let columns: Int
    /// Samples per block.
    let blockSamples: Int
    /// Output rows per block: Ho, or fewer when one sample's im2col matrix
    /// is larger than `blockFloats` (the block is then one sample).
    let blockRows: Int
    /// Blocks per sample: 1, or Ho / blockRows rounded up.
    let rowBlocks: Int
    /// A 1x1 kernel without padding: x and y are their own im2col and output matrices.
    let direct: Bool

    static func applies(to q: ConvolutionGeometry) -> Bool { q.stride == 1 && q.padding < q.kernel }

    /// The layout for a pass at `threads` BLAS threads: blocks of at most
    /// `blockFloats`, their number a multiple of the thread count where the
    /// batch allows, so that the workers get equal shares. `blockSamples`,
    /// when given, is the block size of the forward pass whose patches the
    /// backward pass reads.
    init(_ q: ConvolutionGeometry, threads: Int = BLAS.threads, blockSamples given: Int? = nil) {
        precondition(Self.applies(to: q), "row-padded convolution: \(q)")
        self.q = q
        pitch = q.width + q.padding
        planeStride = (q.height + 2 * q.padding) * pitch + q.kernel - 1
        columns = q.outputHeight * pitch
        direct = q.kernel == 1 && q.padding == 0
        let largest = Swift.max(1, Swift.min(q.batch, Self.blockFloats / Swift.max(q.patchSize * columns, 1)))
        let shares = Swift.max(1, Swift.min(threads, q.batch))
        let blocks = ((q.batch + largest - 1) / largest + shares - 1) / shares * shares
        blockSamples = direct ? 1 : given ?? (q.batch + blocks - 1) / blocks
        blockRows = direct || q.patchSize * columns <= Self.blockFloats ? q.outputHeight
            : Swift.max(1, Self.blockFloats / (q.patchSize * pitch))
        rowBlocks = (q.outputHeight + blockRows - 1) / blockRows
    }

    var blockCount: Int { rowBlocks > 1 ? q.batch * rowBlocks : (q.batch + blockSamples - 1) / blockSamples }
    /// The samples and the output rows of block j.
    func block(_ j: Int) -> (samples: Range<Int>, rows: Range<Int>) {
        if rowBlocks > 1 {
            let (n, r) = j.quotientAndRemainder(dividingBy: rowBlocks)
            return (n..<(n + 1), (r * blockRows)..<Swift.min(q.outputHeight, (r + 1) * blockRows))
        }
        return ((j * blockSamples)..<Swift.min(q.batch, (j + 1) * blockSamples), 0..<q.outputHeight)
    }
    /// Floats of the whole batch's im2col matrix, block after block.
    var patchFloats: Int { q.patchSize * q.batch * columns }
    /// Whether a forward pass keeps its im2col matrix.
    var keepsPatches: Bool { !direct && patchFloats <= Self.keptFloats }

    /// Workers for a pass at `threads` BLAS threads: one per thread, at most one per block.
    func workers(threads: Int) -> Int { Swift.max(1, Swift.min(threads, blockCount)) }
    /// The blocks of worker w of n: a contiguous run, as even as the block count allows.
    func blocks(worker w: Int, of n: Int) -> Range<Int> { (w * blockCount / n)..<((w + 1) * blockCount / n) }

    /// Runs `body(worker, blocks)` for every worker: inline at the caller's
    /// BLAS threads when there is one, else on `workers` threads with
    /// one-thread BLAS calls.
    func forEachWorker(_ workers: Int, _ body: @Sendable (Int, Range<Int>) -> Void) {
        if workers == 1 {
            body(0, 0..<blockCount)
        } else {
            let layout = self
            BLAS.concurrentPerform(iterations: workers, threads: 1) { w in body(w, layout.blocks(worker: w, of: workers)) }
        }
    }

    // MARK: Copies

    /// The padded planes of `samples` of x into `padded` (whose borders are zero).
    func pad(_ x: UnsafePointer<Float>, samples: Range<Int>, into padded: UnsafeMutablePointer<Float>) {
        let (c, h, w, p) = (q.inputChannels, q.height, q.width, q.padding)
        for (s, n) in samples.enumerated() {
            for ch in 0..<c {
                let source = x + (n * c + ch) * h * w
                let target = padded + (s * c + ch) * planeStride + p * pitch + p
                for i in 0..<h {
                    let from = source + i * w, to = target + i * pitch
                    for j in 0..<w { to[j] = from[j] }
                }
            }
        }
    }

    /// The im2col matrix [C·k·k, count·rows.count·wp] of output `rows` of
    /// `count` padded samples, into `col` with row stride `ld`.
    func patches(_ padded: UnsafePointer<Float>, count: Int, rows: Range<Int>, into col: UnsafeMutablePointer<Float>, ld: Int) {
        let (c, k) = (q.inputChannels, q.kernel)
        let length = rows.count * pitch, start = rows.lowerBound * pitch
        for ch in 0..<c {
            for a in 0..<k {
                for b in 0..<k {
                    let row = col + ((ch * k + a) * k + b) * ld
                    for s in 0..<count {
                        let from = padded + (s * c + ch) * planeStride + a * pitch + b + start, to = row + s * length
                        for t in 0..<length { to[t] = from[t] }
                    }
                }
            }
        }
    }

    /// Output `rows` of y [N, O, Ho, Wo] for `samples` from the grid output
    /// [O, count·rows.count·wp].
    func crop(_ out: UnsafePointer<Float>, samples: Range<Int>, rows: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        let (o, ho, wo) = (q.outputChannels, q.outputHeight, q.outputWidth)
        let length = rows.count * pitch, width = samples.count * length
        for (s, n) in samples.enumerated() {
            for channel in 0..<o {
                let from = out + channel * width + s * length, to = y + (n * o + channel) * ho * wo
                for i in rows {
                    let source = from + (i - rows.lowerBound) * pitch, target = to + i * wo
                    for j in 0..<wo { target[j] = source[j] }
                }
            }
        }
    }

    /// Output `rows` of g [N, O, Ho, Wo] for `samples` spread on the grid
    /// [O, count·rows.count·wp], zeros in the extra columns.
    func spread(_ g: UnsafePointer<Float>, samples: Range<Int>, rows: Range<Int>, into grid: UnsafeMutablePointer<Float>) {
        let (o, ho, wo) = (q.outputChannels, q.outputHeight, q.outputWidth)
        let length = rows.count * pitch, width = samples.count * length
        for (s, n) in samples.enumerated() {
            for channel in 0..<o {
                let from = g + (n * o + channel) * ho * wo, to = grid + channel * width + s * length
                for i in rows {
                    let source = from + i * wo, target = to + (i - rows.lowerBound) * pitch
                    for j in 0..<wo { target[j] = source[j] }
                    for j in wo..<pitch { target[j] = 0 }
                }
            }
        }
    }

    /// The im2col matrix of block j and its row stride: in the kept matrix
    /// of the whole batch when there is one (filled here when `fill`), else
    /// made in `scratch` from the padded samples.
    func blockPatches(_ j: Int, padded: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                      kept: UnsafeMutablePointer<Float>?, fill: Bool) -> (col: UnsafeMutablePointer<Float>, ld: Int) {
        let (samples, rows) = block(j)
        if let kept {
            // The kept matrix holds block after block of whole samples:
            // [C·k·k, count·Ho·wp] each; a row block is a column range of its sample's.
            let col = kept + samples.lowerBound * q.patchSize * columns + rows.lowerBound * pitch
            let ld = samples.count * columns
            if fill { patches(padded, count: samples.count, rows: rows, into: col, ld: ld) }
            return (col, ld)
        }
        let ld = samples.count * rows.count * pitch
        patches(padded, count: samples.count, rows: rows, into: scratch, ld: ld)
        return (scratch, ld)
    }

    // MARK: Scratch

    /// Floats of one worker's scratch: padded planes, im2col block, grid block.
    var scratchFloats: (padded: Int, col: Int, grid: Int) {
        direct ? (0, 0, 0)
            : (blockSamples * q.inputChannels * planeStride, q.patchSize * blockSamples * blockRows * pitch,
               q.outputChannels * blockSamples * blockRows * pitch)
    }

    /// Scratch for `workers` workers, freed by `deallocate`: the padded
    /// planes zeroed (their borders are never written), the rest
    /// uninitialized (written in full before every read).
    func allocateScratch(workers: Int) -> SharedPointer<Float> {
        let s = scratchFloats
        let each = s.padded + s.col + s.grid
        let base = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, workers * each))
        for w in 0..<workers {
            (base + w * each).initialize(repeating: 0, count: s.padded)
        }
        return SharedPointer(base: base)
    }

    /// Worker w's three scratch buffers.
    func scratch(_ base: SharedPointer<Float>, worker w: Int)
        -> (padded: UnsafeMutablePointer<Float>, col: UnsafeMutablePointer<Float>, grid: UnsafeMutablePointer<Float>) {
        let s = scratchFloats
        let mine = base.base + w * (s.padded + s.col + s.grid)
        return (mine, mine + s.padded, mine + s.padded + s.col)
    }

    // MARK: Passes

    /// y = conv2d(x, w) into `y`; the whole batch's im2col matrix into
    /// `kept` (patchFloats long) when given.
    func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                 keeping kept: UnsafeMutablePointer<Float>?) {
        let workers = workers(threads: BLAS.threads)
        let scratch = allocateScratch(workers: workers)
        defer { scratch.base.deallocate() }
        let (xs, ws, ys) = (SharedPointer(base: UnsafeMutablePointer(mutating: x)), SharedPointer(base: UnsafeMutablePointer(mutating: w)),
                            SharedPointer(base: y))
        let keptShared = kept.map { SharedPointer(base: $0) }
        let layout = self
        forEachWorker(workers) { worker, blocks in
            let (padded, scratchCol, grid) = layout.scratch(scratch, worker: worker)
            let q = layout.q
            for block in blocks {
                let (samples, rows) = layout.block(block)
                if layout.direct {
                    let n = samples.lowerBound, plane = q.height * q.width
                    Tensor.multiply(transposeA: false, transposeB: false, m: q.outputChannels, n: plane, k: q.inputChannels, alpha: 1,
                                    a: ws.base, lda: q.inputChannels, b: xs.base + n * q.inputChannels * plane, ldb: plane,
                                    beta: 0, c: ys.base + n * q.outputChannels * plane, ldc: plane)
                    continue
                }
                // A sample is padded once, at its first block in this worker.
                if rows.lowerBound == 0 || block == blocks.lowerBound { layout.pad(xs.base, samples: samples, into: padded) }
                let (col, ld) = layout.blockPatches(block, padded: padded, scratch: scratchCol, kept: keptShared?.base, fill: true)
                let width = samples.count * rows.count * layout.pitch
                Tensor.multiply(transposeA: false, transposeB: false, m: q.outputChannels, n: width, k: q.patchSize, alpha: 1,
                                a: ws.base, lda: q.patchSize, b: col, ldb: ld, beta: 0, c: grid, ldc: width)
                layout.crop(grid, samples: samples, rows: rows, into: ys.base)
            }
        }
    }

    /// dW = ∂⟨g, conv2d(x, w)⟩/∂w into `dw` [O, C·k·k], from x or from the
    /// kept im2col matrix.
    func weightGradient(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, kept: UnsafePointer<Float>?,
                        into dw: UnsafeMutablePointer<Float>) {
        let workers = workers(threads: BLAS.threads)
        let scratch = allocateScratch(workers: workers)
        let partialFloats = q.outputChannels * q.patchSize
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, (workers - 1) * partialFloats))
        defer { scratch.base.deallocate(); partials.deallocate() }
        let (xs, gs) = (SharedPointer(base: UnsafeMutablePointer(mutating: x)), SharedPointer(base: UnsafeMutablePointer(mutating: g)))
        let keptShared = kept.map { SharedPointer(base: UnsafeMutablePointer(mutating: $0)) }
        let (dws, ps) = (SharedPointer(base: dw), SharedPointer(base: partials))
        let layout = self
        forEachWorker(workers) { worker, blocks in
            let (padded, scratchCol, grid) = layout.scratch(scratch, worker: worker)
            let q = layout.q
            let target = worker == 0 ? dws.base : ps.base + (worker - 1) * partialFloats
            if blocks.isEmpty { target.initialize(repeating: 0, count: partialFloats) }
            for block in blocks {
                let (samples, rows) = layout.block(block)
                let beta: Float = block == blocks.lowerBound ? 0 : 1
                if layout.direct {
                    let n = samples.lowerBound, plane = q.height * q.width
                    Tensor.multiply(transposeA: false, transposeB: true, m: q.outputChannels, n: q.inputChannels, k: plane, alpha: 1,
                             a: gs.base + n * q.outputChannels * plane, lda: plane, b: xs.base + n * q.inputChannels * plane, ldb: plane,
                             beta: beta, c: target, ldc: q.inputChannels)
                    continue
                }
                if keptShared == nil && (rows.lowerBound == 0 || block == blocks.lowerBound) {
                    layout.pad(xs.base, samples: samples, into: padded)
                }
                let (col, ld) = layout.blockPatches(block, padded: padded, scratch: scratchCol, kept: keptShared?.base, fill: false)
                let width = samples.count * rows.count * layout.pitch
                layout.spread(gs.base, samples: samples, rows: rows, into: grid)
                Tensor.multiply(transposeA: false, transposeB: true, m: q.outputChannels, n: q.patchSize, k: width, alpha: 1,
                                a: grid, lda: width, b: col, ldb: ld, beta: beta, c: target, ldc: q.patchSize)
            }
        }
        for worker in 1..<workers {
            let part = partials + (worker - 1) * partialFloats
            for i in 0..<partialFloats { dw[i] += part[i] }
        }
    }

    /// The geometry and kernel of the input gradient as a stride-1
    /// convolution of g: [N, O, Ho, Wo] * [C, O, k, k], padding k - 1 - p.
    var inputGradientGeometry: ConvolutionGeometry {
        ConvolutionGeometry(batch: q.batch, inputChannels: q.outputChannels, height: q.outputHeight, width: q.outputWidth,
                            outputChannels: q.inputChannels, kernel: q.kernel, stride: 1, padding: q.kernel - 1 - q.padding)
    }

    /// w [O, C, k, k] flipped in both spatial axes with its channel axes swapped: [C, O, k, k].
    func flippedTransposedKernel(_ w: UnsafePointer<Float>, into t: UnsafeMutablePointer<Float>) {
        let (o, c, k) = (q.outputChannels, q.inputChannels, q.kernel)
        for out in 0..<o {
            for ch in 0..<c {
                for a in 0..<k {
                    for b in 0..<k {
                        t[((ch * o + out) * k + (k - 1 - a)) * k + (k - 1 - b)] = w[((out * c + ch) * k + a) * k + b]
                    }
                }
            }
        }
    }

    /// dx = ∂⟨g, conv2d(x, w)⟩/∂x into `dx` [N, C, H, W].
    func inputGradient(_ g: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let transposed = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, q.weightShape.reduce(1, *)))
        defer { transposed.deallocate() }
        flippedTransposedKernel(w, into: transposed)
        RowPaddedConvolution(inputGradientGeometry).forward(g, transposed, into: dx, keeping: nil)
    }
}
