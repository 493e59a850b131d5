// An n-dimensional array as read from or written to a `.npy` file.
//
// The elements are kept as their raw little-endian bytes in C (row-major)
// order, so that reading and re-writing a file never changes a bit, and
// converted on request (`floats()`, `doubles()`, `int64s()`, `bools()`).
// This is a container for file I/O, not a numerical array type: InfoPlane's
// arithmetic lives in the Tensors module, above this one.

/// A typed, shaped block of little-endian elements in C order.
public struct NPYArray: Sendable, Equatable {
    /// The element type.
    public var dtype: NPYDType
    /// The extent of each dimension; `[]` is a scalar (one element).
    public var shape: [Int]
    /// The elements as little-endian bytes in C order; `bytes.count == count * dtype.itemSize`.
    public var bytes: [UInt8]

    /// The number of elements, the product of `shape` (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }

    /// An array from raw little-endian C-order bytes.
    /// - Precondition: `bytes.count == shape.product * dtype.itemSize` and no dimension is negative.
    public init(dtype: NPYDType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "NPYArray: negative dimension in \(shape)")
        precondition(bytes.count == shape.reduce(1, *) * dtype.itemSize,
                     "NPYArray: \(bytes.count) bytes for shape \(shape) of \(dtype)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// An array storing `values` as `dtype`, which must be `.float32`, `.float16` or `.float64`.
    ///
    /// `.float16` rounds each value to nearest-even (see `HalfPrecision.bits(from:)`);
    /// the other two are exact.
    /// - Precondition: `values.count` equals the product of `shape`; `dtype` is floating point.
    public init(floats values: [Float], shape: [Int], as dtype: NPYDType = .float32) {
        precondition(values.count == shape.reduce(1, *), "NPYArray: \(values.count) values for shape \(shape)")
        switch dtype {
        case .float32:
            self.init(dtype: dtype, shape: shape, bytes: Self.pack(values, size: 4) { $0.bitPattern.littleEndian })
        case .float16:
            self.init(dtype: dtype, shape: shape,
                      bytes: Self.pack(values, size: 2) { HalfPrecision.bits(from: $0).littleEndian })
        case .float64:
            self.init(dtype: dtype, shape: shape,
                      bytes: Self.pack(values, size: 8) { Double($0).bitPattern.littleEndian })
        default:
            preconditionFailure("NPYArray(floats:): dtype \(dtype) is not a floating-point type")
        }
    }

    /// A float64 array.
    public init(doubles values: [Double], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "NPYArray: \(values.count) values for shape \(shape)")
        self.init(dtype: .float64, shape: shape, bytes: Self.pack(values, size: 8) { $0.bitPattern.littleEndian })
    }

    /// An int64 array.
    public init(int64s values: [Int64], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "NPYArray: \(values.count) values for shape \(shape)")
        self.init(dtype: .int64, shape: shape, bytes: Self.pack(values, size: 8) { $0.littleEndian })
    }

    /// An int32 array.
    public init(int32s values: [Int32], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "NPYArray: \(values.count) values for shape \(shape)")
        self.init(dtype: .int32, shape: shape, bytes: Self.pack(values, size: 4) { $0.littleEndian })
    }

    /// A uint8 array.
    public init(uint8s values: [UInt8], shape: [Int]) {
        self.init(dtype: .uint8, shape: shape, bytes: values)
    }

    /// An int8 array.
    public init(int8s values: [Int8], shape: [Int]) {
        self.init(dtype: .int8, shape: shape, bytes: values.map { UInt8(bitPattern: $0) })
    }

    /// A bool array (bytes 0 and 1).
    public init(bools values: [Bool], shape: [Int]) {
        self.init(dtype: .bool, shape: shape, bytes: values.map { $0 ? 1 : 0 })
    }

    /// The elements as `Float`, in C order.
    ///
    /// Exact for float16, float32, uint8, int8 and bool (false 0, true 1);
    /// float64, int32 and int64 values are rounded to the nearest `Float`.
    public func floats() -> [Float] {
        switch dtype {
        case .float32: unpack(size: 4) { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        case .float16: unpack(size: 2) { HalfPrecision.float(fromBits: UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self))) }
        default: doubles().map { Float($0) }
        }
    }

    /// The elements as `Double`, in C order.
    ///
    /// Exact for every dtype except int64 values beyond ±2⁵³, which are rounded.
    public func doubles() -> [Double] {
        switch dtype {
        case .float16, .float32: floats().map { Double($0) }
        case .float64: unpack(size: 8) { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        case .uint8: bytes.map { Double($0) }
        case .int8: bytes.map { Double(Int8(bitPattern: $0)) }
        case .bool: bytes.map { $0 != 0 ? 1 : 0 }
        case .int32: unpack(size: 4) { Double(Int32(littleEndian: $0.loadUnaligned(as: Int32.self))) }
        case .int64: unpack(size: 8) { Double(Int64(littleEndian: $0.loadUnaligned(as: Int64.self))) }
        }
    }

    /// The elements as `Int64`, in C order.
    ///
    /// Integer and bool dtypes convert exactly. A floating-point array
    /// converts only if every element is an integer within Int64's range.
    /// - Throws: `NPYConversionError` naming the first element that is not.
    public func int64s() throws -> [Int64] {
        switch dtype {
        case .uint8: return bytes.map { Int64($0) }
        case .int8: return bytes.map { Int64(Int8(bitPattern: $0)) }
        case .bool: return bytes.map { $0 != 0 ? 1 : 0 }
        case .int32: return unpack(size: 4) { Int64(Int32(littleEndian: $0.loadUnaligned(as: Int32.self))) }
        case .int64: return unpack(size: 8) { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
        case .float16, .float32, .float64:
            let values = doubles()
            var result = [Int64]()
            result.reserveCapacity(values.count)
            for (index, value) in values.enumerated() {
                // 2^63 itself is not representable, hence the strict upper bound.
                guard value.rounded() == value, value >= -0x1p63, value < 0x1p63 else {
                    throw NPYConversionError(
                        description: "element \(index) of a \(dtype) array is \(value), not an integer in Int64's range")
                }
                result.append(Int64(value))
            }
            return result
        }
    }

    /// The elements as `Int`, in C order (see `int64s()`).
    public func ints() throws -> [Int] {
        try int64s().map { Int($0) }
    }

    /// The elements as `Bool` (non-zero is `true`, as in NumPy), in C order.
    public func bools() -> [Bool] {
        switch dtype {
        case .uint8, .int8, .bool: bytes.map { $0 != 0 }
        default: doubles().map { $0 != 0 }
        }
    }

    private func unpack<T>(size: Int, _ load: (UnsafeRawPointer) -> T) -> [T] {
        let n = bytes.count / size
        // Not with capacity 0 (see `Tensor.init(shape:initializingWith:)`).
        guard n > 0 else { return [] }
        return bytes.withUnsafeBytes { raw in
            [T](unsafeUninitializedCapacity: n) { out, initialized in
                guard let base = raw.baseAddress else { initialized = 0; return }
                for i in 0..<n { (out.baseAddress! + i).initialize(to: load(base + i &* size)) }
                initialized = n
            }
        }
    }

    private static func pack<T, W: FixedWidthInteger>(_ values: [T], size: Int, _ word: (T) -> W) -> [UInt8] {
        let total = values.count * size
        guard total > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            guard let base = out.baseAddress else { initialized = 0; return }
            let raw = UnsafeMutableRawPointer(base)
            for i in 0..<values.count { raw.storeBytes(of: word(values[i]), toByteOffset: i &* size, as: W.self) }
            initialized = total
        }
    }
}

/// A conversion between element types that would lose information.
public struct NPYConversionError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
