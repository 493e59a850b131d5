// Release-mode benchmarks of the InfoTheory estimators on the shapes of the papers' runs.
//
// Binning and KDE per layer-epoch on 4096 x 10 tanh-like activations (the 12-bit task's
// first hidden layer over all 4096 inputs; binning also on the narrower layers), whole 12-bit runs (6 layers of widths 10, 7, 5,
// 4, 3, 2 at 274 and 8000 epochs) through the run driver on both cores, and KDE on a
// 10000 x 1024 layer (Fashion-MNIST's first hidden layer) next to the raw sgemm rate of the
// same shape. It prints; it asserts nothing. Run with
// `swift build -c release --scratch-path .build-release --product infoplane-bench`.

import Dispatch
import Foundation
@_spi(Benchmarks) import InfoTheory
import Tensors

/// CPU seconds of the whole process, all threads (unlike wall time, unaffected by other
/// processes sharing the cores; equal to wall time on an idle machine for one thread).
private func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Wall-clock and process CPU seconds taken by `body`.
private func seconds(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    let start = DispatchTime.now().uptimeNanoseconds, cpu = processCPUSeconds()
    try body()
    return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, processCPUSeconds() - cpu)
}

/// The medians of `repeats` wall-clock and process-CPU timings of `body`, and the fastest wall
/// time (on a machine shared with other jobs the minimum is the cleanest view of the code).
private func median(_ repeats: Int, _ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double, best: Double) {
    var walls: [Double] = [], cpus: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds, cpu = processCPUSeconds()
        try body()
        cpus.append(processCPUSeconds() - cpu)
        walls.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return (walls.sorted()[repeats / 2], cpus.sorted()[repeats / 2], walls.min()!)
}

/// tanh(g * z) with z standard normal and a gain per unit: a mix of saturated and linear units.
private func tanhLike(rows: Int, columns: Int, seed: UInt64) -> ActivationMatrix {
    var rng = RandomGenerator(seed: seed)
    let gains = (0..<columns).map { _ in Float(0.5 + 3 * rng.nextDouble()) }
    var s = [Float](repeating: 0, count: rows * columns)
    for i in 0..<rows { for j in 0..<columns { s[i * columns + j] = tanhf(gains[j] * Float(rng.normal())) } }
    return ActivationMatrix(rows: rows, columns: columns, scalars: s)
}


/// "wall W unit (cpu C unit)" with the values scaled by `scale`.
private func format(_ t: (wall: Double, cpu: Double), scale: Double, unit: String, digits: Int = 1) -> String {
    "\(format(t.wall * scale, digits)) \(unit) wall (\(format(t.cpu * scale, digits)) \(unit) cpu)"
}

/// "median wall W unit (cpu C unit, best B unit)".
private func format(_ t: (wall: Double, cpu: Double, best: Double), scale: Double, unit: String, digits: Int = 1) -> String {
    "median \(format(t.wall * scale, digits)) \(unit) wall (\(format(t.cpu * scale, digits)) \(unit) cpu, " +
        "best \(format(t.best * scale, digits)) \(unit))"
}

/// Runs the sections named in `INFOPLANE_BENCH_INFOTHEORY` (comma-separated among binning,
/// binning-run, kde, kde-run, kde-large), or all but kde-run when it is unset.
func runInfoTheoryBenchmarks() {
    let env = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset"
    let chosen = ProcessInfo.processInfo.environment["INFOPLANE_BENCH_INFOTHEORY"]
    let sections = Set((chosen ?? "binning,binning-run,kde,kde-large").split(separator: ",").map(String.init))
    print("== InfoTheory (OPENBLAS_NUM_THREADS=\(env), \(ProcessInfo.processInfo.activeProcessorCount) cores)")
    let n = 4096
    let labels = (0..<n).map { ($0 * 2654435761) % 7 < 3 ? 1 : 0 }
    let layer = tanhLike(rows: n, columns: 10, seed: 1)
    do {
        // Binning, one layer-epoch, one thread.
        if sections.contains("binning") {
        let binning = try BinningEstimator(labels: labels)
        for disc in [Discretization.edges(bins: 30), .width(0.07), .uniform(bins: 100, lower: -1, upper: 1)] {
            var e: BinningEstimate?
            let t = try median(201) { e = try binning.estimate(layer, discretization: disc) }
            print("binning \(disc) 4096 x 10: \(format(t, scale: 1e6, unit: "us")) per layer-epoch " +
                  "(H(T) = \(format(e!.entropy, 3)) bits, \(e!.distinctRows) bins)")
        }
        // The narrower layers of the 12-bit network: fewer distinct rows, more repeats.
        for width in [7, 5, 4, 3, 2] {
            let narrow = tanhLike(rows: n, columns: width, seed: UInt64(width))
            var e: BinningEstimate?
            let t = try median(201) { e = try binning.estimate(narrow, discretization: .edges(bins: 30)) }
            print("binning edges(30) 4096 x \(width): \(format(t, scale: 1e6, unit: "us")) (\(e!.distinctRows) bins)")
        }
        let repeated = try BinningEstimator(labels: labels, inputGroups: (0..<n).map { $0 / 2 })
        let tr = try median(201) { _ = try repeated.estimate(layer, discretization: .edges(bins: 30)) }
        print("binning edges(30) 4096 x 10 with repeated inputs (H(T|X) computed): \(format(tr, scale: 1e6, unit: "us"))")
        }

        // Whole 12-bit runs through the driver, both cores.
        let widths = [10, 7, 5, 4, 3, 2]
        let variants = 8   // distinct matrices per layer, cycled over epochs
        let pool = widths.enumerated().map { (l, w) in
            (0..<variants).map { tanhLike(rows: n, columns: w, seed: UInt64(100 * l + $0)) }
        }
        for epochs in [274, 8000] where sections.contains("binning-run") {
            let tasks = (0..<epochs).flatMap { e in (1...6).map { LayerEpoch(epoch: e, layer: $0) } }
            for scheme in [BinningScheme.edges(bins: 30), .global(bins: 100)] {
                let driver = try InformationPlaneEstimation(configuration: .binning(scheme), labels: labels)
                let t = try seconds {
                    _ = try driver.run(tasks, activations: { pool[$0.layer - 1][$0.epoch % variants] })
                }
                print("binning run \(scheme), 6 layers x \(epochs) epochs, 2 workers: \(format(t, scale: 1, unit: "s", digits: 3)) " +
                      "= \(format(t.wall / Double(tasks.count) * 1e6, 1)) us wall per layer-epoch")
            }
        }

        // KDE, one layer-epoch.
        if sections.contains("kde") {
        for workers in [1, 2] {
            let kde = try KDEEstimator(noiseVariance: 0.1, bound: .both, labels: labels, workers: workers)
            var e: KDEEstimate?
            let t = try median(11) { e = try kde.estimate(layer) }
            let b = e!.upper!.bits
            print("KDE both bounds + I(T;Y) 4096 x 10, \(workers) worker(s): \(format(t, scale: 1e3, unit: "ms")) " +
                  "(I_XT upper \(format(b.inputInformation, 3)) bits)")
        }
        let kdeUpper = try KDEEstimator(noiseVariance: 0.1, bound: .upper, labels: labels, workers: 2)
        let tu = try median(11) { _ = try kdeUpper.estimate(layer) }
        print("KDE upper bound + I(T;Y) 4096 x 10, 2 workers: \(format(tu, scale: 1e3, unit: "ms"))")
        }
        if sections.contains("kde-run") {
            let tasks = (0..<274).flatMap { e in (1...6).map { LayerEpoch(epoch: e, layer: $0) } }
            let driver = try InformationPlaneEstimation(configuration: .kde(noiseVariance: 0.1, bound: .both), labels: labels)
            let t = try seconds { _ = try driver.run(tasks, activations: { pool[$0.layer - 1][$0.epoch % variants] }) }
            print("KDE run, both bounds, 6 layers x 274 epochs, 2 workers: \(format(t, scale: 1, unit: "s", digits: 2)) " +
                  "= \(format(t.wall / Double(tasks.count) * 1e3)) ms wall per layer-epoch")
        }

        // KDE on 10000 x 1024 against sgemm of the same shape.
        if sections.contains("kde-large") {
        let big = 10_000, d = 1024
        var rng = RandomGenerator(seed: 9)
        let x = (0..<big * d).map { _ in max(0, Float(rng.normal())) * 0.1 }
        var c = [Float](repeating: 0, count: big * big)
        for threads in [1, 2] {
            let t = BLAS.withThreads(threads) {
                seconds {
                    x.withUnsafeBufferPointer { a in
                        c.withUnsafeMutableBufferPointer { cc in
                            BLAS.sgemm(transposeA: false, transposeB: true, m: big, n: big, k: d,
                                       a: a.baseAddress!, lda: d, b: a.baseAddress!, ldb: d, c: cc.baseAddress!, ldc: big)
                        }
                    }
                }
            }
            let flops = 2 * Double(big) * Double(big) * Double(d)
            print("sgemm 10000 x 1024 x 10000 (X X^T), \(threads) BLAS thread(s): \(format(t, scale: 1, unit: "s", digits: 3)), " +
                  "\(format(flops / t.wall / 1e9, 1)) GFLOP/s wall")
        }
        c = []
        let bigLayer = ActivationMatrix(rows: big, columns: d, scalars: x)
        let bigLabels = (0..<big).map { $0 % 10 }
        for (workers, block) in [(2, 128), (2, 256)] {
            let kde = try KDEEstimator(noiseVariance: 0.1, bound: .both, labels: bigLabels, workers: workers, blockRows: block)
            var e: KDEEstimate?
            let t = try seconds { e = try kde.estimate(bigLayer) }
            // GEMM work actually done: the upper triangle by blocks, 2 m (N - i0) d per block.
            var gemmFlops = 0.0
            for i0 in stride(from: 0, to: big, by: block) {
                gemmFlops += 2 * Double(min(block, big - i0)) * Double(big - i0) * Double(d)
            }
            print("KDE both bounds + I(T;Y) 10000 x 1024, \(workers) workers, blocks of \(block): \(format(t, scale: 1, unit: "s", digits: 3)), " +
                  "\(format(gemmFlops / t.wall / 1e9, 1)) GFLOP/s wall of GEMM work over the whole estimate " +
                  "(I_XT upper \(format(e!.upper!.bits.inputInformation, 3)) bits)")
        }
        }
    } catch {
        print("InfoTheory benchmark failed: \(error)")
    }
}
// MARK: - kNN mutual information (KSG and Ross): `infoplane-bench ksg`
//
// Release-mode benchmarks of the Kraskov (KSG) and Ross kNN estimators.
//
// Data: X is N x d standard normal; T is a nonlinear function of X plus noise,
// T_j = tanh(x_j + 0.5 x_{(j+1) mod d}) + 0.3 z_j (N x d, the same d); Y, 10 classes, is the
// index of the largest of x_0 ... x_9. Measured: I(X;T) by KSG algorithms 1 and 2 (the joint
// space has 2d dimensions) and I(T;Y) by Ross's form, k = 3, 2 workers, at 4096 x 10 (goal:
// under 50 ms) and 65536 x 20 (goal: under 10 s), and the scikit-learn-comparable 1-D case:
// I(x_j; y) for each of 20 columns of 65536 rows, y = sum_j tanh(x_j) + noise
// (`mutual_info_regression` does one 1-D feature against a 1-D target per column).
// It prints; it asserts nothing. Sections (`INFOPLANE_BENCH_KSG`, comma-separated): small
// (4096 x 10), large (65536 x 20), columns (the 1-D case), shapes (the tree, the scan and the
// estimators' automatic choice at several (N, d)); unset: small and columns.
//
//   swift build -c release --product infoplane-bench && .build/release/infoplane-bench ksg



private func ms(_ t: (wall: Double, cpu: Double, best: Double)) -> String {
    String(format: "median %.1f ms wall (%.1f ms cpu, best %.1f ms)", t.wall * 1e3, t.cpu * 1e3, t.best * 1e3)
}

/// (X, T, Y) as described at the top of the file.
func ksgBenchData(n: Int, d: Int, seed: UInt64) -> (ActivationMatrix, ActivationMatrix, [Int]) {
    var rng = RandomGenerator(seed: seed)
    var x = [Float](repeating: 0, count: n * d), t = [Float](repeating: 0, count: n * d)
    var y = [Int](repeating: 0, count: n)
    for i in 0..<n { for j in 0..<d { x[i * d + j] = Float(rng.normal()) } }
    for i in 0..<n {
        for j in 0..<d {
            t[i * d + j] = tanhf(x[i * d + j] + 0.5 * x[i * d + (j + 1) % d]) + 0.3 * Float(rng.normal())
        }
        var best = 0
        for j in 1..<min(d, 10) where x[i * d + j] > x[i * d + best] { best = j }
        y[i] = best
    }
    return (ActivationMatrix(rows: n, columns: d, scalars: x), ActivationMatrix(rows: n, columns: d, scalars: t), y)
}

func runKSGBenchmarks() {
    let chosen = ProcessInfo.processInfo.environment["INFOPLANE_BENCH_KSG"] ?? "small,columns"
    let sections = Set(chosen.split(separator: ",").map(String.init))
    print("== KSG (\(ProcessInfo.processInfo.activeProcessorCount) cores, k = 3, 2 workers)")
    do {
        for (n, d, repeats, name) in [(4096, 10, 11, "small"), (65536, 20, 1, "large")] where sections.contains(name) {
            let (x, t, y) = ksgBenchData(n: n, d: d, seed: 1)
            for algorithm in KSGAlgorithm.allCases {
                let est = try KSGEstimator(k: 3, algorithm: algorithm, seed: 0, workers: 2)
                var v = 0.0
                let r = try median(repeats) { v = try est.mutualInformation(x, t) }
                print("KSG alg \(algorithm.rawValue) I(X;T) \(n) x \(d) (joint \(2 * d)-D): \(ms(r)) = \(String(format: "%.4f", v)) nats")
            }
            let est = try KSGEstimator(k: 3, seed: 0, workers: 2)
            var v = 0.0
            let r = try median(repeats) { v = try est.labelInformation(t, labels: y) }
            print("Ross I(T;Y) \(n) x \(d), 10 classes: \(ms(r)) = \(String(format: "%.4f", v)) nats")
        }
        if sections.contains("shapes") {
            // Each search at several (N, d): joint k-NN in 2d dimensions (X, T of the data above,
            // d each) and the strict count in X's d dimensions, 2 workers, best of 3.
            // `INFOPLANE_BENCH_KSG_SHAPES` = "N:d,N:d,..." replaces the default list.
            let list = ProcessInfo.processInfo.environment["INFOPLANE_BENCH_KSG_SHAPES"]
                ?? "1024:1,4096:1,65536:1,4096:2,65536:2,4096:3,16384:3,4096:4,16384:4,1024:5,4096:5,16384:5,4096:10,16384:10,4096:20"
            let shapes = list.split(separator: ",").map { $0.split(separator: ":").map { Int($0)! } }
            for shape in shapes {
                let (n, d) = (shape[0], shape[1])
                let (x, t, _) = ksgBenchData(n: n, d: d, seed: 3)
                var joint = [Double](repeating: 0, count: n * 2 * d)
                for i in 0..<n {
                    for j in 0..<d { joint[i * 2 * d + j] = Double(x.scalars[i * d + j]); joint[i * 2 * d + d + j] = Double(t.scalars[i * d + j]) }
                }
                var line = "search N = \(n), joint \(2 * d)-D / marginal \(d)-D:"
                var sums: [Int] = []
                for (name, scan, automatic) in [("tree", false, false), ("scan", true, false), ("automatic", false, true)] {
                    var best = (nearest: Double.infinity, count: Double.infinity)
                    for _ in 0..<3 {
                        let r = KSGSearchTiming.measure(joint: joint, dx: d, dy: d, k: 3, scanNearest: scan, scanCount: scan,
                                                        automatic: automatic, workers: 2)
                        best = (min(best.nearest, r.nearest), min(best.count, r.count)); sums.append(r.countSum)
                    }
                    line += String(format: " %@ kNN %.2f ms, count %.2f ms;", name, best.nearest * 1e3, best.count * 1e3)
                }
                print(line + (Set(sums).count == 1 ? " (same counts)" : " COUNTS DIFFER \(Set(sums))"))
            }
        }
        if sections.contains("columns") {
            // 20 columns of 65536 rows, each against the same 1-D target.
            let n = 65536, d = 20
            var rng = RandomGenerator(seed: 2)
            var x = [Float](repeating: 0, count: n * d), y = [Float](repeating: 0, count: n)
            for i in 0..<n {
                var s: Float = 0
                for j in 0..<d { let v = Float(rng.normal()); x[i * d + j] = v; s += tanhf(v) }
                y[i] = s + 0.5 * Float(rng.normal())
            }
            let columns = (0..<d).map { j in ActivationMatrix(rows: n, columns: 1, scalars: (0..<n).map { x[$0 * d + j] }) }
            let target = ActivationMatrix(rows: n, columns: 1, scalars: y)
            let est = try KSGEstimator(k: 3, seed: 0, workers: 2)
            var values: [Double] = []
            let r = try median(3) { values = try columns.map { try est.mutualInformation($0, target) } }
            print("KSG alg 1 I(x_j; y), 20 columns of 65536 rows (each 1-D): \(ms(r)), " +
                  "I(x_0; y) = \(String(format: "%.4f", values[0])) nats, mean \(String(format: "%.4f", values.reduce(0, +) / Double(d)))")
        }
    } catch {
        print("KSG benchmark failed: \(error)")
    }
}
