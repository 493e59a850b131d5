// Training-step benchmarks: steps per second and achieved GFLOP/s of a
// forward+backward+Adam step, next to the cblas_sgemm rate for the same GEMMs.

import Foundation
import NeuralNets
import Tensors

/// Seconds per call of `body`, the best of `repeats` runs of `iterations` calls.
func bestTime(iterations: Int, repeats: Int = 5, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { body() }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        best = min(best, elapsed / Double(iterations))
    }
    return best
}

/// FLOPs of one training step: forward 2B·Σ in·out, backward dW the same,
/// dX the same except for the first layer (the input needs no gradient).
func stepFlops(widths: [Int], batch: Int) -> Double {
    let products = zip(widths, widths.dropFirst()).map { Double($0 * $1) }
    let total = products.reduce(0, +)
    return 2 * Double(batch) * (3 * total - products[0])
}

/// The time of the step's GEMMs alone through cblas_sgemm, for the same shapes.
func sgemmTime(widths: [Int], batch: Int) -> Double {
    var total = 0.0
    for (l, (inputs, outputs)) in zip(widths, widths.dropFirst()).enumerated() {
        let x = Tensor(shape: [batch, inputs], repeating: 0.5)
        let w = Tensor(shape: [outputs, inputs], repeating: 0.01)
        let dz = Tensor(shape: [batch, outputs], repeating: 0.1)
        var y = Tensor.zeros([batch, outputs]), dx = Tensor.zeros([batch, inputs]), dw = Tensor.zeros([outputs, inputs])
        let iterations = max(1, 20_000_000 / (batch * inputs * outputs))
        func blas(_ a: Tensor, _ b: Tensor, _ c: inout Tensor, _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int) {
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    c.scalars.withUnsafeMutableBufferPointer { pc in
                        BLAS.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: pa.baseAddress!, lda: a.shape[1],
                                   b: pb.baseAddress!, ldb: b.shape[1], c: pc.baseAddress!, ldc: n)
                    }
                }
            }
        }
        total += bestTime(iterations: iterations) { blas(x, w, &y, false, true, batch, outputs, inputs) }
        total += bestTime(iterations: iterations) { blas(dz, x, &dw, true, false, outputs, inputs, batch) }
        if l > 0 { total += bestTime(iterations: iterations) { blas(dz, w, &dx, false, false, batch, inputs, outputs) } }
    }
    return total
}

func benchmarkTrainingStep(name: String, widths: [Int], activation: Activation, batch: Int, threads: Int) {
    BLAS.withThreads(threads) {
        var rng = RandomGenerator(seed: 1)
        var model = MLP(widths: widths, hiddenActivation: activation, initializer: .truncatedNormal, rng: &rng)
        var optimizer: any Optimizer = Adam(learningRate: 4e-4)
        let x = Tensor(shape: [batch, widths[0]], scalars: (0..<(batch * widths[0])).map { _ in rng.nextFloat() })
        let targets = oneHot((0..<batch).map { _ in rng.nextInt(below: widths.last!) }, classes: widths.last!)
        let flops = stepFlops(widths: widths, batch: batch)
        let iterations = max(3, Int(2e9 / flops / 10))
        // Forward + backward (the gradients), then the whole step with Adam.
        let gradientSeconds = bestTime(iterations: iterations) {
            _ = model.crossEntropyGradients(x: x, targets: targets)
        }
        let seconds = bestTime(iterations: iterations) {
            let (_, grads) = model.crossEntropyGradients(x: x, targets: targets)
            model.updateParameters { optimizer.update(&$0, gradients: grads, multiplier: 1) }
        }
        // The optimizer update alone, and the bytes it moves: θ, g, m and v read,
        // θ, m and v written, 4 bytes each per parameter.
        let (_, fixedGradients) = model.crossEntropyGradients(x: x, targets: targets)
        let parameterCount = model.parameters.reduce(0) { $0 + $1.count }
        let adamSeconds = bestTime(iterations: iterations) {
            model.updateParameters { optimizer.update(&$0, gradients: fixedGradients, multiplier: 1) }
        }
        let adamBytes = Double(7 * 4 * parameterCount)
        let gemm = sgemmTime(widths: widths, batch: batch)
        print(String(format: "%@ batch %d, %d BLAS thread(s): sgemm alone on the step's shapes %.1f µs, %.2f GFLOP/s",
                     name, batch, threads, gemm * 1e6, flops / gemm * 1e-9))
        print(String(format: "    forward+backward: %.1f µs/step, %.2f GFLOP/s (%.0f%% of the sgemm rate)",
                     gradientSeconds * 1e6, flops / gradientSeconds * 1e-9, gemm / gradientSeconds * 100))
        print(String(format: "    forward+backward+Adam: %.1f µs/step, %.0f steps/s, %.2f GFLOP/s (%.0f%%)",
                     seconds * 1e6, 1 / seconds, flops / seconds * 1e-9, gemm / seconds * 100))
        let stream = streamLimit(count: parameterCount, threads: parameterCount >= 1 << 18 ? 2 : 1)
        print(String(format: "    Adam alone: %.1f µs for %d parameters, %.1f GB/s of parameter and moment traffic "
                     + "(%.0f%% of the memory limit: the same 7 streams with no arithmetic, %.1f µs, %.1f GB/s)",
                     adamSeconds * 1e6, parameterCount, adamBytes / adamSeconds * 1e-9,
                     stream / adamSeconds * 100, stream * 1e6, adamBytes / stream * 1e-9))
    }
}

/// The least time to stream Adam's traffic over `count` parameters with no
/// arithmetic to speak of: θ, g, m and v read, θ, m and v written (θ += g,
/// m += g, v += g), split over `threads` threads as Adam splits its large
/// tensors. The memory limit an optimizer step can approach.
func streamLimit(count: Int, threads: Int) -> Double {
    let arrays = (0..<4).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
    defer { arrays.forEach { $0.deallocate() } }
    for a in arrays { a.initialize(repeating: 1e-3, count: count) }
    let shared = arrays.map { SharedPointer(base: $0) }
    @Sendable func pass(_ lo: Int, _ hi: Int) {
        typealias V = SIMD8<Float>
        let (t, g, m, v) = (shared[0].base, shared[1].base, shared[2].base, shared[3].base)
        var i = lo
        while i + 8 <= hi {
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            for p in [t, m, v] {
                let x = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: x + gi, as: V.self)
            }
            i += 8
        }
    }
    let iterations = max(3, 20_000_000 / max(count, 1))
    return bestTime(iterations: iterations) {
        if threads <= 1 { pass(0, count) } else {
            let half = (count / 2) & ~7
            DispatchQueue.concurrentPerform(iterations: 2) { part in part == 0 ? pass(0, half) : pass(half, count) }
        }
    }
}

func runTrainingBenchmarks() {
    print("== training steps (forward + backward + Adam) ==")
    for activation in [Activation.tanh, .relu] {
        benchmarkTrainingStep(name: "12-10-7-5-4-3-2 \(activation)", widths: [12, 10, 7, 5, 4, 3, 2],
                              activation: activation, batch: 256, threads: 1)
    }
    for threads in [1, 2] {
        benchmarkTrainingStep(name: "784-1024-20-20-20-10 tanh", widths: [784, 1024, 20, 20, 20, 10],
                              activation: .tanh, batch: 128, threads: threads)
    }
}

/// Runs training steps of one network for `seconds`, for profilers (`perf record`).
func profileTrainingStep(widths: [Int], batch: Int, seconds: Double) {
    var rng = RandomGenerator(seed: 1)
    var model = MLP(widths: widths, hiddenActivation: .tanh, initializer: .truncatedNormal, rng: &rng)
    var optimizer: any Optimizer = Adam(learningRate: 4e-4)
    let x = Tensor(shape: [batch, widths[0]], scalars: (0..<(batch * widths[0])).map { _ in rng.nextFloat() })
    let targets = oneHot((0..<batch).map { _ in rng.nextInt(below: widths.last!) }, classes: widths.last!)
    let start = DispatchTime.now().uptimeNanoseconds
    let cpuStart = clock()
    var steps = 0
    while Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 < seconds {
        let (_, grads) = model.crossEntropyGradients(x: x, targets: targets)
        model.updateParameters { optimizer.update(&$0, gradients: grads, multiplier: 1) }
        steps += 1
    }
    let cpu = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC)
    print("\(steps) steps of \(widths) in \(seconds) s: \(seconds / Double(steps) * 1e6) µs/step wall, \(cpu / Double(steps) * 1e6) µs/step CPU")
}
