// A read-only (rows N x columns d) view of one layer's activations at one epoch.
//
// The estimators take plain row-major Float arrays so that activations exported from any
// framework (a NumPy `.npy` of shape (N, d)) can be analysed. This file only holds the
// container and its validation; it deliberately does no I/O.

import Tensors

/// One layer's activations: N rows (samples) by d columns (units), row-major `Float`.
///
/// Row `i` is the layer's output for sample `i`; `scalars[i * columns + j]` is unit `j`.
public struct ActivationMatrix: Sendable, Equatable {
    /// N, the number of samples.
    public let rows: Int
    /// d, the number of units.
    public let columns: Int
    /// The N * d activations in row-major order.
    public let scalars: [Float]

    /// A matrix over `scalars`.
    /// - Precondition: `scalars.count == rows * columns`, both non-negative.
    public init(rows: Int, columns: Int, scalars: [Float]) {
        precondition(rows >= 0 && columns >= 0, "ActivationMatrix: negative shape \(rows)x\(columns)")
        precondition(scalars.count == rows * columns,
                     "ActivationMatrix: \(scalars.count) scalars for \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        self.scalars = scalars
    }

    /// A matrix from a tensor: rank 2 is (N, d), rank 1 is (N, 1), higher ranks flatten all but
    /// the first axis (a convolutional layer's (N, C, H, W) becomes (N, C*H*W)).
    /// - Precondition: the tensor has rank at least 1.
    public init(_ tensor: Tensor) {
        self.init(rows: tensor.rows, columns: tensor.columns, scalars: tensor.scalars)
    }

    /// A matrix from nested rows (for tests and small examples).
    /// - Precondition: every row has the same length.
    public init(rows nested: [[Float]]) {
        let d = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == d }, "ActivationMatrix(rows:): ragged rows")
        self.init(rows: nested.count, columns: d, scalars: nested.flatMap { $0 })
    }

    /// The sub-matrix made of the given rows, in the given order.
    /// - Precondition: every index is in `0..<rows`.
    public func selectingRows(_ indices: [Int]) -> ActivationMatrix {
        let d = columns
        if indices.isEmpty || d == 0 { return ActivationMatrix(rows: indices.count, columns: d, scalars: []) }
        let out = [Float](unsafeUninitializedCapacity: indices.count * d) { buffer, initialized in
            scalars.withUnsafeBufferPointer { src in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < rows, "selectingRows: row \(i) out of 0..<\(rows)")
                    for j in 0..<d { buffer[k * d + j] = src[i * d + j] }
                }
            }
            initialized = indices.count * d
        }
        return ActivationMatrix(rows: indices.count, columns: d, scalars: out)
    }

    /// Checks that the layer is non-empty and every activation is finite.
    ///
    /// - Throws: `InfoTheoryError.emptyLayer` or `.nonFinite(row:column:value:)` for the first
    ///   offending element in row-major order.
    /// - Complexity: O(N d), a branch-free pass over the bit patterns.
    public func validate() throws {
        if rows == 0 || columns == 0 { throw InfoTheoryError.emptyLayer(rows: rows, columns: columns) }
        if let bad = firstNonFinite() {
            throw InfoTheoryError.nonFinite(row: bad / columns, column: bad % columns, value: scalars[bad])
        }
    }

    /// The row-major index of the first NaN or infinity, or nil.
    func firstNonFinite() -> Int? {
        // A float is non-finite exactly when its exponent bits are all ones. OR-ing a test of
        // the masked exponent over 8 lanes keeps the common (all finite) case branch-free.
        let found: Bool = scalars.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: UInt32.self) { bits in
                let n = bits.count
                let exponent: UInt32 = 0x7F80_0000
                var any = SIMD8<UInt32>(repeating: 0)
                var i = 0
                let base = bits.baseAddress!
                while i + 8 <= n {
                    let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<UInt32>.self)
                    // (e & 0x7F800000) + 0x00800000 has its top bit set only for e all ones.
                    any |= (v & exponent) &+ 0x0080_0000
                    i += 8
                }
                var tail = false
                while i < n { if bits[i] & exponent == exponent { tail = true }; i += 1 }
                return tail || (any & 0x8000_0000).max() != 0
            }
        }
        guard found else { return nil }
        return scalars.firstIndex { !$0.isFinite }
    }
}
