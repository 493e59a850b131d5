// The per-epoch evaluation's loss and accuracy against the two-pass
// definition: log-sum-exp per row, then the argmax, bit for bit.

import XCTest
import Tensors
@testable import NeuralNets

final class EvaluationLossTests: XCTestCase {
    func testLossAndAccuracyEqualTheTwoPassDefinitionExactly() {
        var rng = RandomGenerator(seed: 31)
        for classes in [1, 2, 3, 10] {
            let rows = 257
            // Rounded to quarters so that ties (and exact zeros after the
            // shift by the maximum) occur often.
            var z = (0..<(rows * classes)).map { _ in (rng.nextFloat() * 24 - 12).rounded() / 4 }
            z[0] = 40; z[1 % z.count] = -40
            let logits = Tensor(shape: [rows, classes], scalars: z)
            let labels = (0..<rows).map { _ in rng.nextInt(below: classes) }
            let lse = logSumExpRows(logits), predicted = logits.argmaxRows()
            var loss = 0.0, correct = 0
            for (r, y) in labels.enumerated() {
                loss += lse[r] - Double(z[r * classes + y])
                if predicted[r] == y { correct += 1 }
            }
            let got = crossEntropyAndAccuracy(logits: logits, labels: labels)
            XCTAssertEqual(got.loss.bitPattern, (loss / Double(rows)).bitPattern, "classes \(classes)")
            XCTAssertEqual(got.accuracy, Double(correct) / Double(rows), "classes \(classes)")
            if classes == 1 { XCTAssertEqual(got.loss, 0); XCTAssertEqual(got.accuracy, 1) }
        }
    }

    func testHandComputedTwoClassValues() {
        // Rows (0, ln 3): lse = ln 4; label 1 costs ln 4 - ln 3, label 0 ln 4.
        let logits = Tensor(shape: [2, 2], scalars: [0, Float(log(3.0)), 0, Float(log(3.0))])
        let got = crossEntropyAndAccuracy(logits: logits, labels: [1, 0])
        XCTAssertEqual(got.loss, (2 * log(4.0) - log(3.0)) / 2, accuracy: 1e-7)
        XCTAssertEqual(got.accuracy, 0.5)
    }
}
