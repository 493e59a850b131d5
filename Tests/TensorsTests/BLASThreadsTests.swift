// The per-call BLAS thread count: scopes that nest and restore, OpenBLAS's
// global brought to each call's count, correct products from concurrent
// callers that ask for different counts, and concurrentPerform workers.
// No timings: only counts and results are checked.

import Dispatch
import Foundation
import Testing
@testable import Tensors

/// The square-ish shapes of these tests: large enough (m·n·k > 4 · 65536)
/// that OpenBLAS really splits them when asked for more than one thread,
/// plus one below that bound, which it always runs on the caller's thread.
private let threadedCases: [GEMMCase] = [
    GEMMCase(m: 96, n: 80, k: 72),
    GEMMCase(transposeA: true, m: 80, n: 96, k: 64, alpha: 0.5, beta: 1),
    GEMMCase(transposeB: true, m: 72, n: 88, k: 96, padA: 3, padC: 5),
    GEMMCase(transposeA: true, transposeB: true, m: 88, n: 72, k: 80, beta: -1, padB: 2),
    GEMMCase(m: 24, n: 20, k: 16),
]

/// Whether C from BLAS matches the Double reference (padding untouched).
private func matchesNaive(_ g: GEMMCase, _ run: (a: [Float], b: [Float], c0: [Float], c: [Float])) -> Bool {
    let expected = naiveGEMM(g, run.a, run.b, run.c0)
    let tolerance = 1e-5 * Double(g.k + 1)
    for i in 0..<g.m {
        for j in 0..<g.ldc {
            let index = i * g.ldc + j
            if j >= g.n {
                if run.c[index] != run.c0[index] { return false }
            } else if abs(Double(run.c[index]) - expected[index]) > tolerance * (1 + abs(expected[index])) {
                return false
            }
        }
    }
    return true
}

/// One row-major double-precision product through `BLAS.dgemm`, checked
/// against a triple loop.
private func dgemmMatchesNaive(m: Int, n: Int, k: Int, seed: UInt64) -> Bool {
    var rng = RandomGenerator(seed: seed)
    let a = (0..<(m * k)).map { _ in Double(rng.uniform(-1, 1)) }
    let b = (0..<(k * n)).map { _ in Double(rng.uniform(-1, 1)) }
    var c = [Double](repeating: 0, count: m * n)
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                BLAS.dgemm(transposeA: false, transposeB: false, m: m, n: n, k: k,
                           a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n)
            }
        }
    }
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k { sum += a[i * k + p] * b[p * n + j] }
            if abs(c[i * n + j] - sum) > 1e-12 * Double(k) { return false }
        }
    }
    return true
}

private struct Failure: Error {}

@Suite("BLAS thread count per call")
struct BLASThreadsTests {
    @Test func scopesNestAndRestore() throws {
        let outside = BLAS.threads
        #expect(outside == BLAS.defaultThreads)
        BLAS.withThreads(2) {
            #expect(BLAS.threads == 2)
            BLAS.withThreads(1) {
                #expect(BLAS.threads == 1)
                BLAS.withThreads(3) { #expect(BLAS.threads == 3) }
                #expect(BLAS.threads == 1)
            }
            #expect(BLAS.threads == 2)
        }
        #expect(BLAS.threads == outside)
        // A throwing body restores the count too.
        #expect(throws: Failure.self) {
            try BLAS.withThreads(3) {
                #expect(BLAS.threads == 3)
                throw Failure()
            }
        }
        #expect(BLAS.threads == outside)
        #expect(BLAS.withThreads(2) { BLAS.threads * 10 } == 20)
    }

    @Test func asyncScopesReachChildTasksButNotDetachedOnes() async {
        await BLAS.withThreads(2) {
            #expect(BLAS.threads == 2)
            await Task.yield()
            #expect(BLAS.threads == 2)
            async let child = BLAS.threads
            #expect(await child == 2)
            let grouped = await withTaskGroup(of: Int.self) { group in
                for count in [1, 3] {
                    group.addTask { BLAS.withThreads(count) { BLAS.threads } + 10 * BLAS.threads }
                }
                return await group.reduce(into: []) { $0.append($1) }.sorted()
            }
            #expect(grouped == [21, 23])   // each child's own scope, and the parent's 2 around it
            let detached = await Task.detached { BLAS.threads }.value
            #expect(detached == BLAS.defaultThreads)
        }
    }

    @Test func threadsOfOtherThreadsAreTheirOwn() {
        // A thread outside any task keeps its own scope, unseen by the others.
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        let shared = SharedPointer(base: counts.baseAddress!)
        let group = DispatchGroup()
        for t in 0..<8 {
            group.enter()
            Thread {
                BLAS.withThreads(t + 1) {
                    usleep(1000)
                    shared.base[t] = BLAS.threads
                }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(Array(counts) == Array(1...8))
    }

    @Test func openBLASRunsEachCallAtItsCount() async {
        // Inside the gate the library's global is the call's count; at rest it is 1.
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for i in 0..<200 {
                        let count = 1 + (task + i) % 3
                        if ThreadGate.shared.run(threads: count, { BLAS.libraryThreads }) != count { wrong += 1 }
                    }
                    return wrong
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(ThreadGate.shared.run(threads: 1) { BLAS.libraryThreads } == 1)
    }

    @Test func concurrentCallersWithDifferentCountsGetCorrectProducts() {
        // 12 OS threads on the machine's cores, so calls are preempted in the middle
        // and 1-, 2- and 3-thread calls overlap; every product is checked.
        let threads = 12, rounds = 12
        let failures = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
        failures.initialize(repeating: 0)
        defer { failures.deallocate() }
        let shared = SharedPointer(base: failures.baseAddress!)
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread {
                let count = 1 + t % 3
                BLAS.withThreads(count) {
                    for round in 0..<rounds {
                        let g = threadedCases[(t + round) % threadedCases.count]
                        let seed = UInt64(1000 * t + round)
                        if BLAS.threads != count || !matchesNaive(g, runGEMM(g, seed: seed, useBLAS: true)) {
                            shared.base[t] += 1
                        }
                        if round % 4 == 0 && !dgemmMatchesNaive(m: 64, n: 72, k: 80, seed: seed) {
                            shared.base[t] += 1
                        }
                    }
                }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(Array(failures) == [Int](repeating: 0, count: threads))
    }

    @Test func tensorProductsInConcurrentTasksMatchTheSequentialOnes() async {
        // The same matmul on 1 and on 2 threads, from tasks running side by side.
        var rng = RandomGenerator(seed: 41)
        let a = Tensor(shape: [128, 96], scalars: (0..<(128 * 96)).map { _ in rng.uniform(-1, 1) })
        let b = Tensor(shape: [96, 112], scalars: (0..<(96 * 112)).map { _ in rng.uniform(-1, 1) })
        let reference = BLAS.withThreads(1) { Tensor.matmul(a, b) }
        let worst = await withTaskGroup(of: Float.self) { group in
            for task in 0..<6 {
                group.addTask {
                    await BLAS.withThreads(1 + task % 2) {
                        var worst: Float = 0
                        for _ in 0..<10 {
                            let c = Tensor.matmul(a, b)
                            for (x, y) in zip(c.scalars, reference.scalars) { worst = max(worst, abs(x - y)) }
                            await Task.yield()
                        }
                        return worst
                    }
                }
            }
            return await group.reduce(0) { max($0, $1) }
        }
        #expect(worst <= 1e-4)
    }

    @Test func concurrentPerformWorkersSeeTheIntendedCount() {
        let iterations = 32
        let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: iterations)
        defer { seen.deallocate() }
        let shared = SharedPointer(base: seen.baseAddress!)
        BLAS.withThreads(2) {
            // The default: one BLAS thread per worker, whatever the caller's count.
            seen.initialize(repeating: 0)
            BLAS.concurrentPerform(iterations: iterations) { i in shared.base[i] = BLAS.threads }
            #expect(Array(seen) == [Int](repeating: 1, count: iterations))
            // Inheriting the caller's count explicitly.
            BLAS.concurrentPerform(iterations: iterations, threads: BLAS.threads) { i in shared.base[i] = BLAS.threads }
            #expect(Array(seen) == [Int](repeating: 2, count: iterations))
            // Nested scopes inside a worker still win, and end with it.
            BLAS.concurrentPerform(iterations: iterations, threads: 3) { i in
                shared.base[i] = BLAS.withThreads(1) { BLAS.threads } * 10 + BLAS.threads
            }
            #expect(Array(seen) == [Int](repeating: 13, count: iterations))
            #expect(BLAS.threads == 2)
        }
    }
}
