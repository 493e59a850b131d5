// Word alignment with IBM Models 1 and 2 (Brown et al. 1993), the role
// fast_align (Dyer et al. 2013) plays in Gu et al. (2018): it gives every
// target word one source word (or none), and so every source word a
// fertility, the number of target words aligned to it.
//
// For a pair with source e_1 … e_l (plus e_0 = NULL) and target f_1 … f_m,
//
//     Model 1:  p(f | e) = Π_j Σ_{i=0..l} t(f_j | e_i) / (l + 1)
//     Model 2:  p(f | e) = Π_j Σ_{i=0..l} t(f_j | e_i) a(i | j, l, m)
//
// EM: the E-step gives each cell the posterior
// c(i, j) = t(f_j | e_i) a(i | j, l, m) / Σ_i' t(f_j | e_i') a(i' | j, l, m),
// the M-step sets t(f | e) ∝ Σ c over the cells pairing e with f (normalized
// over f for each e) and a(i | j, l, m) ∝ Σ c(i, j) over the pairs of lengths
// (l, m) (normalized over i). Model 1 runs first from a uniform t = 1 / (target
// vocabulary size); Model 2 starts from Model 1's t and from
// a(i | j, l, m) = 1 / (l + 1), which is Model 1's alignment distribution, so
// its first iteration continues from Model 1's answer. This is the classic
// table of Model 2, not fast_align's diagonal-favouring parametrization: the
// sentences here are short (a few hundred (l, m) blocks at most) and the table
// learns the local reorderings of each length pair itself. There is no smoothing: both steps are exact EM,
// and the corpus log-likelihood never decreases (`logLikelihoods`).
//
// The Viterbi alignment of a target word is the source position maximizing
// t(f_j | e_i) a(i | j, l, m): ties go to the first real source word, and NULL
// wins only when strictly more probable than every real word. A pair of
// lengths (l, m) absent from training uses Model 1's uniform a; a word pair
// never seen together has t = 1e-12 (so that an unknown target word still
// aligns by position).
//
// Fertilities count the target words aligned to each source word. A target
// word aligned to NULL is given to the source word of the nearest aligned
// target word on its left, else of the nearest on its right, else (no word
// aligned at all) to source position ⌊j l / m⌋, so that the fertilities sum to
// the target length as the NAT needs. A fertility above 49 (the NAT predicts 50
// classes, 0…49) passes its excess to the nearest source positions with room
// (left before right at equal distance).
//
// Everything is deterministic: the corpus is visited in order, in Double.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// IBM Model 1 then Model 2 trained by EM on a corpus of sentence pairs.
public struct IBMAligner: Sendable {
    public struct Settings: Sendable, Equatable, Codable {
        /// EM iterations of Model 1, from a uniform t.
        public var model1Iterations = 5
        /// EM iterations of Model 2, from Model 1's t (0 keeps Model 1).
        public var model2Iterations = 5

        public init(model1Iterations: Int = 5, model2Iterations: Int = 5) {
            self.model1Iterations = model1Iterations
            self.model2Iterations = model2Iterations
        }
    }

    /// The largest fertility (the NAT's 50 classes are 0…49).
    public static let maximumFertility = 49
    /// t(f | e) for a pair never seen together.
    public static let unseenProbability = 1e-12

    public let settings: Settings
    /// Source words; index 0 is NULL.
    private let sourceIndex: [String: Int32]
    private let targetIndex: [String: Int32]
    /// t(f | e) for each co-occurring (e, f), keyed by e << 32 | f.
    private let translation: [UInt64: Double]
    /// a(i | j, l, m) for each trained (l, m): the block of (l + 1) × m
    /// values, i major.
    private let distortion: [LengthPair: [Double]]
    /// The corpus log-likelihood, Σ_pairs Σ_j log Σ_i t a (without the
    /// constant length terms), before each iteration's M-step, Model 1's
    /// iterations first.
    public let logLikelihoods: [Double]

    struct LengthPair: Hashable, Sendable { var l: Int32, m: Int32 }

    /// Trains on `pairs` (the fertilities of a pair, if any, are ignored).
    public init(training pairs: [SentencePair], settings: Settings = Settings()) {
        self.init(training: pairs.map { ($0.source, $0.target) }, settings: settings)
    }

    /// Trains on (source, target) token sequences.
    public init(training pairs: [(source: [String], target: [String])], settings: Settings = Settings()) {
        self.settings = settings
        var sourceIndex: [String: Int32] = ["": 0], targetIndex: [String: Int32] = [:]
        // The cells of every pair, pair by pair, i major: the index of
        // (e_i, f_j) among the co-occurring word pairs.
        var cells: [Int32] = [], cellStart: [Int] = [0], lengths: [LengthPair] = []
        var pairIndex: [UInt64: Int32] = [:], pairSource: [Int32] = [], pairKeys: [UInt64] = []
        var blockOf: [LengthPair: Int] = [:], blockSizes: [Int] = []
        var blockIndex: [Int32] = []
        for (source, target) in pairs {
            let e: [Int32] = [0] + source.map { w in
                if let i = sourceIndex[w] { return i }
                let i = Int32(sourceIndex.count); sourceIndex[w] = i; return i
            }
            let f: [Int32] = target.map { w in
                if let i = targetIndex[w] { return i }
                let i = Int32(targetIndex.count); targetIndex[w] = i; return i
            }
            for ei in e {
                for fj in f {
                    let key = UInt64(UInt32(ei)) << 32 | UInt64(UInt32(fj))
                    if let p = pairIndex[key] {
                        cells.append(p)
                    } else {
                        let p = Int32(pairKeys.count)
                        pairIndex[key] = p; pairKeys.append(key); pairSource.append(ei)
                        cells.append(p)
                    }
                }
            }
            cellStart.append(cells.count)
            let lm = LengthPair(l: Int32(source.count), m: Int32(target.count))
            lengths.append(lm)
            if blockOf[lm] == nil { blockOf[lm] = blockSizes.count; blockSizes.append(e.count * f.count) }
            blockIndex.append(Int32(blockOf[lm]!))
        }
        var blockOffset: [Int] = [0]
        for s in blockSizes { blockOffset.append(blockOffset.last! + s) }

        var t = [Double](repeating: 1 / Double(max(1, targetIndex.count)), count: pairKeys.count)
        var a = [Double](repeating: 0, count: blockOffset.last!)
        for (lm, b) in blockOf {
            for k in 0..<blockSizes[b] { a[blockOffset[b] + k] = 1 / Double(lm.l + 1) }
        }
        var counts = [Double](repeating: 0, count: t.count)
        var aCounts = [Double](repeating: 0, count: a.count)
        var totals = [Double](repeating: 0, count: sourceIndex.count)
        var likelihoods: [Double] = []
        let iterations = settings.model1Iterations + settings.model2Iterations
        for iteration in 0..<iterations {
            let model2 = iteration >= settings.model1Iterations
            var logLikelihood = 0.0
            for k in counts.indices { counts[k] = 0 }
            for k in aCounts.indices { aCounts[k] = 0 }
            t.withUnsafeBufferPointer { t in
            a.withUnsafeBufferPointer { a in
            counts.withUnsafeMutableBufferPointer { counts in
            aCounts.withUnsafeMutableBufferPointer { aCounts in
            cells.withUnsafeBufferPointer { cells in
                for s in 0..<lengths.count {
                    let l1 = Int(lengths[s].l) + 1, m = Int(lengths[s].m)
                    let base = cellStart[s], block = blockOffset[Int(blockIndex[s])]
                    for j in 0..<m {
                        var denominator = 0.0
                        for i in 0..<l1 {
                            denominator += t[Int(cells[base + i * m + j])] * (model2 ? a[block + i * m + j] : 1)
                        }
                        logLikelihood += log(model2 ? denominator : denominator / Double(l1))
                        let scale = 1 / denominator
                        for i in 0..<l1 {
                            let c = t[Int(cells[base + i * m + j])] * (model2 ? a[block + i * m + j] : 1) * scale
                            counts[Int(cells[base + i * m + j])] += c
                            aCounts[block + i * m + j] += c
                        }
                    }
                }
            }}}}}
            likelihoods.append(logLikelihood)
            for k in totals.indices { totals[k] = 0 }
            for p in counts.indices { totals[Int(pairSource[p])] += counts[p] }
            for p in t.indices { t[p] = totals[Int(pairSource[p])] > 0 ? counts[p] / totals[Int(pairSource[p])] : 0 }
            if model2 {
                for (lm, b) in blockOf {
                    let l1 = Int(lm.l) + 1, m = Int(lm.m), o = blockOffset[b]
                    for j in 0..<m {
                        var sum = 0.0
                        for i in 0..<l1 { sum += aCounts[o + i * m + j] }
                        for i in 0..<l1 { a[o + i * m + j] = sum > 0 ? aCounts[o + i * m + j] / sum : 1 / Double(l1) }
                    }
                }
            }
        }
        var translation: [UInt64: Double] = [:]
        translation.reserveCapacity(pairKeys.count)
        for (p, key) in pairKeys.enumerated() { translation[key] = t[p] }
        var distortion: [LengthPair: [Double]] = [:]
        if settings.model2Iterations > 0 {
            for (lm, b) in blockOf { distortion[lm] = Array(a[blockOffset[b]..<blockOffset[b + 1]]) }
        }
        self.sourceIndex = sourceIndex
        self.targetIndex = targetIndex
        self.translation = translation
        self.distortion = distortion
        self.logLikelihoods = likelihoods
    }

    /// t(f | e), with e nil for NULL.
    public func translationProbability(_ f: String, given e: String?) -> Double {
        guard let ei = sourceIndex[e ?? ""], let fj = targetIndex[f] else { return IBMAligner.unseenProbability }
        return translation[UInt64(UInt32(ei)) << 32 | UInt64(UInt32(fj))] ?? IBMAligner.unseenProbability
    }

    /// a(i | j, l, m) for source position i (0 is NULL, 1…l the words) and
    /// target position j (0-based), l = `sourceCount`, m = `targetCount`.
    public func alignmentProbability(_ i: Int, _ j: Int, sourceCount l: Int, targetCount m: Int) -> Double {
        guard let block = distortion[LengthPair(l: Int32(l), m: Int32(m))] else { return 1 / Double(l + 1) }
        return block[i * m + j]
    }

    /// The Viterbi alignment: for each target word, the 0-based source
    /// position it aligns to, or nil for NULL.
    public func align(source: [String], target: [String]) -> [Int?] {
        let l = source.count, m = target.count
        let e = [sourceIndex[""]] + source.map { sourceIndex[$0] }
        let block = distortion[LengthPair(l: Int32(l), m: Int32(m))]
        return (0..<m).map { j -> Int? in
            let fj = targetIndex[target[j]]
            func score(_ i: Int) -> Double {
                var p = IBMAligner.unseenProbability
                if let ei = e[i], let fj, let v = translation[UInt64(UInt32(ei)) << 32 | UInt64(UInt32(fj))] { p = v }
                return p * (block.map { $0[i * m + j] } ?? 1 / Double(l + 1))
            }
            var best: Int? = nil, bestScore = -1.0
            for i in stride(from: 1, through: l, by: 1) {
                let s = score(i)
                if s > bestScore { best = i - 1; bestScore = s }
            }
            return score(0) > bestScore ? nil : best
        }
    }

    /// The fertility of each source word under the Viterbi alignment, with
    /// NULL-aligned words and excess over 49 reassigned as described above;
    /// nil when no such fertilities exist (m > 49 l, or an empty source with a
    /// non-empty target).
    public func fertilities(source: [String], target: [String]) -> [Int]? {
        IBMAligner.fertilities(alignment: align(source: source, target: target), sourceCount: source.count)
    }

    /// Fertilities from an alignment (target position → source position or
    /// nil), reassigning NULL-aligned words and capping as described above.
    public static func fertilities(alignment: [Int?], sourceCount l: Int) -> [Int]? {
        let m = alignment.count
        if m == 0 { return [Int](repeating: 0, count: l) }
        guard l > 0, m <= maximumFertility * l else { return nil }
        var fertilities = [Int](repeating: 0, count: l)
        for j in 0..<m {
            var owner = alignment[j]
            if owner == nil {
                if let left = alignment[..<j].last(where: { $0 != nil }) { owner = left }
                else if let right = alignment[(j + 1)...].first(where: { $0 != nil }) { owner = right }
                else { owner = j * l / m }
            }
            fertilities[owner!] += 1
        }
        for i in 0..<l where fertilities[i] > maximumFertility {
            var excess = fertilities[i] - maximumFertility
            fertilities[i] = maximumFertility
            var d = 1
            while excess > 0 {
                for k in [i - d, i + d] where k >= 0 && k < l && excess > 0 {
                    let room = max(0, maximumFertility - fertilities[k])
                    let moved = min(room, excess)
                    fertilities[k] += moved
                    excess -= moved
                }
                d += 1
            }
        }
        return fertilities
    }
}
