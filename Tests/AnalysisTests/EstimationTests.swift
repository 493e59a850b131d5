// Estimating runs and exported activations; MI tables; compression verdicts.

@testable import ActivationStore
import Analysis
import ArrayIO
import Foundation
import InfoTheory
import Testing
import Training

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "infoplane-analysis-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A small recorded 12-bit run (3 epochs, every epoch recorded).
func smallRun(at path: String) throws {
    let settings = RunSettings(task: "tishby", dataSource: "generated", widths: [12, 10, 7, 5, 4, 3, 2], activation: "tanh",
                               initializer: "truncatedNormal", optimizer: ["name": "adam", "learning_rate": "0.001"],
                               batchSize: 256, epochs: 3, seed: 2, trainingFraction: 0.8, splitMethod: "random",
                               schedule: "every", activations: "post", dtype: "float32", checkpointInterval: 10)
    var run = try RecordedRun.start(settings: settings, at: path)
    try run.run()
}

@Test func exported_activations_estimate_like_the_run() throws {
    let root = try temporaryDirectory()
    try smallRun(at: root + "/run")
    let exported = root + "/exported"
    try AtomicFile.createDirectory(exported)
    let run = RunDirectory(root + "/run")
    for name in try AtomicFile.listDirectory(run.activationsDirectory) {
        try AtomicFile.write(AtomicFile.read(run.activationsDirectory + "/" + name), to: exported + "/" + name)
    }
    // One-hot labels, as a PyTorch user might save them.
    let labels = try NPY.read(path: run.labels).ints()
    var oneHot = [Float](repeating: 0, count: labels.count * 2)
    for (i, y) in labels.enumerated() { oneHot[2 * i + y] = 1 }
    try NPY.write(NPYArray(floats: oneHot, shape: [labels.count, 2]), to: root + "/y.npy")

    let request = EstimationRequest(configuration: .binning(.edges(bins: 30)))
    let fromRun = try ActivationSource.run(root + "/run").estimate(request)
    let fromExport = try ActivationSource.exported(directory: exported, labels: root + "/y.npy", inputs: run.inputs).estimate(request)
    #expect(fromRun.rows == fromExport.rows)
    #expect(fromRun.rows.count == 4 * 6)
    // I(X;T) = H(T) for distinct inputs; I(T;Y) ≤ H(Y) ≤ 1 bit.
    for row in fromRun.rows {
        #expect(row.values[0] == row.values[2])
        #expect(row.values[1] <= 1 + 1e-12)
    }
}

@Test func bad_activations_name_the_file_row_and_column() throws {
    let root = try temporaryDirectory()
    try NPY.write(NPYArray(int64s: [0, 1, 0, 1], shape: [4]), to: root + "/y.npy")
    try AtomicFile.createDirectory(root + "/nan")
    try NPY.write(NPYArray(floats: [0, 1, 2, 3, 4, .nan, 6, 7], shape: [4, 2]), to: root + "/nan/epoch-5-layer-1.npy")
    let source = try ActivationSource.exported(directory: root + "/nan", labels: root + "/y.npy", inputs: nil)
    #expect { try source.estimate(EstimationRequest(configuration: .binning(.edges(bins: 30)))) } throws: {
        let text = "\($0)"
        return text.contains("epoch-5-layer-1.npy") && text.contains("row 2") && text.contains("column 1")
    }
    #expect { try source.estimate(EstimationRequest(configuration: .binning(.edges(bins: 30)), epochs: [7])) } throws: {
        "\($0)".contains("epoch 7 is not recorded")
    }
    try AtomicFile.createDirectory(root + "/rows")
    try NPY.write(NPYArray(floats: [0, 1, 2], shape: [3, 1]), to: root + "/rows/epoch-0-layer-1.npy")
    let short = try ActivationSource.exported(directory: root + "/rows", labels: root + "/y.npy", inputs: nil)
    #expect { try short.estimate(EstimationRequest(configuration: .kde(noiseVariance: 0.1, bound: .both))) } throws: {
        "\($0)".contains("epoch-0-layer-1.npy") && "\($0)".contains("3 rows, but the labels have 4")
    }
    try AtomicFile.createDirectory(root + "/empty")
    #expect { try ActivationSource.exported(directory: root + "/empty", labels: root + "/y.npy", inputs: nil) } throws: {
        "\($0)".contains("no activation files")
    }
    try NPY.write(NPYArray(floats: [0.5, 0.5, 1, 0], shape: [2, 2]), to: root + "/soft.npy")
    #expect { try ActivationSource.exported(directory: root + "/rows", labels: root + "/soft.npy", inputs: nil) } throws: {
        "\($0)".contains("soft.npy") && "\($0)".contains("not one-hot")
    }
}

@Test func information_tables_round_trip_and_reject_bad_files() throws {
    let root = try temporaryDirectory()
    let table = InformationTable(columns: ["I_XT", "I_TY", "H_T"],
                                 rows: [.init(epoch: 0, layer: 1, values: [1.5, 0.25, 1.5]),
                                        .init(epoch: 10, layer: 1, values: [0.1, .nan, 3])],
                                 parameters: ["estimator": "binning"])
    try table.write(to: root + "/mi.csv")
    let back = try InformationTable.read(path: root + "/mi.csv")
    #expect(back.columns == table.columns && back.parameters == table.parameters)
    #expect(back.rows[0] == table.rows[0] && back.rows[1].values[1].isNaN)
    for (text, message) in [("", "empty table"), ("epoch,layer,I_XT,I_TY\n", "no rows"), ("a,b\n1,2\n", "lacks epoch and layer"),
                            ("epoch,layer,I_XT\n1,1,2\n", "neither"), ("epoch,layer,I_XT,I_TY\n1,1,x,2\n", "\"x\" is not a number"),
                            ("epoch,layer,I_XT,I_TY\n1,1,2\n", "3 columns")] {
        try AtomicFile.write(text, to: root + "/bad.csv")
        #expect { try InformationTable.read(path: root + "/bad.csv") } throws: {
            "\($0)".contains("bad.csv") && "\($0)".contains(message)
        }
    }
}

@Test func information_tables_parse_like_swift_numbers() throws {
    let root = try temporaryDirectory()
    // CRLF line ends, blanks around fields, comments, blank lines, signs, exponents, NaN in any case.
    let text = "# written by hand\r\nepoch, layer ,I_XT,I_TY\r\n\r\n+0,1, 1.5e1 ,nan\r\n# comment\n12,-3,0x1p-2,-0.1\n7,2,NaN,1E-3\n"
    try AtomicFile.write(text, to: root + "/mi.csv")
    let table = try InformationTable.read(path: root + "/mi.csv")
    #expect(table.columns == ["I_XT", "I_TY"] && table.rows.count == 3)
    #expect(table.rows[0].epoch == 0 && table.rows[0].layer == 1 && table.rows[0].values[0] == 15 && table.rows[0].values[1].isNaN)
    #expect(table.rows[1] == .init(epoch: 12, layer: -3, values: [0.25, -0.1]))
    #expect(table.rows[2].values[0].isNaN && table.rows[2].values[1] == 0.001)
    // Every value is the Double Swift parses from the same text.
    for field in ["0.1", "123456789.123456789", "2.2250738585072014e-308", "4.9e-324", "1e400", "-0"] {
        try AtomicFile.write("epoch,layer,I_XT,I_TY\n1,1,\(field),0\n", to: root + "/one.csv")
        let value = try InformationTable.read(path: root + "/one.csv").rows[0].values[0]
        #expect(value.bitPattern == Double(field)!.bitPattern, "\(field)")
    }
    for (row, message) in [("1.0,1,2,3", "must be integers"), ("99999999999999999999,1,2,3", "must be integers"),
                           ("1,1,2 3,4", "\"2 3\" is not a number"), ("1,1,,4", "\"\" is not a number")] {
        try AtomicFile.write("epoch,layer,I_XT,I_TY\n" + row + "\n", to: root + "/bad.csv")
        #expect { try InformationTable.read(path: root + "/bad.csv") } throws: {
            "\($0)".contains("bad.csv: line 2") && "\($0)".contains(message)
        }
    }
}

@Test func compression_summary_by_hand() {
    // Without smoothing or a noise bar (window 1, noise multiple 0): layer 1 rises to 5 at epoch 10 and ends at 4 (compressed by 1 bit);
    // layer 2 peaks at 8.1 and ends at 8.0 (0.1 bit: below the 0.25-bit threshold).
    let table = InformationTable(columns: ["I_XT", "I_TY"], rows: [
        .init(epoch: 0, layer: 1, values: [2, 0]), .init(epoch: 10, layer: 1, values: [5, 0]), .init(epoch: 20, layer: 1, values: [4, 0]),
        .init(epoch: 0, layer: 2, values: [8, 0]), .init(epoch: 10, layer: 2, values: [8.1, 0]), .init(epoch: 20, layer: 2, values: [8, 0]),
    ])
    let summary = table.compression(rule: CompressionRule(window: 1, noiseMultiple: 0))
    #expect(summary.map(\.layer) == [1, 2])
    #expect(summary[0].peak == 5 && summary[0].peakEpoch == 10 && summary[0].final == 4 && summary[0].compressed)
    #expect(abs(summary[1].compression - 0.1) < 1e-12 && !summary[1].compressed)
}

/// The parameters beside a table are read only with the table they were written
/// for: the JSON carries the CSV's FNV-1a fingerprint.
@Test func information_table_parameters_belong_to_their_csv() throws {
    let root = try temporaryDirectory()
    let path = root + "/mi-kde.csv"
    let old = InformationTable(columns: ["I_XT", "I_TY"], rows: [.init(epoch: 1, layer: 1, values: [2.5, 0.5])],
                               parameters: ["estimator": "kde", "noise_variance": "0.1"])
    try old.write(to: path)
    #expect(try InformationTable.read(path: path).parameters == old.parameters)   // no fingerprint key leaks
    let sidecar = try JSONDecoder().decode([String: String].self, from: Data(AtomicFile.read(InformationTable.parametersPath(for: path))))
    #expect(sidecar["csv_fnv1a64"] == InformationTable.fingerprint(Array(old.csvText.utf8)))

    // A kill after the new CSV but before its JSON: the old parameters must not describe it.
    let new = InformationTable(columns: ["I_XT", "I_TY"], rows: [.init(epoch: 1, layer: 1, values: [1.25, 0.5])],
                               parameters: ["estimator": "kde", "noise_variance": "0.001"])
    try AtomicFile.write(new.csvText, to: path)
    #expect(try InformationTable.read(path: path).parameters.isEmpty)
    try new.write(to: path)
    #expect(try InformationTable.read(path: path).parameters == new.parameters)

    // A JSON without a fingerprint (or with a wrong one) vouches for nothing.
    try AtomicFile.write(#"{"estimator": "kde", "noise_variance": "0.001"}"#, to: InformationTable.parametersPath(for: path))
    #expect(try InformationTable.read(path: path).parameters.isEmpty)

    // FNV-1a 64 by hand: the empty input is the offset basis; "a" is a published test vector.
    #expect(InformationTable.fingerprint([]) == "cbf29ce484222325")
    #expect(InformationTable.fingerprint(Array("a".utf8)) == "af63dc4c8601ec8c")
}
