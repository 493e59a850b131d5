// The .npy reader, every dtype and version: decode, then read every element
// as the callers do (Float, Double, integers, booleans), and read the same
// bytes from a file through the path-based readers.

import ArrayIO
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = FuzzInput.bytes(data, size)
    if let array = try? NPY.decode(bytes, name: "input.npy") {
        precondition(array.bytes.count == array.count * array.dtype.itemSize, "decoded array of the wrong size")
        _ = array.floats()
        _ = array.doubles()
        _ = try? array.int64s()
        _ = try? array.ints()
        _ = array.bools()
        // What decodes encodes again and decodes to the same array.
        let again = try? NPY.decode(NPY.encode(array), name: "again.npy")
        precondition(again == array, "encode(decode(x)) does not decode to the same array")
    }
    let path = FuzzInput.file(data, size, name: "input.npy")
    _ = try? NPY.read(path: path)
    _ = try? NPY.readFloats(path: path)
    return 0
}

@_cdecl("fuzz_npy_main")
public func fuzzNPYMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { fuzzNPY($0, $1) }
}
