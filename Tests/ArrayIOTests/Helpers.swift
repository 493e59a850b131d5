// Shared helpers for the ArrayIO tests: temporary directories and running Python.

import Foundation
@testable import ArrayIO

/// A fresh temporary directory for one test.
func makeTemporaryDirectory(_ label: String = #function) throws -> String {
    let safe = label.filter { $0.isLetter || $0.isNumber }
    let path = NSTemporaryDirectory() + "arrayio-\(safe)-\(UUID().uuidString)"
    try AtomicFile.createDirectory(path)
    return path
}

/// Whether `python3` with NumPy can be run here.
let pythonWithNumPy: Bool = {
    (try? runPython("import numpy")).map { $0.status == 0 } ?? false
}()

/// Runs `python3 -c script args...`, returning the exit status and the combined output.
func runPython(_ script: String, arguments: [String] = []) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The bytes of an ASCII string.
func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A `.npy` file built by hand: magic, version, length field, header text, data.
func handBuiltNPY(version: (UInt8, UInt8) = (1, 0), header: String, data: [UInt8]) -> [UInt8] {
    let text = ascii(header)
    var bytes: [UInt8] = [0x93] + ascii("NUMPY") + [version.0, version.1]
    let lengthSize = version.0 == 1 ? 2 : 4
    for i in 0..<lengthSize { bytes.append(UInt8(truncatingIfNeeded: text.count >> (8 * i))) }
    return bytes + text + data
}

/// Little-endian bytes of float32 values.
func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
}
