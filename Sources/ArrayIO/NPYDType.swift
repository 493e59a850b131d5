// The element types of the `.npy` files InfoPlane reads and writes.
//
// Only the little-endian numeric types that activations, inputs and labels
// need; structured, object, string, complex and big-endian dtypes are
// rejected by the reader with an error rather than half-supported.

/// A NumPy dtype supported by the `.npy` reader and writer.
public enum NPYDType: String, Sendable, CaseIterable, CustomStringConvertible {
    /// IEEE binary16, `<f2`.
    case float16 = "<f2"
    /// IEEE binary32, `<f4`.
    case float32 = "<f4"
    /// IEEE binary64, `<f8`.
    case float64 = "<f8"
    /// Unsigned byte, `|u1`.
    case uint8 = "|u1"
    /// Signed byte, `|i1`.
    case int8 = "|i1"
    /// Little-endian 32-bit integer, `<i4`.
    case int32 = "<i4"
    /// Little-endian 64-bit integer, `<i8`.
    case int64 = "<i8"
    /// NumPy bool, one byte 0 or 1, `|b1`.
    case bool = "|b1"

    /// The `descr` string NumPy writes for this type (`dtype.str`).
    public var descr: String { rawValue }

    public var description: String { rawValue }

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .float16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }

    /// Whether the type is a floating-point type.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .float32, .float64: true
        default: false
        }
    }

    /// The dtype a `descr` string names, or the reason it is not supported.
    ///
    /// One-byte types are accepted with any byte-order character (`|u1`,
    /// `<u1`, `=u1`, `>b1`), since byte order means nothing for them; `?` is
    /// NumPy's one-character code for bool. Multi-byte types must be
    /// little-endian (`<`) or native (`=`, which NumPy never writes to files but
    /// which is little-endian on every platform InfoPlane runs on).
    static func parse(_ descr: String) -> Result<NPYDType, UnsupportedDType> {
        if descr == "?" { return .success(.bool) }
        guard let first = descr.first else { return .failure(UnsupportedDType(reason: "empty dtype descr")) }
        let order: Character
        let code: Substring
        if "<>|=".contains(first) {
            order = first
            code = descr.dropFirst()
        } else {
            order = "="
            code = Substring(descr)
        }
        let oneByte: [Substring: NPYDType] = ["u1": .uint8, "i1": .int8, "b1": .bool, "B": .uint8, "b": .int8]
        if let type = oneByte[code] { return .success(type) }
        let multiByte: [Substring: NPYDType] = ["f2": .float16, "f4": .float32, "f8": .float64,
                                                "i4": .int32, "i8": .int64, "e": .float16,
                                                "f": .float32, "d": .float64]
        if let type = multiByte[code] {
            if order == ">" {
                return .failure(UnsupportedDType(reason: "big-endian dtype '\(descr)' is not supported"))
            }
            if order == "|" {
                return .failure(UnsupportedDType(reason: "dtype '\(descr)' has no byte order"))
            }
            return .success(type)
        }
        if code.hasPrefix("O") {
            return .failure(UnsupportedDType(reason: "object dtype '\(descr)' is not supported"))
        }
        return .failure(UnsupportedDType(reason: "unsupported dtype '\(descr)' (supported: "
            + NPYDType.allCases.map(\.descr).joined(separator: ", ") + ")"))
    }

    struct UnsupportedDType: Error {
        var reason: String
    }
}
