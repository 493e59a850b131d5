// `infoplane bleu HYPOTHESES REFERENCES`: corpus BLEU-4 of a file of
// hypotheses against a file of references, one sentence a line, tokens
// separated by white space (sacreBLEU's `tokenize="none"`: the translation
// subject's hypotheses and references are tokenized already).

import ArgumentParser
import ArrayIO
import Foundation
import Translation

struct Bleu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bleu",
        abstract: "Corpus BLEU-4 of hypotheses against references, as sacreBLEU computes it with tokenize=none.",
        discussion: """
        Examples:
          infoplane bleu hypotheses.txt references.txt
          infoplane bleu hypotheses.txt references.txt --json

        Both files hold one sentence a line (the same number of lines), tokens separated by
        white space. The score is sacreBLEU's corpus_bleu(hypotheses, [references],
        tokenize="none") with its default exp smoothing: clipped n-gram matches over the
        corpus, the geometric mean of the four precisions and the brevity penalty.
        """
    )

    @Argument(help: "The hypotheses, one a line.")
    var hypotheses: String

    @Argument(help: "The references, one a line.")
    var references: String

    @Flag(help: "Print one JSON object (score, counts, totals, precisions, bp, sys_len, ref_len).")
    var json = false

    func run() throws {
        let h = try readSentences(hypotheses), r = try readSentences(references)
        guard h.count == r.count else {
            throw FileError(path: hypotheses, reason: "has \(h.count) lines, but the references \(references) have \(r.count)")
        }
        let b = corpusBLEU(hypotheses: h, references: r)
        if json {
            let object: [String: Any] = ["score": b.score, "counts": b.correct, "totals": b.total, "precisions": b.precisions,
                                         "bp": b.brevityPenalty, "sys_len": b.hypothesisLength, "ref_len": b.referenceLength]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "BLEU = %.2f %@ (BP = %.3f, hypothesis length = %d, reference length = %d, %d %@)",
                         b.score, b.precisions.map { String(format: "%.1f", $0) }.joined(separator: "/"),
                         b.brevityPenalty, b.hypothesisLength, b.referenceLength, h.count, h.count == 1 ? "sentence" : "sentences"))
        }
    }
}
