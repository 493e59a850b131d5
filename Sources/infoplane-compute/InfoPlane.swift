// infoplane-compute: every command of `infoplane`, the ones that train and
// estimate (and so load OpenBLAS) among them. The `infoplane` executable runs
// plot and grid itself and starts this one for everything else; it can be run
// directly too.
//
// Each subcommand parses and validates its options, then calls library code;
// the work itself lives in the library modules.
//
// Every command states its commandName: ArgumentParser would otherwise derive it
// from the type's name by reflection, a search of every protocol conformance in
// the executable (Foundation's included) at each start.

import ArgumentParser
import PlotCommands
import Tensors

@main
struct InfoPlane: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infoplane",
        abstract: "Information-plane analysis of neural networks: train, record, estimate, plot.",
        version: "0.1.0",
        subcommands: [Demo.self, Reproduce.self, Train.self, Simulate.self, Sample.self, Estimate.self, Plot.self, Grid.self,
                      AuditCommand.self, Sweep.self, Bleu.self, Translate.self]
    )

    static func main() {
        ProcessMemory.keepFreedMemoryForReuse()
        main(nil)
    }
}
