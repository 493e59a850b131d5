// The reader of the original 12-bit data set (x.csv and y.csv): the input is
// split at its first NUL byte into the two files.

import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTishbyCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let cut = bytes.firstIndex(of: 0) ?? size
    let x = FuzzInput.file(data, cut, name: "x.csv")
    let y = FuzzInput.file(data + min(cut + 1, size), max(0, size - cut - 1), name: "y.csv")
    if let dataset = try? TishbyCSV.read(x: x, y: y) {
        precondition(dataset.labels.allSatisfy { $0 == 0 || $0 == 1 }, "a label that is not 0 or 1")
    }
    return 0
}

@_cdecl("fuzz_tishby_csv_main")
public func fuzzTishbyCSVMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { fuzzTishbyCSV($0, $1) }
}
