// A one-line progress display on standard error, shown only on a terminal.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Rewrites one status line on stderr at most ten times a second; silent
/// when stderr is not a terminal (logs and CI stay clean).
final class TerminalProgress {
    private let enabled: Bool
    private var lastDraw = 0.0
    private let start = Date()
    private var drewSomething = false

    init() { enabled = isatty(2) != 0 }

    /// Shows `done` of `total` with a message; forced draws ignore the rate limit.
    func update(_ done: Int, of total: Int, _ message: String, force: Bool = false) {
        guard enabled else { return }
        let now = Date().timeIntervalSince(start)
        guard force || now - lastDraw >= 0.1 || done == total else { return }
        lastDraw = now
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let eta = fraction > 0 && fraction < 1 ? now / fraction - now : 0
        let line = String(format: "\r\u{1B}[K%3.0f%% %d/%d %@ %@", fraction * 100, done, total, message,
                          fraction < 1 ? String(format: "(%.0f s left)", eta) : String(format: "(%.1f s)", now))
        FileHandle.standardError.write(line.data(using: .utf8)!)
        drewSomething = true
    }

    /// Ends the status line.
    func finish() {
        guard enabled, drewSomething else { return }
        FileHandle.standardError.write("\n".data(using: .utf8)!)
        drewSomething = false
    }
}
