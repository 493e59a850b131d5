// The reader of MI tables (mi-*.csv), as `plot` and `audit` read them.

import ActivationStore
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMITable(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let path = FuzzInput.file(data, size, name: "mi-binning.csv")
    if let table = try? InformationTable.read(path: path) {
        for name in table.columns { _ = table.column(name) }
    }
    return 0
}

@_cdecl("fuzz_mi_table_main")
public func fuzzMITableMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { fuzzMITable($0, $1) }
}
