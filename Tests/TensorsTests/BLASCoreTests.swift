// The choice of OpenBLAS kernels from the CPU's flags and OpenBLAS's own pick.

import XCTest
@testable import Tensors

final class BLASCoreTests: XCTestCase {
    let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"]

    func testAFallbackCoreOnAVX512HardwareAsksForSkylakeX() {
        XCTAssertEqual(BLASCore.recommendedCoreType(cpuFlags: avx512, current: "Prescott"), "SkylakeX")
        XCTAssertEqual(BLASCore.recommendedCoreType(cpuFlags: avx512, current: "Sandybridge"), "SkylakeX")
    }

    func testAVX2WithoutTheWholeAVX512SetAsksForHaswell() {
        XCTAssertEqual(BLASCore.recommendedCoreType(cpuFlags: ["avx", "avx2", "fma"], current: "Prescott"), "Haswell")
        // Xeon Phi has AVX-512 F but not BW, DQ or VL.
        XCTAssertEqual(BLASCore.recommendedCoreType(cpuFlags: ["avx2", "fma", "avx512f", "avx512cd"], current: "Prescott"),
                       "Haswell")
    }

    func testNoRequestWhenTheKernelsAlreadyUseAVX2OrTheCPUCannot() {
        for core in ["Haswell", "SkylakeX", "Zen", "Cooperlake", "SapphireRapids"] {
            XCTAssertNil(BLASCore.recommendedCoreType(cpuFlags: avx512, current: core), core)
        }
        XCTAssertNil(BLASCore.recommendedCoreType(cpuFlags: ["sse3", "avx"], current: "Prescott"))
        XCTAssertNil(BLASCore.recommendedCoreType(cpuFlags: ["avx2"], current: "Prescott"))
        XCTAssertNil(BLASCore.recommendedCoreType(cpuFlags: [], current: "Prescott"))
    }

    func testTheCPUFlagsAreReadOnLinux() throws {
        #if os(Linux)
        let flags = BLASCore.cpuFlags()
        // Every x86-64 CPU has SSE2; on other architectures the line differs.
        #if arch(x86_64)
        XCTAssertTrue(flags.contains("sse2"), "\(flags.sorted().prefix(10))")
        #endif
        XCTAssertFalse(BLASCore.name.isEmpty)
        #else
        throw XCTSkip("/proc/cpuinfo is Linux only")
        #endif
    }
}
