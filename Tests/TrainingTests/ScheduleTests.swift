// Recording schedules: the counts the papers' code gives.

import Testing
import Training

@Test func log_spaced_schedule_matches_idnns_count() {
    // IDNNs: np.unique(np.floor(2 ** np.linspace(0, np.log2(8000), 400)) - 1) has 274 values.
    let epochs = EpochSchedule.logSpaced(points: 400).epochs(total: 8000)
    #expect(epochs.count == 274)
    #expect(epochs.first == 0 && epochs.last == 7999)
    #expect(epochs == epochs.sorted() && Set(epochs).count == epochs.count)
    // The first ~60 points round to consecutive epochs 0, 1, 2, …
    #expect(Array(epochs.prefix(5)) == [0, 1, 2, 3, 4])
}

@Test func ibsgd_schedule_by_hand() {
    let epochs = EpochSchedule.ibsgd.epochs(total: 2300)
    // 0..19 (20), 20..95 by 5 (16), 100..1980 by 20 (95), 2000..2300 by 100 (4).
    #expect(epochs.count == 20 + 16 + 95 + 4)
    #expect(epochs.contains(95) && !epochs.contains(96) && epochs.contains(1980) && !epochs.contains(1990))
    #expect(epochs.suffix(4) == [2000, 2100, 2200, 2300])
}

@Test func every_kth_and_list_and_parsing() {
    #expect(EpochSchedule.everyKth(3).epochs(total: 10) == [0, 3, 6, 9, 10])
    #expect(EpochSchedule.every.epochs(total: 3) == [0, 1, 2, 3])
    #expect(EpochSchedule.list([5, 0, 5, 99]).epochs(total: 10) == [0, 5])
    #expect(EpochSchedule("log") == .logSpaced(points: 400))
    #expect(EpochSchedule("log:50") == .logSpaced(points: 50))
    #expect(EpochSchedule("every:7") == .everyKth(7))
    #expect(EpochSchedule("0, 10,100") == .list([0, 10, 100]))
    for bad in ["", "every:0", "log:1", "sometimes", "1,,2", "-3"] {
        #expect(EpochSchedule(bad) == nil, "\(bad)")
    }
}
