// Radix sorts: the stable order of Double values (the Kraskov estimators' sorted lines and
// strips) and Float values sorted in place (the sliced Wasserstein distance's projections).
// Both are LSD radix sorts, 8 bits a pass, of keys that order as the values do (the sign bit
// flipped for positives, every bit for negatives), skipping the passes where every key has
// the same digit: a few linear passes where a comparison sort makes log2(n) unpredictable
// ones.

/// The positions 0..<values.count ordered by (value, position): a stable LSD radix sort of
/// order-preserving 64-bit keys, 8 bits a pass, passes where every key has the same digit
/// skipped. −0 and +0 are equal, as for `<`; the values must not be NaN.
public func radixOrder(_ values: [Double]) -> [Int32] {
    let n = values.count
    var keys = [UInt64](repeating: 0, count: n), spareKeys = [UInt64](repeating: 0, count: n)
    var order = (0..<n).map(Int32.init), spareOrder = [Int32](repeating: 0, count: n)
    for i in 0..<n {
        let v = values[i] == 0 ? 0 : values[i]
        let bits = v.bitPattern
        keys[i] = bits >> 63 == 1 ? ~bits : bits | (1 << 63)
    }
    var counts = [Int](repeating: 0, count: 256)
    for shift in stride(from: UInt64(0), to: 64, by: 8) {
        let moved = keys.withUnsafeMutableBufferPointer { k in
            spareKeys.withUnsafeMutableBufferPointer { sk in
                order.withUnsafeMutableBufferPointer { o in
                    spareOrder.withUnsafeMutableBufferPointer { so in
                        counts.withUnsafeMutableBufferPointer { c -> Bool in
                            if !digitOffsets(UnsafeBufferPointer(k), shift: shift, into: c) { return false }
                            for i in 0..<n {
                                let b = Int((k[i] >> shift) & 255)
                                let slot = c[b]
                                c[b] = slot + 1
                                sk[slot] = k[i]; so[slot] = o[i]
                            }
                            return true
                        }
                    }
                }
            }
        }
        if moved {
            swap(&keys, &spareKeys)
            swap(&order, &spareOrder)
        }
    }
    return order
}

/// Sorts `values` ascending (−0 and +0 as equal values, in either order); no NaN.
public func radixSort(_ values: inout [Float]) {
    let n = values.count
    guard n > 1 else { return }
    var keys = [UInt32](repeating: 0, count: n), spare = [UInt32](repeating: 0, count: n)
    values.withUnsafeBufferPointer { v in
        for i in 0..<n {
            let bits = v[i].bitPattern
            keys[i] = bits >> 31 == 1 ? ~bits : bits | (1 << 31)
        }
    }
    var counts = [Int](repeating: 0, count: 256)
    for shift in stride(from: UInt32(0), to: 32, by: 8) {
        let moved = keys.withUnsafeMutableBufferPointer { k in
            spare.withUnsafeMutableBufferPointer { sk in
                counts.withUnsafeMutableBufferPointer { c -> Bool in
                    if !digitOffsets(UnsafeBufferPointer(k), shift: shift, into: c) { return false }
                    for i in 0..<n {
                        let key = k[i], b = Int((key >> shift) & 255)
                        sk[c[b]] = key
                        c[b] += 1
                    }
                    return true
                }
            }
        }
        if moved { swap(&keys, &spare) }
    }
    values.withUnsafeMutableBufferPointer { v in
        for i in 0..<n {
            let key = keys[i]
            v[i] = Float(bitPattern: key >> 31 == 1 ? key & 0x7FFF_FFFF : ~key)
        }
    }
}

/// One pass's bucket offsets: the first slot of each value of the 8-bit digit at `shift`
/// (exclusive prefix sums of the digit's counts), or false when every key has the same digit.
@inline(__always)
private func digitOffsets<Key: FixedWidthInteger & UnsignedInteger>(_ k: UnsafeBufferPointer<Key>, shift: Key,
                                                                    into c: UnsafeMutableBufferPointer<Int>) -> Bool {
    for b in 0..<256 { c[b] = 0 }
    for key in k { c[Int(truncatingIfNeeded: (key >> shift) & 255)] += 1 }
    if c.contains(k.count) { return false }
    var sum = 0
    for b in 0..<256 { let t = c[b]; c[b] = sum; sum += t }
    return true
}
