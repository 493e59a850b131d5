// The limits on the JSON files InfoPlane reads (run manifests, settings,
// parameter sidecars, sweep files), checked before anything is decoded.

/// The largest and the deepest JSON file a reader accepts.
///
/// Foundation's decoder refuses nesting beyond 512 levels itself; these
/// limits are ours, stated and tested: no file InfoPlane writes comes near
/// them, and a file beyond them is refused with its name and the reason
/// before a decoder allocates for it.
public enum JSONLimits {
    /// The most bytes of a JSON file: 64 MiB.
    public static let maximumBytes = 64 << 20
    /// The most levels of nested arrays and objects: 64.
    public static let maximumDepth = 64

    /// Reads the JSON file at `path`, refusing it from its size before reading.
    ///
    /// - Throws: `FileError` naming `path` if it cannot be read, is larger
    ///   than `maximumBytes` or nests deeper than `maximumDepth`.
    public static func read(_ path: String) throws -> [UInt8] {
        let file = try ReadOnlyFile(path: path)
        guard file.size <= maximumBytes else {
            throw FileError(path: path, reason: "a JSON file of \(file.size) bytes (the limit is \(maximumBytes))")
        }
        let bytes = try file.readToEnd()
        try check(bytes, path: path)
        return bytes
    }

    /// Checks the size and the nesting depth of JSON text (brackets inside
    /// strings do not count).
    ///
    /// - Throws: `FileError` naming `path` when a limit is exceeded.
    public static func check(_ bytes: [UInt8], path: String) throws {
        guard bytes.count <= maximumBytes else {
            throw FileError(path: path, reason: "a JSON file of \(bytes.count) bytes (the limit is \(maximumBytes))")
        }
        var depth = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false }
                else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maximumDepth {
                    throw FileError(path: path, reason: "JSON nested deeper than \(maximumDepth) levels")
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
    }
}
