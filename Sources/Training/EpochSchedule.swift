// Which epochs a run records.
//
// Epoch 0 is the network before any update; epoch E ≥ 1 is the network
// after E passes over the training data.

import RealModule

/// A set of epochs at which activations and gradient statistics are recorded.
public enum EpochSchedule: Sendable, Equatable, CustomStringConvertible {
    /// Every epoch 0, 1, …, E.
    case every
    /// Every k-th epoch: 0, k, 2k, … (and the last epoch).
    case everyKth(Int)
    /// Shwartz-Ziv & Tishby's log-spaced schedule: the distinct values of
    /// floor(2^linspace(0, log2 E, n)) - 1 (their `get_epochs_to_save`-style
    /// spacing, 274 epochs for E = 8000, n = 400).
    case logSpaced(points: Int)
    /// Saxe et al.'s ibsgd schedule: every epoch below 20, every 5th below
    /// 100, every 20th below 2000, every 100th after.
    case ibsgd
    /// An explicit list.
    case list([Int])

    /// The recorded epochs for a run of `epochs` epochs, sorted, each in 0...epochs.
    public func epochs(total epochs: Int) -> [Int] {
        precondition(epochs >= 0, "EpochSchedule: \(epochs) epochs")
        switch self {
        case .every:
            return Array(0...epochs)
        case .everyKth(let k):
            precondition(k > 0, "EpochSchedule: every \(k)-th")
            var result = Array(stride(from: 0, through: epochs, by: k))
            if result.last != epochs { result.append(epochs) }
            return result
        case .logSpaced(let n):
            precondition(n >= 2, "EpochSchedule: log-spaced with \(n) points")
            // np.linspace(0, log2(E), n) evaluated as NumPy does: start + i·step,
            // step = (stop - start)/(n - 1), and the last point exactly stop.
            let stop = Double.log2(Double(epochs))
            let step = stop / Double(n - 1)
            var values = Set<Int>()
            for i in 0..<n {
                let exponent = i == n - 1 ? stop : Double(i) * step
                values.insert(Int(Double.exp2(exponent).rounded(.down)) - 1)
            }
            return values.filter { $0 >= 0 && $0 <= epochs }.sorted()
        case .ibsgd:
            return (0...epochs).filter { e in
                e < 20 || (e < 100 && e % 5 == 0) || (e < 2000 && e % 20 == 0) || e % 100 == 0
            }
        case .list(let list):
            return Set(list.filter { $0 >= 0 && $0 <= epochs }).sorted()
        }
    }

    /// The name used on the command line and in manifests: `every`,
    /// `every:K`, `log:N`, `ibsgd`, or a comma-separated list.
    public var description: String {
        switch self {
        case .every: "every"
        case .everyKth(let k): "every:\(k)"
        case .logSpaced(let n): "log:\(n)"
        case .ibsgd: "ibsgd"
        case .list(let l): l.map(String.init).joined(separator: ",")
        }
    }

    /// Parses the names of `description`; `log` alone means `log:400`.
    public init?(_ text: String) {
        switch text {
        case "every": self = .every
        case "ibsgd": self = .ibsgd
        case "log": self = .logSpaced(points: 400)
        default:
            if text.hasPrefix("every:"), let k = Int(text.dropFirst(6)), k > 0 {
                self = .everyKth(k)
            } else if text.hasPrefix("log:"), let n = Int(text.dropFirst(4)), n >= 2 {
                self = .logSpaced(points: n)
            } else {
                let parts = text.split(separator: ",", omittingEmptySubsequences: false)
                let values = parts.compactMap { Int($0.trimmingCharacters(in: " ")) }
                guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ $0 >= 0 }) else { return nil }
                self = .list(values)
            }
        }
    }
}

private extension Substring {
    func trimmingCharacters(in set: Character) -> Substring {
        var s = self
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return s
    }
}
