// The reader of simulated air-quality fields (`simulate air` writes them,
// `train --task air --field` and `reproduce airnet` read them).

import AirQuality
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAirField(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    _ = try? AirField.read(FuzzInput.file(data, size, name: "field.npz"))
    return 0
}

@_cdecl("fuzz_air_field_main")
public func fuzzAirFieldMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { fuzzAirField($0, $1) }
}
