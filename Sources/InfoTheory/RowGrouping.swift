// Counting equal rows: an open-addressing hash table over packed row keys.
//
// Given N rows of packed bin codes (one or more 64-bit words per row), assigns each row the
// dense id of its distinct value (first appearance order) and counts the rows per id. This is
// the `np.unique(..., return_inverse=True, return_counts=True)` of the original code, in O(N)
// instead of a sort. It deliberately knows nothing about entropies or discretizations.

/// Dense ids of the distinct rows and how many rows share each.
struct RowGroups {
    /// For each row, the id (`0..<counts.count`) of its distinct value, in order of first appearance.
    var ids: [Int32]
    /// For each id, the number of rows with that value.
    var counts: [Int32]
    var distinctCount: Int { counts.count }
}

@inline(__always)
func mixHash(_ x: UInt64) -> UInt64 {
    // The 64-bit finalizer of MurmurHash3 (fmix64): every input bit affects every output bit,
    // so keys that differ only in high code bits still spread over the table.
    var h = x
    h ^= h >> 33
    h = h &* 0xff51_afd7_ed55_8ccd
    h ^= h >> 33
    h = h &* 0xc4ce_b9fe_1a85_ec53
    h ^= h >> 33
    return h
}

/// Groups equal rows of `packed`.
///
/// - Complexity: O(N * wordsPerRow) expected; the table has at least 2N slots.
func groupRows(_ packed: PackedRows) -> RowGroups {
    let n = packed.rows, words = packed.wordsPerRow
    var capacity = 16
    while capacity < 2 * n { capacity <<= 1 }
    let mask = capacity - 1
    let shift = UInt64(64 - capacity.trailingZeroBitCount)
    var ids = [Int32](repeating: 0, count: n)
    var counts = [Int32](repeating: 0, count: n)
    var distinct = 0
    // slot -> id + 1 (0 = empty); for one-word rows the key sits next to it for locality.
    var slotIds = [Int32](repeating: 0, count: capacity)
    if words == 1 {
        var slotKeys = [UInt64](repeating: 0, count: capacity)
        packed.keys.withUnsafeBufferPointer { keys in
            slotIds.withUnsafeMutableBufferPointer { sid in
                slotKeys.withUnsafeMutableBufferPointer { skey in
                    ids.withUnsafeMutableBufferPointer { rowIds in
                      counts.withUnsafeMutableBufferPointer { cnt in
                        for i in 0..<n {
                            let key = keys[i]
                            // Fibonacci hashing: the top bits of key * 2^64 / golden ratio.
                            var s = Int(truncatingIfNeeded: (key &* 0x9e37_79b9_7f4a_7c15) &>> shift)
                            while true {
                                let id = sid[s]
                                if id == 0 {
                                    cnt[distinct] = 1
                                    distinct += 1
                                    sid[s] = Int32(distinct)
                                    skey[s] = key
                                    rowIds[i] = Int32(distinct - 1)
                                    break
                                }
                                if skey[s] == key {
                                    cnt[Int(id) - 1] &+= 1
                                    rowIds[i] = id - 1
                                    break
                                }
                                s = (s + 1) & mask
                            }
                        }
                      }
                    }
                }
            }
        }
        counts.removeSubrange(distinct...)
        return RowGroups(ids: ids, counts: counts)
    }
    if words == 2 {
        // Two-word rows (for example 10 units of 100 bins): both words kept in the table.
        var slotKeys = [UInt64](repeating: 0, count: 2 * capacity)
        packed.keys.withUnsafeBufferPointer { keys in
            slotIds.withUnsafeMutableBufferPointer { sid in
                slotKeys.withUnsafeMutableBufferPointer { skey in
                    ids.withUnsafeMutableBufferPointer { rowIds in
                      counts.withUnsafeMutableBufferPointer { cnt in
                        for i in 0..<n {
                            let k0 = keys[2 * i], k1 = keys[2 * i + 1]
                            let h = (k0 &* 0x9e37_79b9_7f4a_7c15) ^ mixHash(k1)
                            var s = Int(truncatingIfNeeded: (h &* 0x9e37_79b9_7f4a_7c15) &>> shift)
                            while true {
                                let id = sid[s]
                                if id == 0 {
                                    cnt[distinct] = 1
                                    distinct += 1
                                    sid[s] = Int32(distinct)
                                    skey[2 * s] = k0
                                    skey[2 * s + 1] = k1
                                    rowIds[i] = Int32(distinct - 1)
                                    break
                                }
                                if skey[2 * s] == k0 && skey[2 * s + 1] == k1 {
                                    cnt[Int(id) - 1] &+= 1
                                    rowIds[i] = id - 1
                                    break
                                }
                                s = (s + 1) & mask
                            }
                        }
                      }
                    }
                }
            }
        }
        counts.removeSubrange(distinct...)
        return RowGroups(ids: ids, counts: counts)
    }
    // Several words per row: hash all of them, and compare with the first row of the group.
    var representative: [Int] = []
    packed.keys.withUnsafeBufferPointer { keys in
        slotIds.withUnsafeMutableBufferPointer { sid in
            ids.withUnsafeMutableBufferPointer { rowIds in
                for i in 0..<n {
                    let row = keys.baseAddress! + i * words
                    var h: UInt64 = 0x9e37_79b9_7f4a_7c15
                    for w in 0..<words { h = mixHash(h ^ row[w]) }
                    var s = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let id = sid[s]
                        if id == 0 {
                            counts[distinct] = 1
                            distinct += 1
                            representative.append(i)
                            sid[s] = Int32(distinct)
                            rowIds[i] = Int32(distinct - 1)
                            break
                        }
                        let other = keys.baseAddress! + representative[Int(id) - 1] * words
                        var equal = true
                        for w in 0..<words where row[w] != other[w] { equal = false; break }
                        if equal {
                            counts[Int(id) - 1] &+= 1
                            rowIds[i] = id - 1
                            break
                        }
                        s = (s + 1) & mask
                    }
                }
            }
        }
    }
    counts.removeSubrange(distinct...)
    return RowGroups(ids: ids, counts: counts)
}

/// Groups arbitrary integers (labels or input ids) into dense ids.
func groupValues(_ values: [Int]) -> RowGroups {
    groupRows(PackedRows(keys: values.map { UInt64(bitPattern: Int64($0)) }, rows: values.count, wordsPerRow: 1))
}
