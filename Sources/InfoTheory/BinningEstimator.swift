// Mutual information by binning: plug-in entropies of discretized activations, in bits.
//
// This is the estimator of Shwartz-Ziv & Tishby (2017) and of Saxe et al. (ICLR 2018, Sec. 2):
// bin each unit's activation, treat each row of bins as one symbol T, and compute
// I(X;T) = H(T) - H(T|X) and I(T;Y) = H(T) - H(T|Y) from the empirical distribution over the N
// samples. It deliberately does no I/O and knows nothing about networks: it takes arrays.

import RealModule

/// The binning estimates for one layer at one epoch, all in bits.
///
/// Plug-in (maximum-likelihood) entropies are biased low, and the bias grows with the number of
/// occupied bins relative to N; with N distinct inputs I(X;T) = H(T) <= log2 N.
public struct BinningEstimate: Sendable, Equatable {
    /// H(T), the plug-in entropy of the binned rows, in bits.
    public var entropy: Double
    /// H(T|X), in bits; exactly 0 when every input is distinct.
    public var entropyGivenInput: Double
    /// H(T|Y) = sum over labels y of p(y) H(T|Y=y), in bits.
    public var entropyGivenLabel: Double
    /// The number of distinct binned rows (occupied bins of T).
    public var distinctRows: Int

    /// I(X;T) = H(T) - H(T|X), in bits.
    public var inputInformation: Double { entropy - entropyGivenInput }
    /// I(T;Y) = H(T) - H(T|Y), in bits.
    public var labelInformation: Double { entropy - entropyGivenLabel }
}

/// Plug-in mutual information between a layer's binned activations T, the inputs X and the
/// labels Y, for a fixed set of N samples.
///
/// Build it once per dataset (it groups the labels and inputs and tabulates c log2 c for
/// c = 0...N) and call `estimate(_:discretization:)` for every layer and epoch; it is a value
/// type and safe to share between threads.
///
/// With counts c over the N samples, H(T) = log2 N - (1/N) sum_t c_t log2 c_t, and the
/// conditional entropies are differences of joint and marginal sums:
/// H(T|Y) = (1/N)(sum_y c_y log2 c_y - sum_{t,y} c_{ty} log2 c_{ty}), likewise H(T|X). All sums
/// are accumulated in Double.
///
/// Layers of up to 16 units whose discretization has at most 256 codes (all of the 12-bit
/// task's) take a fast path (BinningKernel.swift): byte codes, and one pass of a hash table
/// kept between calls that counts rows and (row, label) pairs together. It gives the same bits
/// as the general path (same codes, same first-appearance order, same summation order), which
/// the tests check. H(T|X) is skipped when the inputs are distinct (decided once, here); for
/// repeated inputs the (row, input) pairs are counted in the same table when a dense table
/// would be too large.
///
/// References: [Shwartz-Ziv & Tishby 2017](https://arxiv.org/abs/1703.00810),
/// [Saxe et al. 2018](https://openreview.net/forum?id=ry_WPG-A-).
public struct BinningEstimator: Sendable {
    /// N, the number of samples every activation matrix must have.
    public let sampleCount: Int
    /// H(Y), the plug-in entropy of the labels, in bits.
    public let labelEntropy: Double
    /// H(X), the plug-in entropy of the inputs, in bits (log2 N when they are distinct).
    public let inputEntropy: Double
    /// The number of distinct labels.
    public var classCount: Int { labelGroups.distinctCount }
    /// Whether every sample has a distinct input (then H(T|X) = 0).
    public var inputsAreDistinct: Bool { inputGroups == nil }

    let labelGroups: RowGroups
    let inputGroups: RowGroups?        // nil when every input is distinct
    let xLog2x: [Double]               // c * log2(c) for c = 0...N
    let labelSum: Double               // sum_y c_y log2 c_y
    let inputSum: Double               // sum_x c_x log2 c_x
    /// The labels as the fast path counts them: the label ids when the (row, label) counters
    /// fit the dense table `jointSum` would use (then the sums agree term by term), else zeros.
    let countLabels: [Int32]
    let countClasses: Int
    let scratch: BinningScratchPool

    /// An estimator for samples with the given labels and input groups.
    ///
    /// - Parameters:
    ///   - labels: Y, one integer class per sample (any integers; they are only compared).
    ///   - inputGroups: X as one integer per sample, equal for samples with the same input; nil
    ///     means every sample's input is distinct (the usual case: H(T|X) = 0, I(X;T) = H(T)).
    /// - Throws: `InfoTheoryError.emptyLayer` for no samples, `.rowCountMismatch` when
    ///   `inputGroups` has another length.
    public init(labels: [Int], inputGroups: [Int]? = nil) throws {
        let n = labels.count
        if n == 0 { throw InfoTheoryError.emptyLayer(rows: 0, columns: 0) }
        if let g = inputGroups, g.count != n {
            throw InfoTheoryError.rowCountMismatch(activationRows: g.count, expected: n, what: "labels")
        }
        sampleCount = n
        let table = (0...n).map { $0 < 2 ? 0 : Double($0) * Double.log2(Double($0)) }
        xLog2x = table
        labelGroups = groupValues(labels)
        labelSum = labelGroups.counts.reduce(0) { $0 + table[Int($1)] }
        let logN = Double.log2(Double(n))
        labelEntropy = logN - labelSum / Double(n)
        if let g = inputGroups {
            let groups = groupValues(g)
            self.inputGroups = groups.distinctCount == n ? nil : groups
        } else {
            self.inputGroups = nil
        }
        inputSum = self.inputGroups.map { $0.counts.reduce(0) { $0 + table[Int($1)] } } ?? 0
        inputEntropy = logN - inputSum / Double(n)
        let classes = labelGroups.distinctCount
        if n * classes <= max(1 << 16, 4 * n) {
            countLabels = labelGroups.ids
            countClasses = classes
        } else {
            countLabels = [Int32](repeating: 0, count: n)
            countClasses = 1
        }
        scratch = BinningScratchPool(rows: n, classes: countClasses)
    }

    /// An estimator whose inputs X are the rows of a matrix (samples with bitwise-equal rows,
    /// -0.0 and +0.0 counted equal, share an input).
    ///
    /// - Throws: as `init(labels:inputGroups:)`, and `.nonFinite` / `.emptyLayer` for the inputs.
    public init(labels: [Int], inputs: ActivationMatrix) throws {
        if inputs.rows != labels.count {
            throw InfoTheoryError.rowCountMismatch(activationRows: inputs.rows, expected: labels.count, what: "labels")
        }
        try inputs.validate()
        try self.init(labels: labels, inputGroups: groupInputRows(inputs))
    }

    /// Estimates H(T), H(T|X), H(T|Y) and the two informations for one layer at one epoch.
    ///
    /// - Parameters:
    ///   - activations: T, N x d (N = `sampleCount`).
    ///   - discretization: how to bin each activation.
    /// - Throws: `InfoTheoryError.rowCountMismatch`, `.emptyLayer`, `.nonFinite(row:column:value:)`,
    ///   `.invalidParameter`, `.binIndexOutOfRange`.
    /// - Complexity: O(N d) time, O(N) extra memory (on the fast path, buffers of about
    ///   120-220 N bytes kept between calls, one set per concurrent caller).
    public func estimate(_ activations: ActivationMatrix, discretization: Discretization) throws -> BinningEstimate {
        if activations.rows != sampleCount {
            throw InfoTheoryError.rowCountMismatch(activationRows: activations.rows, expected: sampleCount, what: "labels")
        }
        if let fast = try fastEstimate(activations, discretization) { return fast }
        return try generalEstimate(activations, discretization)
    }

    /// The estimate for any shape and discretization: rows packed into 64-bit words
    /// (`packRows`), grouped (`groupRows`), joint counts by `jointSum`.
    func generalEstimate(_ activations: ActivationMatrix, _ discretization: Discretization) throws -> BinningEstimate {
        try activations.validate()
        try discretization.validate()
        let groups = groupRows(try packRows(activations, discretization))
        let n = Double(sampleCount)
        let tSum = groups.counts.reduce(0) { $0 + xLog2x[Int($1)] }
        let hT = Double.log2(n) - tSum / n
        let hTY = (labelSum - jointSum(groups, labelGroups)) / n
        var hTX = 0.0
        if let inputs = inputGroups {
            hTX = (inputSum - jointSum(groups, inputs)) / n
        }
        // Each conditional entropy is a sum of nonnegative terms; clamp the last-bit rounding
        // of the difference so that it never reads as -1e-16.
        return BinningEstimate(entropy: hT, entropyGivenInput: max(0, hTX),
                               entropyGivenLabel: max(0, hTY), distinctRows: groups.distinctCount)
    }

    /// The estimate through byte codes and the reused hash table (BinningKernel.swift), or nil
    /// when the layer is wider than 16 units or the discretization has more than 256 codes
    /// (or a bad parameter or an empty layer, for the general path to report).
    ///
    /// The distinct rows get the ids `groupRows` would give, and every sum runs over the same
    /// terms in the same order as on the general path (terms c log2 c with c <= 1 are zero and
    /// skipped), so the result is bit for bit the same.
    func fastEstimate(_ t: ActivationMatrix, _ discretization: Discretization) throws -> BinningEstimate? {
        let n = sampleCount, d = t.columns
        // Bad parameters and empty layers take the general path, which reports them in order.
        if d == 0 || d > 16 || (try? discretization.validate()) == nil { return nil }
        return try scratch.withScratch { s -> BinningEstimate? in
            // Validates t in the same pass (a NaN or an infinity throws as `validate()`).
            if !(try codeBytes(t, discretization, into: s.codes)) { return nil }
            let recordIds = inputGroups != nil || countClasses == 1
            let classes = countClasses
            let distinct = countLabels.withUnsafeBufferPointer {
                countRows(s, rows: n, width: d, labels: $0.baseAddress!, classes: classes, recordIds: recordIds)
            }
            var tSum = 0.0, ySum = 0.0
            xLog2x.withUnsafeBufferPointer { f in
                if classes == 2 {
                    for id in 0..<distinct {
                        let c0 = s.joint[2 * id], c1 = s.joint[2 * id + 1], c = c0 &+ c1
                        if c > 1 {
                            tSum += f[Int(c)]
                            if c0 > 1 { ySum += f[Int(c0)] }
                            if c1 > 1 { ySum += f[Int(c1)] }
                        }
                    }
                    return
                }
                for id in 0..<distinct {
                    let row = s.joint + id * classes
                    var c: Int32 = 0
                    for y in 0..<classes { c &+= row[y] }
                    if c > 1 {
                        tSum += f[Int(c)]
                        for y in 0..<classes where row[y] > 1 { ySum += f[Int(row[y])] }
                    }
                }
            }
            var groups: RowGroups?
            if recordIds {
                let counts = (0..<distinct).map { id in (0..<classes).reduce(Int32(0)) { $0 &+ s.joint[id * classes + $1] } }
                groups = RowGroups(ids: Array(UnsafeBufferPointer(start: s.rowIds, count: n)), counts: counts)
            }
            if classes == 1 { ySum = jointSum(groups!, labelGroups) }
            let nd = Double(n)
            let hT = Double.log2(nd) - tSum / nd
            let hTY = (labelSum - ySum) / nd
            var hTX = 0.0
            if let inputs = inputGroups {
                let pairSum: Double
                if distinct * inputs.distinctCount <= max(1 << 16, 4 * n) {
                    pairSum = jointSum(groups!, inputs)   // a dense table, as there
                } else {
                    pairSum = scratchPairSum(s, rows: n, distinct: distinct, inputs)
                }
                hTX = (inputSum - pairSum) / nd
            }
            return BinningEstimate(entropy: hT, entropyGivenInput: max(0, hTX),
                                   entropyGivenLabel: max(0, hTY), distinctRows: distinct)
        }
    }

    /// `jointSum` of the rows' ids (in `s.rowIds`) and `b` when the pairs are too many for a
    /// dense table: the pairs counted in the scratch table, in order of first appearance, and
    /// summed in that order, as `jointSum` does through `groupRows`.
    func scratchPairSum(_ s: BinningScratch, rows n: Int, distinct: Int, _ b: RowGroups) -> Double {
        let out = UnsafeMutableRawPointer(s.codes)
        b.ids.withUnsafeBufferPointer { ib in
            for i in 0..<n {
                let key = UInt64(UInt32(bitPattern: s.rowIds[i])) << 32 | UInt64(UInt32(bitPattern: ib[i]))
                out.storeBytes(of: key, toByteOffset: 8 * i, as: UInt64.self)
            }
        }
        let pairs = countRows(s, rows: n, width: 8, labels: s.zeros, classes: 1, recordIds: false)
        return xLog2x.withUnsafeBufferPointer { f in
            var sum = 0.0
            for id in 0..<pairs where s.joint[id] > 1 { sum += f[Int(s.joint[id])] }
            return sum
        }
    }

    /// sum over (a, b) pairs of c_ab log2 c_ab, for the joint counts of two groupings.
    func jointSum(_ a: RowGroups, _ b: RowGroups) -> Double {
        let n = sampleCount
        let cells = a.distinctCount * b.distinctCount
        if cells <= max(1 << 16, 4 * n) {
            // Dense joint table: cheaper than hashing when it is small.
            var table = [Int32](repeating: 0, count: cells)
            let kb = b.distinctCount
            table.withUnsafeMutableBufferPointer { t in
                a.ids.withUnsafeBufferPointer { ia in
                    b.ids.withUnsafeBufferPointer { ib in
                        for i in 0..<n { t[Int(ia[i]) * kb + Int(ib[i])] &+= 1 }
                    }
                }
            }
            return xLog2x.withUnsafeBufferPointer { f in
                var s = 0.0
                for c in table where c > 1 { s += f[Int(c)] }
                return s
            }
        }
        var keys = [UInt64](repeating: 0, count: n)
        for i in 0..<n { keys[i] = UInt64(UInt32(a.ids[i])) << 32 | UInt64(UInt32(b.ids[i])) }
        let joint = groupRows(PackedRows(keys: keys, rows: n, wordsPerRow: 1))
        return joint.counts.reduce(0) { $0 + xLog2x[Int($1)] }
    }
}

/// Group ids for the rows of an input matrix: equal ids for rows with equal values.
public func groupInputRows(_ x: ActivationMatrix) -> [Int] {
    // Canonical 32-bit patterns (+0 for both zeros), two per word; equal rows, equal words.
    let d = x.columns, words = (d + 1) / 2
    var keys = [UInt64](repeating: 0, count: x.rows * words)
    for i in 0..<x.rows {
        for j in 0..<d {
            let v = x.scalars[i * d + j]
            let bits = v == 0 ? 0 : UInt64(v.bitPattern)
            keys[i * words + j / 2] |= bits << (32 * UInt64(j % 2))
        }
    }
    return groupRows(PackedRows(keys: keys, rows: x.rows, wordsPerRow: words)).ids.map { Int($0) }
}

extension BinningEstimator {
    /// One-shot convenience: binning estimates for a single layer.
    ///
    /// Prefer building one `BinningEstimator` and reusing it over many layers and epochs.
    public static func estimate(activations: ActivationMatrix, labels: [Int], inputGroups: [Int]? = nil,
                                discretization: Discretization) throws -> BinningEstimate {
        try BinningEstimator(labels: labels, inputGroups: inputGroups).estimate(activations, discretization: discretization)
    }
}
