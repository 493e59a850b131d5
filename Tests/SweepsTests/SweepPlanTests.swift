import ActivationStore
import ArrayIO
import Foundation
@testable import Sweeps
import XCTest

final class SweepFileTests: XCTestCase {
    func testJSONKeepsKeyOrderAndNumberText() throws {
        let value = try parseJSON(#"{"b": 1e-3, "a": [true, null, "x\u00e9"], "c": -0.50}"#)
        guard case let .object(members) = value else { return XCTFail("not an object") }
        XCTAssertEqual(members.map(\.key), ["b", "a", "c"])
        XCTAssertEqual(members[0].value, .number("1e-3"))
        XCTAssertEqual(members[1].value, .array([.bool(true), .null, .string("xé")]))
        XCTAssertEqual(members[2].value, .number("-0.50"))
    }

    func testJSONSyntaxErrorsNameLineAndColumn() {
        XCTAssertThrowsError(try parseJSON("{\n  \"a\": 1,\n  \"b\" 2\n}")) { error in
            let e = error as! JSONSyntaxError
            XCTAssertEqual(e.line, 3)
            XCTAssertEqual(e.column, 7)
        }
        XCTAssertThrowsError(try parseJSON(#"{"a": 1, "a": 2}"#)) { XCTAssertTrue("\($0)".contains("duplicate key \"a\"")) }
        XCTAssertThrowsError(try parseJSON("[01]"))
        XCTAssertThrowsError(try parseJSON("{} x"))
    }

    /// The key path of the error a sweep file text raises.
    func errorPath(_ text: String) -> String? {
        do {
            _ = try SweepFile(text: text, path: "s.json")
            return nil
        } catch let e as SweepError {
            XCTAssertEqual(e.file, "s.json")
            return e.keyPath
        } catch {
            XCTFail("\(error)")
            return nil
        }
    }

    func testBadFilesNameTheKeyPath() {
        XCTAssertEqual(errorPath(#"{"settings": {"colour": "red"}}"#), "settings.colour")
        XCTAssertEqual(errorPath(#"{"axes": {"seed": []}}"#), "axes.seed")
        XCTAssertEqual(errorPath(#"{"axes": {"seed": [1, "two"]}}"#), "axes.seed[1]")
        XCTAssertEqual(errorPath(#"{"axes": {"seed": [1, 1]}}"#), "axes.seed[1]")
        XCTAssertEqual(errorPath(#"{"axes": {"seed": 3}}"#), "axes.seed")
        XCTAssertEqual(errorPath(#"{"axes": {"speed": [1]}}"#), "axes.speed")
        XCTAssertEqual(errorPath(#"{"settings": {"epochs": 1.5}}"#), "settings.epochs")
        XCTAssertEqual(errorPath(#"{"settings": {"lr": "fast"}}"#), "settings.lr")
        XCTAssertEqual(errorPath(#"{"settings": {"downsample": 1}}"#), "settings.downsample")
        XCTAssertEqual(errorPath(#"{"settings": {"seed": 1}, "axes": {"seed": [2]}}"#), "axes.seed")
        XCTAssertEqual(errorPath(#"{"estimates": [{"bins": 30}]}"#), "estimates[0]")
        XCTAssertEqual(errorPath(#"{"estimates": [{"estimator": "kde", "noise": 0.1}]}"#), "estimates[0].noise")
        XCTAssertEqual(errorPath(#"{"estimates": [{"estimator": "all"}]}"#), "estimates[0].estimator")
        XCTAssertEqual(errorPath(#"{"axes": {"bins": [10, 30]}}"#), "axes.bins")
        XCTAssertEqual(errorPath(#"{"slurm": {"throttle": 0}}"#), "slurm.throttle")
        XCTAssertEqual(errorPath(#"{"slurm": {"sbatch": ["qos=short"]}}"#), "slurm.sbatch[0]")
        XCTAssertEqual(errorPath(#"{"audit": true}"#), "audit")
        XCTAssertEqual(errorPath(#"{"runs": 3}"#), "runs")
        XCTAssertEqual(errorPath(#"[1, 2]"#), "")
        XCTAssertNil(errorPath(#"{"settings": {"epochs": 20, "lr": 1e-3, "downsample": true}, "axes": {"seed": [1, 2]}}"#))
    }

    func testDirectoryIsBesideTheFile() throws {
        XCTAssertEqual(try SweepFile(text: "{}", path: "/a/b/grid.json").directory, "/a/b/grid")
        XCTAssertEqual(try SweepFile(text: #"{"directory": "out"}"#, path: "/a/b/grid.json").directory, "/a/b/out")
        XCTAssertEqual(try SweepFile(text: #"{"directory": "/abs"}"#, path: "/a/b/grid.json").directory, "/abs")
        XCTAssertEqual(try SweepFile(text: "{}", path: "/a/b/grid.json").name, "grid")
    }
}

final class SweepPlanTests: XCTestCase {
    static let text = """
        {
          "name": "acts",
          "settings": {"task": "tishby", "epochs": 200, "record": "every:10", "weight-decay": "decoupled:1e-4"},
          "axes": {"activation": ["tanh", "relu"], "seed": [1, 2, 3], "bins": [10, 30]},
          "estimates": [{"estimator": "binning"}, {"estimator": "kde", "noise-variance": 0.1, "name": "kde01"}],
          "audit": {"estimate": "binning_bins-30"},
          "slurm": {"epochs-per-shard": 8, "throttle": 2}
        }
        """

    func plan(_ text: String = SweepPlanTests.text, epochs: [Int] = Array(stride(from: 0, through: 200, by: 10)),
              overrides: SlurmOptions = SlurmOptions()) throws -> SweepPlan {
        try SweepPlan(file: SweepFile(text: text, path: "/s/acts.json"), slurm: overrides, epochsOf: { _ in epochs })
    }

    func testRunsAreNamedFromTheirSettingsInAxisOrder() throws {
        let p = try plan()
        XCTAssertEqual(p.runs.map(\.name), [
            "activation-tanh_seed-1", "activation-tanh_seed-2", "activation-tanh_seed-3",
            "activation-relu_seed-1", "activation-relu_seed-2", "activation-relu_seed-3",
        ])
        XCTAssertEqual(p.runs[4].trainArguments, ["--task=tishby", "--epochs=200", "--record=every:10",
                                                  "--weight-decay=decoupled:1e-4", "--activation=relu", "--seed=2"])
        XCTAssertEqual(p.runDirectory(4), "/s/acts/runs/activation-relu_seed-2")
        XCTAssertEqual(p.estimates.map(\.name), ["binning_bins-10", "binning_bins-30", "kde01_bins-10", "kde01_bins-30"])
        XCTAssertEqual(p.estimates[1].estimateArguments, ["--estimator=binning", "--bins=30"])
        XCTAssertEqual(p.tablePath(run: 0, estimate: 2), "/s/acts/runs/activation-tanh_seed-1/mi-kde01_bins-10.csv")
        XCTAssertEqual(p.auditEstimate, 1)
        // The same file, the same plan.
        XCTAssertEqual(try plan().runs, p.runs)
        XCTAssertEqual(try plan().shards, p.shards)
    }

    func testValuesBecomeDirectoryNameCharacters() throws {
        let p = try plan(#"{"axes": {"weight-decay": ["decoupled:1e-4", "l2:0.01"]}}"#)
        XCTAssertEqual(p.runs.map(\.name), ["weight-decay-decoupled_1e-4", "weight-decay-l2_0.01"])
        XCTAssertEqual(try plan("{}").runs.map(\.name), ["run"])
        XCTAssertThrowsError(try plan(#"{"axes": {"weight-decay": ["l2:1", "l2/1"]}}"#)) { error in
            XCTAssertEqual((error as! SweepError).keyPath, "axes.weight-decay[1]")
        }
    }

    func testShardsCoverEveryRecordedEpochOnceInOrder() throws {
        let epochs = Array(stride(from: 0, through: 200, by: 10))  // 21 epochs
        let p = try plan()
        XCTAssertEqual(p.shards.count, 6 * 4 * 3)  // 21 epochs in shards of 8, 8, 5
        for r in p.runs.indices {
            for e in p.estimates.indices {
                let shards = p.shards(run: r, estimate: e)
                XCTAssertEqual(shards.map(\.epochs.count), [8, 8, 5])
                XCTAssertEqual(shards.flatMap(\.epochs), epochs)
            }
        }
        XCTAssertEqual(p.shardPath(p.shards[1]), "/s/acts/shards/activation-tanh_seed-1/binning_bins-10/epochs-80-150.csv")
        XCTAssertEqual(p.shardTaskArguments(p.shards[1]), ["estimate", "activation-tanh_seed-1", "binning_bins-10", "80", "150"])
        // Global binning needs every epoch at once: one shard.
        let global = try plan(#"{"estimates": [{"estimator": "binning", "discretization": "global"}], "slurm": {"epochs-per-shard": 4}}"#)
        XCTAssertEqual(global.shards.map(\.isWhole), [true])
        // The command line's shard size and blocks over the file's.
        var o = SlurmOptions()
        o.epochsPerShard = 21
        o.runsPerTask = 4
        let whole = try plan(overrides: o)
        XCTAssertEqual(whole.shards.count, 24)
        XCTAssertEqual(whole.trainTasks, [[0, 1, 2, 3], [4, 5]])
        XCTAssertEqual(whole.slurm.throttle, 2)
    }

    func testDuplicateTableNamesAreRefused() {
        XCTAssertThrowsError(try plan(#"{"estimates": [{"estimator": "kde"}, {"estimator": "kde", "noise-variance": 0.01}]}"#)) { error in
            XCTAssertEqual((error as! SweepError).keyPath, "estimates[1]")
        }
        XCTAssertThrowsError(try plan(#"{"estimates": [{"estimator": "kde"}], "audit": {"estimate": "binning"}}"#)) { error in
            XCTAssertEqual((error as! SweepError).keyPath, "audit.estimate")
        }
    }
}

final class SlurmScriptTests: XCTestCase {
    func testArraySpecs() {
        XCTAssertEqual(SlurmScripts.arraySpec([0, 1, 2, 5, 7, 8], throttle: 4), "0-2,5,7-8%4")
        XCTAssertEqual(SlurmScripts.arraySpec([3], throttle: nil), "3")
        XCTAssertEqual(SlurmScripts.arraySpec([9, 8, 1], throttle: nil), "1,8-9")
    }

    func testScriptsReadTheirTaskLine() throws {
        let file = try SweepFile(text: #"{"axes": {"seed": [1, 2, 3]}, "estimates": [{"estimator": "kde"}], "slurm": {"throttle": 2, "mem": "1G", "sbatch": ["--qos=short"]}}"#,
                                 path: "/s/my sweep/acts.json")
        let plan = try SweepPlan(file: file, epochsOf: { _ in [0, 1, 2, 3] })
        let scripts = SlurmScripts(plan: plan, executable: "/opt/infoplane-compute")
        let train = scripts.trainScriptText
        XCTAssertTrue(train.contains("#SBATCH --array=0-2%2\n"))
        XCTAssertTrue(train.contains("#SBATCH --job-name=acts-train\n"))
        XCTAssertTrue(train.contains("#SBATCH --output=\"/s/my sweep/acts/slurm/logs/train-%a.out\"\n"))
        XCTAssertTrue(train.contains("#SBATCH --mem=1G\n#SBATCH --qos=short\n"))
        XCTAssertTrue(train.contains("exec /opt/infoplane-compute sweep task '/s/my sweep/acts.json' $line\n"))
        XCTAssertEqual(scripts.trainTaskList, "train seed-1\ntrain seed-2\ntrain seed-3\n")
        XCTAssertEqual(scripts.estimateTaskList, "estimate seed-1 kde 0 3\nestimate seed-2 kde 0 3\nestimate seed-3 kde 0 3\n")
        XCTAssertTrue(scripts.submitScriptText.contains("--dependency=afterany:$train estimate.sbatch"))
    }

    func testShellQuoting() {
        XCTAssertEqual(shellQuoted("/a/b-c.json"), "/a/b-c.json")
        XCTAssertEqual(shellQuoted("it's here"), "'it'\\''s here'")
    }

    func testQueueLines() {
        XCTAssertEqual(QueueEntry.parse("12_3|s-train|RUNNING\n13|s-final|PENDING\n\n"), [
            QueueEntry(jobID: "12", arrayIndex: 3, name: "s-train", state: "RUNNING"),
            QueueEntry(jobID: "13", arrayIndex: nil, name: "s-final", state: "PENDING"),
        ])
    }
}

final class ShardMergeTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "sweeps-merge-\(getpid())-\(UUID().uuidString)"
        try! AtomicFile.createDirectory(directory)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func table(_ epochs: [Int], parameters: [String: String] = ["estimator": "kde", "source": "runs/a"]) -> InformationTable {
        InformationTable(columns: ["I_XT", "I_TY", "H_T"], rows: epochs.flatMap { e in
            (1...3).map { l in InformationTable.Row(epoch: e, layer: l, values: [Double(e) / 7 + Double(l), 1.0 / Double(e + l), .pi * Double(l)]) }
        }, parameters: parameters)
    }

    func testShardsMergeIntoTheBytesOfTheWholeTable() throws {
        let epochs = [0, 1, 2, 5, 10, 20, 50]
        try table(epochs).write(to: directory + "/whole.csv")
        let parts = [[0, 1, 2], [5, 10, 20], [50]]
        var shards = [(path: String, table: InformationTable)]()
        for (i, part) in parts.enumerated() {
            let path = directory + "/shard-\(i).csv"
            try table(part).write(to: path)
            XCTAssertTrue(isCompleteTable(path))
            shards.append((path, try InformationTable.read(path: path)))
        }
        try mergeShardTables(shards, epochs: parts).write(to: directory + "/merged.csv")
        XCTAssertEqual(try AtomicFile.read(directory + "/merged.csv"), try AtomicFile.read(directory + "/whole.csv"))
        XCTAssertEqual(try AtomicFile.read(directory + "/merged.json"), try AtomicFile.read(directory + "/whole.json"))
    }

    func testMismatchedShardsAreRefusedByName() throws {
        try table([0, 1]).write(to: directory + "/a.csv")
        try table([2], parameters: ["estimator": "kde", "source": "runs/b"]).write(to: directory + "/b.csv")
        let a = try InformationTable.read(path: directory + "/a.csv"), b = try InformationTable.read(path: directory + "/b.csv")
        XCTAssertThrowsError(try mergeShardTables([(directory + "/a.csv", a), (directory + "/b.csv", b)], epochs: [[0, 1], [2]])) { error in
            XCTAssertTrue("\(error)".contains("b.csv: parameters differ") && "\(error)".contains("source"), "\(error)")
        }
        XCTAssertThrowsError(try mergeShardTables([(directory + "/a.csv", a)], epochs: [[0, 1, 2]])) { error in
            XCTAssertTrue("\(error)".contains("expected 0…2 (3)"), "\(error)")
        }
    }

    func testATableWithoutItsParametersIsIncomplete() throws {
        try table([0]).write(to: directory + "/t.csv")
        AtomicFile.remove(directory + "/t.json")
        XCTAssertFalse(isCompleteTable(directory + "/t.csv"))
        XCTAssertFalse(isCompleteTable(directory + "/none.csv"))
    }
}

final class SweepStatusTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "sweeps-status-\(getpid())-\(UUID().uuidString)"
        try! AtomicFile.createDirectory(directory)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func shardTable(_ epochs: [Int]) -> InformationTable {
        InformationTable(columns: ["I_XT", "I_TY"], rows: epochs.map { InformationTable.Row(epoch: $0, layer: 1, values: [1, 0.5]) },
                         parameters: ["estimator": "binning"])
    }

    /// Three runs: one failed (its record and log), one queued, one not started; one table
    /// with one of its two shards done.
    func testStatesFromTheDirectoryAndTheQueue() throws {
        let file = try SweepFile(text: #"{"name": "st", "axes": {"seed": [1, 2, 3]}, "estimates": [{"estimator": "binning"}], "slurm": {"epochs-per-shard": 2}}"#,
                                 path: directory + "/st.json")
        let plan = try SweepPlan(file: file, epochsOf: { _ in [0, 10, 20] })
        let scripts = SlurmScripts(plan: plan, executable: "/bin/infoplane-compute")
        try AtomicFile.createDirectory(plan.directory + "/failed")
        try AtomicFile.write("data.csv: line 3: bad\n", to: plan.failurePath("train-seed-1"))
        try AtomicFile.createDirectory(scripts.logDirectory)
        try AtomicFile.write("one\ntwo\nthree\n", to: scripts.logPath(stage: "train", index: 0))
        let shards = plan.shards(run: 2, estimate: 0)
        XCTAssertEqual(shards.map(\.epochs), [[0, 10], [20]])
        try AtomicFile.createDirectory(String(plan.shardPath(shards[0]).dropLast("/epochs-0-10.csv".count)))
        try shardTable([0, 10]).write(to: plan.shardPath(shards[0]))

        let queue = QueueEntry.parse("41_1|st-train|RUNNING\n42_0|st-estimate|PENDING\n")
        let status = SweepStatus(plan: plan, scripts: scripts, queue: queue, logLines: 2)
        XCTAssertEqual(status.runs, [.failed("data.csv: line 3: bad\n"), .queued("RUNNING"), .missing])
        XCTAssertEqual(status.tables.map { $0[0] }, [.queued("PENDING"), .missing, .partial("1 of 2 shards")])
        XCTAssertEqual(status.missingTrainTasks, [0, 2])  // task 1 is running
        XCTAssertEqual(status.missingShards, [1, 2, 3, 5])  // shard 0 is queued, 4 done
        XCTAssertFalse(status.isComplete)
        XCTAssertEqual(status.failures.map(\.name), ["seed-1"])
        XCTAssertTrue(status.failures[0].text.hasSuffix("train-0.out:\n      two\n      three"), status.failures[0].text)
    }
}
