// Benchmarks of the layers the new subjects train: convolution forward and
// backward on the progressive GAN's shapes, one Transformer attention block
// and one LSTM step, each forward + backward through the tape.
//
// For every shape the line gives the time, the GFLOP/s reached (GEMM flops
// only, the arithmetic that dominates) and the ratio to the sgemm rate of
// the same GEMMs timed alone on the same operands: the part of the machine's
// limit the layer reaches. `scripts/bench_pytorch.py` times the same shapes
// in PyTorch's CPU build, for the side-by-side figures in the README.

import Autodiff
import Foundation
import NeuralNets
import Tensors

/// A GEMM shape: op(A) [m, k], op(B) [k, n].
struct GEMMShape {
    var m, n, k: Int
    var transposeA = false, transposeB = false
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// Nanoseconds for all of `shapes` once, each through OpenBLAS on random operands.
func sgemmNanoseconds(_ shapes: [GEMMShape]) -> Double {
    var rng = RandomGenerator(seed: 7)
    let operands = shapes.map { s in
        ((0..<(s.m * s.k)).map { _ in rng.uniform(-1, 1) }, (0..<(s.k * s.n)).map { _ in rng.uniform(-1, 1) },
         [Float](repeating: 0, count: s.m * s.n))
    }
    var buffers = operands
    return nanosecondsPerCall {
        for i in shapes.indices {
            let s = shapes[i]
            buffers[i].0.withUnsafeBufferPointer { a in
                buffers[i].1.withUnsafeBufferPointer { b in
                    buffers[i].2.withUnsafeMutableBufferPointer { c in
                        BLAS.sgemm(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: s.n, k: s.k,
                                   a: a.baseAddress!, lda: s.transposeA ? s.m : s.k,
                                   b: b.baseAddress!, ldb: s.transposeB ? s.k : s.n, c: c.baseAddress!, ldc: s.n)
                    }
                }
            }
        }
    }
}

/// Prints one benchmark line.
func reportLayer(_ label: String, nanoseconds: Double, gemms: [GEMMShape]) {
    let flops = gemms.reduce(0) { $0 + $1.flops }
    let reference = sgemmNanoseconds(gemms)
    print("  \(padded(label, 44)) \(padded(format(nanoseconds / 1e3, 1) + " µs", 12)) "
          + "\(padded(format(flops / nanoseconds, 1) + " GFLOP/s", 16)) sgemm alone \(format(flops / reference, 1)) GFLOP/s, "
          + "ratio \(format(100 * reference / nanoseconds, 0)) %")
}

/// The layer benchmarks once with every BLAS call on 1 thread, then on 2.
///
/// INFOPLANE_BENCH_GEMM="m,n,k,N|T,N|T;..." times only those GEMM shapes
/// (row-major, op(A) m x k, op(B) k x n) at 1 and 2 threads;
/// INFOPLANE_BENCH_CONV=C,S only the convolution of C channels at SxS, with
/// its forward pass, its gradients and each of its GEMMs timed alone.
func runLayerBenchmarks() {
    if let spec = ProcessInfo.processInfo.environment["INFOPLANE_BENCH_GEMM"] {
        for item in spec.split(separator: ";") {
            let f = item.split(separator: ",").map(String.init)
            let g = GEMMShape(m: Int(f[0])!, n: Int(f[1])!, k: Int(f[2])!, transposeA: f[3] == "T", transposeB: f[4] == "T")
            for threads in [1, 2] {
                let t = BLAS.withThreads(threads) { sgemmNanoseconds([g]) }
                print("sgemm \(item) threads \(threads): \(format(t / 1e3, 1)) µs, \(format(g.flops / t, 1)) GFLOP/s")
            }
        }
        return
    }
    for threads in [1, 2] {
        BLAS.withThreads(threads) { printLayerBenchmarks() }
    }
}

/// One pass of `runLayerBenchmarks`, at the caller's `BLAS.threads`.
private func printLayerBenchmarks() {
    let threads = BLAS.threads
    print("\nLayers, forward + backward through the tape, BLAS.threads = \(threads)")
    // The progressive GAN's 3x3 convolutions: batch 32, C in = C out.
    // INFOPLANE_BENCH_CONV=C,S times only that shape (for profiling).
    let only = ProcessInfo.processInfo.environment["INFOPLANE_BENCH_CONV"].map { $0.split(separator: ",").compactMap { Int($0) } }
    for channels in [16, 32] where only == nil || only![0] == channels {
        for size in [4, 8, 16, 32] where only == nil || only![1] == size {
            let x = benchTensor([32, channels, size, size], seed: 1)
            let w = benchTensor([channels, channels, 3, 3], seed: 2, scale: 0.1)
            let ns = nanosecondsPerCall(batches: 5) {
                let tape = Tape()
                let (xv, wv) = (tape.variable(x), tape.variable(w))
                let y = xv.conv2d(wv, padding: 1)
                _ = tape.gradients(of: y, seed: y.value, withRespectTo: [xv, wv])
            }
            let q = ConvolutionGeometry(input: x.shape, weight: w.shape, stride: 1, padding: 1)
            let gemms = [
                GEMMShape(m: q.outputChannels, n: q.patchCount, k: q.patchSize),
                GEMMShape(m: q.outputChannels, n: q.patchSize, k: q.patchCount, transposeB: true),
                GEMMShape(m: q.patchSize, n: q.patchCount, k: q.outputChannels, transposeA: true),
            ]
            reportLayer("conv 3x3, 32x\(channels)x\(size)x\(size)", nanoseconds: ns, gemms: gemms)
            if only != nil {  // the parts, without the tape
                let forward = nanosecondsPerCall(batches: 5) { _ = Tensor.conv2dKeepingPatches(x, w, padding: 1) }
                let (y, patches) = Tensor.conv2dKeepingPatches(x, w, padding: 1)
                let backward = nanosecondsPerCall(batches: 5) {
                    _ = Tensor.conv2dGradients(x, w, y, geometry: q, input: true, weight: true, patches: patches)
                }
                reportLayer("  forward alone", nanoseconds: forward, gemms: [gemms[0]])
                reportLayer("  both gradients alone", nanoseconds: backward, gemms: Array(gemms[1...]))
                for g in gemms {
                    let t = sgemmNanoseconds([g])
                    print("    sgemm \(g.m)x\(g.n)x\(g.k) \(g.transposeA ? "T" : "N")\(g.transposeB ? "T" : "N"): \(format(t / 1e3, 1)) µs, \(format(g.flops / t, 1)) GFLOP/s")
                }
            }
        }
    }

    // One self-attention block: batch 64, length 16, d_model 64, 2 heads.
    do {
        let (b, l, d, h) = (64, 16, 64, 2)
        var store = ParameterStore()
        var rng = RandomGenerator(seed: 3)
        let attention = MultiHeadAttention("attn", modelDimension: d, heads: h, store: &store, rng: &rng)
        let x = benchTensor([b, l, d], seed: 4)
        let ns = nanosecondsPerCall(batches: 5) {
            let tape = Tape()
            let p = store.bind(to: tape)
            let xv = tape.variable(x)
            var unused = RandomGenerator(seed: 0)
            let y = attention(xv, memory: xv, mask: AttentionMask(causal: true), p, rng: &unused)
            _ = tape.gradients(of: y, seed: y.value, withRespectTo: [xv] + p.variables)
        }
        let rows = b * l, dh = d / h
        var gemms = [GEMMShape]()
        for _ in 0..<4 {  // the four projections: forward, dX, dW
            gemms += [GEMMShape(m: rows, n: d, k: d, transposeB: true), GEMMShape(m: rows, n: d, k: d),
                      GEMMShape(m: d, n: d, k: rows, transposeA: true)]
        }
        for _ in 0..<(b * h) {  // QKᵀ and PV per head: forward and two gradients each
            gemms += [GEMMShape(m: l, n: l, k: dh, transposeB: true), GEMMShape(m: l, n: dh, k: l),
                      GEMMShape(m: l, n: dh, k: l), GEMMShape(m: l, n: dh, k: l, transposeA: true),
                      GEMMShape(m: l, n: dh, k: l, transposeB: true), GEMMShape(m: l, n: l, k: dh, transposeA: true)]
        }
        reportLayer("attention, 64x16x64, 2 heads (causal)", nanoseconds: ns, gemms: gemms)
    }

    // One LSTM step: batch 256, input 64, hidden 64.
    do {
        let (b, input, hidden) = (256, 64, 64)
        var store = ParameterStore()
        var rng = RandomGenerator(seed: 5)
        let cell = LSTMCell("lstm", inputSize: input, hiddenSize: hidden, store: &store, rng: &rng)
        let x = benchTensor([b, input], seed: 6), h0 = benchTensor([b, hidden], seed: 7), c0 = benchTensor([b, hidden], seed: 8)
        let ns = nanosecondsPerCall(batches: 5) {
            let tape = Tape()
            let p = store.bind(to: tape)
            let xv = tape.variable(x)
            let state = cell(xv, state: (tape.variable(h0), tape.variable(c0)), p)
            let out = state.h + state.c
            _ = tape.gradients(of: out, seed: out.value, withRespectTo: [xv] + p.variables)
        }
        var gemms = [GEMMShape]()
        for k in [input, hidden] {
            gemms += [GEMMShape(m: b, n: 4 * hidden, k: k, transposeB: true), GEMMShape(m: b, n: k, k: 4 * hidden),
                      GEMMShape(m: 4 * hidden, n: k, k: b, transposeA: true)]
        }
        reportLayer("LSTM step, batch 256, 64 -> 64", nanoseconds: ns, gemms: gemms)
    }
}

/// Standard-normal values (scaled) of a shape, from a seed.
func benchTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in scale * Float(rng.normal()) })
}
