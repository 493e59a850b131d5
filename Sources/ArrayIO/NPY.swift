// Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
//
// The format (numpy/lib/format.py, NEP 1): the magic "\x93NUMPY", a major and
// minor version byte, the header length (uint16 little-endian in 1.0, uint32
// in 2.0 and 3.0), a Python dict literal
// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with
// spaces and ended by '\n', then the raw elements. The reader checks every
// length against the buffer before touching it and turns every problem into a
// `FileError` naming the file; it never evaluates Python, and it parses only
// the literal subset NumPy writes. The writer produces exactly the bytes
// `numpy.save` produces for the same array (version 1.0, data aligned to 64).

/// Reading and writing single arrays in NumPy's `.npy` format.
public enum NPY {
    /// The six magic bytes every `.npy` file begins with.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// The largest header accepted, in bytes: 1 MiB (version 2.0 allows headers above 64 KiB;
    /// NumPy's `np.load` refuses more than 10 000 bytes unless asked; every header InfoPlane
    /// writes is under 200).
    public static let maximumHeaderBytes = 1 << 20

    /// The largest array accepted, in bytes of data (8 GiB), checked from the header before
    /// anything is allocated.
    public static let maximumArrayBytes = 1 << 33

    /// NumPy aligns the start of the data to this many bytes.
    static let alignment = 64

    /// Reads the array stored in the `.npy` file at `path`, in C order.
    ///
    /// - Throws: `FileError` naming `path` if the file cannot be read or is not
    ///   a supported `.npy` file (see `decode(_:name:)`).
    public static func read(path: String) throws -> NPYArray {
        try decode(AtomicFile.read(path), name: path)
    }

    /// Reads the `.npy` file at `path` as `Float` values in C order, with its shape
    /// and the dtype it was stored as.
    ///
    /// The same values as `read(path:).floats()`, and the same checks and errors.
    /// A C-order float32 file (what `np.save` writes for a float32 array) is read
    /// straight into the result: one copy from the page cache, where `read` and
    /// `floats()` take three.
    /// - Throws: `FileError` naming `path` as `read(path:)` does.
    public static func readFloats(path: String) throws -> (values: [Float], shape: [Int], dtype: NPYDType) {
        let file = try ReadOnlyFile(path: path)
        let size = file.size
        var prefix = try file.bytes(count: min(size, 4096), at: 0)
        if let end = headerEnd(prefix), end > prefix.count, end <= size {
            prefix += try file.bytes(count: end - prefix.count, at: prefix.count)
        }
        let layout = try layout(prefix: prefix, fileSize: size, name: path)
        #if _endian(little)
        if layout.dtype == .float32 && !(layout.header.fortranOrder && layout.header.shape.count > 1) {
            let count = layout.dataLength / 4
            if count == 0 { return ([], layout.header.shape, layout.dtype) }
            var failure: Error?
            let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                do {
                    try file.read(into: UnsafeMutableRawBufferPointer(buffer), at: layout.dataStart)
                    initialized = count
                } catch {
                    failure = error
                    initialized = 0
                }
            }
            if let failure { throw failure }
            return (values, layout.header.shape, layout.dtype)
        }
        #endif
        let array = try decode(prefix + file.bytes(count: size - prefix.count, at: prefix.count), name: path)
        return (array.floats(), array.shape, array.dtype)
    }

    /// What a `.npy` header says and where the data lies.
    struct Layout {
        var header: NPYHeader
        var dtype: NPYDType
        var dataStart: Int
        var dataLength: Int
    }

    /// Where the header of a `.npy` file ends (the data's offset), from its first
    /// bytes; nil if `prefix` is too short to tell or is not a `.npy` prefix.
    static func headerEnd(_ prefix: [UInt8]) -> Int? {
        guard prefix.count >= 10, Array(prefix[0..<6]) == magic else { return nil }
        let size: Int
        switch (prefix[6], prefix[7]) {
        case (1, 0): size = 2
        case (2, 0), (3, 0): size = 4
        default: return nil
        }
        guard prefix.count >= 8 + size else { return nil }
        var length = 0
        for i in 0..<size { length |= Int(prefix[8 + i]) << (8 * i) }
        return 8 + size + length
    }

    /// Checks and parses everything before the data: the magic string, the
    /// version, the header, the dtype, and the data's length against the file's.
    ///
    /// - Parameters:
    ///   - bytes: the file's first bytes, at least through the end of its header
    ///     (or the whole file if that is shorter).
    ///   - fileSize: the whole file's size in bytes.
    ///   - name: the file's name for errors.
    /// - Throws: `FileError` as `decode(_:name:)` describes.
    static func layout(prefix bytes: [UInt8], fileSize: Int, name: String) throws -> Layout {
        func fail(_ reason: String) -> FileError { FileError(path: name, reason: reason) }

        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else {
            if fileSize > 0 && fileSize < 8 && bytes.elementsEqual(magic.prefix(bytes.count)) {
                throw fail("truncated: \(bytes.count) bytes is too short for a .npy header")
            }
            throw fail(bytes.isEmpty ? "bad magic: the file is empty, not a .npy file"
                                     : "bad magic: not a .npy file (it does not start with \\x93NUMPY)")
        }
        let major = bytes[6], minor = bytes[7]
        let headerLengthSize: Int
        switch (major, minor) {
        case (1, 0): headerLengthSize = 2
        case (2, 0), (3, 0): headerLengthSize = 4
        default: throw fail("unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
        }
        // The prefix can be shorter than the file says (an .npz member that
        // inflates to less than its ZIP entry declares): both must hold the length.
        guard fileSize >= 8 + headerLengthSize, bytes.count >= 8 + headerLengthSize else {
            throw fail("truncated: the file ends inside the header length")
        }
        var headerLength = 0
        for i in 0..<headerLengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let headerStart = 8 + headerLengthSize
        guard headerLength <= maximumHeaderBytes else {
            throw fail("a header of \(headerLength) bytes (the limit is \(maximumHeaderBytes))")
        }
        guard headerLength <= fileSize - headerStart else {
            throw fail("truncated: the header claims \(headerLength) bytes but only "
                + "\(fileSize - headerStart) follow")
        }
        let dataStart = headerStart + headerLength
        guard dataStart <= bytes.count else {
            throw fail("truncated: the header ends at byte \(dataStart), the data ends at \(bytes.count)")
        }
        let header: NPYHeader
        do {
            header = try NPYHeaderParser.parse(bytes[headerStart..<dataStart], utf8: major == 3)
        } catch let error as NPYHeaderParser.Failure {
            throw fail("malformed header: \(error.reason)")
        }

        let dtype: NPYDType
        switch NPYDType.parse(header.descr) {
        case .success(let type): dtype = type
        case .failure(let error): throw fail(error.reason)
        }
        var count = 1
        for dimension in header.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("header shape \(header.shapeText) has too many elements") }
            count = product
        }
        let (dataLength, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow else { throw fail("header shape \(header.shapeText) has too many elements") }
        guard dataLength <= maximumArrayBytes else {
            throw fail("header shape \(header.shapeText) of \(dtype) is \(dataLength) bytes, above the limit of \(maximumArrayBytes) (8 GiB)")
        }
        let available = fileSize - dataStart
        if available < dataLength {
            throw fail("truncated data: shape \(header.shapeText) of \(dtype) needs \(dataLength) bytes "
                + "after the header, the file has \(available)")
        }
        if available > dataLength {
            throw fail("header shape \(header.shapeText) disagrees with the file size: \(dataLength) bytes "
                + "of \(dtype) data expected, \(available) found")
        }
        return Layout(header: header, dtype: dtype, dataStart: dataStart, dataLength: dataLength)
    }

    /// Decodes a whole `.npy` file held in memory.
    ///
    /// Fortran-ordered data is transposed to C order; the result's `bytes`
    /// are always C order.
    /// - Parameters:
    ///   - bytes: the complete file.
    ///   - name: the file's path or another name for it, used in errors.
    /// - Throws: `FileError(path: name, …)` for a bad magic string, an
    ///   unsupported version, a header that is truncated or not a well-formed
    ///   dict with exactly the keys 'descr', 'fortran_order' and 'shape', an
    ///   unsupported dtype (object, big-endian, structured, ...), more than 2³¹
    ///   bytes of elements claimed by a negative or overflowing shape, or data
    ///   whose length differs from what the shape requires.
    public static func decode(_ bytes: [UInt8], name: String) throws -> NPYArray {
        let layout = try layout(prefix: bytes, fileSize: bytes.count, name: name)
        let dataStart = layout.dataStart, dataLength = layout.dataLength
        let header = layout.header, dtype = layout.dtype
        let data = Array(bytes[dataStart..<(dataStart + dataLength)])
        if header.fortranOrder && header.shape.count > 1 {
            return NPYArray(dtype: dtype, shape: header.shape,
                            bytes: fortranToC(data, shape: header.shape, itemSize: dtype.itemSize))
        }
        return NPYArray(dtype: dtype, shape: header.shape, bytes: data)
    }

    /// The `.npy` bytes of `array`: the same bytes `numpy.save` writes.
    ///
    /// Version 1.0 (2.0 only if the header would exceed 65535 bytes), C order,
    /// the header dict followed by NumPy's spare space for growing the first
    /// axis, padded with spaces and '\n' so the data starts at a multiple of 64.
    public static func encode(_ array: NPYArray) -> [UInt8] {
        var result = header(dtype: array.dtype, shape: array.shape)
        result.append(contentsOf: array.bytes)
        return result
    }

    /// The `.npy` bytes of `values` with the given shape, stored as `dtype`
    /// (`.float32`, `.float16` or `.float64`; float16 rounds to nearest-even).
    public static func encode(floats values: [Float], shape: [Int], as dtype: NPYDType = .float32) -> [UInt8] {
        encode(NPYArray(floats: values, shape: shape, as: dtype))
    }

    /// Writes `array` to `path` atomically (see `AtomicFile.write(_:to:)`).
    /// - Throws: `FileError` naming `path` if it cannot be written.
    public static func write(_ array: NPYArray, to path: String,
                             durability: AtomicFile.Durability = .synchronized) throws {
        try AtomicFile.write(encode(array), to: path, durability: durability)
    }

    /// Writes `values` with the given shape to `path` atomically as `dtype`.
    public static func write(floats values: [Float], shape: [Int], as dtype: NPYDType = .float32,
                             to path: String) throws {
        try AtomicFile.write(encode(floats: values, shape: shape, as: dtype), to: path)
    }

    /// The header (magic through the final '\n') for an array of `dtype` and `shape`.
    ///
    /// Follows numpy/lib/format.py `_write_array_header` and `_wrap_header`
    /// (NumPy ≥ 1.24): keys in sorted order, `repr` of the shape tuple, then
    /// 21 − len(repr(shape[0])) spaces of growth room (none for a scalar).
    public static func header(dtype: NPYDType, shape: [Int]) -> [UInt8] {
        let shapeText = NPYHeader.shapeRepr(shape)
        var dict = "{'descr': '\(dtype.descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first {
            dict += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        let text = Array(dict.utf8)
        // Total header = magic(6) + version(2) + length field + text + padding + '\n'.
        for (major, lengthSize) in [(UInt8(1), 2), (UInt8(2), 4)] {
            let unpadded = 8 + lengthSize + text.count + 1
            let padding = alignment - unpadded % alignment
            let headerLength = text.count + padding + 1
            if lengthSize == 2 && headerLength > 0xFFFF { continue }
            var result = magic + [major, 0]
            for i in 0..<lengthSize { result.append(UInt8(truncatingIfNeeded: headerLength >> (8 * i))) }
            result += text
            result += [UInt8](repeating: 0x20, count: padding)
            result.append(0x0A)
            return result
        }
        preconditionFailure("NPY.header: a header of \(text.count) bytes does not fit format 2.0")
    }

    /// Reorders Fortran-order (column-major) elements into C order.
    ///
    /// Element (i₀, …, iₙ₋₁) sits at Fortran offset Σ iₖ·Πⱼ<ₖ dⱼ. An odometer
    /// walks the C-order rows (all axes but the last) keeping that offset
    /// incrementally; the inner loop gathers one C row, a strided run along the
    /// last axis, with typed loads of the element size.
    static func fortranToC(_ data: [UInt8], shape: [Int], itemSize: Int) -> [UInt8] {
        switch itemSize {
        case 1: fortranToC(data, shape: shape, as: UInt8.self)
        case 2: fortranToC(data, shape: shape, as: UInt16.self)
        case 4: fortranToC(data, shape: shape, as: UInt32.self)
        default: fortranToC(data, shape: shape, as: UInt64.self)
        }
    }

    private static func fortranToC<T: FixedWidthInteger>(_ data: [UInt8], shape: [Int], as _: T.Type) -> [UInt8] {
        let count = shape.reduce(1, *)
        if count == 0 { return [] }
        let rank = shape.count
        var fortranStride = [Int](repeating: 1, count: rank)
        for k in 1..<rank { fortranStride[k] = fortranStride[k - 1] * shape[k - 1] }
        let rowLength = shape[rank - 1], rowStride = fortranStride[rank - 1]
        var index = [Int](repeating: 0, count: rank - 1)
        var result = [UInt8](repeating: 0, count: data.count)
        data.withUnsafeBytes { srcRaw in
            result.withUnsafeMutableBytes { dstRaw in
                let src = srcRaw.bindMemory(to: T.self).baseAddress!
                var dst = dstRaw.bindMemory(to: T.self).baseAddress!
                var offset = 0
                for _ in 0..<(count / rowLength) {
                    var f = offset
                    for j in 0..<rowLength {
                        dst[j] = src[f]
                        f &+= rowStride
                    }
                    dst += rowLength
                    // Advance the odometer over axes rank-2 ... 0.
                    var k = rank - 2
                    while k >= 0 {
                        index[k] += 1
                        offset += fortranStride[k]
                        if index[k] < shape[k] { break }
                        offset -= fortranStride[k] * shape[k]
                        index[k] = 0
                        k -= 1
                    }
                }
            }
        }
        return result
    }
}

/// The three entries of a `.npy` header dict.
struct NPYHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    var shapeText: String { Self.shapeRepr(shape) }

    /// Python's `repr` of a tuple of ints: `()`, `(5,)`, `(3, 4)`.
    static func shapeRepr(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}

/// A parser for the Python literal subset NumPy writes as a `.npy` header.
///
/// Grammar (whitespace allowed between tokens):
///   dict   := '{' (key ':' value (',' key ':' value)* ','?)? '}'
///   key    := string
///   value  := string | 'True' | 'False' | tuple
///   tuple  := '(' ')' | '(' int ',' ')' | '(' int (',' int)+ ','? ')'
///   int    := digit+ 'L'?        (the 'L' of Python 2 longs)
///   string := "'" chars "'" | '"' chars '"'   (no escapes)
/// After the dict only spaces and newlines may follow. A list value (a
/// structured dtype's descr) gets its own error message.
enum NPYHeaderParser {
    struct Failure: Error {
        var reason: String
    }

    enum Value {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    static func parse(_ bytes: ArraySlice<UInt8>, utf8: Bool) throws -> NPYHeader {
        var p = Cursor(bytes: Array(bytes), utf8: utf8)
        p.skipSpace()
        try p.expect(UInt8(ascii: "{"), "the header does not start with '{'")
        var entries = [String: Value]()
        p.skipSpace()
        if p.peek() != UInt8(ascii: "}") {
            while true {
                p.skipSpace()
                if p.peek() == UInt8(ascii: "}") { break }  // after a trailing comma
                let key = try p.string()
                p.skipSpace()
                try p.expect(UInt8(ascii: ":"), "expected ':' after key '\(key)'")
                p.skipSpace()
                let value = try p.value(key: key)
                guard entries.updateValue(value, forKey: key) == nil else {
                    throw Failure(reason: "key '\(key)' appears twice")
                }
                p.skipSpace()
                if p.peek() == UInt8(ascii: ",") { p.position += 1; continue }
                break
            }
        }
        p.skipSpace()
        let closing = p.position
        try p.expect(UInt8(ascii: "}"), "expected ',' or '}' at byte \(closing) of the header")
        while let c = p.peek() {
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 || c == 0x00 else {
                throw Failure(reason: "unexpected text after the dict at byte \(p.position) of the header")
            }
            p.position += 1
        }
        let keys = Set(entries.keys)
        guard keys == ["descr", "fortran_order", "shape"] else {
            let missing = ["descr", "fortran_order", "shape"].filter { !keys.contains($0) }
            let extra = keys.subtracting(["descr", "fortran_order", "shape"]).sorted()
            var parts = [String]()
            if !missing.isEmpty { parts.append("missing key(s) " + missing.map { "'\($0)'" }.joined(separator: ", ")) }
            if !extra.isEmpty { parts.append("unexpected key(s) " + extra.map { "'\($0)'" }.joined(separator: ", ")) }
            throw Failure(reason: parts.joined(separator: "; "))
        }
        guard case .string(let descr) = entries["descr"]! else {
            throw Failure(reason: "'descr' is not a string")
        }
        guard case .bool(let fortran) = entries["fortran_order"]! else {
            throw Failure(reason: "'fortran_order' is not True or False")
        }
        guard case .tuple(let shape) = entries["shape"]! else {
            throw Failure(reason: "'shape' is not a tuple of integers")
        }
        return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }

    struct Cursor {
        var bytes: [UInt8]
        var utf8: Bool
        var position = 0

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            while let c = peek(), c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 }
        }

        mutating func expect(_ c: UInt8, _ message: @autoclosure () -> String) throws {
            guard peek() == c else {
                throw Failure(reason: peek() == nil ? "the header ends early (\(message()))" : message())
            }
            position += 1
        }

        mutating func string() throws -> String {
            guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                throw Failure(reason: peek() == nil ? "the header ends early (expected a quoted key)"
                                                    : "expected a quoted string at byte \(position) of the header")
            }
            position += 1
            let start = position
            while let c = peek(), c != quote {
                guard c != UInt8(ascii: "\\"), c != 0x0A else {
                    throw Failure(reason: "unsupported character in a string at byte \(position) of the header")
                }
                position += 1
            }
            guard peek() == quote else { throw Failure(reason: "unterminated string in the header") }
            let raw = bytes[start..<position]
            position += 1
            // Format 3.0 headers are UTF-8; 1.0 and 2.0 are Latin-1.
            if utf8 {
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw Failure(reason: "a string in the header is not valid UTF-8")
                }
                return text
            }
            return String(decoding: raw.map { UInt16($0) }, as: UTF16.self)
        }

        mutating func value(key: String) throws -> Value {
            guard let c = peek() else { throw Failure(reason: "the header ends early (no value for '\(key)')") }
            switch c {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "T"), UInt8(ascii: "F"):
                if match("True") { return .bool(true) }
                if match("False") { return .bool(false) }
            case UInt8(ascii: "("):
                return .tuple(try tuple())
            case UInt8(ascii: "["):
                if key == "descr" {
                    throw Failure(reason: "structured dtypes (a list as 'descr') are not supported")
                }
            default:
                break
            }
            throw Failure(reason: "unsupported value for '\(key)' at byte \(position) of the header")
        }

        mutating func match(_ word: String) -> Bool {
            let w = Array(word.utf8)
            guard position + w.count <= bytes.count, Array(bytes[position..<(position + w.count)]) == w else {
                return false
            }
            position += w.count
            return true
        }

        mutating func tuple() throws -> [Int] {
            position += 1  // '('
            var items = [Int]()
            var sawTrailingComma = false
            while true {
                skipSpace()
                if peek() == UInt8(ascii: ")") {
                    // "(5)" is an int in Python, not a tuple.
                    guard items.count != 1 || sawTrailingComma else {
                        throw Failure(reason: "'shape' (\(items[0])) is not a tuple (missing comma)")
                    }
                    position += 1
                    return items
                }
                items.append(try integer())
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                    sawTrailingComma = true
                } else {
                    sawTrailingComma = false
                    skipSpace()
                    guard peek() == UInt8(ascii: ")") else {
                        throw Failure(reason: peek() == nil ? "the header ends inside 'shape'"
                                                            : "expected ',' or ')' in 'shape' at byte \(position)")
                    }
                }
            }
        }

        mutating func integer() throws -> Int {
            guard let first = peek() else { throw Failure(reason: "the header ends inside 'shape'") }
            guard first >= 0x30 && first <= 0x39 else {
                if first == UInt8(ascii: "-") { throw Failure(reason: "negative dimension in 'shape'") }
                throw Failure(reason: "expected a non-negative integer in 'shape' at byte \(position)")
            }
            var value = 0
            while let c = peek(), c >= 0x30 && c <= 0x39 {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(c - 0x30))
                guard !o1 && !o2 else { throw Failure(reason: "dimension too large in 'shape'") }
                value = sum
                position += 1
            }
            if peek() == UInt8(ascii: "L") { position += 1 }
            return value
        }
    }
}
