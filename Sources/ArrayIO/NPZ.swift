// Reading and writing NumPy `.npz` archives: ZIP files of `.npy` members.
//
// The reader follows the ZIP central directory (APPNOTE.TXT 6.3: end of
// central directory record, ZIP64 end record and locator, central file
// headers, ZIP64 extended-information extra field 0x0001) and each member's
// local header, accepts the two methods NumPy uses (0 stored, 8 deflated),
// and checks every member's size and CRC-32. `numpy.savez` always writes
// ZIP64 extra fields in local headers (`force_zip64=True`); archives above
// 4 GiB also carry them in the central directory. Multi-disk archives,
// encryption and other methods are rejected. This is not a general ZIP
// library: members are `.npy` arrays, read whole into memory.

/// Reading and writing NumPy `.npz` archives.
public enum NPZ {
    /// One named array of an archive; `name` is the member name without `.npy`, as `np.load` gives it.
    public typealias Entry = (name: String, array: NPYArray)

    /// Reads every array of the `.npz` archive at `path`, in archive order.
    ///
    /// - Throws: `FileError` naming `path` (and the member, if one is at
    ///   fault) if the file cannot be read, is not a ZIP archive, is
    ///   truncated, uses an unsupported ZIP feature, fails its CRC-32 check,
    ///   holds a member that is not `.npy`, or holds an invalid `.npy` member.
    public static func read(path: String) throws -> [Entry] {
        try decode(AtomicFile.read(path), name: path)
    }

    /// Reads one array by name (without `.npy`) from the archive at `path`.
    /// - Throws: `FileError` if the archive is invalid or has no such member.
    public static func read(path: String, member: String) throws -> NPYArray {
        // Only the wanted member is inflated and checked.
        guard let entry = try decode(AtomicFile.read(path), name: path, only: member).first else {
            throw FileError(path: path, reason: "no array named '\(member)' in the archive")
        }
        return entry.array
    }

    /// Decodes a whole `.npz` archive held in memory (see `read(path:)`).
    public static func decode(_ bytes: [UInt8], name: String) throws -> [Entry] {
        try decode(bytes, name: name, only: nil)
    }

    /// `decode`, restricted to the member named `only` (without `.npy`) if given.
    static func decode(_ bytes: [UInt8], name: String, only: String?) throws -> [Entry] {
        let reader = ZipReader(bytes: bytes, name: name)
        var result = [Entry]()
        for member in try reader.members() where only.map({ member.name == $0 + ".npy" }) ?? true {
            let data = try reader.contents(of: member)
            guard member.name.hasSuffix(".npy") else {
                throw FileError(path: name, reason: "member '\(member.name)' is not a .npy array")
            }
            let array: NPYArray
            do {
                array = try NPY.decode(data, name: name)
            } catch let error as FileError {
                throw FileError(path: name, reason: "member '\(member.name)': \(error.reason)")
            }
            result.append((String(member.name.dropLast(4)), array))
        }
        return result
    }

    /// The bytes of a `.npz` archive holding `arrays` in the given order.
    ///
    /// Each array becomes member `<name>.npy` with the bytes `NPY.encode`
    /// gives. Deterministic: timestamps are fixed at 1980-01-01 00:00.
    /// ZIP64 fields are written only where a size or offset needs them.
    /// - Parameters:
    ///   - compressed: deflate the members (as `numpy.savez_compressed`) or store them (as `numpy.savez`).
    /// - Throws: `ZlibError` if compression fails.
    /// - Precondition: names are unique, non-empty, and shorter than 65532 bytes.
    public static func encode(_ arrays: [(String, NPYArray)], compressed: Bool = false) throws -> [UInt8] {
        try encode(arrays, compressed: compressed, forceZip64: false)
    }

    /// Writes `arrays` as a `.npz` archive to `path` atomically.
    /// - Throws: `FileError` naming `path` if it cannot be written.
    public static func write(_ arrays: [(String, NPYArray)], to path: String, compressed: Bool = false) throws {
        let bytes: [UInt8]
        do {
            bytes = try encode(arrays, compressed: compressed)
        } catch let error as ZlibError {
            throw FileError(path: path, reason: "compression failed (\(error.description))")
        }
        try AtomicFile.write(bytes, to: path)
    }

    /// `encode` with ZIP64 fields optionally forced everywhere (tests check
    /// that path against Python's `zipfile`, since real ZIP64 sizes need 4 GiB).
    static func encode(_ arrays: [(String, NPYArray)], compressed: Bool, forceZip64: Bool) throws -> [UInt8] {
        var names = Set<String>()
        var out = ByteWriter()
        var central = ByteWriter()
        for (name, array) in arrays {
            precondition(!name.isEmpty && names.insert(name).inserted, "NPZ.encode: duplicate or empty name '\(name)'")
            let fileName = Array((name + ".npy").utf8)
            precondition(fileName.count < 0xFFFF - 4, "NPZ.encode: name too long")
            let raw = NPY.encode(array)
            let crc = Zlib.crc32(raw)
            let stored = compressed ? try Zlib.deflate(raw, format: .raw) : raw
            let method: UInt16 = compressed ? 8 : 0
            let offset = out.bytes.count
            let zip64 = forceZip64 || raw.count >= 0xFFFF_FFFF || stored.count >= 0xFFFF_FFFF
            let offset64 = forceZip64 || offset >= 0xFFFF_FFFF
            let versionNeeded: UInt16 = zip64 || offset64 ? 45 : 20

            // Local file header.
            out.u32(0x0403_4B50)
            out.u16(versionNeeded)
            out.u16(0x0800)  // flags: UTF-8 names
            out.u16(method)
            out.u16(0); out.u16(0x0021)  // DOS time 00:00, date 1980-01-01
            out.u32(crc)
            out.u32(zip64 ? 0xFFFF_FFFF : UInt32(stored.count))
            out.u32(zip64 ? 0xFFFF_FFFF : UInt32(raw.count))
            out.u16(UInt16(fileName.count))
            out.u16(zip64 ? 20 : 0)
            out.bytes += fileName
            if zip64 {
                out.u16(0x0001); out.u16(16)
                out.u64(UInt64(raw.count)); out.u64(UInt64(stored.count))
            }
            out.bytes += stored

            // Central directory header; the ZIP64 extra lists only the fields set to 0xFFFFFFFF.
            var extra = ByteWriter()
            if zip64 { extra.u64(UInt64(raw.count)); extra.u64(UInt64(stored.count)) }
            if offset64 { extra.u64(UInt64(offset)) }
            central.u32(0x0201_4B50)
            central.u16(0x0300 | versionNeeded)  // made by: Unix
            central.u16(versionNeeded)
            central.u16(0x0800)
            central.u16(method)
            central.u16(0); central.u16(0x0021)
            central.u32(crc)
            central.u32(zip64 ? 0xFFFF_FFFF : UInt32(stored.count))
            central.u32(zip64 ? 0xFFFF_FFFF : UInt32(raw.count))
            central.u16(UInt16(fileName.count))
            central.u16(extra.bytes.isEmpty ? 0 : UInt16(4 + extra.bytes.count))
            central.u16(0)  // comment length
            central.u16(0)  // disk number
            central.u16(0)  // internal attributes
            central.u32(0o100644 << 16)  // external attributes: regular file, rw-r--r--
            central.u32(offset64 ? 0xFFFF_FFFF : UInt32(offset))
            central.bytes += fileName
            if !extra.bytes.isEmpty {
                central.u16(0x0001); central.u16(UInt16(extra.bytes.count))
                central.bytes += extra.bytes
            }
        }
        let centralOffset = out.bytes.count
        let centralSize = central.bytes.count
        out.bytes += central.bytes
        let count = arrays.count
        if forceZip64 || count >= 0xFFFF || centralOffset >= 0xFFFF_FFFF || centralSize >= 0xFFFF_FFFF {
            let zip64EndOffset = out.bytes.count
            out.u32(0x0606_4B50)
            out.u64(44)  // size of the rest of this record
            out.u16(0x032D); out.u16(45)
            out.u32(0); out.u32(0)
            out.u64(UInt64(count)); out.u64(UInt64(count))
            out.u64(UInt64(centralSize)); out.u64(UInt64(centralOffset))
            out.u32(0x0706_4B50)  // locator
            out.u32(0)
            out.u64(UInt64(zip64EndOffset))
            out.u32(1)
        }
        out.u32(0x0605_4B50)
        out.u16(0); out.u16(0)
        out.u16(UInt16(min(count, 0xFFFF))); out.u16(UInt16(min(count, 0xFFFF)))
        out.u32(UInt32(min(centralSize, 0xFFFF_FFFF)))
        out.u32(UInt32(min(centralOffset, 0xFFFF_FFFF)))
        out.u16(0)
        return out.bytes
    }
}

/// Little-endian appends.
struct ByteWriter {
    var bytes = [UInt8]()
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
}

/// A bounds-checked reader of a ZIP archive in memory.
struct ZipReader {
    let bytes: [UInt8]
    let name: String

    struct Member {
        var name: String
        var method: UInt16
        var flags: UInt16
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    func fail(_ reason: String) -> FileError { FileError(path: name, reason: reason) }

    /// Little-endian integer of `size` bytes at `offset`, or nil if it does not fit in the buffer.
    func uint(at offset: Int, size: Int) -> UInt64? {
        guard offset >= 0, size <= bytes.count, offset <= bytes.count - size else { return nil }
        var value: UInt64 = 0
        for i in 0..<size { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return value
    }

    func int(at offset: Int, size: Int, _ what: @autoclosure () -> String) throws -> Int {
        guard let v = uint(at: offset, size: size) else { throw fail("truncated: the file ends inside \(what())") }
        guard v <= UInt64(Int.max) else { throw fail("\(what()) holds an impossible value") }
        return Int(v)
    }

    /// The members listed in the central directory, in order.
    func members() throws -> [Member] {
        // The end-of-central-directory record (22 bytes plus a comment of up
        // to 65535) is found by scanning backwards for its signature.
        guard bytes.count >= 22 else {
            if bytes.count >= 4 && bytes[0..<4].elementsEqual([0x50, 0x4B, 0x03, 0x04]) {
                throw fail("truncated ZIP archive (\(bytes.count) bytes)")
            }
            throw fail("not a .npz (ZIP) archive: too short (\(bytes.count) bytes)")
        }
        var end = -1
        var position = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        while position >= lowest {
            if uint(at: position, size: 4) == 0x0605_4B50,
               let commentLength = uint(at: position + 20, size: 2),
               position + 22 + Int(commentLength) == bytes.count {
                end = position
                break
            }
            position -= 1
        }
        guard end >= 0 else {
            if bytes[0..<4].elementsEqual([0x50, 0x4B, 0x03, 0x04]) {
                throw fail("truncated or damaged ZIP archive: no end-of-central-directory record")
            }
            throw fail("bad magic: not a .npz (ZIP) archive")
        }
        let disk = try int(at: end + 4, size: 2, "the end record")
        let centralDisk = try int(at: end + 6, size: 2, "the end record")
        var count = try int(at: end + 10, size: 2, "the end record")
        var centralSize = try int(at: end + 12, size: 4, "the end record")
        var centralOffset = try int(at: end + 16, size: 4, "the end record")
        guard disk == 0 && centralDisk == 0 else { throw fail("multi-disk ZIP archives are not supported") }

        if count == 0xFFFF || centralSize == 0xFFFF_FFFF || centralOffset == 0xFFFF_FFFF {
            // ZIP64: a 20-byte locator just before the end record points at the ZIP64 end record.
            let locator = end - 20
            guard locator >= 0, uint(at: locator, size: 4) == 0x0706_4B50 else {
                throw fail("damaged ZIP64 archive: no ZIP64 end-of-central-directory locator")
            }
            let record = try int(at: locator + 8, size: 8, "the ZIP64 locator")
            guard record <= locator - 56, uint(at: record, size: 4) == 0x0606_4B50 else {
                throw fail("damaged ZIP64 archive: no ZIP64 end-of-central-directory record at \(record)")
            }
            count = try int(at: record + 32, size: 8, "the ZIP64 end record")
            centralSize = try int(at: record + 40, size: 8, "the ZIP64 end record")
            centralOffset = try int(at: record + 48, size: 8, "the ZIP64 end record")
        }
        guard centralOffset <= end, centralSize <= end - centralOffset else {
            throw fail("truncated or damaged ZIP archive: the central directory (\(centralSize) bytes at "
                + "\(centralOffset)) lies outside the file")
        }

        var members = [Member]()
        var p = centralOffset
        let limit = centralOffset + centralSize
        for index in 0..<count {
            guard p <= limit - 46, uint(at: p, size: 4) == 0x0201_4B50 else {
                throw fail("damaged ZIP archive: central directory entry \(index) is missing or corrupt")
            }
            let what = "central directory entry \(index)"
            let flags = UInt16(try int(at: p + 8, size: 2, what))
            let method = UInt16(try int(at: p + 10, size: 2, what))
            let crc = UInt32(try int(at: p + 16, size: 4, what))
            var compressed = try int(at: p + 20, size: 4, what)
            var uncompressed = try int(at: p + 24, size: 4, what)
            let nameLength = try int(at: p + 28, size: 2, what)
            let extraLength = try int(at: p + 30, size: 2, what)
            let commentLength = try int(at: p + 32, size: 2, what)
            let diskStart = try int(at: p + 34, size: 2, what)
            var localOffset = try int(at: p + 42, size: 4, what)
            let nameStart = p + 46
            let extraStart = nameStart + nameLength
            let next = extraStart + extraLength + commentLength
            guard next <= limit else { throw fail("damaged ZIP archive: \(what) overruns the central directory") }
            let memberName = String(decoding: bytes[nameStart..<extraStart], as: UTF8.self)

            // ZIP64 extended information: 8-byte values for exactly the fields
            // that are 0xFFFFFFFF in the header, in the order usize, csize, offset.
            let needs = [uncompressed == 0xFFFF_FFFF, compressed == 0xFFFF_FFFF, localOffset == 0xFFFF_FFFF]
            if needs.contains(true) {
                guard var field = try zip64Field(from: extraStart, length: extraLength, member: memberName) else {
                    throw fail("damaged ZIP archive: member '\(memberName)' lacks its ZIP64 sizes")
                }
                func take() throws -> Int {
                    guard field.count >= 8 else {
                        throw fail("damaged ZIP archive: member '\(memberName)' has a short ZIP64 field")
                    }
                    let v = field.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    field.removeFirst(8)
                    guard v <= UInt64(Int.max) else {
                        throw fail("damaged ZIP archive: member '\(memberName)' has an impossible ZIP64 size")
                    }
                    return Int(v)
                }
                if needs[0] { uncompressed = try take() }
                if needs[1] { compressed = try take() }
                if needs[2] { localOffset = try take() }
            }
            guard diskStart == 0 || diskStart == 0xFFFF else { throw fail("multi-disk ZIP archives are not supported") }
            members.append(Member(name: memberName, method: method, flags: flags, crc: crc,
                                  compressedSize: compressed, uncompressedSize: uncompressed,
                                  localHeaderOffset: localOffset))
            p = next
        }
        return members
    }

    /// The payload of the ZIP64 extra field (id 0x0001) in an extra block, if present.
    private func zip64Field(from start: Int, length: Int, member: String) throws -> [UInt8]? {
        var q = start
        while q + 4 <= start + length {
            let id = try int(at: q, size: 2, "the extra field of '\(member)'")
            let size = try int(at: q + 2, size: 2, "the extra field of '\(member)'")
            guard q + 4 + size <= start + length else {
                throw fail("damaged ZIP archive: the extra field of '\(member)' overruns its block")
            }
            if id == 0x0001 { return Array(bytes[(q + 4)..<(q + 4 + size)]) }
            q += 4 + size
        }
        return nil
    }

    /// The uncompressed, CRC-checked contents of `member`.
    func contents(of member: Member) throws -> [UInt8] {
        let m = member.name
        guard member.flags & 1 == 0 else { throw fail("member '\(m)' is encrypted, which is not supported") }
        guard member.method == 0 || member.method == 8 else {
            throw fail("member '\(m)' uses compression method \(member.method) (only stored 0 and deflated 8 are supported)")
        }
        let header = member.localHeaderOffset
        guard uint(at: header, size: 4) == 0x0403_4B50 else {
            throw fail("damaged ZIP archive: no local header for member '\(m)' at offset \(header)")
        }
        let nameLength = try int(at: header + 26, size: 2, "the local header of '\(m)'")
        let extraLength = try int(at: header + 28, size: 2, "the local header of '\(m)'")
        let dataStart = header + 30 + nameLength + extraLength
        guard dataStart <= bytes.count, member.compressedSize <= bytes.count - dataStart else {
            throw fail("truncated data: member '\(m)' needs \(member.compressedSize) bytes at offset \(dataStart), "
                + "the file has \(max(0, bytes.count - dataStart))")
        }
        let stored = Array(bytes[dataStart..<(dataStart + member.compressedSize)])
        let data: [UInt8]
        if member.method == 0 {
            guard member.compressedSize == member.uncompressedSize else {
                throw fail("damaged ZIP archive: stored member '\(m)' has different compressed and uncompressed sizes")
            }
            data = stored
        } else {
            do {
                // A deflate bomb cannot get past the header: the `.npy` header (inflated alone
                // first, at most `NPY.maximumHeaderBytes`) must promise exactly the size the
                // archive declares, and inflating stops at that size.
                if m.hasSuffix(".npy") {
                    var prefix = try Zlib.inflatePrefix(stored, format: .raw, count: min(member.uncompressedSize, 4096))
                    if let end = NPY.headerEnd(prefix), end > prefix.count, end <= member.uncompressedSize {
                        guard end <= NPY.maximumHeaderBytes else {
                            throw fail("member '\(m)': a .npy header of \(end) bytes (the limit is \(NPY.maximumHeaderBytes))")
                        }
                        prefix = try Zlib.inflatePrefix(stored, format: .raw, count: end)
                    }
                    do {
                        _ = try NPY.layout(prefix: prefix, fileSize: member.uncompressedSize, name: m)
                    } catch let error as FileError {
                        throw fail("member '\(m)': \(error.reason) (the archive declares \(member.uncompressedSize) bytes)")
                    }
                }
                data = try Zlib.inflate(stored, format: .raw, expectedSize: member.uncompressedSize,
                                          maximumSize: member.uncompressedSize)
            } catch let error as ZlibError {
                throw fail("member '\(m)': \(error.description)")
            }
            guard data.count == member.uncompressedSize else {
                throw fail("member '\(m)' inflates to \(data.count) bytes, the archive says \(member.uncompressedSize)")
            }
        }
        let crc = Zlib.crc32(data)
        guard crc == member.crc else {
            throw fail("CRC-32 mismatch in member '\(m)' (corrupt data): computed \(hex(crc)), stored \(hex(member.crc))")
        }
        return data
    }

    private func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
