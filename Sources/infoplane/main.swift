// infoplane: the command-line tool.
//
// Two executables make up the tool. This one draws: `infoplane plot …` and
// `infoplane grid` run here, in a process that loads libpng and zlib but not
// OpenBLAS (whose loading and worker thread would cost 2 to 3 ms of every
// start, a fifth of drawing a grid). Every other command — train, estimate,
// demo, reproduce, audit, help and --version — runs in `infoplane-compute`,
// which sits beside this executable: this process replaces itself with it
// (exec, same arguments and environment), so the user sees one tool.

import ArgumentParser
import PlotCommands
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The commands that run in this process.
struct DrawingCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infoplane",
        abstract: "Information-plane analysis of neural networks: train, record, estimate, plot.",
        subcommands: [Plot.self, Grid.self]
    )
}

let arguments = CommandLine.arguments
if arguments.count > 1, DrawingCommands.configuration.subcommands.contains(where: { $0.configuration.commandName == arguments[1] }) {
    DrawingCommands.main()
} else {
    ComputeExecutable.replaceProcess(arguments: arguments)
}
