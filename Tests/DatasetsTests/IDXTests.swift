// The IDX reader (plain and gzip), its error cases, and Fashion-MNIST loading
// from small files the test writes (plus the installed files, if present).

import Testing
import ArrayIO
import Tensors
@testable import Datasets

/// A tiny image set: image n has pixel (i, j) = 10n + 3i + j (values < 256).
func tinyImages(count: Int, size: Int = 4) -> IDXArray {
    var bytes = [UInt8]()
    for n in 0..<count { for i in 0..<size { for j in 0..<size { bytes.append(UInt8(10 * n + 3 * i + j)) } } }
    return IDXArray(dimensions: [count, size, size], bytes: bytes)
}

/// Writes a Fashion-MNIST-style directory: `train` and `t10k` image and label files.
func writeTinyFashionMNIST(_ dir: String, gzip: Bool, trainCount: Int = 6, testCount: Int = 3,
                           labels: [UInt8]? = nil) throws {
    func put(_ array: IDXArray, _ name: String) throws {
        let plain = IDX.encode(array)
        try AtomicFile.write(gzip ? try Zlib.deflate(plain, format: .gzip) : plain,
                             to: dir + "/" + name + (gzip ? ".gz" : ""))
    }
    try put(tinyImages(count: trainCount), "train-images-idx3-ubyte")
    try put(IDXArray(dimensions: [trainCount], bytes: labels ?? (0..<trainCount).map { UInt8($0 % 10) }),
            "train-labels-idx1-ubyte")
    try put(tinyImages(count: testCount), "t10k-images-idx3-ubyte")
    try put(IDXArray(dimensions: [testCount], bytes: (0..<testCount).map { UInt8(9 - $0) }), "t10k-labels-idx1-ubyte")
}

@Suite struct IDXTests {
    @Test(arguments: [false, true])
    func readsWhatItWrites(gzip: Bool) throws {
        let dir = try temporaryDirectory()
        let array = tinyImages(count: 3)
        let plain = IDX.encode(array)
        // The header by hand: magic 00 00 08 03, then 3, 4, 4 as big-endian uint32.
        #expect(Array(plain[0..<16]) == [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 4])
        let path = dir + "/images.idx"
        try AtomicFile.write(gzip ? try Zlib.deflate(plain, format: .gzip) : plain, to: path)
        #expect(try IDX.read(path: path) == array)
    }

    static let malformed: [(String, [UInt8], String)] = {
        let good = IDX.encode(IDXArray(dimensions: [2, 3], bytes: [1, 2, 3, 4, 5, 6]))
        return [
            ("empty", [], "the file is empty"),
            ("bad magic", [1, 0, 8, 1, 0, 0, 0, 0], "bad magic"),
            ("float type", [0, 0, 0x0D, 1, 0, 0, 0, 0], "unsupported IDX element type 0xD"),
            ("no dims", [0, 0, 8, 0], "bad header: zero dimensions"),
            ("short dims", Array(good.prefix(9)), "truncated: the file ends inside the 2 dimension sizes"),
            ("truncated data", Array(good.dropLast()), "truncated data: dimensions [2, 3] need 6 bytes, the file has 5"),
            ("trailing", good + [0], "dimensions [2, 3] disagree with the file size: 1 bytes after the data"),
            ("bad gzip", [0x1F, 0x8B, 8, 0, 1, 2, 3], "gzip: "),
        ]
    }()

    @Test(arguments: malformed)
    func malformedFilesAreNamed(label: String, bytes: [UInt8], reason: String) throws {
        let error = try #require(throws: FileError.self, "\(label)") { try IDX.decode(bytes, name: "/d/f.idx") }
        #expect(error.path == "/d/f.idx")
        #expect(error.reason.hasPrefix(reason), "\(label): \(error.reason)")
    }

    @Test func truncatedGzipIsAnError() throws {
        let gz = try Zlib.deflate(IDX.encode(tinyImages(count: 5)), format: .gzip)
        for length in [2, 10, gz.count / 2, gz.count - 1] {
            #expect(throws: FileError.self) { try IDX.decode(Array(gz.prefix(length)), name: "t.gz") }
        }
    }

    @Test func truncationAndCorruptionNeverCrash() throws {
        let plain = IDX.encode(tinyImages(count: 2, size: 2))
        for valid in [plain, try Zlib.deflate(plain, format: .gzip)] {
            for length in 0..<valid.count {
                #expect(throws: FileError.self) { try IDX.decode(Array(valid.prefix(length)), name: "t") }
            }
            for offset in 0..<valid.count {
                var corrupt = valid
                corrupt[offset] ^= 0xA5
                do {
                    let array = try IDX.decode(corrupt, name: "c")
                    #expect(array.bytes.count == array.dimensions.reduce(1, *))
                } catch let error as FileError {
                    #expect(error.path == "c")
                }
            }
        }
    }

    @Test(arguments: [false, true])
    func loadsFashionMNISTLayout(gzip: Bool) throws {
        let dir = try temporaryDirectory()
        try writeTinyFashionMNIST(dir, gzip: gzip)
        let d = try FashionMNIST.load(directory: dir)
        #expect(d.inputs.shape == [9, 16] && d.classCount == 10)
        #expect(d.labels == [0, 1, 2, 3, 4, 5, 9, 8, 7])
        #expect(d.split == Split(train: Array(0..<6), test: [6, 7, 8]))
        // Image 1 of the training file, pixel (2, 3) = 10 + 6 + 3 = 19.
        #expect(d.inputs.scalars[1 * 16 + 2 * 4 + 3] == Float(19) / 255)
        // Test image 0 follows the training images.
        #expect(d.inputs.scalars[6 * 16] == 0)
    }

    @Test func downsamplingAveragesBlocks() throws {
        let dir = try temporaryDirectory()
        try writeTinyFashionMNIST(dir, gzip: false)
        let d = try FashionMNIST.load(directory: dir, downsample: true)
        #expect(d.inputs.shape == [9, 4])
        // Image 2: block (1, 0) holds pixels (2,0),(2,1),(3,0),(3,1) = 26, 27, 29, 30: mean 28.
        #expect(d.inputs.scalars[2 * 4 + 1 * 2 + 0] == Float(26 + 27 + 29 + 30) / (4 * 255))
        #expect(d.inputs.scalars[2 * 4 + 0] == Float(20 + 21 + 23 + 24) / (4 * 255))
    }

    @Test func seededSubsets() throws {
        let dir = try temporaryDirectory()
        try writeTinyFashionMNIST(dir, gzip: true, trainCount: 20, testCount: 10)
        let a = try FashionMNIST.load(directory: dir, trainingSubset: 5, testSubset: 3, seed: 11)
        let b = try FashionMNIST.load(directory: dir, trainingSubset: 5, testSubset: 3, seed: 11)
        #expect(a == b)
        #expect(a.inputs.shape == [8, 16] && a.split.train == Array(0..<5) && a.split.test == [5, 6, 7])
        // The chosen training images are those of the seeded subset, in file order.
        let picks = FashionMNIST.subset(count: 20, keep: 5, seed: 11)
        #expect(picks.count == 5 && picks == picks.sorted() && Set(picks).count == 5)
        #expect((0..<5).map { a.inputs.scalars[$0 * 16] } == picks.map { Float(10 * $0) / 255 })
        let c = try FashionMNIST.load(directory: dir, trainingSubset: 5, testSubset: 3, seed: 12)
        #expect(c.inputs != a.inputs)
    }

    @Test func pairErrors() throws {
        let dir = try temporaryDirectory()
        try writeTinyFashionMNIST(dir, gzip: false, labels: [0, 1, 2, 12, 4, 5])
        let bad = try #require(throws: FileError.self) { try FashionMNIST.load(directory: dir) }
        #expect(bad.path == dir + "/train-labels-idx1-ubyte")
        #expect(bad.reason == "label 12 at index 3 is not a class 0...9")

        try AtomicFile.write(IDX.encode(IDXArray(dimensions: [5], bytes: [0, 1, 2, 3, 4])),
                             to: dir + "/train-labels-idx1-ubyte")
        let count = try #require(throws: FileError.self) { try FashionMNIST.load(directory: dir) }
        #expect(count.reason.hasPrefix("has 5 labels but"))

        try AtomicFile.write(IDX.encode(IDXArray(dimensions: [6, 16], bytes: [UInt8](repeating: 0, count: 96))),
                             to: dir + "/train-images-idx3-ubyte")
        let dims = try #require(throws: FileError.self) { try FashionMNIST.load(directory: dir) }
        #expect(dims.path == dir + "/train-images-idx3-ubyte" && dims.reason.hasPrefix("expected 3 dimensions"))

        AtomicFile.remove(dir + "/t10k-labels-idx1-ubyte")
        #expect(throws: FileError.self) { try FashionMNIST.readSplit(images: dir + "/t10k-images-idx3-ubyte",
                                                                    labels: dir + "/t10k-labels-idx1-ubyte") }
    }

    @Test(.enabled(if: AtomicFile.exists(FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz"),
                   "needs the dataset-fashion-mnist package"))
    func installedFashionMNIST() throws {
        let directory = FashionMNIST.defaultDirectory
        let test = try FashionMNIST.readSplit(images: directory + "/t10k-images-idx3-ubyte.gz",
                                              labels: directory + "/t10k-labels-idx1-ubyte.gz")
        #expect(test.images.dimensions == [10000, 28, 28])
        // The Fashion-MNIST test set has exactly 1000 images of each class.
        var counts = [Int](repeating: 0, count: 10)
        for label in test.labels { counts[label] += 1 }
        #expect(counts == [Int](repeating: 1000, count: 10))
        let d = try FashionMNIST.load(trainingSubset: 200, testSubset: 100, seed: 3, downsample: true)
        #expect(d.inputs.shape == [300, 196])
        #expect(d.inputs.scalars.allSatisfy { $0 >= 0 && $0 <= 1 } && d.inputs.scalars.contains { $0 > 0.5 })
    }
}
