// Whole-process timings of `infoplane` as a user runs it: exec, dynamic loading,
// argument parsing, reading the input, rendering, PNG encoding and the atomic
// write, measured from posix_spawn to the child's exit.
//
//   swift build -c release --product infoplane
//   swift build -c release --product infoplane-bench
//   .build/release/infoplane-bench process
//
// The inputs are written to a temporary directory first: an MI table of 6 layers
// x 1000 epochs (the synthetic trajectories of PlottingBench.swift, header
// epoch,layer,I_XT,I_TY) and a float32 .npy batch of 64 x 3 x 32 x 32 values
// uniform in [0, 1) (what `np.save("imgs.npy", rng.random((64,3,32,32),
// dtype=np.float32))` writes). PROCESS_RUNS sets the number of runs (default 30).

import ArrayIO
import Foundation
import Plotting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `infoplane` executable next to this benchmark's.
private func infoplanePath() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let me = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    guard let slash = me.lastIndex(of: "/") else { return "./infoplane" }
    return String(me[..<slash]) + "/infoplane"
}

/// Runs `arguments` once with stdout and stderr to /dev/null; the wall time in
/// seconds, or nil if it could not start or failed.
private func timeProcess(_ arguments: [String]) -> Double? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid = pid_t()
    let start = plottingNow()
    guard posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ) == 0 else { return nil }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let elapsed = plottingNow() - start
    return status == 0 ? elapsed : nil
}

/// Writes the two inputs into `dir`.
private func writeProcessInputs(_ dir: String) throws {
    var csv = "epoch,layer,I_XT,I_TY\n"
    for p in syntheticInformationPlane(layers: 6, epochs: 1000) {
        csv += "\(p.epoch),\(p.layer),\(p.ixt),\(p.ity)\n"
    }
    try AtomicFile.write(csv, to: dir + "/mi.csv")
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    let images = (0..<(64 * 3 * 32 * 32)).map { _ -> Float in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24)
    }
    try NPY.write(floats: images, shape: [64, 3, 32, 32], to: dir + "/imgs.npy")
}

/// The built `infoplane` and a fresh temporary directory for a section's
/// processes, or nil (said) when either is missing.
private func processSetup(_ section: String) -> (tool: String, directory: String)? {
    let tool = infoplanePath()
    guard access(tool, X_OK) == 0 else {
        print("\(section): \(tool) not found; build it first: swift build -c release")
        return nil
    }
    var template = Array("/tmp/infoplane-\(section)-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { print("\(section): cannot create a temporary directory"); return nil }
    return (tool, String(cString: made))
}

func runProcessBenchmarks() {
    guard let (tool, dir) = processSetup("process") else { return }
    defer { _ = try? removeTree(dir) }
    do { try writeProcessInputs(dir) } catch { print("process: \(error)"); return }
    let runs = getenv("PROCESS_RUNS").flatMap { Int(String(cString: $0)) } ?? 30
    let commands: [(String, [String])] = [
        ("infoplane --help (starts infoplane-compute)", [tool, "--help"]),
        ("infoplane plot infoplane mi.csv -o p.png --size 1000x800 (6 layers x 1000 epochs)",
         [tool, "plot", "infoplane", dir + "/mi.csv", "-o", dir + "/p.png", "--size", "1000x800"]),
        ("infoplane grid imgs.npy -o g.png --nrow 8 --padding 2 (64 x 3 x 32 x 32 float32)",
         [tool, "grid", dir + "/imgs.npy", "-o", dir + "/g.png", "--nrow", "8", "--padding", "2"]),
    ]
    for (name, arguments) in commands {
        _ = timeProcess(arguments)   // warm the page cache
        var times = [Double]()
        for _ in 0..<runs {
            guard let t = timeProcess(arguments) else { print("process: \(name) failed"); return }
            times.append(t)
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        print("process \(name): median \(processMs(median)), best \(processMs(times[0])), worst \(processMs(times[times.count - 1])) over \(runs) runs")
    }
}

/// The whole processes of issue-sized work: the 8000-epoch recorded 12-bit
/// run (tanh and ReLU, `--record log`, 274 recorded epochs) and the binning
/// estimate of such a run, beside the start-up every command pays
/// (`infoplane --version`, which starts infoplane-compute), the floor of a
/// short command. `RUN_REPEATS` runs of each training (default 3), 30 of
/// the others.
func runRecordedRunBenchmarks() {
    guard let (tool, dir) = processSetup("run") else { return }
    defer { _ = try? removeTree(dir) }
    let repeats = getenv("RUN_REPEATS").flatMap { Int(String(cString: $0)) } ?? 3
    func summary(_ times: [Double]) -> (median: Double, best: Double) {
        let t = times.sorted()
        return (t.count % 2 == 1 ? t[t.count / 2] : (t[t.count / 2 - 1] + t[t.count / 2]) / 2, t[0])
    }
    let startup = summary((0..<30).compactMap { _ in timeProcess([tool, "--version"]) })
    print("run: start-up (infoplane --version): median \(processMs(startup.median)), best \(processMs(startup.best))")
    for activation in ["tanh", "relu"] {
        var times = [Double]()
        for r in 0..<repeats {
            let out = "\(dir)/\(activation)-\(r)"
            guard let t = timeProcess([tool, "train", "--task", "tishby", "--activation", activation, "--epochs", "8000",
                                       "--record", "log", "--seed", "1", "--out", out]) else {
                print("run: training \(activation) failed"); return
            }
            times.append(t)
            if r > 0 { _ = try? removeTree(out) }
        }
        let s = summary(times)
        print("run: 12-bit \(activation), 8000 epochs, 274 recorded (whole process): median \(processMs(s.median)), best \(processMs(s.best)) over \(repeats) runs")
    }
    let runDirectory = "\(dir)/tanh-0"
    let estimate = summary((0..<30).compactMap { _ in
        timeProcess([tool, "estimate", runDirectory, "-o", dir + "/mi.csv"])
    })
    print("run: estimate (binning) of a 6 x 274 run (whole process): median \(processMs(estimate.median)), "
          + "best \(processMs(estimate.best)); start-up is \(Int((startup.median / estimate.median * 100).rounded())) % of it")
}

/// Removes a directory tree the benchmark made.
private func removeTree(_ path: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
    try FileManager.default.removeItem(atPath: path)
}

private func processMs(_ s: Double) -> String {
    "\((s * 10000).rounded() / 10) ms"
}
