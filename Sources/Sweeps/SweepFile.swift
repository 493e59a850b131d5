// The sweep file: a task and its settings, the axes to vary, the estimates,
// figures and audit that follow the runs, and how Slurm jobs are sized.
//
//   {
//     "name": "activations",
//     "directory": "sweeps/activations",
//     "settings": {"task": "tishby", "epochs": 2000, "record": "every:20"},
//     "axes": {"activation": ["tanh", "relu"], "seed": [1, 2, 3]},
//     "estimates": [{"estimator": "binning", "bins": 30}, {"estimator": "kde", "noise-variance": 0.1}],
//     "figures": true,
//     "audit": {"estimate": "binning"},
//     "slurm": {"time": "00:30:00", "mem": "1G", "throttle": 8, "epochs-per-shard": 50}
//   }
//
// Setting keys are the options of `infoplane train` without the dashes, and
// estimate keys those of `infoplane estimate`. An axis over a training setting
// multiplies the runs; an axis over an estimate option (one that is not also a
// training setting, such as bins) multiplies every estimate.

/// A bad sweep file: the file, the key path (`axes.seed[2]`) and what is wrong.
public struct SweepError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var keyPath: String
    public var message: String

    public init(file: String, keyPath: String, _ message: String) {
        self.file = file
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        keyPath.isEmpty ? "\(file): \(message)" : "\(file): \(keyPath): \(message)"
    }
}

/// The JSON type an option takes.
public enum SettingKind: Sendable {
    case string, integer, number, flag

    var name: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .number: "a number"
        case .flag: "true or false"
        }
    }
}

/// The options a sweep may set, by command.
public enum SweepSchema {
    /// `infoplane train`'s options (a recorded network run).
    public static let training: [String: SettingKind] = [
        "task": .string, "data": .string, "hidden": .string, "activation": .string, "initializer": .string,
        "epochs": .integer, "batch-size": .integer, "optimizer": .string, "lr": .number, "momentum": .number,
        "weight-decay": .string, "lr-schedule": .string, "mixup": .number, "seed": .integer,
        "training-fraction": .number, "split": .string, "train-subset": .integer, "test-subset": .integer,
        "downsample": .flag, "record": .string, "activations": .string, "dtype": .string,
        "checkpoint-interval": .integer, "recorded-samples": .string, "label-noise": .number,
    ]

    /// `infoplane estimate`'s options for a run (the epochs are the sweep's to shard).
    public static let estimate: [String: SettingKind] = [
        "estimator": .string, "discretization": .string, "bins": .integer, "lower": .number, "upper": .number,
        "width": .number, "fix-edges-quirk": .flag, "global-range": .string, "noise-variance": .number,
        "bound": .string, "k": .integer, "algorithm": .integer, "knn-noise-variance": .number,
        "knn-inputs": .string, "knn-draws": .integer, "seed": .integer, "reduce": .string,
        "projection-dim": .integer, "samples": .string,
    ]

    /// Keys of an estimate entry that are not estimate options.
    static let estimateEntryKeys: Set<String> = ["name"]

    static let topLevel = ["name", "directory", "settings", "axes", "estimates", "figures", "audit", "slurm"]
    static let slurmKeys: [String: SettingKind] = [
        "partition": .string, "time": .string, "cpus-per-task": .integer, "mem": .string, "account": .string,
        "throttle": .integer, "runs-per-task": .integer, "epochs-per-shard": .integer,
    ]
}

/// One option's value as it goes on a command line.
public struct SettingValue: Sendable, Equatable {
    /// The key (an option name without the dashes).
    public var key: String
    /// The argument text (the number as written, the string, or "true"/"false" for a flag).
    public var text: String
    /// Where in the sweep file the value was given.
    public var keyPath: String

    /// The command-line words: `--key=text` (one word, so that a value such as -1
    /// is not read as an option), or `--key` alone for a set flag.
    public func arguments(kind: SettingKind) -> [String] {
        if kind == .flag { return text == "true" ? ["--" + key] : [] }
        return ["--" + key + "=" + text]
    }
}

/// An axis: one key and its values, in file order.
public struct SweepAxis: Sendable, Equatable {
    public var key: String
    public var values: [SettingValue]
    /// Whether the axis varies the runs (a training setting) or the estimates.
    public var variesRuns: Bool
}

/// The sizing of Slurm jobs (every field optional).
public struct SlurmOptions: Sendable, Equatable {
    public var partition: String?
    public var time: String?
    public var cpusPerTask: Int?
    public var memory: String?
    public var account: String?
    /// Further `sbatch` options, each one word such as `--qos=short`.
    public var extra: [String] = []
    /// At most this many array tasks at once (`--array=…%N`).
    public var throttle: Int?
    /// Runs trained by one array task, one after the other (default 1).
    public var runsPerTask: Int = 1
    /// Recorded epochs estimated by one estimate task (default: all of a run).
    public var epochsPerShard: Int?

    public init() {}

    /// These options, each one given in `overrides` replacing this one.
    public func overridden(by overrides: SlurmOptions) -> SlurmOptions {
        var o = self
        if let v = overrides.partition { o.partition = v }
        if let v = overrides.time { o.time = v }
        if let v = overrides.cpusPerTask { o.cpusPerTask = v }
        if let v = overrides.memory { o.memory = v }
        if let v = overrides.account { o.account = v }
        o.extra += overrides.extra
        if let v = overrides.throttle { o.throttle = v }
        if overrides.runsPerTask != 1 { o.runsPerTask = overrides.runsPerTask }
        if let v = overrides.epochsPerShard { o.epochsPerShard = v }
        return o
    }
}

/// A parsed and checked sweep file.
public struct SweepFile: Sendable {
    /// The sweep file's path.
    public var path: String
    /// The sweep's name (job names); default: the file's name without `.json`.
    public var name: String
    /// The sweep directory: runs, tables, figures, scripts and logs.
    public var directory: String
    /// The training settings every run shares.
    public var settings: [SettingValue]
    /// The axes, in file order.
    public var axes: [SweepAxis]
    /// The estimate entries: their options and, optionally, a table name.
    public var estimates: [(name: String?, options: [SettingValue], keyPath: String)]
    /// Whether each (run, estimate) gets an information-plane figure.
    public var figures: Bool
    /// The table the audit over all runs reads (an estimate's name), nil for no audit.
    public var auditEstimate: String?
    public var slurm: SlurmOptions

    /// Parses the text of a sweep file read from `path`.
    ///
    /// - Throws: `SweepError` naming the file and the key path for a syntax
    ///   error, an unknown key or setting, a value of the wrong type, an empty
    ///   axis or a setting given twice.
    public init(text: String, path: String) throws {
        self.path = path
        let root: JSONValue
        do { root = try parseJSON(text) } catch let e as JSONSyntaxError {
            throw SweepError(file: path, keyPath: "", "not valid JSON (\(e))")
        }
        guard case let .object(members) = root else {
            throw SweepError(file: path, keyPath: "", "a sweep file is a JSON object, not \(root.kindName)")
        }
        func fail(_ keyPath: String, _ message: String) -> SweepError { SweepError(file: path, keyPath: keyPath, message) }
        for (key, _) in members where !SweepSchema.topLevel.contains(key) {
            throw fail(key, "unknown key (known: \(SweepSchema.topLevel.joined(separator: ", ")))")
        }
        let top = Dictionary(uniqueKeysWithValues: members.map { ($0.key, $0.value) })

        func string(_ value: JSONValue?, _ keyPath: String) throws -> String? {
            guard let value else { return nil }
            guard case let .string(s) = value else { throw fail(keyPath, "expected a string, found \(value.kindName)") }
            return s
        }
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        let stem = fileName.hasSuffix(".json") ? String(fileName.dropLast(5)) : fileName
        name = try string(top["name"], "name") ?? stem
        if name.isEmpty || !name.allSatisfy(isNameCharacter) {
            throw fail("name", "\"\(name)\" must be letters, digits, '.', '-' or '_' (it names the Slurm jobs)")
        }
        let base = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let defaultDirectory = path.hasSuffix(".json") ? String(path.dropLast(5)) : path + ".sweep"
        if let d = try string(top["directory"], "directory") {
            if d.isEmpty { throw fail("directory", "must not be empty") }
            directory = d.hasPrefix("/") ? d : (base == "." ? d : base + "/" + d)
        } else {
            directory = defaultDirectory
        }

        // Settings.
        settings = []
        if let value = top["settings"] {
            guard case let .object(entries) = value else { throw fail("settings", "expected an object, found \(value.kindName)") }
            for (key, v) in entries {
                guard let kind = SweepSchema.training[key] else {
                    throw fail("settings.\(key)", "unknown training setting (known: \(SweepSchema.training.keys.sorted().joined(separator: ", ")))")
                }
                settings.append(try Self.scalar(v, key: key, kind: kind, keyPath: "settings.\(key)", file: path))
            }
        }

        // Estimates.
        estimates = []
        if let value = top["estimates"] {
            guard case let .array(entries) = value else { throw fail("estimates", "expected an array, found \(value.kindName)") }
            for (i, entry) in entries.enumerated() {
                let p = "estimates[\(i)]"
                guard case let .object(options) = entry else { throw fail(p, "expected an object, found \(entry.kindName)") }
                var name: String?
                var values = [SettingValue]()
                for (key, v) in options {
                    if key == "name" {
                        name = try string(v, "\(p).name")
                        if name!.isEmpty || !name!.allSatisfy(isNameCharacter) {
                            throw fail("\(p).name", "\"\(name!)\" must be letters, digits, '.', '-' or '_' (it names a file)")
                        }
                        continue
                    }
                    guard let kind = SweepSchema.estimate[key] else {
                        throw fail("\(p).\(key)", "unknown estimate option (known: \((SweepSchema.estimate.keys.sorted() + ["name"]).joined(separator: ", ")))")
                    }
                    values.append(try Self.scalar(v, key: key, kind: kind, keyPath: "\(p).\(key)", file: path))
                }
                guard values.contains(where: { $0.key == "estimator" }) else { throw fail(p, "an estimate needs an \"estimator\"") }
                if let e = values.first(where: { $0.key == "estimator" }), e.text == "all" {
                    throw fail("\(p).estimator", "\"all\" writes three tables; give binning, kde and knn as separate estimates")
                }
                estimates.append((name, values, p))
            }
        }

        // Axes.
        axes = []
        if let value = top["axes"] {
            guard case let .object(entries) = value else { throw fail("axes", "expected an object, found \(value.kindName)") }
            for (key, v) in entries {
                let p = "axes.\(key)"
                let variesRuns: Bool
                let kind: SettingKind
                if let k = SweepSchema.training[key] {
                    kind = k; variesRuns = true
                } else if let k = SweepSchema.estimate[key] {
                    kind = k; variesRuns = false
                } else {
                    throw fail(p, "unknown setting (a training setting or an estimate option; known: "
                               + Set(SweepSchema.training.keys).union(SweepSchema.estimate.keys).sorted().joined(separator: ", ") + ")")
                }
                guard case let .array(values) = v else { throw fail(p, "an axis is an array of values, found \(v.kindName)") }
                if values.isEmpty { throw fail(p, "an axis needs at least one value") }
                let parsed = try values.enumerated().map { i, x in
                    try Self.scalar(x, key: key, kind: kind, keyPath: "\(p)[\(i)]", file: path)
                }
                for (i, x) in parsed.enumerated() {
                    if let j = parsed[..<i].firstIndex(where: { $0.text == x.text }) {
                        throw fail("\(p)[\(i)]", "repeats \(p)[\(j)] (\(x.text))")
                    }
                }
                if variesRuns, settings.contains(where: { $0.key == key }) {
                    throw fail(p, "\"\(key)\" is also given in settings; give it in one place")
                }
                if !variesRuns, key == "estimator" || key == "name" {
                    throw fail(p, "list the estimators as separate entries of \"estimates\"")
                }
                if !variesRuns {
                    if estimates.isEmpty { throw fail(p, "varies an estimate option, but there are no estimates") }
                    for e in estimates where e.options.contains(where: { $0.key == key }) {
                        throw fail(p, "\"\(key)\" is also given in \(e.keyPath); give it in one place")
                    }
                }
                axes.append(SweepAxis(key: key, values: parsed, variesRuns: variesRuns))
            }
        }

        // Figures and audit.
        figures = true
        if let value = top["figures"] {
            guard case let .bool(b) = value else { throw fail("figures", "expected true or false, found \(value.kindName)") }
            figures = b
        }
        auditEstimate = nil
        if let value = top["audit"] {
            switch value {
            case .bool(false): break
            case .bool(true):
                guard !estimates.isEmpty else { throw fail("audit", "the audit reads an estimate, but there are no estimates") }
                auditEstimate = ""
            case let .object(entries):
                for (key, v) in entries {
                    guard key == "estimate" else { throw fail("audit.\(key)", "unknown key (known: estimate)") }
                    auditEstimate = try string(v, "audit.estimate")
                }
                if auditEstimate == nil { auditEstimate = "" }
                guard !estimates.isEmpty else { throw fail("audit", "the audit reads an estimate, but there are no estimates") }
            default:
                throw fail("audit", "expected true, false or an object, found \(value.kindName)")
            }
        }

        // Slurm.
        slurm = SlurmOptions()
        if let value = top["slurm"] {
            guard case let .object(entries) = value else { throw fail("slurm", "expected an object, found \(value.kindName)") }
            for (key, v) in entries {
                let p = "slurm.\(key)"
                if key == "sbatch" {
                    guard case let .array(words) = v else { throw fail(p, "expected an array of sbatch options, found \(v.kindName)") }
                    slurm.extra = try words.enumerated().map { i, w in
                        guard case let .string(s) = w, s.hasPrefix("-") else { throw fail("\(p)[\(i)]", "expected an option such as \"--qos=short\"") }
                        return s
                    }
                    continue
                }
                guard let kind = SweepSchema.slurmKeys[key] else {
                    throw fail(p, "unknown key (known: \((SweepSchema.slurmKeys.keys.sorted() + ["sbatch"]).joined(separator: ", ")))")
                }
                let s = try Self.scalar(v, key: key, kind: kind, keyPath: p, file: path)
                if kind == .integer, Int(s.text)! < 1 { throw fail(p, "must be at least 1 (got \(s.text))") }
                switch key {
                case "partition": slurm.partition = s.text
                case "time": slurm.time = s.text
                case "cpus-per-task": slurm.cpusPerTask = Int(s.text)!
                case "mem": slurm.memory = s.text
                case "account": slurm.account = s.text
                case "throttle": slurm.throttle = Int(s.text)!
                case "runs-per-task": slurm.runsPerTask = Int(s.text)!
                default: slurm.epochsPerShard = Int(s.text)!
                }
            }
        }
    }

    /// A scalar value of the kind an option takes, as argument text.
    static func scalar(_ value: JSONValue, key: String, kind: SettingKind, keyPath: String, file: String) throws -> SettingValue {
        func wrong() -> SweepError { SweepError(file: file, keyPath: keyPath, "expected \(kind.name), found \(value.kindName)") }
        switch (kind, value) {
        case let (.string, .string(s)):
            if s.isEmpty { throw SweepError(file: file, keyPath: keyPath, "must not be empty") }
            return SettingValue(key: key, text: s, keyPath: keyPath)
        case let (.integer, .number(n)):
            guard value.isIntegerLiteral, Int(n) != nil else { throw SweepError(file: file, keyPath: keyPath, "expected an integer, found \(n)") }
            return SettingValue(key: key, text: n, keyPath: keyPath)
        case let (.number, .number(n)):
            return SettingValue(key: key, text: n, keyPath: keyPath)
        case let (.flag, .bool(b)):
            return SettingValue(key: key, text: b ? "true" : "false", keyPath: keyPath)
        default:
            throw wrong()
        }
    }
}

/// Characters of run, estimate and sweep names.
func isNameCharacter(_ c: Character) -> Bool {
    c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".")
}
