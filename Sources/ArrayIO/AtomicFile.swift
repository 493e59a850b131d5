// Atomic file writes: a temporary file in the target's directory, flushed to
// disk, then renamed over the target.
//
// A reader (or a process restarted after `kill -9`) therefore sees either the
// old file or the complete new one, never a prefix. This is what makes an
// InfoPlane run directory crash-safe; it is deliberately not a general file API.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing and reading whole files.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically.
    ///
    /// The bytes go to `path.tmp-<pid>-<n>` in the same directory, which is
    /// fsync'ed and renamed onto `path`; on any failure the temporary file is
    /// removed and the previous content of `path` (if any) is left untouched.
    ///
    /// - Throws: `FileError` naming `path` if the directory is missing or not
    ///   writable, the disk is full, or the rename fails.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBufferPointer { try write(UnsafeRawBufferPointer($0), to: path) }
    }

    /// Writes the UTF-8 bytes of `text` to `path` atomically.
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// How far a write is made durable before it returns.
    public enum Durability: Sendable {
        /// fsync the file and its directory: the new content survives a power loss.
        case synchronized
        /// Rename only: the new content survives the process being killed
        /// (the kernel has it), but not yet a power loss. The caller makes a
        /// batch of such writes durable at once with `flushFileSystem(containing:)`
        /// before writing the record that refers to them.
        case deferred
    }

    /// Flushes the dirty data of the file system that holds `path` to disk
    /// (`syncfs(2)`; `sync(2)` if the directory cannot be opened): one call
    /// that makes a batch of `.deferred` writes under `path` durable, without
    /// waiting for other file systems' writes.
    public static func flushFileSystem(containing path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { sync(); return }
        defer { close(fd) }
        if systemSyncFS(fd) != 0 { sync() }
    }

    /// Writes `bytes` to `path` atomically with the given durability.
    public static func write(_ bytes: [UInt8], to path: String, durability: Durability) throws {
        try bytes.withUnsafeBufferPointer { try write(UnsafeRawBufferPointer($0), to: path, durability: durability) }
    }

    /// Writes a raw buffer to `path` atomically (see `write(_:to:)`).
    public static func write(_ buffer: UnsafeRawBufferPointer, to path: String,
                             durability: Durability = .synchronized) throws {
        let temporary = temporaryPath(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileError(path: path, reason: "cannot create file (\(errnoString()))")
        }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        var offset = 0
        while offset < buffer.count {
            let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let message = errnoString()
                close(fd)
                throw FileError(path: path, reason: "write failed (\(message))")
            }
            offset += n
        }
        if durability == .synchronized && fsync(fd) != 0 {
            let message = errnoString()
            close(fd)
            throw FileError(path: path, reason: "fsync failed (\(message))")
        }
        if close(fd) != 0 {
            throw FileError(path: path, reason: "close failed (\(errnoString()))")
        }
        if rename(temporary, path) != 0 {
            throw FileError(path: path, reason: "rename failed (\(errnoString()))")
        }
        ok = true
        if durability == .deferred { return }
        // Make the rename itself durable: without an fsync of the directory a
        // power failure can lose the new directory entry. Best effort: some
        // file systems refuse to fsync a directory, and the data is already safe.
        let directory = fileDirectory(path)
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }

    /// The directory containing `path` ("." for a bare file name).
    static func fileDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Reads the whole file at `path`.
    ///
    /// - Throws: `FileError` if the file is missing or unreadable.
    public static func read(_ path: String) throws -> [UInt8] {
        try ReadOnlyFile(path: path).readToEnd()
    }

    /// Reads the file at `path` as UTF-8 text.
    public static func readText(_ path: String) throws -> String {
        let bytes = try read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FileError(path: path, reason: "not valid UTF-8 text")
        }
        return text
    }

    /// Whether a file or directory exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Whether `path` is an existing directory.
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates `path` and its missing parents, like `mkdir -p`.
    ///
    /// - Throws: `FileError` if a component exists and is not a directory, or
    ///   the directory cannot be created.
    public static func createDirectory(_ path: String) throws {
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if !isDirectory(prefix) {
                if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                    throw FileError(path: path, reason: "cannot create directory (\(errnoString()))")
                }
                if !isDirectory(prefix) {
                    throw FileError(path: prefix, reason: "exists and is not a directory")
                }
            }
            prefix += "/"
        }
    }

    /// The names of the entries of directory `path`, sorted, without `.` and `..`.
    public static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            throw FileError(path: path, reason: "cannot open directory (\(errnoString()))")
        }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Renames `source` onto `destination` (atomically replacing it).
    /// - Throws: `FileError` naming `destination` if the rename fails.
    public static func move(_ source: String, onto destination: String) throws {
        #if canImport(Glibc)
        let result = Glibc.rename(source, destination)
        #elseif canImport(Musl)
        let result = Musl.rename(source, destination)
        #else
        let result = Darwin.rename(source, destination)
        #endif
        if result != 0 {
            throw FileError(path: destination, reason: "cannot rename \(source) onto it (\(errnoString()))")
        }
    }

    /// Removes the file at `path` if it exists.
    public static func remove(_ path: String) {
        unlink(path)
    }

    private static func temporaryPath(for path: String) -> String {
        // The pid and a per-process counter keep concurrent writers apart; the
        // suffix is recognisable so a crashed run's leftovers can be cleaned.
        let n = counter.next()
        return "\(path).tmp-\(getpid())-\(n)"
    }

    private static let counter = Counter()
}

/// A thread-safe increasing counter for temporary-file names.
private final class Counter: @unchecked Sendable {
    private var value = 0
    private var lock = pthread_mutex_t()
    init() { pthread_mutex_init(&lock, nil) }
    func next() -> Int {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        value += 1
        return value
    }
}

// The C functions named like the Swift methods above, reached through the
// platform module (`Glibc.write` alone would not build on macOS or Musl).
@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
    Musl.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}

@inline(__always)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(fd, buffer, count)
    #elseif canImport(Musl)
    Musl.read(fd, buffer, count)
    #else
    Darwin.read(fd, buffer, count)
    #endif
}

func errnoString() -> String {
    String(cString: strerror(errno))
}

/// A file open for reading at known offsets, closed when the value goes away.
final class ReadOnlyFile {
    let path: String
    let size: Int
    private let fd: Int32

    /// Opens `path`.
    /// - Throws: `FileError` naming `path` if it cannot be opened or is a directory.
    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, reason: "cannot open file (\(errnoString()))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = errnoString()
            close(fd)
            throw FileError(path: path, reason: "cannot stat file (\(reason))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw FileError(path: path, reason: "is a directory, not a file")
        }
        size = max(0, Int(st.st_size))
    }

    deinit { close(fd) }

    /// Everything from the current position (the start, unless `readToEnd` ran
    /// before) to the end, including what was appended since the file was opened.
    func readToEnd() throws -> [UInt8] {
        // Straight into the result, sized by fstat plus one byte (a full buffer
        // means the file has grown since); then in chunks for the rest.
        let expected = size + 1
        var failure: Int32 = 0
        var result = [UInt8](unsafeUninitializedCapacity: expected) { buffer, initialized in
            initialized = 0
            while initialized < expected {
                let n = systemRead(fd, buffer.baseAddress! + initialized, expected - initialized)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { return }
                initialized += n
            }
        }
        if failure != 0 {
            throw FileError(path: path, reason: "read failed (\(String(cString: strerror(failure))))")
        }
        if result.count < expected { return result }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, reason: "read failed (\(errnoString()))")
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Fills `buffer` with the bytes at `offset`.
    /// - Throws: `FileError` if the read fails or the file ends first (it shrank
    ///   since it was opened).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, reason: "read failed (\(errnoString()))")
            }
            if n == 0 {
                throw FileError(path: path, reason: "truncated: the file ended at byte \(offset + done) while "
                    + "reading \(buffer.count) bytes from \(offset) (it shrank while being read)")
            }
            done += n
        }
    }

    /// The `count` bytes at `offset`.
    func bytes(count: Int, at offset: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: Error?
        let result = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do {
                try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
                initialized = count
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return result
    }
}

/// glibc's `syncfs(2)`, which its Swift module does not export (the header
/// declares it only under _GNU_SOURCE).
@_silgen_name("syncfs")
private func systemSyncFS(_ fd: Int32) -> Int32
