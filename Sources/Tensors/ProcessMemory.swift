// How the C allocator returns memory to the system, set once by the
// executables that train.
//
// glibc's malloc serves blocks above its mmap threshold (128 KiB at start,
// rising to the largest block freed so far) with fresh mappings, and gives
// the top of the heap back once more than twice that lies free. A training
// step allocates and frees tensors of a few hundred KiB to a few MiB, so by
// default many of them come from pages the kernel must map and zero again at
// every step: page faults took half the time of an attention block or an
// LSTM step (batch 256) in `infoplane-bench layers`. Keeping freed memory in
// the heap makes those allocations reuse warm pages.

#if canImport(Glibc)
import Glibc
#endif

public enum ProcessMemory {
    /// Blocks up to this size come from the heap, not from their own mapping: 64 MiB.
    public static let heapBlockLimit = 64 << 20
    /// Free memory the heap keeps before it gives any back: 256 MiB.
    public static let retainedFreeMemory = 256 << 20

    /// Makes freed blocks up to `heapBlockLimit` stay in the process for
    /// reuse, up to `retainedFreeMemory` of them. Call once, at start-up,
    /// before the threads that allocate start.
    public static func keepFreedMemoryForReuse() {
        #if canImport(Glibc)
        // <malloc.h> is not in Swift's Glibc module: mallopt by its symbol,
        // with its parameter numbers from that header.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let (trimThreshold, mmapThreshold): (Int32, Int32) = (-1, -3)  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, Int32(heapBlockLimit))
        _ = mallopt(trimThreshold, Int32(retainedFreeMemory))
        #endif
    }
}
