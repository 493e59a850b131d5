// The .npz reader: stored and deflated members, zip64 records, data
// descriptors; every member decoded, and the file read member by member.

import ArrayIO
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPZ(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = FuzzInput.bytes(data, size)
    if let entries = try? NPZ.decode(bytes, name: "input.npz") {
        for entry in entries {
            _ = entry.array.floats()
            _ = try? entry.array.int64s()
        }
    }
    let path = FuzzInput.file(data, size, name: "input.npz")
    if let entries = try? NPZ.read(path: path), let first = entries.first {
        _ = try? NPZ.read(path: path, member: first.name)
    }
    return 0
}

@_cdecl("fuzz_npz_main")
public func fuzzNPZMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { fuzzNPZ($0, $1) }
}
