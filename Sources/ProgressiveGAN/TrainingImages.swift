// The real images a progressive GAN trains on: bytes [N, C, R, R] with R a
// power of two, turned into [-1, 1] floats one minibatch at a time (a whole
// Fashion-MNIST training set is 60 MB as bytes, 250 MB as floats).
//
// Fashion-MNIST's 28x28 images are padded with 2 black pixels on every side
// to 32x32, as is usual for GANs on MNIST-like data. Not here yet: image
// sets a user brings as .npy/.npz.

import Datasets
import Foundation
import Tensors

/// A set of square images stored as bytes, with their class labels.
public struct TrainingImages: Sendable, Equatable {
    /// The number of images.
    public let count: Int
    /// Channels per image (1 or 3).
    public let channels: Int
    /// The side R of every image, a power of two.
    public let resolution: Int
    /// One class per image.
    public let labels: [Int]
    /// [count, channels, R, R] bytes, row-major.
    public let bytes: [UInt8]

    /// - Precondition: `bytes` holds count·channels·R² values, `labels` count,
    ///   and R is a power of two of at least 4.
    public init(bytes: [UInt8], count: Int, channels: Int, resolution: Int, labels: [Int]) {
        precondition(resolution >= 4 && resolution & (resolution - 1) == 0, "TrainingImages: side \(resolution) is not a power of two ≥ 4")
        precondition(bytes.count == count * channels * resolution * resolution && labels.count == count,
                     "TrainingImages: \(bytes.count) bytes and \(labels.count) labels for \(count) images of \(channels)x\(resolution)x\(resolution)")
        self.count = count
        self.channels = channels
        self.resolution = resolution
        self.labels = labels
        self.bytes = bytes
    }

    /// Images `indices` as floats b/127.5 - 1 in [-1, 1]: [indices.count, C, R, R].
    public func batch(_ indices: [Int]) -> Tensor {
        let size = channels * resolution * resolution
        return bytes.withUnsafeBufferPointer { src in
            Tensor(shape: [indices.count, channels, resolution, resolution]) { out in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "TrainingImages: index \(index) of \(count)")
                    let from = src.baseAddress! + index * size, to = out.baseAddress! + row * size
                    for i in 0..<size { to[i] = Float(from[i]) / 127.5 - 1 }
                }
            }
        }
    }

    /// Fashion-MNIST's training images (or its test images), padded with 2
    /// zero (black) pixels on every side to 32x32.
    ///
    /// - Parameters:
    ///   - directory: where the four IDX files are, plain or `.gz`.
    ///   - test: read the 10,000 test images instead of the 60,000 training ones.
    ///   - count: keep the first `count` images only.
    /// - Throws: `FileError` naming the file, from the IDX reader.
    public static func fashionMNIST(directory: String = FashionMNIST.defaultDirectory, test: Bool = false,
                                    count: Int? = nil) throws -> TrainingImages {
        func path(_ base: String) -> String {
            let plain = directory + "/" + base
            return FileManager.default.fileExists(atPath: plain) ? plain : plain + ".gz"
        }
        let prefix = test ? "t10k" : "train"
        let split = try FashionMNIST.readSplit(images: path(prefix + "-images-idx3-ubyte"),
                                               labels: path(prefix + "-labels-idx1-ubyte"))
        let (rows, columns) = (split.images.dimensions[1], split.images.dimensions[2])
        let n = min(count ?? split.labels.count, split.labels.count)
        return padded(split.images.bytes, count: n, rows: rows, columns: columns, labels: Array(split.labels[..<n]))
    }

    /// Single-channel images [count, rows, columns] centred in the smallest
    /// power-of-two square (at least 4) that holds them, padded with zeros.
    public static func padded(_ images: [UInt8], count: Int, rows: Int, columns: Int, labels: [Int]) -> TrainingImages {
        var side = 4
        while side < max(rows, columns) { side *= 2 }
        let top = (side - rows) / 2, left = (side - columns) / 2
        var out = [UInt8](repeating: 0, count: count * side * side)
        for k in 0..<count {
            for r in 0..<rows {
                let from = (k * rows + r) * columns, to = (k * side + top + r) * side + left
                for c in 0..<columns { out[to + c] = images[from + c] }
            }
        }
        return TrainingImages(bytes: out, count: count, channels: 1, resolution: side, labels: labels)
    }
}
