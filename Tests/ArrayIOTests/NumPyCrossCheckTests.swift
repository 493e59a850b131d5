// Cross-checks against NumPy itself: NumPy writes arrays in every supported
// dtype, order and format version, and .npz archives stored and deflated, and
// Swift reads them; Swift writes, and NumPy loads and checks shape, dtype,
// values and the exact bytes `np.save` would produce. Needs `python3` with
// NumPy (installed by the README's test command); skipped without it.

import Testing
@testable import ArrayIO

/// Writes the arrays, plus `expected.txt`: one line per file with
/// `file, member, descr, shape, values` (tab-separated; values as float.hex or ints) in C order.
let numpyWriterScript = #"""
import sys, os, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(7)
lines = []
def values_text(a):
    flat = np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind == 'f':
        return ' '.join(float(v).hex() for v in flat.astype(np.float64))
    return ' '.join(str(int(v)) for v in flat)
def make(dtype, shape):
    n = int(np.prod(shape))
    if dtype == np.bool_:
        return (rng.integers(0, 2, n) == 1).reshape(shape)
    if np.dtype(dtype).kind == 'f':
        a = rng.standard_normal(n) * 100
        special = [np.inf, -np.inf, -0.0, 1e-6, 65504.0, 6e-8]
        a[:min(n, len(special))] = special[:min(n, len(special))]
        return a.astype(dtype).reshape(shape)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, n, endpoint=True, dtype=dtype)
    a[:min(n, 2)] = [info.min, info.max][:min(n, 2)]
    return a.reshape(shape)
dtypes = [np.float32, np.float64, np.float16, np.uint8, np.int8, np.int32, np.int64, np.bool_]
shapes = [(), (5,), (3, 4), (2, 3, 4), (2, 3, 1, 5), (0, 3)]
i = 0
for dt in dtypes:
    for shape in shapes:
        for order in 'CF':
            for version in [(1, 0), (2, 0), (3, 0)]:
                a = make(dt, shape)
                a = np.array(a, order=order)
                name = f'a{i}.npy'; i += 1
                with open(os.path.join(out, name), 'wb') as f:
                    np.lib.format.write_array(f, a, version=version)
                lines.append(f"{name}\t\t{a.dtype.str}\t{','.join(map(str, a.shape))}\t{values_text(a)}")
members = {f'm{k}': make(dt, (3, 2)) for k, dt in enumerate(dtypes)}
members['fortran'] = np.array(make(np.float32, (4, 3)), order='F')
np.savez(os.path.join(out, 'stored.npz'), **members)
np.savez_compressed(os.path.join(out, 'deflated.npz'), **members)
for archive in ['stored.npz', 'deflated.npz']:
    for key, a in members.items():
        lines.append(f"{archive}\t{key}\t{a.dtype.str}\t{','.join(map(str, a.shape))}\t{values_text(a)}")
# Float16 conversion reference: float32 inputs and numpy's float16 bits.
edge = np.array([0, -0.0, 1, 65504, 65519.99, 65520, 1e9, 2**-24, 2**-25, 3 * 2**-26, 2**-14,
                 (1 + 2**-11), 0.1, -0.3, np.inf, -np.inf], np.float32)
bits = rng.integers(0, 2**32, 100000, dtype=np.uint64).astype(np.uint32)
exp = rng.integers(95, 144, 100000).astype(np.uint32)
bits = (bits & np.uint32(0x807FFFFF)) | (exp << np.uint32(23))
f = np.concatenate([edge, bits.view(np.float32)])
np.save(os.path.join(out, 'half_in.npy'), f)
with np.errstate(over='ignore'):
    halves = f.astype(np.float16)
np.save(os.path.join(out, 'half_out.npy'), halves.view(np.uint16).astype(np.int32))
np.save(os.path.join(out, 'half_decoded.npy'), np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32))
with open(os.path.join(out, 'expected.txt'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
"""#

/// Loads what Swift wrote and checks it against `expected.txt` (same line format).
let numpyCheckerScript = #"""
import sys, os, io, numpy as np
out = sys.argv[1]
fails = []
archives = {}
for line in open(os.path.join(out, 'expected.txt')).read().splitlines():
    name, member, descr, shape, values = line.split('\t')
    shape = tuple(int(s) for s in shape.split(',') if s)
    path = os.path.join(out, name)
    if member:
        if name not in archives:
            archives[name] = np.load(path)
        a = archives[name][member]
    else:
        a = np.load(path)
        ref = io.BytesIO(); np.save(ref, a)
        if open(path, 'rb').read() != ref.getvalue():
            fails.append(f'{name}: bytes differ from np.save')
    if a.dtype.str != descr: fails.append(f'{name}/{member}: dtype {a.dtype.str} != {descr}')
    if a.shape != shape: fails.append(f'{name}/{member}: shape {a.shape} != {shape}')
    if a.dtype.kind == 'f':
        want = np.array([float.fromhex(v) for v in values.split()], np.float64).astype(a.dtype)
    else:
        want = np.array([int(v) for v in values.split()], np.int64).astype(a.dtype)
    got = a.reshape(-1)
    if want.shape != got.shape or not np.array_equal(got.view(np.uint8), want.view(np.uint8)):
        fails.append(f'{name}/{member}: values differ')
for name in archives:
    import zipfile
    with zipfile.ZipFile(os.path.join(out, name)) as z:
        bad = z.testzip()
        if bad: fails.append(f'{name}: zipfile CRC check fails for {bad}')
if fails:
    print('\n'.join(fails)); sys.exit(1)
print('ok')
"""#

@Suite(.enabled(if: pythonWithNumPy, "needs python3 with numpy"))
struct NumPyCrossCheckTests {
    @Test func swiftReadsWhatNumPyWrites() throws {
        let dir = try makeTemporaryDirectory()
        let run = try runPython(numpyWriterScript, arguments: [dir])
        try #require(run.status == 0, "\(run.output)")
        let expected = try AtomicFile.readText(dir + "/expected.txt").split(separator: "\n")
        #expect(expected.count == 8 * 6 * 2 * 3 + 2 * 9)
        var archives = [String: [NPZ.Entry]]()
        for line in expected {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let (file, member, descr) = (fields[0], fields[1], fields[2])
            let shape = fields[3].split(separator: ",").map { Int($0)! }
            let array: NPYArray
            if member.isEmpty {
                array = try NPY.read(path: dir + "/" + file)
            } else {
                if archives[file] == nil { archives[file] = try NPZ.read(path: dir + "/" + file) }
                array = try #require(archives[file]!.first { $0.name == member }?.array)
            }
            #expect(array.dtype == NPYDType(rawValue: descr), "\(file) \(member)")
            #expect(array.shape == shape, "\(file) \(member)")
            let text = fields[4].split(separator: " ").map(String.init)
            if array.dtype.isFloatingPoint {
                let want = text.map { Double($0)! }
                let got = array.doubles()
                #expect(got.count == want.count && zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern },
                        "\(file) \(member) \(descr)")
            } else {
                #expect(try array.int64s() == text.map { Int64($0)! }, "\(file) \(member) \(descr)")
            }
        }
        #expect(archives["stored.npz"]?.map(\.name) == ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "fortran"])

        // Float16 against numpy: float -> half bits, and every half -> float.
        let inputs = try NPY.read(path: dir + "/half_in.npy").floats()
        let numpyBits = try NPY.read(path: dir + "/half_out.npy").int64s()
        let mismatches = zip(inputs, numpyBits).filter { Int64(HalfPrecision.bits(from: $0)) != $1 }
        #expect(inputs.count == numpyBits.count && mismatches.isEmpty, "\(mismatches.prefix(5))")
        let decoded = try NPY.read(path: dir + "/half_decoded.npy").floats()
        let decodeMismatches = (0..<65536).filter { HalfPrecision.float(fromBits: UInt16($0)).bitPattern != decoded[$0].bitPattern }
        #expect(decoded.count == 65536 && decodeMismatches.isEmpty, "\(decodeMismatches.prefix(5))")
    }

    @Test func numpyReadsWhatSwiftWrites() throws {
        let dir = try makeTemporaryDirectory()
        var lines = [String]()
        func record(_ file: String, _ member: String, _ array: NPYArray) throws {
            let values = array.dtype.isFloatingPoint
                ? array.doubles().map { hexFloat($0) }
                : try array.int64s().map { String($0) }
            lines.append([file, member, array.dtype.descr, array.shape.map(String.init).joined(separator: ","),
                          values.joined(separator: " ")].joined(separator: "\t"))
        }
        var index = 0
        for shape in sampleShapes {
            for array in sampleArrays(shape: shape) {
                let file = "s\(index).npy"
                index += 1
                try NPY.write(array, to: dir + "/" + file)
                try record(file, "", array)
            }
        }
        let members = sampleArrays(shape: [2, 3]).enumerated().map { ("m\($0.offset)", $0.element) }
        for (file, compressed, zip64) in [("stored.npz", false, false), ("deflated.npz", true, false),
                                          ("zip64.npz", true, true)] {
            try AtomicFile.write(NPZ.encode(members, compressed: compressed, forceZip64: zip64), to: dir + "/" + file)
            for (name, array) in members { try record(file, name, array) }
        }
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: dir + "/expected.txt")
        let run = try runPython(numpyCheckerScript, arguments: [dir])
        #expect(run.status == 0, "\(run.output)")
    }
}

/// Python's `float.hex`-compatible text for a Double (also "inf", "-inf", "nan").
func hexFloat(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    let sign = x.sign == .minus ? "-" : ""
    if x == 0 { return sign + "0x0.0p+0" }
    let m = x.magnitude
    let exponent = Int(m.exponent)
    let significand = m.significandBitPattern
    // Normal: 1.fraction; subnormal: 0.fraction with exponent -1022.
    let lead = m.isSubnormal ? "0" : "1"
    let e = m.isSubnormal ? -1022 : exponent
    let digits = String(significand, radix: 16)
    let fraction = String(repeating: "0", count: 13 - digits.count) + digits
    return "\(sign)0x\(lead).\(fraction)p\(e >= 0 ? "+" : "")\(e)"
}
