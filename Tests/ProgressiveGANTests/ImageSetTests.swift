// Image sets read from .npy/.npz files: shapes, dtypes, value ranges,
// padding, labels and the errors for everything else, on hand-made arrays.

import ArrayIO
import Foundation
@testable import ProgressiveGAN
import Testing

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "progan-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The error `numpy(path:)` throws for `path`, as text.
func imageSetError(_ path: String) -> String? {
    do {
        _ = try TrainingImages.numpy(path: path)
        return nil
    } catch {
        return "\(error)"
    }
}

@Test func uint8_images_of_a_power_of_two_are_read_as_bytes() throws {
    let dir = try temporaryDirectory()
    let path = dir + "/x.npy"
    let bytes = (0..<(2 * 16)).map { UInt8($0 * 8) }  // 2 images of 4x4
    try NPY.write(NPYArray(uint8s: bytes, shape: [2, 4, 4]), to: path)
    let images = try TrainingImages.numpy(path: path)
    #expect(images.count == 2 && images.channels == 1 && images.resolution == 4 && images.labels == [0, 0])
    #expect(images.bytes == bytes)
    let batch = images.batch([1])
    #expect(batch.shape == [1, 1, 4, 4] && batch.scalars[0] == Float(128) / 127.5 - 1)
}

@Test func odd_sizes_are_centred_and_padded_with_minus_one() throws {
    // One 3-channel 2x3 image → 4x4: one row of -1 above and one below, no
    // column left and one right (the odd margin's pixel goes right).
    let values: [Float] = (0..<18).map { Float($0) / 20 - 0.5 }  // in [-0.5, 0.35]: kept as [-1, 1] values
    let array = NPYArray(floats: values, shape: [1, 3, 2, 3])
    let images = try TrainingImages.imageSet(array, path: "hand-made")
    #expect(images.channels == 3 && images.resolution == 4 && images.bytes == nil)
    let x = images.batch([0]).scalars
    for ch in 0..<3 {
        for r in 0..<4 {
            for c in 0..<4 {
                let inside = r >= 1 && r < 3 && c < 3
                let expected = inside ? values[(ch * 2 + r - 1) * 3 + c] : -1
                #expect(x[(ch * 4 + r) * 4 + c] == expected, "channel \(ch), row \(r), column \(c)")
            }
        }
    }
    // 5x5 → 8x8: top and left margins 1, bottom and right 2; bytes padded with 0.
    let bytes = [UInt8](repeating: 255, count: 25)
    let big = try TrainingImages.imageSet(NPYArray(uint8s: bytes, shape: [1, 5, 5]), path: "hand-made")
    #expect(big.resolution == 8)
    let b = big.bytes!
    #expect(b[0] == 0 && b[9] == 255 && b[8 * 5 + 5] == 255 && b[8 * 6 + 1] == 0 && b[8 * 5 + 6] == 0)
    // Tiny images grow to 4x4, the smallest side the networks have.
    #expect(try TrainingImages.imageSet(NPYArray(uint8s: [7, 8], shape: [2, 1, 1]), path: "p").resolution == 4)
}

@Test func floats_in_zero_one_are_mapped_to_minus_one_one() throws {
    let values: [Float] = [0, 0.25, 0.5, 1] + [Float](repeating: 0.75, count: 12)
    let images = try TrainingImages.imageSet(NPYArray(floats: values, shape: [1, 1, 4, 4], as: .float64), path: "p")
    #expect(Array(images.batch([0]).scalars.prefix(5)) == [-1, -0.5, 0, 1, 0.5])
    let signed = try TrainingImages.imageSet(NPYArray(floats: values.map { $0 - 0.5 }, shape: [1, 4, 4]), path: "p")
    #expect(Array(signed.batch([0]).scalars.prefix(4)) == [-0.5, -0.25, 0, 0.5])
}

@Test func npz_archives_give_images_and_labels() throws {
    let dir = try temporaryDirectory()
    let images = NPYArray(uint8s: [UInt8](repeating: 3, count: 3 * 16), shape: [3, 1, 4, 4])
    try NPZ.write([("images", images), ("labels", NPYArray(int64s: [2, 0, 9], shape: [3]))], to: dir + "/a.npz")
    let a = try TrainingImages.numpy(path: dir + "/a.npz")
    #expect(a.count == 3 && a.labels == [2, 0, 9])
    try NPZ.write([("arr_0", images)], to: dir + "/b.npz", compressed: true)
    #expect(try TrainingImages.numpy(path: dir + "/b.npz").labels == [0, 0, 0])
    try NPZ.write([("x", images), ("y", NPYArray(floats: [1, 2, 3], shape: [3]))], to: dir + "/c.npz")
    #expect(imageSetError(dir + "/c.npz")?.contains("labels of shape [3] and dtype <f4") == true)
    try NPZ.write([("p", images), ("q", images)], to: dir + "/d.npz")
    #expect(imageSetError(dir + "/d.npz") == "\(dir)/d.npz: no image array: the archive holds p, q (name it images or x)")
}

/// Arrays that are not image sets, and the words their errors must contain.
let unusableArrays: [(NPYArray, String)] = [
    (NPYArray(uint8s: [UInt8](repeating: 0, count: 16), shape: [16]), "is not N x H x W or N x C x H x W"),
    (NPYArray(uint8s: [UInt8](repeating: 0, count: 32), shape: [1, 2, 4, 4]), "has 2 channels; images need 1 or 3"),
    (NPYArray(uint8s: [UInt8](repeating: 0, count: 48), shape: [1, 4, 4, 3]), "looks channels-last"),
    (NPYArray(uint8s: [], shape: [0, 4, 4]), "holds no images"),
    (NPYArray(int64s: [Int64](repeating: 0, count: 16), shape: [1, 4, 4]), "dtype <i8 is neither uint8 nor floating point"),
    (NPYArray(floats: [0, 2] + [Float](repeating: 0, count: 14), shape: [1, 4, 4]), "values in [0.0, 2.0], outside [-1, 1]"),
    (NPYArray(floats: [.nan] + [Float](repeating: 0, count: 15), shape: [1, 4, 4]), "element 0 is nan"),
]

@Test(arguments: unusableArrays.indices)
func unusable_arrays_are_errors_naming_the_file_and_the_problem(_ k: Int) throws {
    let dir = try temporaryDirectory()
    let path = dir + "/bad-\(k).npy"
    try NPY.write(unusableArrays[k].0, to: path)
    let message = try #require(imageSetError(path))
    #expect(message.hasPrefix(path + ": ") && message.contains(unusableArrays[k].1), "\(message)")
}

@Test func unreadable_files_are_errors_naming_the_file() throws {
    let dir = try temporaryDirectory()
    #expect(imageSetError(dir + "/missing.npy")?.hasPrefix(dir + "/missing.npy") == true)
    try Data("not an array".utf8).write(to: URL(fileURLWithPath: dir + "/junk.npy"))
    #expect(imageSetError(dir + "/junk.npy")?.hasPrefix(dir + "/junk.npy") == true)
}
