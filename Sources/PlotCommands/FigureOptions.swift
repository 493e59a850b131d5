// Options every plot command shares, and writing a figure.

import ArgumentParser
import ArrayIO
import Plotting
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct FigureOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Output PNG file.")
    var output: String

    @Option(help: "Figure size in pixels at 1x, WIDTHxHEIGHT.")
    var size: String?

    @Option(help: "Pixel scale for high-DPI output (1 or 2).")
    var scale: Double = 1

    @Option(help: "Figure title.")
    var title: String?

    @Option(help: "Colormap: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String?

    func validate() throws {
        if let size, parseSize(size) == nil { throw ValidationError("--size must look like 1000x800 (got \"\(size)\")") }
        if !(scale >= 1 && scale <= 4) { throw ValidationError("--scale must be between 1 and 4 (got \(scale))") }
        if let colormap, Colormap(name: colormap) == nil {
            throw ValidationError("unknown colormap \"\(colormap)\" (known: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if !output.hasSuffix(".png") { throw ValidationError("the output must be a .png file (got \"\(output)\")") }
    }

    func parseSize(_ text: String) -> (Int, Int)? {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (100...8000).contains(w), (100...8000).contains(h) else { return nil }
        return (w, h)
    }

    /// The size asked for, or the figure's default.
    func dimensions(default d: (Int, Int)) -> (width: Int, height: Int) {
        let s = size.flatMap(parseSize) ?? d
        return (s.0, s.1)
    }

    var colormapValue: Colormap? { colormap.flatMap { Colormap(name: $0) } }

    /// Prints warnings to stderr and writes the canvas.
    func write(_ canvas: Canvas, warnings: [String]) throws {
        printWarnings(warnings)
        let directory = parentDirectory(output)
        if !directory.isEmpty && !AtomicFile.isDirectory(directory) {
            throw FileError(path: output, reason: "the directory \(directory) does not exist")
        }
        try canvas.writePNG(to: output)
        print(output)
    }
}

/// Each warning on standard error, prefixed "warning: ".
func printWarnings(_ warnings: [String]) {
    for w in warnings { writeStandardError("warning: \(w)\n") }
}

/// `text` on standard error, unbuffered.
public func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { break }
            offset += n
        }
    }
}

/// The last component of a path, ignoring one trailing slash ("runs/tanh/" gives "tanh").
func lastPathComponent(_ path: String) -> String {
    let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    guard let slash = trimmed.lastIndex(of: "/"), trimmed != "/" else { return trimmed }
    return String(trimmed[trimmed.index(after: slash)...])
}

/// The directory part of a path: "" for a bare file name, "/" for a file in the root.
func parentDirectory(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// `text` without leading and trailing spaces, tabs and carriage returns.
func trimmingSpaces<S: StringProtocol>(_ text: S) -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
    return String(text[first...last])
}
