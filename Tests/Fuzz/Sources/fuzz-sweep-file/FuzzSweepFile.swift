// The reader of sweep files (`infoplane sweep plan FILE`): its JSON parser
// and the checks of every key, then the plan the file expands to.

import FuzzSupport
import Sweeps

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSweepFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return 0 }
    if let sweep = try? SweepFile(text: text, path: "/fuzz/sweep.json") {
        _ = try? SweepPlan(file: sweep) { _ in Array(0...100) }
    }
    return 0
}

@_cdecl("fuzz_sweep_file_main")
public func fuzzSweepFileMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { fuzzSweepFile($0, $1) }
}
