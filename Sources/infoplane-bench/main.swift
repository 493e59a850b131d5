// infoplane-bench: release-mode micro-benchmarks.
//
//   swift run -c release infoplane-bench [kernels|training|layers|estimators|plotting|all]
//   .build/release/infoplane-bench ksg       (kNN mutual information; see InfoTheoryBench.swift)
//   .build/release/infoplane-bench process   (whole `infoplane` processes; build infoplane first)
//   .build/release/infoplane-bench memory    (resident memory over 10,000 training steps)
//   .build/release/infoplane-bench gan       (progressive GAN steps; gan-run K DIR trains one)
//   .build/release/infoplane-bench translation (teacher and NAT training steps)
//
// Each section prints one line per measurement: time, rate, and the ratio to
// the machine's limit where one applies (the sgemm rate for the same shapes).
// Run with OPENBLAS_NUM_THREADS=1 unless a line says otherwise.

import Tensors

// Measure the kernels a user of `infoplane` gets (see BLASCore).
BLASCore.restartWithRecognizedCoreIfNeeded()
ProcessMemory.keepFreedMemoryForReuse()
print("OpenBLAS core: \(BLASCore.name)")

let sections = CommandLine.arguments.dropFirst()
let all = sections.isEmpty || sections.contains("all")
if all || sections.contains("kernels") { runKernelBenchmarks() }
if all || sections.contains("training") { runTrainingBenchmarks() }
if all || sections.contains("layers") { runLayerBenchmarks() }
if all || sections.contains("plotting") { runPlottingBenchmarks() }
if all || sections.contains("estimators") { runInfoTheoryBenchmarks() }
if sections.contains("ksg") { runKSGBenchmarks() }
if sections.contains("process") { runProcessBenchmarks() }
if sections.contains("run") { runRecordedRunBenchmarks() }
if sections.contains("gan") { runGANBenchmarks() }
if sections.contains("translation") { runTranslationBenchmarks() }
if sections.contains("gan-run") {
    runGANTraining(thousands: sections.compactMap { Int($0) }.first ?? 8,
                   directory: sections.last.flatMap { $0 != "gan-run" && Int($0) == nil ? $0 : nil } ?? "gan-run")
}
if sections.contains("memory") {
    runMemoryBenchmarks(steps: sections.compactMap { Int($0) }.first ?? 10_000)
}
if sections.contains("profile-small") { profileTrainingStep(widths: [12, 10, 7, 5, 4, 3, 2], batch: 256, seconds: 5) }
if sections.contains("profile-mnist") { profileTrainingStep(widths: [784, 1024, 20, 20, 20, 10], batch: 128, seconds: 5) }
