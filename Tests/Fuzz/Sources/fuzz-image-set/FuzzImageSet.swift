// The image sets a progressive GAN trains on (`train --task progan --images`):
// a .npy of images, or a .npz with images and labels.

import FuzzSupport
import ProgressiveGAN

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageSet(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    for name in ["images.npy", "images.npz"] {
        if let images = try? TrainingImages.numpy(path: FuzzInput.file(data, size, name: name)) {
            precondition(images.labels.count == images.count, "labels and images differ in count")
        }
    }
    return 0
}

@_cdecl("fuzz_image_set_main")
public func fuzzImageSetMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.run(argc, argv) { fuzzImageSet($0, $1) }
}
