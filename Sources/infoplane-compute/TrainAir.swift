// `infoplane train --task air`: the ReducedLSTM of the AirNet paper trained on
// a simulated field's training winter and recorded into a run directory (see
// AirQuality/AirRun.swift), for `estimate`, `plot` and `audit`.
//
// Defaults: the field of `infoplane simulate air --seed S` (32 x 32, 2 years,
// 40 stations) simulated in memory unless --field names one, 20 epochs, Adam
// at 0.01, 2 whole-grid windows per minibatch, every epoch recorded, a
// checkpoint every 5 epochs.

import ActivationStore
import AirQuality
import ArgumentParser
import Foundation
import Training

enum AirRunCommand {
    static func isAirRun(_ path: String) -> Bool {
        (try? RunDirectory(path).readManifest())?.settings.task == "air"
    }

    static func validate(_ t: Train) throws {
        if t.task != "air" { throw ValidationError("--field is an option of --task air") }
        var other = ProgressiveTraining.mlpOptions(t).filter { !["--epochs", "--lr", "--record", "--dtype", "--data"].contains($0) }
        if t.images != nil { other.append("--images") }
        if t.imagesPerPhase != nil { other.append("--images-per-phase") }
        if !other.isEmpty { throw ValidationError("--task air does not take \(other.joined(separator: ", "))") }
        if t.data != nil { throw ValidationError("--task air reads its field from --field, not --data") }
        if t.resume != nil && (t.field != nil || t.seed != nil || t.epochs != nil || t.lr != nil || t.batchSize != nil) {
            throw ValidationError("--resume continues an air run with its own settings; give no other options")
        }
        if let field = t.field, !FileManager.default.fileExists(atPath: field) {
            throw ValidationError("--field \(field): no such file")
        }
        if let n = t.batchSize, n <= 0 { throw ValidationError("--batch-size must be positive (got \(n))") }
        if let c = t.checkpointInterval, c <= 0 { throw ValidationError("--checkpoint-interval must be positive") }
        if let record = t.record, EpochSchedule(record) == nil { throw ValidationError("unknown schedule \"\(record)\"") }
        if let dtype = t.dtype, !["float32", "float16"].contains(dtype) { throw ValidationError("--dtype must be float32 or float16") }
    }

    static func train(_ t: Train) throws {
        var run: AirRunSubject.Run
        if let resume = t.resume {
            run = try AirRunSubject.Run.resume(at: resume) { try AirRunSubject.subject($0) }
            if run.isComplete { print("\(resume) is already complete (\(run.settings.epochs) epochs)."); return }
        } else {
            let seed = t.seed ?? 1
            let settings = AirRunSubject.settings(
                dataSource: t.field ?? "simulated:32:2:40:\(seed)", epochs: t.epochs ?? 20, learningRate: Float(t.lr ?? 0.01),
                batchWindows: t.batchSize ?? 2, seed: seed, checkpointInterval: t.checkpointInterval ?? 5,
                schedule: t.record ?? "every", dtype: t.dtype ?? "float32")
            run = try AirRunSubject.Run.start(settings: settings, at: t.out!) { try AirRunSubject.subject($0) }
        }
        let progress = TerminalProgress()
        let start = Date()
        try run.run { p in
            progress.update(p.epoch, of: p.totalEpochs, String(format: "epoch %d: train loss %.4f, validation loss %.4f",
                                                             p.epoch, p.metrics.trainLoss, p.metrics.testLoss))
        }
        progress.finish()
        let last = run.metricsHistory.last!
        print(String(format: "%@: %d epochs in %.1f s; train loss %.4f, validation loss %.4f (scaled PM², all cells and steps)",
                     run.directory.path, last.epoch, Date().timeIntervalSince(start), last.trainLoss, last.testLoss))
    }
}
