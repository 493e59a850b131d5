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
}
