// swift-tools-version:6.1
//
// InfoPlane: information-bottleneck analysis of neural networks.
//
// Targets, bottom to top (each imports only targets above it in this list):
//   CBLAS, CPNG, CZlib      system-library shims found with pkg-config
//   ArrayIO                 atomic files, zlib streams, NumPy .npy/.npz
//   Tensors                 Float tensors, BLAS matmul, seeded RNG
//   Autodiff                reverse-mode tape over tensors
//   NeuralNets              layers, activations, losses, initializers, optimizers
//   Datasets                the 12-bit task, CSV and IDX readers, splits
//   ActivationStore         the on-disk run directory (manifest, activations, CSVs)
//   ProgressiveGAN          Karras et al.'s progressive GAN: networks, fade-in, WGAN-GP, training
//   AirQuality              AirNet-style simulated air-quality field, forecasters, scores, runs
//   InfoTheory              entropy and mutual-information estimators, exact Gaussian MI
//   Training                instrumented training loop, schedules, recorded runs, linear students
//   Translation             Gu et al.'s non-autoregressive translation against an AR Transformer:
//                           corpora, aligner, models, decoders, BLEU
//   Plotting                raster canvas, text, axes, figures, PNG output
//   RunFigures              figure values from run records and MI tables
//   Analysis                estimates over whole runs, summaries and audits of runs
//   Experiments             the published experiments `infoplane reproduce` runs
//   PlotCommands            `infoplane plot` and `infoplane grid`
//   Sweeps                  sweep files, their plans, shard merging, Slurm scripts, status
//   infoplane-compute       the commands that compute: train, estimate, demo,
//                           reproduce, audit (and the drawing ones again)
//   infoplane               the command-line tool: draws in-process, starts
//                           infoplane-compute in its place for everything else
//   infoplane-bench         release-mode micro-benchmarks
//
// `infoplane` does not link OpenBLAS: loading it (and the worker thread its
// constructor starts) costs 2 to 3 ms of every process, a fifth of a short
// command such as `infoplane grid`. See Sources/infoplane/main.swift.
import PackageDescription

#if os(Linux)
import Foundation
#endif

/// The hot loops (SIMD kernels, estimators, rasterizer) are compiled for the
/// building machine's vector unit, as `-march=native` would: AVX-512 (the
/// Skylake-SP set) when it has it, else AVX2 and FMA, else baseline x86-64.
/// The kernels give the same bits on all three (the compiler never fuses a
/// multiply and an add). Set INFOPLANE_PORTABLE=1 to build a binary for any
/// x86-64 machine.
let nativeSettings: [SwiftSetting] = {
    #if os(Linux) && arch(x86_64)
    guard ProcessInfo.processInfo.environment["INFOPLANE_PORTABLE"] == nil,
          let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    let set = Set(flags.split(separator: " "))
    guard set.contains("avx2"), set.contains("fma"), set.contains("bmi2") else { return [] }
    let avx512 = ["avx512f", "avx512cd", "avx512dq", "avx512bw", "avx512vl"].allSatisfy { set.contains(Substring($0)) }
    return [.unsafeFlags(["-target-cpu", avx512 ? "skylake-avx512" : "haswell"])]
    #else
    return []
    #endif
}()

/// The numeric modules are optimized in debug builds too: the test suite and
/// the notebook checks run the debug binary, and unoptimized Swift is 15 to 50
/// times slower on these loops. Assertions and `@testable` stay available.
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

/// `infoplane` and `infoplane-compute` link the Swift runtime and Foundation
/// statically on Linux: loading and relocating a dozen shared Swift libraries
/// (ICU among them) cost about 5 ms of every start, most of a short command
/// such as `plot` or `grid`, and 3.4 ms of the 13 ms CPU time of
/// `infoplane-compute --version`. Each executable grows by about 70 MB (ICU's data). This is what
/// `swift build --static-swift-stdlib` does, for this executable only; the
/// static Foundation libraries its objects do not name are listed here (the
/// Swift 6 toolchain's swift_static/linux; a toolchain that renames one fails
/// at link time, naming it).
let staticSwiftRuntime: [LinkerSetting] = [
    .unsafeFlags(["-static-stdlib", "-Xlinker", "--start-group",
                  "-lFoundation", "-lCoreFoundation", "-lFoundationEssentials", "-lFoundationInternationalization",
                  "-l_FoundationICU", "-l_FoundationCShims", "-l_FoundationCollections",
                  "-lswiftSynchronization", "-lswiftDispatch", "-ldispatch", "-lBlocksRuntime",
                  "-lswift_StringProcessing", "-lswift_RegexParser", "-lswift_Concurrency", "-lswiftGlibc", "-lswiftCore",
                  "-Xlinker", "--end-group", "-lstdc++"], .when(platforms: [.linux])),
]

/// swift-numerics's RealModule (elementary functions on Float and Double).
let realModule: Target.Dependency = .product(name: "RealModule", package: "swift-numerics")

let package = Package(
    name: "InfoPlane",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "infoplane", targets: ["infoplane"]),
        .executable(name: "infoplane-compute", targets: ["infoplane-compute"]),
        .executable(name: "infoplane-bench", targets: ["infoplane-bench"]),
        .library(name: "InfoTheory", targets: ["InfoTheory"]),
        .library(name: "Plotting", targets: ["Plotting"]),
        // The readers, for the fuzz targets of Tests/Fuzz (a package of its own).
        .library(name: "ArrayIO", targets: ["ArrayIO"]),
        .library(name: "ActivationStore", targets: ["ActivationStore"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "ProgressiveGAN", targets: ["ProgressiveGAN"]),
        .library(name: "Sweeps", targets: ["Sweeps"]),
        .library(name: "AirQuality", targets: ["AirQuality"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        .target(name: "ArrayIO", dependencies: ["CZlib"], swiftSettings: optimizedInDebug),
        .target(name: "Tensors", dependencies: ["CBLAS", realModule], swiftSettings: nativeSettings + optimizedInDebug),
        .target(name: "Autodiff", dependencies: ["Tensors"], swiftSettings: optimizedInDebug),
        .target(name: "NeuralNets", dependencies: ["ArrayIO", "Autodiff", "Tensors", realModule],
                swiftSettings: nativeSettings + optimizedInDebug),
        .target(name: "Datasets", dependencies: ["Tensors", "ArrayIO"], swiftSettings: optimizedInDebug),
        .target(name: "ProgressiveGAN", dependencies: ["ActivationStore", "ArrayIO", "Autodiff", "Datasets", "NeuralNets", "Plotting", "Tensors"],
                swiftSettings: optimizedInDebug),
        .target(name: "ActivationStore", dependencies: ["ArrayIO"]),
        .target(name: "AirQuality", dependencies: [
            "ActivationStore", "ArrayIO", "Autodiff", "NeuralNets", "Plotting", "Tensors", "Training",
        ], swiftSettings: optimizedInDebug),
        .target(name: "Translation", dependencies: [
            "ActivationStore", "ArrayIO", "Autodiff", "NeuralNets", "Tensors", "Training", realModule,
        ], swiftSettings: optimizedInDebug),
        .target(name: "InfoTheory", dependencies: ["Tensors", realModule], swiftSettings: nativeSettings + optimizedInDebug),
        .target(name: "Training", dependencies: [
            "ActivationStore", "ArrayIO", "Datasets", "InfoTheory", "NeuralNets", "Tensors", realModule,
        ], swiftSettings: optimizedInDebug),
        .target(name: "Plotting", dependencies: ["CPNG", "ArrayIO"], swiftSettings: nativeSettings + optimizedInDebug),
        .target(name: "RunFigures", dependencies: ["ActivationStore", "ArrayIO", "Plotting"]),
        .target(name: "Analysis", dependencies: ["ActivationStore", "ArrayIO", "InfoTheory", "Plotting", "Tensors", "Training"],
                swiftSettings: optimizedInDebug),
        .target(name: "Experiments", dependencies: [
            "AirQuality",
            "ActivationStore", "Analysis", "ArrayIO", "Datasets", "InfoTheory", "NeuralNets", "Plotting", "ProgressiveGAN", "RunFigures",
            "Tensors", "Training", "Translation",
        ]),
        .target(name: "PlotCommands", dependencies: [
            "ActivationStore", "ArrayIO", "Plotting", "RunFigures",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "TestSupport", dependencies: ["Tensors", "Autodiff"]),
        .target(name: "Sweeps", dependencies: ["ActivationStore", "ArrayIO"]),

        .executableTarget(name: "infoplane", dependencies: [
            "PlotCommands",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: staticSwiftRuntime),
        .executableTarget(name: "infoplane-compute", dependencies: [
            "AirQuality",
            "ActivationStore", "Analysis", "ArrayIO", "Experiments", "InfoTheory", "NeuralNets", "PlotCommands", "Plotting",
            "ProgressiveGAN", "RunFigures", "Tensors", "Training",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            "Sweeps", "Translation",
        ], linkerSettings: staticSwiftRuntime),
        .executableTarget(name: "infoplane-bench", dependencies: [
            "ArrayIO", "Autodiff", "InfoTheory", "NeuralNets", "Plotting", "ProgressiveGAN", "Tensors", "Training",
            "Translation",
        ]),

        .testTarget(name: "LinearModelTests", dependencies: ["ArrayIO", "Datasets", "InfoTheory", "Tensors", "TestSupport", "Training"]),
        .testTarget(name: "ArrayIOTests", dependencies: ["ArrayIO"]),
        .testTarget(name: "SweepsTests", dependencies: ["ActivationStore", "ArrayIO", "Sweeps"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "ArrayIO", "Tensors"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "TestSupport"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "Tensors", "TestSupport"]),
        .testTarget(name: "NeuralNetsTests", dependencies: ["ArrayIO", "Autodiff", "NeuralNets", "Tensors", "TestSupport"]),
        .testTarget(name: "ProgressiveGANTests", dependencies: [
            "ActivationStore", "ArrayIO", "Autodiff", "NeuralNets", "ProgressiveGAN", "Tensors", "TestSupport",
        ]),
        .testTarget(name: "TrainingTests", dependencies: [
            "ActivationStore", "ArrayIO", "Datasets", "NeuralNets", "Tensors", "TestSupport", "Training",
        ]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "ArrayIO"]),
        .testTarget(name: "InfoTheoryTests", dependencies: ["InfoTheory", "Tensors"]),
        .testTarget(name: "AnalysisTests", dependencies: [
            "ActivationStore", "Analysis", "ArrayIO", "InfoTheory", "RunFigures", "TestSupport", "Training",
        ]),
        .testTarget(name: "AirQualityTests", dependencies: [
            "ActivationStore", "AirQuality", "ArrayIO", "Autodiff", "NeuralNets", "Tensors", "TestSupport", "Training",
        ]),
        .testTarget(name: "TranslationTests", dependencies: [
            "ActivationStore", "ArrayIO", "Autodiff", "NeuralNets", "Tensors", "TestSupport", "Training", "Translation",
        ]),
        .testTarget(name: "ExperimentsTests", dependencies: [
            "ActivationStore", "Analysis", "ArrayIO", "Datasets", "Experiments", "NeuralNets", "ProgressiveGAN", "Tensors", "TestSupport",
            "Training", "Translation",
        ]),
    ]
)
