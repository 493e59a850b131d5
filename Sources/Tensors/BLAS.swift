// The one door to OpenBLAS: single-precision GEMM and the thread count.
//
// Everything that multiplies matrices in InfoPlane goes through `BLAS.sgemm`,
// so that the thread policy is set in one place. OpenBLAS by default spreads
// even tiny products over every core, which costs far more in synchronisation
// than it saves: callers choose the thread count on purpose (see
// `BLAS.threads` and the benchmark executable for the measured choice).

internal import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Single-precision BLAS through OpenBLAS.
public enum BLAS {
    /// The number of threads OpenBLAS uses for one call.
    ///
    /// Set it once at start-up: 1 for small products and for code that runs
    /// its own threads (per-layer estimators), 2 for large GEMMs
    /// (784 x 1024 layers, KDE distance blocks).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// C = alpha * op(A) * op(B) + beta * C, all row-major.
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
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Double-precision GEMM, row-major, for the exact-MI and reference code.
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
        cblas_dgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
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
