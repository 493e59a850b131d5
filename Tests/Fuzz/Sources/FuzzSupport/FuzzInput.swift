// What the fuzz targets share: the input as bytes, and as a file for the
// readers that take a path.

#if canImport(Glibc)
import Glibc
#endif

public enum FuzzInput {
    /// The libFuzzer input as an array.
    public static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// A directory of this process's own, created once (under TMPDIR, else /tmp).
    public static let directory: String = {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        let path = "\(base)/infoplane-fuzz-\(getpid())"
        mkdir(path, 0o700)
        return path
    }()

    /// Writes the input to `directory/name` (a new file each time) and returns the path.
    ///
    /// The old file is unlinked, not truncated: ext4 starts writing back a
    /// file truncated to zero (`auto_da_alloc`), and the next write to it
    /// waits for the disk, a few milliseconds of every run.
    public static func file(_ data: UnsafePointer<UInt8>, _ size: Int, name: String) -> String {
        let path = directory + "/" + name
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        precondition(fd >= 0, "fuzz support: cannot create \(path)")
        var offset = 0
        while offset < size {
            let n = write(fd, data + offset, size - offset)
            precondition(n > 0, "fuzz support: cannot write \(path)")
            offset += n
        }
        close(fd)
        return path
    }
}

/// libFuzzer's driver, run from a `main` of our own (`LLVMFuzzerRunDriver`,
/// in libFuzzer since LLVM 11): the package manager links each executable's
/// entry point as `<module>_main`, so the targets define that and hand over.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

public enum FuzzDriver {
    /// Runs libFuzzer with the process's arguments on `target`.
    public static func run(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                           _ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32 {
        var count = argc
        var vector = argv
        return LLVMFuzzerRunDriver(&count, &vector, target)
    }
}
