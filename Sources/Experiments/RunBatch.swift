// Training a set of recorded runs on both cores: each run is started, or
// resumed where an earlier invocation stopped, or reused when complete.

import ActivationStore
import ArrayIO
import Dispatch
import Foundation
import Tensors
import Training

/// One run an experiment needs: where it lives and how it trains.
public struct PlannedRun: Sendable {
    /// The run directory.
    public var path: String
    /// Its settings; a run already in `path` must have exactly these.
    public var settings: RunSettings

    public init(path: String, settings: RunSettings) {
        self.path = path
        self.settings = settings
    }
}

/// Trains every planned run, `workers` at a time, each on one BLAS thread.
///
/// A complete run in place is reused as it is; an interrupted one resumes
/// from its checkpoint (same bytes as an uninterrupted run); a directory
/// holding a run with other settings is an error, so that a figure never
/// mixes runs of different settings. Progress counts epochs over all runs.
///
/// - Throws: the first error any run raised (the others still finish).
public func trainRuns(_ planned: [PlannedRun], workers: Int, progress: ProgressReporter,
                      message: String = "training") throws {
    try trainRuns(planned, workers: workers, progress: progress, message: message) { plan in
        if AtomicFile.exists(RunDirectory(plan.path).manifest) {
            return try RecordedRun.resume(at: plan.path, requested: plan.settings)
        }
        return try RecordedRun.start(settings: plan.settings, at: plan.path)
    }
}

/// `trainRuns` for the runs of any subject: `subject` builds a run's
/// trainer and recorded samples from its settings (as `InstrumentedRun.start`
/// and `resume` take it).
public func trainRuns<T: EpochTraining>(_ planned: [PlannedRun], workers: Int, progress: ProgressReporter, message: String = "training",
                                        subject: @escaping @Sendable (RunSettings) throws -> RunSubject<T>) throws {
    try trainRuns(planned, workers: workers, progress: progress, message: message) { plan in
        if AtomicFile.exists(RunDirectory(plan.path).manifest) {
            return try InstrumentedRun<T>.resume(at: plan.path, requested: plan.settings, subject: subject)
        }
        return try InstrumentedRun<T>.start(settings: plan.settings, at: plan.path, subject: subject)
    }
}

/// The work loop of both: `open` starts, resumes or reuses one run.
private func trainRuns<T: EpochTraining>(_ planned: [PlannedRun], workers: Int, progress: ProgressReporter, message: String,
                                         open: @escaping @Sendable (PlannedRun) throws -> InstrumentedRun<T>) throws {
    guard !planned.isEmpty else { return }
    let total = planned.reduce(0) { $0 + $1.settings.epochs }
    let state = BatchState(count: planned.count)
    BLAS.concurrentPerform(iterations: max(1, min(workers, planned.count)), threads: 1) { _ in
        while let i = state.next() {
            let plan = planned[i]
            do {
                var run = try open(plan)
                try run.run { p in
                    progress.update(state.set(i, p.epoch), total, message)
                }
                progress.update(state.set(i, plan.settings.epochs), total, message)
            } catch {
                state.fail(error)
            }
        }
    }
    progress.finish()
    if let error = state.error { throw error }
}

/// Work queue, per-run progress and the first error, shared by workers.
private final class BatchState: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var done: [Int]
    private(set) var error: (any Error)?

    init(count: Int) { done = [Int](repeating: 0, count: count) }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextIndex < done.count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    /// Records run `i` at `epoch`; returns epochs done over all runs.
    func set(_ i: Int, _ epoch: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        done[i] = epoch
        return done.reduce(0, +)
    }

    func fail(_ e: any Error) {
        lock.lock(); defer { lock.unlock() }
        if error == nil { error = e }
    }
}
