// Errors for everything that reads or writes files in InfoPlane.
//
// Environment and user errors (a missing file, a truncated array, a failed
// rename) are thrown as `FileError`, whose description always names the file
// and the problem, so that a command-line tool can print it as it is.

/// An I/O or format error that names the file it concerns.
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path of the file (or directory) concerned.
    public var path: String
    /// What went wrong, as a sentence fragment ("truncated data: ...").
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
