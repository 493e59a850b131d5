// Learning-rate schedules: the multiplier η_t that scales every optimizer
// step (and the decoupled weight decay, see `WeightDecay`).
//
// A schedule is a pure function of the training clock, t = epoch + batch /
// batchesPerEpoch in epochs, so a resumed run gets the same multipliers
// without saving anything. Deliberately not here: warm-up, schedules driven
// by the validation loss, or anything with state.

import RealModule

/// The schedule multiplier η_t of Loshchilov & Hutter ("Decoupled Weight
/// Decay Regularization", ICLR 2019): the optimizer's learning rate α and
/// decoupled weight decay are both multiplied by it.
///
/// Time is measured in epochs: batch b (0-based) of epoch e (0-based, the
/// number of epochs completed before it) runs at t = e + b / n for n batches
/// per epoch, the time at which its step starts. So the first batch of a run
/// and of every restart gets η = 1, and η → 0 as t approaches the end of a
/// cosine cycle (its last batch gets 0.5(1 - cos(π / (n T_i))) ≈ (π / 2nT_i)²).
///
/// [Loshchilov & Hutter]: https://arxiv.org/abs/1711.05101
/// [SGDR]: https://arxiv.org/abs/1608.03983
public enum LearningRateSchedule: Sendable, Equatable, Codable, CustomStringConvertible {
    /// η_t = 1.
    case constant
    /// η_t = factor^⌊e / every⌋: multiplied by `factor` (e.g. 0.1) every
    /// `every` epochs, constant within an epoch.
    case step(every: Int, factor: Float)
    /// Cosine annealing over a budget of T epochs, updated every batch:
    /// η_t = 0.5 (1 + cos(π min(t, T) / T)), so 1 at t = 0 and 0 from t = T on.
    case cosine(epochs: Int)
    /// SGDR, cosine annealing with warm restarts (Loshchilov & Hutter, ICLR
    /// 2017): cycle i lasts T_i = T_0 T_mult^i epochs, and within it
    /// η_t = 0.5 (1 + cos(π T_cur / T_i)) with T_cur the (fractional) epochs
    /// since the cycle's restart, updated every batch. For T_0 = 100,
    /// T_mult = 2 the restarts are at epochs 100, 300, 700, 1500, …
    case warmRestarts(firstPeriod: Int, periodMultiplier: Int)

    /// The multiplier for batch `batch` of epoch `epoch` (both 0-based), at
    /// t = epoch + batch / batchesPerEpoch.
    public func multiplier(epoch: Int, batch: Int, batchesPerEpoch: Int) -> Float {
        precondition(epoch >= 0 && batchesPerEpoch > 0 && batch >= 0 && batch < batchesPerEpoch,
                     "LearningRateSchedule: batch \(batch) of \(batchesPerEpoch) in epoch \(epoch)")
        return multiplier(epoch: epoch, fraction: Double(batch) / Double(batchesPerEpoch))
    }

    /// The multiplier at time t ≥ 0 in epochs (right-continuous: at a restart
    /// it is 1, and 0 is its limit from the left).
    public func multiplier(at t: Double) -> Float {
        precondition(t >= 0 && t.isFinite, "LearningRateSchedule: time \(t)")
        let epoch = t.rounded(.down)
        return multiplier(epoch: Int(epoch), fraction: t - epoch)
    }

    /// The epoch at which each warm restart happens, up to `epochs` (empty for
    /// the other schedules): T_0, T_0 + T_0 T_mult, …
    public func restarts(through epochs: Int) -> [Int] {
        guard case .warmRestarts(let t0, let tMult) = self else { return [] }
        var result = [Int](), start = 0, length = t0
        while true {
            let (end, overflow) = start.addingReportingOverflow(length)
            if overflow || end > epochs { return result }
            result.append(end)
            start = end
            length = length.multipliedReportingOverflow(by: tMult).overflow ? Int.max : length * tMult
        }
    }

    private func multiplier(epoch: Int, fraction: Double) -> Float {
        switch self {
        case .constant:
            return 1
        case .step(let every, let factor):
            precondition(every > 0, "LearningRateSchedule.step: every \(every) epochs")
            return Float(Double.pow(Double(factor), Double(epoch / every)))
        case .cosine(let budget):
            precondition(budget > 0, "LearningRateSchedule.cosine: budget \(budget) epochs")
            let t = min(Double(epoch) + fraction, Double(budget))
            return Self.halfCosine(t / Double(budget))
        case .warmRestarts(let t0, let tMult):
            precondition(t0 > 0 && tMult >= 1, "LearningRateSchedule.warmRestarts: T_0 \(t0), T_mult \(tMult)")
            // Restarts fall on whole epochs, so the cycle follows from the integer epoch.
            var start = 0, length = t0
            if tMult == 1 {
                start = (epoch / t0) * t0
            } else {
                while epoch - start >= length {
                    start += length
                    // start + length ≤ epoch, so only the next length can overflow;
                    // an overflowing one is longer than any epoch count anyway.
                    let (next, overflow) = length.multipliedReportingOverflow(by: tMult)
                    length = overflow ? Int.max : next
                }
            }
            return Self.halfCosine((Double(epoch - start) + fraction) / Double(length))
        }
    }

    /// 0.5 (1 + cos(π x)) for x in [0, 1], in Double.
    private static func halfCosine(_ x: Double) -> Float {
        Float(0.5 * (1 + Double.cos(Double.pi * x)))
    }

    /// The name used in manifests and on the command line: `constant`,
    /// `step:K:F`, `cosine:T`, `sgdr:T0:TMULT`.
    public var description: String {
        switch self {
        case .constant: "constant"
        case .step(let every, let factor): "step:\(every):\(factor)"
        case .cosine(let epochs): "cosine:\(epochs)"
        case .warmRestarts(let t0, let tMult): "sgdr:\(t0):\(tMult)"
        }
    }

    /// Parses the names of `description`; nil for anything else (unknown
    /// names, non-positive periods, a factor outside (0, ∞)).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first, parts.count) {
        case ("constant", 1):
            self = .constant
        case ("step", 3):
            guard let k = Int(parts[1]), k > 0, let f = Float(parts[2]), f > 0, f.isFinite else { return nil }
            self = .step(every: k, factor: f)
        case ("cosine", 2):
            guard let t = Int(parts[1]), t > 0 else { return nil }
            self = .cosine(epochs: t)
        case ("sgdr", 3):
            guard let t0 = Int(parts[1]), t0 > 0, let m = Int(parts[2]), m >= 1 else { return nil }
            self = .warmRestarts(firstPeriod: t0, periodMultiplier: m)
        default:
            return nil
        }
    }
}
