// A linear student-teacher run on disk: its settings (settings.json), its
// records (metrics.csv, information.csv, see `LinearRunCSV`) and the initial
// and final weights as float64 NPY files, so that every number can be
// recomputed from the directory alone (the teacher's weights included).
//
// Layout of a run directory:
//
//     settings.json            LinearRunSettings (snake_case keys)
//     metrics.csv              epoch,train_error,test_error,generalization_error,weight_error,equation5
//     information.csv          epoch,layer,I_XT,I_TY[,I_XT_relevant,I_XT_irrelevant] (bits, exact)
//     teacher.npy              W_o [N_o, N_i]
//     weights-initial-L.npy    W_L at epoch 0, [widths[L], widths[L-1]]
//     weights-final-L.npy      W_L after the last epoch
//
// A complete directory (settings equal, all files present) is reused as it
// is; a directory holding other settings is refused, naming the settings that
// differ, so that a figure never mixes runs of different settings.

import ArrayIO
import Datasets
import Foundation
import InfoTheory

/// Everything that determines a linear student-teacher run.
public struct LinearRunSettings: Codable, Sendable, Equatable {
    /// Always "linear-teacher": tells a linear run from a recorded network run.
    public var task: String
    /// N_i.
    public var inputCount: Int
    /// N_rel ≤ N_i: inputs 0..<N_rel carry the teacher's weight (N_i: all).
    public var relevantCount: Int
    /// N_o.
    public var outputCount: Int
    /// σ_w²/σ_o².
    public var signalToNoiseRatio: Double
    /// σ_w².
    public var weightVariance: Double
    /// P.
    public var trainCount: Int
    /// Test samples.
    public var testCount: Int
    /// Hidden widths of the student.
    public var hiddenWidths: [Int]
    public var epochs: Int
    public var learningRate: Double
    /// Minibatch size; nil for full-batch gradient descent.
    public var batchSize: Int?
    /// See `LinearStudent.init(widths:initialScale:rng:)`.
    public var initialScale: Double
    /// The recorded epochs (`EpochSchedule` name).
    public var schedule: String
    /// σ_MI², the analysis noise of the exact information (1 in the paper).
    public var analysisNoiseVariance: Double
    /// Seeds the teacher and its data.
    public var dataSeed: UInt64
    /// Seeds the student's initial weights and minibatch order.
    public var seed: UInt64

    public init(inputCount: Int = 100, relevantCount: Int? = nil, outputCount: Int = 1, signalToNoiseRatio: Double = 1,
                weightVariance: Double = 1, trainCount: Int = 100, testCount: Int = 10_000, hiddenWidths: [Int] = [100],
                epochs: Int, learningRate: Double, batchSize: Int? = nil, initialScale: Double,
                schedule: String = "ibsgd", analysisNoiseVariance: Double = 1, dataSeed: UInt64, seed: UInt64) {
        task = "linear-teacher"
        self.inputCount = inputCount
        self.relevantCount = relevantCount ?? inputCount
        self.outputCount = outputCount
        self.signalToNoiseRatio = signalToNoiseRatio
        self.weightVariance = weightVariance
        self.trainCount = trainCount
        self.testCount = testCount
        self.hiddenWidths = hiddenWidths
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.initialScale = initialScale
        self.schedule = schedule
        self.analysisNoiseVariance = analysisNoiseVariance
        self.dataSeed = dataSeed
        self.seed = seed
    }

    /// Whether the information is split into relevant and irrelevant inputs.
    public var split: Bool { relevantCount < inputCount }

    /// The student's widths, input first.
    public var widths: [Int] { [inputCount] + hiddenWidths + [outputCount] }

    /// "batch GD" or "SGD, batch B".
    public var optimizerName: String { batchSize.map { "SGD, batch \($0)" } ?? "batch GD" }

    /// The settings' JSON (sorted keys, snake_case): same settings, same bytes.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// Reads `settings.json`.
    ///
    /// - Throws: `LinearRunError` naming the file if it is missing or not linear-run settings.
    public static func read(_ path: String) throws -> LinearRunSettings {
        guard AtomicFile.exists(path) else {
            throw LinearRunError("\(path): no such file (not a linear run directory?)")
        }
        let data: Data
        do { data = Data(try JSONLimits.read(path)) } catch let error as FileError { throw LinearRunError(error.description) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(LinearRunSettings.self, from: data)
        } catch {
            throw LinearRunError("\(path): not linear-run settings (\(error))")
        }
    }

    /// The names of the settings that differ, for error messages.
    public func differences(from other: LinearRunSettings) -> [String] {
        let a = Mirror(reflecting: self).children, b = Mirror(reflecting: other).children
        return zip(a, b).filter { "\($0.value)" != "\($1.value)" }.map { "\($0.label ?? "?"): \($1.value) in the run, \($0.value) requested" }
    }
}

/// A linear run that cannot be trained, reused or read.
public struct LinearRunError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The files of one linear run directory, and training into it.
public struct LinearRunDirectory: Sendable {
    public let path: String
    public init(_ path: String) { self.path = path }

    public var settingsPath: String { path + "/settings.json" }
    public var metricsPath: String { path + "/metrics.csv" }
    public var informationPath: String { path + "/information.csv" }
    public var teacherPath: String { path + "/teacher.npy" }
    public func weightsPath(_ stage: String, layer: Int) -> String { path + "/weights-\(stage)-\(layer).npy" }

    /// Whether `path` holds a linear run (a settings.json with task linear-teacher).
    public static func isLinearRun(_ path: String) -> Bool {
        (try? LinearRunSettings.read(path + "/settings.json")) != nil
    }

    /// Whether the run is complete with exactly these settings.
    ///
    /// - Throws: `LinearRunError` if the directory holds a run with other settings.
    public func isComplete(with settings: LinearRunSettings) throws -> Bool {
        guard FileManager.default.fileExists(atPath: settingsPath) else { return false }
        let existing = try LinearRunSettings.read(settingsPath)
        if existing != settings {
            throw LinearRunError("\(path) holds a linear run with other settings (\(existing.differences(from: settings).joined(separator: "; "))); remove it or choose another --runs directory")
        }
        let files = [metricsPath, informationPath, teacherPath] + (1...settings.widths.count - 1).map { weightsPath("final", layer: $0) }
        return files.allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    /// The teacher task of these settings.
    public static func task(_ s: LinearRunSettings) -> LinearTeacherTask {
        LinearTeacherTask(inputCount: s.inputCount, outputCount: s.outputCount, signalToNoiseRatio: s.signalToNoiseRatio,
                          weightVariance: s.weightVariance, relevantCount: s.relevantCount, trainCount: s.trainCount,
                          testCount: s.testCount, seed: s.dataSeed)
    }

    /// Trains the run unless it is complete, recording the exact information
    /// per layer at the schedule's epochs; writes every file atomically,
    /// settings.json last (so a directory with settings.json and every file is complete).
    ///
    /// - Returns: whether the run was trained (false: reused).
    /// - Throws: `LinearRunError` for other settings or a bad schedule,
    ///   `MatrixError` if training diverged, `FileError` naming a file that
    ///   could not be written.
    @discardableResult
    public func train(_ s: LinearRunSettings) throws -> Bool {
        if try isComplete(with: s) { return false }
        guard let schedule = EpochSchedule(s.schedule) else {
            throw LinearRunError("\(path): unknown schedule \"\(s.schedule)\"")
        }
        guard s.relevantCount >= 0 && s.relevantCount <= s.inputCount else {
            throw LinearRunError("\(path): \(s.relevantCount) relevant of \(s.inputCount) inputs")
        }
        let task = Self.task(s)
        let measure = GaussianInformation(
            isotropicInputVariance: task.teacher.inputVariance, inputCount: s.inputCount,
            teacherWeights: task.teacher.weights, outputCount: s.outputCount,
            teacherNoiseVariance: task.teacher.noiseVariance, analysisNoiseVariance: s.analysisNoiseVariance,
            relevantInputs: s.split ? Array(0..<s.relevantCount) : nil)
        var trainer = LinearStudentTrainer(task: task, options: LinearTrainingOptions(
            hiddenWidths: s.hiddenWidths, epochs: s.epochs, learningRate: s.learningRate, batchSize: s.batchSize,
            initialScale: s.initialScale, schedule: schedule, seed: s.seed))
        let initial = trainer.student
        let result = try trainer.run { map, rows in try measure.information(layerMap: map, rows: rows) }
        try AtomicFile.createDirectory(path)
        try LinearRunCSV.write(result, to: path)
        try NPY.write(NPYArray(doubles: task.teacher.weights, shape: [s.outputCount, s.inputCount]), to: teacherPath)
        let widths = s.widths
        for (stage, student) in [("initial", initial), ("final", result.student)] {
            for l in student.weights.indices {
                try NPY.write(NPYArray(doubles: student.weights[l], shape: [widths[l + 1], widths[l]]),
                              to: weightsPath(stage, layer: l + 1))
            }
        }
        try AtomicFile.write(try s.json(), to: settingsPath)
        return true
    }
}
