// Benchmarks of the Tensors kernels: VectorMath against scalar libm, and
// SmallGEMM against OpenBLAS on the Dense shapes of the small networks, plus
// the crossover grid behind `SmallGEMM.prefersBLAS`.
//
// Run only release builds, with OPENBLAS_NUM_THREADS=1:
//   swift build -c release --scratch-path .build-release --product infoplane-bench
//   OPENBLAS_NUM_THREADS=1 .build-release/release/infoplane-bench
// Timings are the minimum over several batches of at least 1 ms each, so a
// busy machine inflates them less; nothing here asserts a speed.

import Foundation
import Tensors

/// Nanoseconds per call of `body`: calibrate a batch to ≥ 1 ms, then take the
/// fastest of `batches` batches.
func nanosecondsPerCall(batches: Int = 7, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
    var reps = 1
    while true {
        let t = seconds(clock.measure { for _ in 0..<reps { body() } })
        if t >= 1e-3 { break }
        reps *= 2
    }
    var best = Double.infinity
    for _ in 0..<batches {
        let t = seconds(clock.measure { for _ in 0..<reps { body() } })
        best = min(best, t / Double(reps))
    }
    return best * 1e9
}

/// One GEMM shape with its transposes and random operands.
struct GEMMProblem {
    let name: String
    let transposeA: Bool, transposeB: Bool
    let m: Int, n: Int, k: Int
    var a: [Float], b: [Float], c: [Float]

    init(_ name: String, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
         rng: inout RandomGenerator) {
        self.name = name
        self.transposeA = transposeA
        self.transposeB = transposeB
        self.m = m
        self.n = n
        self.k = k
        a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
        b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
        c = [Float](repeating: 0, count: m * n)
    }

    var lda: Int { transposeA ? m : k }
    var ldb: Int { transposeB ? k : n }
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// (SmallGEMM, BLAS) nanoseconds per call.
    mutating func time() -> (small: Double, blas: Double) {
        let (tA, tB, m, n, k, lda, ldb) = (transposeA, transposeB, self.m, self.n, self.k, self.lda, self.ldb)
        return a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    let (a, b, c) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                    let small = nanosecondsPerCall {
                        SmallGEMM.sgemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k,
                                        a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: n)
                    }
                    let blas = nanosecondsPerCall {
                        BLAS.sgemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k,
                                   a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: n)
                    }
                    return (small, blas)
                }
            }
        }
    }
}

/// The three products of a Dense layer [out, in] for a batch.
func denseProblems(batch: Int, inputs: Int, outputs: Int, rng: inout RandomGenerator) -> [GEMMProblem] {
    [
        GEMMProblem("forward x·Wᵀ  (NT)", transposeA: false, transposeB: true,
                    m: batch, n: outputs, k: inputs, rng: &rng),
        GEMMProblem("dX = dY·W     (NN)", transposeA: false, transposeB: false,
                    m: batch, n: inputs, k: outputs, rng: &rng),
        GEMMProblem("dW = dYᵀ·X    (TN)", transposeA: true, transposeB: false,
                    m: outputs, n: inputs, k: batch, rng: &rng),
    ]
}

func format(_ value: Double, _ decimals: Int = 1) -> String {
    String(format: "%.\(decimals)f", value)
}

func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Prints the VectorMath, SmallGEMM and crossover tables, every BLAS call on one thread.
func runKernelBenchmarks() {
    BLAS.withThreads(1) { printKernelTables() }
}

/// The tables of `runKernelBenchmarks`, at the caller's `BLAS.threads`.
private func printKernelTables() {
    var rng = RandomGenerator(seed: 2018)
    print("OPENBLAS_NUM_THREADS=\(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset"), BLAS.threads = \(BLAS.threads)")

    // Elementwise kernels on one step's worth of activations: 256 x 33.
    let count = 256 * 33
    let x = (0..<count).map { _ in Float(rng.normal(mean: 0, std: 2)) }
    var y = [Float](repeating: 0, count: count)
    print("\nVectorMath, \(count) elements (N(0, 2) inputs), ns per element:")
    let kernels: [(String, (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)] = [
        ("VectorMath.exp", { VectorMath.exp($0, $1, count: $2) }),
        ("VectorMath.log", { VectorMath.log($0, $1, count: $2) }),
        ("VectorMath.tanh", { VectorMath.tanh($0, $1, count: $2) }),
        ("VectorMath.sigmoid", { VectorMath.sigmoid($0, $1, count: $2) }),
        ("VectorMath.softplus", { VectorMath.softplus($0, $1, count: $2) }),
        ("Foundation expf loop", { x, y, n in for i in 0..<n { y[i] = expf(x[i]) } }),
        ("Foundation logf loop", { x, y, n in for i in 0..<n { y[i] = logf(abs(x[i])) } }),
        ("Foundation tanhf loop", { x, y, n in for i in 0..<n { y[i] = tanhf(x[i]) } }),
    ]
    for (name, kernel) in kernels {
        let ns = x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                nanosecondsPerCall { kernel(xp.baseAddress!, yp.baseAddress!, count) }
            }
        }
        print("  \(padded(name, 24)) \(format(ns / Double(count), 2)) ns/element  (\(format(ns / 1000, 2)) µs per 256x33)")
    }

    // The small networks' Dense products.
    let networks: [(String, [Int], [Int])] = [
        ("12-10-7-5-4-3-2", [12, 10, 7, 5, 4, 3, 2], [256, 4096]),
        ("784-1024-20-20-20-10", [784, 1024, 20, 20, 20, 10], [128]),
    ]
    for (name, widths, batches) in networks {
        for batch in batches {
            print("\nNetwork \(name), batch \(batch): ns per call (GFLOP/s)")
            print("  \(padded("layer / product", 34)) \(padded("m x n x k", 16)) \(padded("SmallGEMM", 20)) \(padded("BLAS", 20)) winner  prefersBLAS")
            var totalSmall = 0.0, totalBLAS = 0.0, totalDispatch = 0.0
            for layer in 0..<(widths.count - 1) {
                for var problem in denseProblems(batch: batch, inputs: widths[layer], outputs: widths[layer + 1], rng: &rng) {
                    let (small, blas) = problem.time()
                    let prefers = SmallGEMM.prefersBLAS(m: problem.m, n: problem.n, k: problem.k)
                    totalSmall += small
                    totalBLAS += blas
                    totalDispatch += prefers ? blas : small
                    let label = "\(widths[layer])->\(widths[layer + 1]) \(problem.name)"
                    print("  \(padded(label, 34)) \(padded("\(problem.m)x\(problem.n)x\(problem.k)", 16)) "
                          + "\(padded("\(format(small, 0)) (\(format(problem.flops / small, 2)))", 20)) "
                          + "\(padded("\(format(blas, 0)) (\(format(problem.flops / blas, 2)))", 20)) "
                          + "\(padded(small < blas ? "small" : "BLAS", 7)) \(prefers)")
                }
            }
            print("  total: SmallGEMM \(format(totalSmall / 1000, 2)) µs, BLAS \(format(totalBLAS / 1000, 2)) µs, "
                  + "dispatch on prefersBLAS \(format(totalDispatch / 1000, 2)) µs")
        }
    }

    // Crossover grid: BLAS time / SmallGEMM time (> 1: SmallGEMM faster).
    print("\nCrossover: BLAS time / SmallGEMM time (> 1 means SmallGEMM is faster); * marks prefersBLAS")
    let depths = [4, 12, 32, 64, 128, 256, 512, 1024]
    var agree = 0, total = 0, lostTime = 0.0, bestTime = 0.0
    // One cell of the grid: times both kernels, tallies prefersBLAS's choice, returns the ratio.
    func cell(transposeA tA: Bool, transposeB tB: Bool, m: Int, n: Int, k: Int) -> String {
        var problem = GEMMProblem("", transposeA: tA, transposeB: tB, m: m, n: n, k: k, rng: &rng)
        let (small, blas) = problem.time()
        let prefers = SmallGEMM.prefersBLAS(m: m, n: n, k: k)
        total += 1
        if prefers == (blas < small) { agree += 1 }
        lostTime += (prefers ? blas : small) - min(small, blas)
        bestTime += min(small, blas)
        return " " + padded(format(blas / small, 2) + (prefers ? "*" : ""), 6)
    }
    for (label, tA, tB) in [("NT (forward)", false, true), ("NN (input gradient)", false, false)] {
        for m in [128, 256, 4096] {
            print("  \(label), m = \(m); columns k = \(depths)")
            for n in [2, 4, 8, 12, 16, 20, 32, 64] {
                var line = "    n = \(padded(String(n), 4))"
                for k in depths { line += cell(transposeA: tA, transposeB: tB, m: m, n: n, k: k) }
                print(line)
            }
        }
    }
    print("  TN (weight gradient): rows m = out, columns k = batch \(depths)")
    for m in [2, 4, 8, 12, 20, 64] {
        for n in [2, 4, 8, 12, 16, 20, 32] {
            var line = "    m = \(padded(String(m), 3)) n = \(padded(String(n), 4))"
            for k in depths { line += cell(transposeA: true, transposeB: false, m: m, n: n, k: k) }
            print(line)
        }
    }
    print("  prefersBLAS picks the faster kernel in \(agree) of \(total) shapes; "
          + "summed over the grid it costs \(format(100 * lostTime / bestTime, 1)) % over always picking the faster")
}
