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
import InfoTheory
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
