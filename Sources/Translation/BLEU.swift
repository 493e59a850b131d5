// Corpus BLEU-4 (Papineni et al. 2002) as sacreBLEU computes it
// (`sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none")`, one
// reference per sentence, its default "exp" smoothing), on token lists.
//
// For n = 1…4: correct_n sums over the corpus each hypothesis n-gram's count
// clipped by its count in the reference; total_n sums the hypotheses'
// n-gram counts. p_n = 100·correct_n / total_n; a p_n with no match is
// smoothed as mteval-v13a does, 100 / (2^k · total_n) for the k-th such
// order. BLEU = BP · exp(¼ Σ log p_n), with the brevity penalty
// BP = exp(1 - r / c) when the hypotheses' length c is below the
// references' r (0 when c = 0), else 1. It is 0 when nothing matches at all
// and when some order has no n-gram in any hypothesis (sacreBLEU stops there
// and takes log 0 as a large negative number).
//
// Since `tokenize` already separates punctuation, sacreBLEU's default 13a
// tokenizer on the space-joined tokens splits them the same way for words
// and the punctuation the corpora use.

import RealModule

/// The statistics and score of corpus BLEU-4.
public struct BLEUScore: Sendable, Equatable {
    /// BLEU × 100.
    public var score: Double
    /// Clipped matches and hypothesis n-grams, n = 1…4.
    public var correct: [Int], total: [Int]
    /// p_n × 100 (smoothed where correct_n is 0).
    public var precisions: [Double]
    public var brevityPenalty: Double
    public var hypothesisLength: Int, referenceLength: Int
}

/// Corpus BLEU-4 of `hypotheses` against one reference each.
public func corpusBLEU(hypotheses: [[String]], references: [[String]]) -> BLEUScore {
    precondition(hypotheses.count == references.count,
                 "corpusBLEU: \(hypotheses.count) hypotheses for \(references.count) references")
    let order = 4
    var correct = [Int](repeating: 0, count: order), total = [Int](repeating: 0, count: order)
    var c = 0, r = 0
    for (h, ref) in zip(hypotheses, references) {
        c += h.count
        r += ref.count
        for n in 1...order where h.count >= n {
            var counts: [ArraySlice<String>: Int] = [:]
            if ref.count >= n { for i in 0...(ref.count - n) { counts[ref[i..<(i + n)], default: 0] += 1 } }
            for i in 0...(h.count - n) {
                let gram = h[i..<(i + n)]
                if let left = counts[gram], left > 0 {
                    correct[n - 1] += 1
                    counts[gram] = left - 1
                }
            }
            total[n - 1] += h.count - n + 1
        }
    }
    let bp = c < r ? (c > 0 ? Double.exp(1 - Double(r) / Double(c)) : 0) : 1
    var precisions = [Double](repeating: 0, count: order)
    var score = 0.0
    if correct.contains(where: { $0 > 0 }) {
        var smoothing = 1.0, complete = true
        for n in 0..<order {
            if total[n] == 0 { complete = false; break }
            if correct[n] == 0 {
                smoothing *= 2
                precisions[n] = 100 / (smoothing * Double(total[n]))
            } else {
                precisions[n] = 100 * Double(correct[n]) / Double(total[n])
            }
        }
        if complete { score = bp * Double.exp(precisions.map { Double.log($0) }.reduce(0, +) / Double(order)) }
    }
    return BLEUScore(score: score, correct: correct, total: total, precisions: precisions, brevityPenalty: bp,
                     hypothesisLength: c, referenceLength: r)
}

/// The other corpus measures of a decoder's output, as fractions.
public struct TranslationRates: Sendable, Equatable {
    /// Hypotheses equal to their reference, token for token.
    public var exactMatch: Double
    /// Hypotheses of their reference's length.
    public var lengthAccuracy: Double
    /// Hypothesis tokens equal to the token just before them (the repeated
    /// words that Gu et al. (2018, Fig. 4) show as the NAT's typical error),
    /// over all hypothesis tokens after the first of each sentence.
    public var repeatedTokens: Double

    public init(hypotheses: [[String]], references: [[String]]) {
        precondition(hypotheses.count == references.count,
                     "TranslationRates: \(hypotheses.count) hypotheses for \(references.count) references")
        let n = Double(max(hypotheses.count, 1))
        exactMatch = Double(zip(hypotheses, references).filter { $0 == $1 }.count) / n
        lengthAccuracy = Double(zip(hypotheses, references).filter { $0.count == $1.count }.count) / n
        var repeats = 0, pairs = 0
        for h in hypotheses where h.count > 1 {
            pairs += h.count - 1
            for i in 1..<h.count where h[i] == h[i - 1] { repeats += 1 }
        }
        repeatedTokens = pairs == 0 ? 0 : Double(repeats) / Double(pairs)
    }
}
