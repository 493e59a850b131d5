// The real images a progressive GAN trains on: [N, C, R, R] with R a power
// of two, kept as bytes (turned into [-1, 1] floats one minibatch at a time:
// a whole Fashion-MNIST training set is 60 MB as bytes, 250 MB as floats) or,
// for a floating-point image set a user brings, as floats already in [-1, 1].
//
// Fashion-MNIST's 28x28 images are padded with 2 black pixels on every side
// to 32x32, as is usual for GANs on MNIST-like data. Image sets in .npy/.npz
// files are read by `TrainingImages+NumPy.swift`.

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
    /// The pixels, [count, channels, R, R] row-major.
    let pixels: Pixels

    /// Bytes b, shown as b/127.5 - 1, or floats in [-1, 1] shown as they are.
    enum Pixels: Sendable, Equatable {
        case bytes([UInt8])
        case floats([Float])
    }

    /// [count, channels, R, R] bytes, row-major; nil for an image set of floats.
    public var bytes: [UInt8]? {
        if case .bytes(let b) = pixels { return b }
        return nil
    }

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
        self.pixels = .bytes(bytes)
    }

    /// Images as floats in [-1, 1], [count, channels, R, R] row-major.
    /// - Precondition: as for bytes; every value lies in [-1, 1].
    public init(floats: [Float], count: Int, channels: Int, resolution: Int, labels: [Int]) {
        precondition(resolution >= 4 && resolution & (resolution - 1) == 0, "TrainingImages: side \(resolution) is not a power of two ≥ 4")
        precondition(floats.count == count * channels * resolution * resolution && labels.count == count,
                     "TrainingImages: \(floats.count) values and \(labels.count) labels for \(count) images of \(channels)x\(resolution)x\(resolution)")
        precondition(floats.allSatisfy { $0 >= -1 && $0 <= 1 }, "TrainingImages: values outside [-1, 1]")
        self.count = count
        self.channels = channels
        self.resolution = resolution
        self.labels = labels
        self.pixels = .floats(floats)
    }

    /// Images `indices` as floats in [-1, 1] (bytes b as b/127.5 - 1):
    /// [indices.count, C, R, R].
    public func batch(_ indices: [Int]) -> Tensor {
        let size = channels * resolution * resolution
        func gather<T>(_ source: [T], _ convert: (T) -> Float) -> Tensor {
            source.withUnsafeBufferPointer { src in
                Tensor(shape: [indices.count, channels, resolution, resolution]) { out in
                    for (row, index) in indices.enumerated() {
                        precondition(index >= 0 && index < count, "TrainingImages: index \(index) of \(count)")
                        let from = src.baseAddress! + index * size, to = out.baseAddress! + row * size
                        for i in 0..<size { to[i] = convert(from[i]) }
                    }
                }
            }
        }
        switch pixels {
        case .bytes(let b): return gather(b) { Float($0) / 127.5 - 1 }
        case .floats(let f): return gather(f) { $0 }
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
