// Finding and starting `infoplane-compute`, the executable of the commands
// that compute.

import PlotCommands
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum ComputeExecutable {
    static let name = "infoplane-compute"

    /// The path of the running executable, or nil when it cannot be found.
    static func ownPath() -> String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
        var size = UInt32(4096)
        var buffer = [CChar](repeating: 0, count: Int(size))
        guard _NSGetExecutablePath(&buffer, &size) == 0 else { return nil }
        return String(cString: buffer)
        #endif
    }

    /// `infoplane-compute` in the directory of this executable.
    static func path() -> String {
        let own = ownPath() ?? CommandLine.arguments[0]
        guard let slash = own.lastIndex(of: "/") else { return name }
        return String(own[...slash]) + name
    }

    /// Replaces this process by `infoplane-compute` with the same arguments
    /// (the first one aside) and environment. Returns only on failure, after
    /// saying what is missing, with exit status 127.
    static func replaceProcess(arguments: [String]) -> Never {
        let target = path()
        startOpenBLASWithOneThread()
        var argv: [UnsafeMutablePointer<CChar>?] = ([target] + arguments.dropFirst()).map { strdup($0) } + [nil]
        execv(target, &argv)
        let reason = String(cString: strerror(errno))
        let command = arguments.count > 1 ? "`infoplane \(arguments[1])`" : "infoplane"
        writeStandardError("""
            infoplane: cannot start \(target): \(reason)
            \(command) runs in \(name), which is built beside infoplane: \
            swift build -c release --product \(name) (or `make demo`).

            """)
        exit(127)
    }

    /// Asks OpenBLAS in `infoplane-compute` to start with one thread, and
    /// passes the count it would have chosen (one per core) in
    /// INFOPLANE_BLAS_THREADS, which `BLAS.defaultThreads` reads instead.
    ///
    /// OpenBLAS starts its worker threads when the library loads, and each
    /// spins (yielding) for about 2^28 cycles before it sleeps: a tenth of a
    /// second of one core taken from every command, most of them binning or
    /// drawing without a single BLAS call. Started with one thread, OpenBLAS
    /// creates its workers when a call first asks for more. Nothing is
    /// changed when the user set the thread count (OPENBLAS_NUM_THREADS,
    /// GOTO_NUM_THREADS or OMP_NUM_THREADS).
    static func startOpenBLASWithOneThread() {
        for name in ["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS", "INFOPLANE_BLAS_THREADS"]
        where getenv(name) != nil { return }
        let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        setenv("INFOPLANE_BLAS_THREADS", String(cores), 1)
        setenv("OPENBLAS_NUM_THREADS", "1", 1)
    }
}
