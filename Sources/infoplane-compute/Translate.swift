// `infoplane translate RUN`: translates lines from standard input or a file
// with the model of a complete translation run, one hypothesis a line.

import ArgumentParser
import ArrayIO
import Foundation
import Tensors
import Training
import Translation

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate sentences with a trained translation run (teacher or NAT).",
        discussion: """
        Examples:
          echo "the small dog sees a red house ." | infoplane translate runs/teacher
          infoplane translate runs/teacher --decoder ar-beam --input test.source.txt --output beam.txt
          infoplane translate runs/nat --decoder npd --samples 10 --input test.source.txt

        Lines are tokenized as the corpora are (lowercased; runs of letters and digits, each
        punctuation character a token); words outside the run's vocabulary become <unk>.
        Hypotheses are written one a line, tokens separated by single spaces.
        Decoders: ar-greedy and ar-beam (beam 4, GNMT length penalty α = 0.6) of a teacher
        run; nat (argmax fertilities), nat-average (rounded expected fertilities) and npd
        (noisy parallel decoding: S fertility samples decoded in one batch, the teacher of
        the NAT run picks the best) of a NAT run.
        """
    )

    @Argument(help: "A complete translation run (train --task translation).")
    var runDirectory: String

    @Option(help: "Decoder: \(TranslationDecoder.allCases.map(\.rawValue).joined(separator: ", ")). (default: ar-greedy for a teacher run, nat for a NAT run)")
    var decoder: String?

    @Option(help: "npd: fertility sequences sampled per sentence (the argmax one included). (default: 10)")
    var samples: Int = 10

    @Option(help: "ar-beam: the beam width. (default: 4)")
    var beam: Int = 4

    @Option(help: "Seed of npd's samples. (default: 1)")
    var seed: UInt64 = 1

    @Option(help: "Read sentences from this file instead of standard input.")
    var input: String?

    @Option(help: "Write hypotheses to this file (atomically) instead of standard output.")
    var output: String?

    func validate() throws {
        if let decoder, TranslationDecoder(rawValue: decoder) == nil {
            throw ValidationError("unknown decoder \"\(decoder)\" (known: \(TranslationDecoder.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if samples < 1 { throw ValidationError("--samples must be positive (got \(samples))") }
        if beam < 1 { throw ValidationError("--beam must be positive (got \(beam))") }
    }

    func run() throws {
        let translator = try Translator(run: runDirectory)
        let chosen = decoder.flatMap(TranslationDecoder.init) ?? (translator.nat == nil ? .arGreedy : .nat)
        if let problem = translator.problem(chosen) { throw ValidationError("\(runDirectory): \(problem)") }
        let text: String
        if let input { text = try AtomicFile.readText(input) } else {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var rng = RandomGenerator(seed: seed)
        let hypotheses = translator.translate(lines.map(tokenize), decoder: chosen, samples: samples, beam: beam, rng: &rng)
        let out = sentenceText(hypotheses)
        if let output { try AtomicFile.write(out, to: output) } else { FileHandle.standardOutput.write(Data(out.utf8)) }
    }
}
