// swift-tools-version:6.1
//
// Coverage-guided fuzz targets for InfoPlane's readers, one executable per
// reader, built with libFuzzer and AddressSanitizer:
//
//     swift build --package-path Tests/Fuzz -c debug \
//         -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//
// `make fuzz` (scripts/fuzz.sh) builds them and runs each on its seed corpus
// in Tests/Fuzz/Corpus/<target>. Each target's entry point is
// `LLVMFuzzerTestOneInput`: libFuzzer provides `main`, hence
// `-parse-as-library`. A reader may throw on any input (that is its job);
// it must not crash, trap, leak or touch memory it does not own.

import PackageDescription

let targets: [(name: String, products: [String])] = [
    ("fuzz-npy", ["ArrayIO"]),
    ("fuzz-npz", ["ArrayIO"]),
    ("fuzz-idx", ["Datasets"]),
    ("fuzz-tishby-csv", ["Datasets"]),
    ("fuzz-mi-table", ["ActivationStore"]),
    ("fuzz-manifest", ["ActivationStore"]),
    ("fuzz-image-set", ["ProgressiveGAN"]),
    ("fuzz-sweep-file", ["Sweeps"]),
    ("fuzz-air-field", ["AirQuality"]),
]

let package = Package(
    name: "InfoPlaneFuzz",
    dependencies: [.package(name: "InfoPlane", path: "../..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
    ] + targets.map { target in
        .executableTarget(
            name: target.name,
            dependencies: ["FuzzSupport"] + target.products.map { .product(name: $0, package: "InfoPlane") },
            path: "Sources/\(target.name)")
    }
)
