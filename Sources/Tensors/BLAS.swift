// The one door to OpenBLAS: single-precision GEMM and the thread count.
//
// Everything that multiplies matrices in InfoPlane goes through `BLAS.sgemm`
// (or `BLAS.dgemm`), so that the thread policy is set in one place. OpenBLAS
// by default spreads even tiny products over every core, which costs far more
// in synchronisation than it saves: callers choose the thread count on purpose
// (see `BLAS.withThreads` and the benchmark executable for the measured
// choice).
//
// The choice is per call, not per process. OpenBLAS 0.3.21 (pthreads build)
// keeps one process-wide count, `blas_cpu_number`, read at the start of every
// call, and exports no per-call or per-thread setting (later releases add
// `openblas_set_num_threads_local`). So the count a caller wants travels with
// the caller, in a task-local value set by `BLAS.withThreads`, and each call
// brings the library's global to it under `ThreadGate`: at rest the global is
// 1, calls on one thread share the gate and run concurrently, and a call on
// more threads takes the gate alone, sets its count, and puts 1 back before
// it leaves.

internal import CBLAS
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Single-precision BLAS through OpenBLAS.
public enum BLAS {
    /// The thread count of BLAS calls made outside any `withThreads` scope:
    /// OpenBLAS's own choice when the process started (OPENBLAS_NUM_THREADS,
    /// else the number of cores; INFOPLANE_BLAS_THREADS when set, see
    /// `ThreadGate.libraryDefault`).
    public static var defaultThreads: Int { ThreadGate.shared.libraryDefault }

    /// The innermost `withThreads` count of this task (or of this thread,
    /// outside tasks); nil outside every scope.
    @TaskLocal static var scopedThreads: Int?

    /// The number of threads OpenBLAS uses for a call made here: the
    /// innermost `withThreads` count of the current task or thread, else
    /// `defaultThreads`.
    ///
    /// 1 for small products and for code that runs its own threads
    /// (per-layer estimators, concurrent training runs), 2 for large GEMMs
    /// (784 x 1024 layers, KDE distance blocks).
    public static var threads: Int { scopedThreads ?? defaultThreads }

    /// Runs `body` with every BLAS call it makes, on this task or thread, on
    /// `count` threads; the previous count is back when it returns or throws.
    ///
    /// Scopes nest (the innermost wins) and are local to the task, so
    /// concurrent tasks (or tests) with different counts do not see each
    /// other's. Child tasks (`async let`, task groups) inherit the count;
    /// threads started otherwise (`DispatchQueue.concurrentPerform`, `Thread`)
    /// do not, and run at `defaultThreads`: fan out with `BLAS.concurrentPerform`,
    /// which gives each worker its count.
    /// - Precondition: `count` >= 1.
    public static func withThreads<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        precondition(count >= 1, "BLAS.withThreads: thread count \(count), expected at least 1")
        return try $scopedThreads.withValue(count, operation: body)
    }

    /// `withThreads` for an asynchronous body: the count holds across its
    /// suspension points and in the child tasks it starts.
    /// - Precondition: `count` >= 1.
    public static func withThreads<R>(_ count: Int, isolation: isolated (any Actor)? = #isolation,
                                      _ body: () async throws -> R) async rethrows -> R {
        precondition(count >= 1, "BLAS.withThreads: thread count \(count), expected at least 1")
        return try await $scopedThreads.withValue(count, operation: body, isolation: isolation)
    }

    /// `DispatchQueue.concurrentPerform(iterations:execute:)`, with each
    /// iteration's BLAS calls on `threads` threads.
    ///
    /// The default, 1, is for workers that already use the cores; pass
    /// `BLAS.threads` to inherit the caller's count. (A bare
    /// `concurrentPerform` inside `withThreads` would give the caller's count
    /// to the iterations that happen to run on the calling thread and
    /// `defaultThreads` to the others.)
    /// - Precondition: `threads` >= 1.
    public static func concurrentPerform(iterations: Int, threads: Int = 1, execute work: @Sendable (Int) -> Void) {
        precondition(threads >= 1, "BLAS.concurrentPerform: thread count \(threads), expected at least 1")
        DispatchQueue.concurrentPerform(iterations: iterations) { i in
            withThreads(threads) { work(i) }
        }
    }

    /// C = alpha * op(A) * op(B) + beta * C, all row-major, on `BLAS.threads`
    /// threads.
    ///
    /// op(A) is m x k, op(B) is k x n, C is m x n; `lda`, `ldb`, `ldc` are the
    /// row strides of A, B and C as stored (before transposition).
    /// - Complexity: 2mnk floating-point operations.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size \(m)x\(n)x\(k)")
        if m == 0 || n == 0 { return }
        ThreadGate.shared.run(threads: threads) {
            cblas_sgemm(CblasRowMajor,
                        transposeA ? CblasTrans : CblasNoTrans,
                        transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha,
                        a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// Double-precision GEMM, row-major, for the exact-MI and reference code,
    /// on `BLAS.threads` threads.
    public static func dgemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Double = 1,
        a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0,
        c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "dgemm: negative size \(m)x\(n)x\(k)")
        if m == 0 || n == 0 { return }
        ThreadGate.shared.run(threads: threads) {
            cblas_dgemm(CblasRowMajor,
                        transposeA ? CblasTrans : CblasNoTrans,
                        transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha,
                        a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// OpenBLAS's process-wide thread count right now (1 at rest; see
    /// `ThreadGate`).
    static var libraryThreads: Int { Int(openblas_get_num_threads()) }
}

// MARK: - Thread gate

/// Brings OpenBLAS's one global thread count to what each call asks for.
///
/// The pthreads build reads the global at the start of every call, and
/// changing it while another thread's call starts would give that call the
/// wrong count. The gate is a reader-writer lock around every call:
/// - The global is 1 at rest (set when the gate is made, at the first call).
/// - A call on 1 thread holds the gate shared: any number run at once, each on
///   its caller's thread, which OpenBLAS supports (its threaded builds lock
///   their buffer allocator; a 1-thread call never touches the thread pool).
///   The shared hold only keeps the global from changing under it: about two
///   atomic operations, against the 1-2 µs of the cheapest call that reaches
///   BLAS (see `SmallGEMM.prefersBLAS`).
/// - A call on n > 1 threads holds the gate exclusively, sets n, calls, and
///   sets 1 again before it lets go. Such calls run one at a time, as most
///   would inside OpenBLAS anyway: its threaded GEMM driver serialises calls
///   with a lock of its own, but one per compiled variant (transpose pair and
///   precision; OpenBLAS issue #5836), so two different variants could share
///   its thread pool at once. Through the gate they cannot.
/// The lock prefers writers, so a stream of 1-thread calls from several
/// workers cannot starve a multi-threaded one.
final class ThreadGate: @unchecked Sendable {
    static let shared = ThreadGate()

    /// OpenBLAS's thread count before the gate set it to 1, or the count in
    /// INFOPLANE_BLAS_THREADS when `infoplane` started OpenBLAS with one
    /// thread (its workers are then created by the first call that wants them).
    let libraryDefault: Int
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    private init() {
        if let text = getenv("INFOPLANE_BLAS_THREADS").map({ String(cString: $0) }), let count = Int(text), count >= 1 {
            libraryDefault = count
        } else {
            libraryDefault = max(1, Int(openblas_get_num_threads()))
        }
        openblas_set_num_threads(1)
        lock = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        let status = pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        precondition(status == 0, "BLAS thread gate: pthread_rwlock_init failed (\(status))")
    }

    /// Runs `call` (one BLAS call, which must not re-enter the gate) with
    /// OpenBLAS's global count at `threads`.
    @inline(__always)
    func run<R>(threads: Int, _ call: () -> R) -> R {
        if threads <= 1 {
            pthread_rwlock_rdlock(lock)
            defer { pthread_rwlock_unlock(lock) }
            return call()
        }
        pthread_rwlock_wrlock(lock)
        defer {
            openblas_set_num_threads(1)
            pthread_rwlock_unlock(lock)
        }
        openblas_set_num_threads(Int32(threads))
        return call()
    }
}

// MARK: - Kernel selection

/// Which of OpenBLAS's kernel families ("cores") runs, and asking for a
/// better one when its CPU detection falls back.
///
/// OpenBLAS (a DYNAMIC_ARCH build, as Debian ships it) picks its kernels once,
/// in a library constructor, from the CPU's model number. A CPU newer than
/// the library (OpenBLAS 0.3.21 on a Sapphire Rapids Xeon, as on the machines
/// InfoPlane was measured on) is not recognised and gets the SSE3 "Prescott"
/// kernels: sgemm then runs at about 30 GFLOP/s on one core instead of
/// 85-105 with the AVX2 ("Haswell") or AVX-512 ("SkylakeX") ones. The only
/// documented override is the environment variable OPENBLAS_CORETYPE, read
/// by that constructor, so an executable that wants the fast kernels must
/// set it and start again: `restartWithRecognizedCoreIfNeeded`.
public enum BLASCore {
    /// The kernel family OpenBLAS selected, e.g. "Prescott", "Haswell", "SkylakeX".
    public static var name: String { String(cString: openblas_get_corename()) }

    /// Core names whose kernels use at least AVX2 and FMA.
    static let vectorCores: Set<String> = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids", "excavator"]

    /// The OPENBLAS_CORETYPE to ask for, given the CPU's feature flags
    /// (/proc/cpuinfo's "flags" line) and the core OpenBLAS chose: nil when
    /// the chosen one already uses AVX2, or the CPU lacks AVX2 and FMA.
    ///
    /// AVX-512 (F, DQ, BW and VL, the SkylakeX kernels' requirements) gives
    /// "SkylakeX", else AVX2 with FMA gives "Haswell".
    public static func recommendedCoreType(cpuFlags: Set<String>, current: String) -> String? {
        if vectorCores.contains(current.lowercased()) { return nil }
        if ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The feature flags of the first CPU in /proc/cpuinfo (empty elsewhere).
    static func cpuFlags() -> Set<String> {
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            let text = String(cString: line!)
            guard text.hasPrefix("flags") else { continue }
            let values = text.split(separator: ":", maxSplits: 1).last ?? ""
            return Set(values.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        }
        return []
    }

    /// Replaces the process by a fresh run of the same executable with the
    /// same arguments and OPENBLAS_CORETYPE set, when OpenBLAS fell back to
    /// kernels slower than the CPU supports (see `recommendedCoreType`).
    ///
    /// Call it first thing in an executable's BLAS-heavy commands, before
    /// any output or side effect. It returns (doing nothing) when
    /// OPENBLAS_CORETYPE is already set, so the user can always choose, and
    /// the restarted process never restarts again; also when the kernels are
    /// fine or the exec fails. Same machine, same choice: runs stay
    /// reproducible byte for byte.
    public static func restartWithRecognizedCoreIfNeeded() {
        #if os(Linux)
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let core = recommendedCoreType(cpuFlags: cpuFlags(), current: name) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when the exec failed: carry on with the current kernels.
        unsetenv("OPENBLAS_CORETYPE")
        #endif
    }
}
