// The IDX reader (Fashion-MNIST's format), plain and gzip-compressed.

import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    if let array = try? IDX.decode(FuzzInput.bytes(data, size), name: "input.idx") {
        precondition(array.bytes.count == array.dimensions.reduce(1, *), "IDX array of the wrong size")
    }
    _ = try? IDX.read(path: FuzzInput.file(data, size, name: "input-ubyte.gz"))
    _ = try? IDX.read(path: FuzzInput.file(data, size, name: "input-ubyte"))
    return 0
}

@_cdecl("fuzz_idx_main")
public func fuzzIDXMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { fuzzIDX($0, $1) }
}
