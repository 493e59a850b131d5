// Learning-rate schedules by hand: step drops, cosine annealing, and SGDR's
// warm restarts (0 at the end of each cycle, 1 at each restart).

import Foundation
import NeuralNets
import Testing

@Test func constant_schedule_is_one() {
    for (e, b) in [(0, 0), (7, 3), (10_000, 9)] {
        #expect(LearningRateSchedule.constant.multiplier(epoch: e, batch: b, batchesPerEpoch: 10) == 1)
    }
}

@Test func step_schedule_by_hand() {
    let s = LearningRateSchedule.step(every: 30, factor: 0.1)
    #expect(s.multiplier(epoch: 0, batch: 0, batchesPerEpoch: 5) == 1)
    #expect(s.multiplier(epoch: 29, batch: 4, batchesPerEpoch: 5) == 1)
    #expect(abs(s.multiplier(epoch: 30, batch: 0, batchesPerEpoch: 5) - 0.1) < 1e-7)
    #expect(abs(s.multiplier(epoch: 59, batch: 2, batchesPerEpoch: 5) - 0.1) < 1e-7)
    #expect(abs(s.multiplier(epoch: 60, batch: 0, batchesPerEpoch: 5) - 0.01) < 1e-8)
    #expect(abs(LearningRateSchedule.step(every: 2, factor: 0.5).multiplier(epoch: 7, batch: 0, batchesPerEpoch: 1) - 0.125) < 1e-9)
}

@Test func cosine_schedule_by_hand() {
    let s = LearningRateSchedule.cosine(epochs: 10)
    #expect(s.multiplier(epoch: 0, batch: 0, batchesPerEpoch: 4) == 1)
    // t = 2 + 2/4 = 2.5: 0.5 (1 + cos(π/4)) = 0.853553…
    #expect(abs(s.multiplier(epoch: 2, batch: 2, batchesPerEpoch: 4) - 0.853_553_4) < 1e-6)
    #expect(abs(s.multiplier(epoch: 5, batch: 0, batchesPerEpoch: 4) - 0.5) < 1e-7)
    // t = 9.75: 0.5 (1 + cos(0.975 π)) = 0.5 (1 - cos(0.025 π)) = 0.00154133…
    #expect(abs(s.multiplier(epoch: 9, batch: 3, batchesPerEpoch: 4) - 0.001_541_33) < 1e-7)
    // The budget is spent: 0 from t = T on.
    #expect(s.multiplier(epoch: 10, batch: 0, batchesPerEpoch: 4) == 0)
    #expect(s.multiplier(epoch: 13, batch: 1, batchesPerEpoch: 4) == 0)
}

@Test func sgdr_restarts_at_100_300_700() {
    let s = LearningRateSchedule.warmRestarts(firstPeriod: 100, periodMultiplier: 2)
    #expect(s.restarts(through: 1000) == [100, 300, 700])
    #expect(s.restarts(through: 1500) == [100, 300, 700, 1500])
    let n = 50
    for (end, length) in [(100, 100), (300, 200), (700, 400), (1500, 800)] {
        // 1 at the restart (the first batch of the new cycle)…
        #expect(s.multiplier(epoch: end, batch: 0, batchesPerEpoch: n) == 1)
        #expect(s.multiplier(at: Double(end)) == 1)
        // …and 0 at the end of the cycle: the limit from the left is 0, and the
        // last batch before the restart gets 0.5 (1 - cos(π / (n T_i))).
        #expect(s.multiplier(at: Double(end).nextDown) < 1e-20)
        let last = s.multiplier(epoch: end - 1, batch: n - 1, batchesPerEpoch: n)
        let expected = 0.5 * (1 - cos(Double.pi / Double(n * length)))
        #expect(abs(Double(last) - expected) <= 1e-6 * expected)
        #expect(last < 1e-6)
        // Half-way through the cycle, 0.5.
        #expect(abs(s.multiplier(epoch: end - length / 2, batch: 0, batchesPerEpoch: n) - 0.5) < 1e-7)
    }
    #expect(s.multiplier(epoch: 0, batch: 0, batchesPerEpoch: n) == 1)
}

@Test func sgdr_updates_every_batch_and_decreases_within_a_cycle() {
    let s = LearningRateSchedule.warmRestarts(firstPeriod: 3, periodMultiplier: 2)
    let n = 4
    var previous = Float.infinity
    // Cycle 2 is epochs 3..<9: T_cur = (e - 3) + b/4, T_i = 6.
    for e in 3..<9 {
        for b in 0..<n {
            let eta = s.multiplier(epoch: e, batch: b, batchesPerEpoch: n)
            let tCur = Double(e - 3) + Double(b) / Double(n)
            #expect(abs(Double(eta) - 0.5 * (1 + cos(Double.pi * tCur / 6))) < 1e-7)
            #expect(eta < previous)
            previous = eta
        }
    }
}

@Test func sgdr_with_period_multiplier_one_repeats() {
    let s = LearningRateSchedule.warmRestarts(firstPeriod: 10, periodMultiplier: 1)
    #expect(s.restarts(through: 35) == [10, 20, 30])
    for cycle in 0..<4 {
        #expect(s.multiplier(epoch: 10 * cycle, batch: 0, batchesPerEpoch: 2) == 1)
        #expect(abs(s.multiplier(epoch: 10 * cycle + 5, batch: 0, batchesPerEpoch: 2) - 0.5) < 1e-7)
        #expect(s.multiplier(epoch: 10 * cycle + 3, batch: 1, batchesPerEpoch: 2)
                == s.multiplier(epoch: 3, batch: 1, batchesPerEpoch: 2))
    }
}

@Test func schedule_names_round_trip() {
    let schedules: [LearningRateSchedule] = [.constant, .step(every: 30, factor: 0.1), .cosine(epochs: 200),
                                             .warmRestarts(firstPeriod: 10, periodMultiplier: 2)]
    for s in schedules {
        #expect(LearningRateSchedule(s.description) == s, "\(s)")
    }
    #expect(LearningRateSchedule("sgdr:10:2") == .warmRestarts(firstPeriod: 10, periodMultiplier: 2))
    for bad in ["", "linear", "cosine", "cosine:0", "cosine:-3", "step:10", "step:0:0.1", "step:5:-1",
                "sgdr:10", "sgdr:10:0", "constant:1"] {
        #expect(LearningRateSchedule(bad) == nil, "\(bad)")
    }
}
