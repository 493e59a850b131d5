// The reader of manifest.json, the record every command trusts about a run.

import ActivationStore
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    if let manifest = try? RunManifest.decode(FuzzInput.bytes(data, size), path: "manifest.json") {
        // What decodes encodes and decodes to the same manifest.
        let again = try? RunManifest.decode(try manifest.encoded(), path: "again.json")
        precondition(again == manifest, "encode(decode(x)) does not decode to the same manifest")
    }
    return 0
}

@_cdecl("fuzz_manifest_main")
public func fuzzManifestMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { fuzzManifest($0, $1) }
}
