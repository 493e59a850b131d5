// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from its four IDX files.
//
// Images become rows of Float pixels scaled to [0, 1] (optionally 2×2-averaged
// to 14×14), labels are classes 0–9; the training file's samples come first
// in the returned Dataset and its split marks them as training. The
// Debian/Ubuntu package `dataset-fashion-mnist` installs the files in
// /usr/share/datasets/fashion-mnist. Augmentation and normalisation beyond
// scaling are deliberately not done here.
//
// [XRV17]: H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset
//   for Benchmarking Machine Learning Algorithms", arXiv:1708.07747 (2017).

import ArrayIO
import Tensors

/// Loading [Fashion-MNIST][XRV17] (or MNIST, same format) into a `Dataset`.
public enum FashionMNIST {
    /// Where the Debian package `dataset-fashion-mnist` puts the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// Reads one split: an images file [N, rows, cols] and a labels file [N] of classes 0–9.
    ///
    /// - Returns: pixels as bytes and labels, after checking that they agree.
    /// - Throws: `FileError` naming the file for any `IDX.decode` error, images
    ///   that are not 3-dimensional, labels that are not 1-dimensional, a count
    ///   mismatch between the two files, or a label above 9.
    public static func readSplit(images imagesPath: String, labels labelsPath: String) throws
        -> (images: IDXArray, labels: [Int]) {
        let images = try IDX.read(path: imagesPath)
        let labels = try IDX.read(path: labelsPath)
        guard images.dimensions.count == 3 else {
            throw FileError(path: imagesPath, reason: "expected 3 dimensions [N, rows, columns], found \(images.dimensions)")
        }
        guard labels.dimensions.count == 1 else {
            throw FileError(path: labelsPath, reason: "expected 1 dimension [N], found \(labels.dimensions)")
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw FileError(path: labelsPath, reason: "has \(labels.dimensions[0]) labels but \(imagesPath) has "
                + "\(images.dimensions[0]) images")
        }
        if let bad = labels.bytes.firstIndex(where: { $0 > 9 }) {
            throw FileError(path: labelsPath, reason: "label \(labels.bytes[bad]) at index \(bad) is not a class 0...9")
        }
        return (images, labels.bytes.map { Int($0) })
    }

    /// Loads the training and test sets from `directory`.
    ///
    /// Files: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
    /// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each plain or with
    /// `.gz` (the plain name is tried first).
    ///
    /// - Parameters:
    ///   - trainingSubset: if given, keep this many training samples, chosen
    ///     uniformly without replacement with a generator seeded by `seed`
    ///     (kept in file order).
    ///   - testSubset: the same for the test samples, with seed `seed &+ 1`.
    ///   - downsample: average each 2×2 block of pixels (28×28 → 14×14).
    /// - Returns: a 10-class `Dataset` named "fashion-mnist": the inputs are
    ///   [Ntrain + Ntest, rows·cols] Float pixels / 255 in [0, 1], row-major
    ///   within an image; the split's train indices are 0..<Ntrain.
    /// - Throws: `FileError` naming the file (see `readSplit`), or an image
    ///   size that is odd when `downsample` is set.
    /// - Precondition: subset sizes are positive.
    public static func load(directory: String = defaultDirectory, trainingSubset: Int? = nil,
                            testSubset: Int? = nil, seed: UInt64 = 0, downsample: Bool = false) throws -> Dataset {
        func path(_ base: String) -> String {
            let plain = directory + "/" + base
            return AtomicFile.exists(plain) ? plain : plain + ".gz"
        }
        let trainImages = path("train-images-idx3-ubyte")
        let train = try readSplit(images: trainImages, labels: path("train-labels-idx1-ubyte"))
        let testImages = path("t10k-images-idx3-ubyte")
        let test = try readSplit(images: testImages, labels: path("t10k-labels-idx1-ubyte"))
        guard train.images.dimensions[1...] == test.images.dimensions[1...] else {
            throw FileError(path: testImages, reason: "images are \(Array(test.images.dimensions[1...])), "
                + "the training images are \(Array(train.images.dimensions[1...]))")
        }
        let trainPick = subset(count: train.labels.count, keep: trainingSubset, seed: seed)
        let testPick = subset(count: test.labels.count, keep: testSubset, seed: seed &+ 1)
        let rows = train.images.dimensions[1], columns = train.images.dimensions[2]
        if downsample && (rows % 2 != 0 || columns % 2 != 0) {
            throw FileError(path: trainImages, reason: "cannot downsample \(rows)×\(columns) images by 2")
        }
        let pixels = downsample ? (rows / 2) * (columns / 2) : rows * columns
        let n = trainPick.count + testPick.count
        let inputs = Tensor(shape: [n, pixels]) { out in
            var r = 0
            for (images, picks) in [(train.images.bytes, trainPick), (test.images.bytes, testPick)] {
                images.withUnsafeBufferPointer { src in
                    for index in picks {
                        let image = UnsafeBufferPointer(rebasing: src[(index * rows * columns)..<((index + 1) * rows * columns)])
                        let row = UnsafeMutableBufferPointer(rebasing: out[(r * pixels)..<((r + 1) * pixels)])
                        if downsample {
                            averagePool2x2(image, rows: rows, columns: columns, into: row)
                        } else {
                            for p in 0..<pixels { row[p] = Float(image[p]) / 255 }
                        }
                        r += 1
                    }
                }
            }
        }
        let labels = trainPick.map { train.labels[$0] } + testPick.map { test.labels[$0] }
        return Dataset(name: "fashion-mnist", inputs: inputs, labels: labels, classCount: 10,
                       split: Split(train: Array(0..<trainPick.count), test: Array(trainPick.count..<n)))
    }

    /// Indices of a seeded random subset of `keep` of `count` items, ascending (all of them if `keep` is nil).
    static func subset(count: Int, keep: Int?, seed: UInt64) -> [Int] {
        guard let keep, keep < count else { return Array(0..<count) }
        precondition(keep > 0, "FashionMNIST: subset size \(keep) is not positive")
        var rng = RandomGenerator(seed: seed)
        return rng.permutation(count)[..<keep].sorted()
    }

    /// Writes the 2×2 block means of a [rows, columns] byte image, scaled to
    /// [0, 1], into a [rows/2, columns/2] row-major buffer.
    static func averagePool2x2(_ image: UnsafeBufferPointer<UInt8>, rows: Int, columns: Int,
                               into out: UnsafeMutableBufferPointer<Float>) {
        let outColumns = columns / 2
        for i in 0..<(rows / 2) {
            let top = 2 * i * columns, bottom = top + columns
            for j in 0..<outColumns {
                let sum = Int(image[top + 2 * j]) + Int(image[top + 2 * j + 1])
                    + Int(image[bottom + 2 * j]) + Int(image[bottom + 2 * j + 1])
                out[i * outColumns + j] = Float(sum) / (4 * 255)
            }
        }
    }
}
