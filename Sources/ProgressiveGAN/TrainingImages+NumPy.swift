// Image sets a user brings, read from NumPy `.npy` and `.npz` files.
//
// Accepted: an array of shape N x H x W (one channel) or N x C x H x W with
// C = 1 or 3, of dtype uint8 or floating point (float16, float32, float64).
//
// - uint8: 0..255, shown to the networks as b/127.5 - 1 in [-1, 1].
// - floating point: if every value lies in [0, 1] it is taken as [0, 1] and
//   mapped to 2x - 1; otherwise every value must lie in [-1, 1] and is kept.
//   (A [-1, 1] set that happens to contain no negative value is therefore
//   read as [0, 1]; store it as uint8 or include -1 to avoid that.)
//   NaN, infinities and values outside [-1, 1] are errors.
// - size: images narrower or shorter than the smallest power of two that
//   holds them (at least 4) are centred in that square, an odd margin's
//   extra pixel going to the bottom and right, and padded with black: the
//   value -1 (byte 0), as Fashion-MNIST's 28x28 images are padded to 32x32.
// - labels: an `.npz` may hold them beside the images (see `numpy(path:)`);
//   otherwise every image gets class 0.
//
// Anything else (another rank, 2 or 4 channels, integer dtypes other than
// uint8, an empty set, a channels-last array) is a `FileError` naming
// the file and the problem. Not here: channels-last layouts (transpose with
// `np.transpose(x, (0, 3, 1, 2))`), resizing, other file formats.

import ArrayIO
import Foundation

extension TrainingImages {
    /// The images in a `.npy` file, or in an `.npz` file's image member.
    ///
    /// In an `.npz`, the images are its only member, or the member named
    /// `images` or `x`; labels, if any, the member named `labels` or `y`
    /// (N integers ≥ 0). See the file's opening comment for the shapes,
    /// dtypes, value ranges and padding accepted.
    /// - Throws: `FileError` for an unreadable or malformed file,
    ///   `FileError` for an array that is not a usable image set.
    public static func numpy(path: String) throws -> TrainingImages {
        let images: NPYArray
        var labels: [Int]?
        if path.lowercased().hasSuffix(".npz") {
            let entries = try NPZ.read(path: path)
            func member(_ names: [String]) -> NPYArray? {
                names.lazy.compactMap { name in entries.first { $0.name == name }?.array }.first
            }
            if entries.count == 1 {
                images = entries[0].array
            } else if let found = member(["images", "x"]) {
                images = found
                if let y = member(["labels", "y"]) {
                    guard y.shape.count == 1, y.shape[0] == images.shape.first, !y.dtype.isFloatingPoint,
                          let values = try? y.ints(), values.allSatisfy({ $0 >= 0 }) else {
                        throw FileError(path: path, reason: "labels of shape \(y.shape) and dtype \(y.dtype) are not "
                                            + "\(images.shape.first.map(String.init) ?? "N") non-negative integers, one per image")
                    }
                    labels = values
                }
            } else {
                throw FileError(path: path, reason: "no image array: the archive holds "
                                    + entries.map(\.name).joined(separator: ", ") + " (name it images or x)")
            }
        } else {
            images = try NPY.read(path: path)
        }
        return try imageSet(images, labels: labels, path: path)
    }

    /// The training images in `array` (see `numpy(path:)`), `path` naming it in errors.
    /// - Throws: `FileError`.
    public static func imageSet(_ array: NPYArray, labels: [Int]? = nil, path: String) throws -> TrainingImages {
        func fail(_ reason: String) -> FileError { FileError(path: path, reason: reason) }
        let shape = array.shape
        let (count, channels, rows, columns): (Int, Int, Int, Int)
        switch shape.count {
        case 3:
            (count, channels, rows, columns) = (shape[0], 1, shape[1], shape[2])
        case 4:
            guard shape[1] == 1 || shape[1] == 3 else {
                if shape[3] == 1 || shape[3] == 3 {
                    throw fail("shape \(shape) looks channels-last (N x H x W x C); store N x C x H x W, "
                               + "e.g. np.transpose(x, (0, 3, 1, 2))")
                }
                throw fail("shape \(shape) has \(shape[1]) channels; images need 1 or 3")
            }
            (count, channels, rows, columns) = (shape[0], shape[1], shape[2], shape[3])
        default:
            throw fail("shape \(shape) is not N x H x W or N x C x H x W")
        }
        guard count > 0, rows > 0, columns > 0 else { throw fail("shape \(shape) holds no images") }
        if let labels, labels.count != count { throw fail("\(labels.count) labels for \(count) images") }
        let labels = labels ?? [Int](repeating: 0, count: count)
        var side = 4
        while side < max(rows, columns) { side *= 2 }

        switch array.dtype {
        case .uint8:
            let out = pad(array.bytes, count: count * channels, rows: rows, columns: columns, side: side, fill: 0)
            return TrainingImages(bytes: out, count: count, channels: channels, resolution: side, labels: labels)
        case .float16, .float32, .float64:
            var values = array.floats()
            var low = Float.infinity, high = -Float.infinity
            for (i, v) in values.enumerated() {
                guard v.isFinite else { throw fail("element \(i) is \(v); image values must be finite") }
                low = min(low, v)
                high = max(high, v)
            }
            if low >= 0 && high <= 1 {
                for i in values.indices { values[i] = 2 * values[i] - 1 }
            } else if !(low >= -1 && high <= 1) {
                throw fail("\(array.dtype) values in [\(low), \(high)], outside [-1, 1]; scale them to [-1, 1] or [0, 1], "
                           + "or store uint8 0..255")
            }
            let out = pad(values, count: count * channels, rows: rows, columns: columns, side: side, fill: -1)
            return TrainingImages(floats: out, count: count, channels: channels, resolution: side, labels: labels)
        default:
            throw fail("dtype \(array.dtype) is neither uint8 nor floating point")
        }
    }

    /// `planes` images [rows, columns] centred in [side, side] squares
    /// filled with `fill` (the odd margin's extra pixel at the bottom and right).
    static func pad<T>(_ planes: [T], count: Int, rows: Int, columns: Int, side: Int, fill: T) -> [T] {
        if rows == side && columns == side { return planes }
        let top = (side - rows) / 2, left = (side - columns) / 2
        var out = [T](repeating: fill, count: count * side * side)
        for k in 0..<count {
            for r in 0..<rows {
                let from = (k * rows + r) * columns, to = (k * side + top + r) * side + left
                for c in 0..<columns { out[to + c] = planes[from + c] }
            }
        }
        return out
    }
}
