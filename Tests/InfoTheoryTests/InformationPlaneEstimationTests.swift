// Tests of the whole-run driver: rows in task order equal the single-layer estimators, the
// global bounds span all epochs, sample selection, progress, and errors naming the layer-epoch.

import Foundation
import Testing
import Tensors
@testable import InfoTheory

/// A synthetic run: layer L at epoch E is a deterministic matrix (N x (2 + L)).
func syntheticLayer(_ task: LayerEpoch, rows: Int = 60) -> ActivationMatrix {
    randomMatrix(rows, 2 + task.layer, seed: UInt64(task.epoch * 100 + task.layer),
                 scale: 0.5 + Float(task.epoch), transform: { max(0, $0) })
}

final class Calls: @unchecked Sendable {
    let lock = NSLock()
    var values: [Int] = []
    func add(_ v: Int) { lock.lock(); values.append(v); lock.unlock() }
}

@Suite struct InformationPlaneEstimationTests {
    let tasks = [0, 1, 5].flatMap { e in (1...3).map { LayerEpoch(epoch: e, layer: $0) } }
    let labels = (0..<60).map { $0 % 2 }

    @Test func binningRowsMatchTheEstimatorInTaskOrder() throws {
        let driver = try InformationPlaneEstimation(configuration: .binning(.edges(bins: 30)), labels: labels)
        let calls = Calls()
        let rows = try driver.run(tasks.reversed(), activations: { syntheticLayer($0) },
                                  progress: { done, total in calls.add(done); #expect(total == 9) })
        #expect(rows.map { LayerEpoch(epoch: $0.epoch, layer: $0.layer) } == tasks.reversed())
        #expect(calls.values.sorted() == Array(1...9))
        let estimator = try BinningEstimator(labels: labels)
        for row in rows {
            let e = try estimator.estimate(syntheticLayer(LayerEpoch(epoch: row.epoch, layer: row.layer)),
                                           discretization: .edges(bins: 30))
            #expect(row.values == [e.inputInformation, e.labelInformation, e.entropy])
        }
        #expect(driver.configuration.columns == ["I_XT", "I_TY", "H_T"])
    }

    @Test(arguments: [false, true])
    func globalBoundsSpanAllEpochs(pooled: Bool) throws {
        let driver = try InformationPlaneEstimation(configuration: .binning(.global(bins: 100, pooledOverLayers: pooled)),
                                                    labels: labels)
        let rows = try driver.run(tasks, activations: { syntheticLayer($0) })
        let estimator = try BinningEstimator(labels: labels)
        var pooledRange = ActivationRange()
        for t in tasks { pooledRange.update(with: syntheticLayer(t)) }
        for row in rows {
            var range = ActivationRange()
            for t in tasks where t.layer == row.layer { range.update(with: syntheticLayer(t)) }
            let disc = (pooled ? pooledRange : range).discretization(bins: 100)
            let e = try estimator.estimate(syntheticLayer(LayerEpoch(epoch: row.epoch, layer: row.layer)), discretization: disc)
            #expect(row.values == [e.inputInformation, e.labelInformation, e.entropy])
        }
    }

    @Test func kdeWithSampleSubset() throws {
        let subset = Array(stride(from: 1, to: 60, by: 3))
        let driver = try InformationPlaneEstimation(configuration: .kde(noiseVariance: 0.1, bound: .both),
                                                    labels: labels, sampleIndices: subset)
        let rows = try driver.run(Array(tasks.prefix(3)), activations: { syntheticLayer($0) })
        let estimator = try KDEEstimator(noiseVariance: 0.1, bound: .both, labels: subset.map { labels[$0] })
        for row in rows {
            let e = try estimator.estimate(syntheticLayer(LayerEpoch(epoch: row.epoch, layer: row.layer)).selectingRows(subset))
            let expected = [e.lower!.bits.inputInformation, e.upper!.bits.inputInformation,
                            e.lower!.bits.labelInformation!, e.upper!.bits.labelInformation!]
            for (a, b) in zip(row.values, expected) { #expect(abs(a - b) < 1e-9) }
            #expect(row.values[0] <= row.values[1] && row.values[1] <= log2(Double(subset.count)) + 1e-9)
        }
        #expect(driver.configuration.columns == ["I_XT_lower", "I_XT_upper", "I_TY_lower", "I_TY_upper"])
    }

    @Test func errorsNameTheLayerEpoch() throws {
        let driver = try InformationPlaneEstimation(configuration: .binning(.width(0.5)), labels: labels)
        let bad = LayerEpoch(epoch: 5, layer: 2)
        do {
            _ = try driver.run(tasks, activations: { task in
                var m = syntheticLayer(task)
                if task == bad {
                    var s = m.scalars
                    s[7 * m.columns + 1] = .nan
                    m = ActivationMatrix(rows: m.rows, columns: m.columns, scalars: s)
                }
                return m
            })
            Issue.record("no error")
        } catch let error as InfoTheoryError {
            guard case let .atLayerEpoch(epoch, layer, underlying) = error,
                  case let .nonFinite(row, column, _) = underlying else { Issue.record("\(error)"); return }
            #expect(epoch == 5 && layer == 2 && row == 7 && column == 1)
            #expect(error.description.hasPrefix("epoch 5, layer 2: non-finite activation nan at row 7, column 1"))
        }
        #expect(throws: InfoTheoryError.atLayerEpoch(epoch: 0, layer: 1, underlying:
            .rowCountMismatch(activationRows: 59, expected: 60, what: "labels"))) {
            try driver.run(tasks, activations: { syntheticLayer($0, rows: 59) })
        }
        #expect(throws: InfoTheoryError.self) {
            try InformationPlaneEstimation(configuration: .binning(.edges(bins: 30)), labels: labels, sampleIndices: [60])
        }
    }
}
