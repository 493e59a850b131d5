// infoplane-bench: release-mode micro-benchmarks.
//
//   swift run -c release infoplane-bench [training|all]
//
// Each section prints one line per measurement: time, rate, and the ratio to
// the machine's limit where one applies (the sgemm rate for the same shapes).

let sections = CommandLine.arguments.dropFirst()
let all = sections.isEmpty || sections.contains("all")
if all || sections.contains("training") { runTrainingBenchmarks() }
