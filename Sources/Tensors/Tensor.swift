// The tensor type: a shape and row-major Float storage.
//
// `Tensor` is a value type over a Swift array, so copies are cheap and
// copy-on-write. It deliberately has no device, no dtype parameter and no
// broadcasting rules beyond the ones its operations document: InfoPlane's
// networks are small, Float32 and on the CPU.

/// An n-dimensional array of `Float` in row-major (C) order.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// The extent of each dimension; `[]` is a scalar.
    public let shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public var scalars: [Float]

    /// A tensor of the given shape and elements.
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(scalars.count == shape.reduce(1, *),
                     "Tensor: \(scalars.count) scalars for shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor with every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// A scalar (rank-0) tensor.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// A matrix from nested rows.
    /// - Precondition: every row has the same length.
    public init(rows: [[Float]]) {
        let cols = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == cols }, "Tensor(rows:): ragged rows")
        self.init(shape: [rows.count, cols], scalars: rows.flatMap { $0 })
    }

    /// A tensor whose `count` elements are written by `body` through an
    /// uninitialized buffer (every element must be written).
    @inlinable
    public init(shape: [Int], initializingWith body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        // Never with capacity 0: the standard library then stores the count
        // into the shared empty-array singleton, a data race (benign, but
        // ThreadSanitizer reports it) when tensors are made on several threads.
        guard count > 0 else {
            body(UnsafeMutableBufferPointer(start: nil, count: 0))
            self.init(shape: shape, scalars: [])
            return
        }
        let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(buffer)
            initialized = count
        }
        self.init(shape: shape, scalars: scalars)
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }
    /// The first dimension (rows of a matrix).
    public var rows: Int {
        precondition(rank >= 1, "rows: tensor of rank 0")
        return shape[0]
    }
    /// The product of all but the first dimension (columns of a matrix).
    public var columns: Int {
        precondition(rank >= 1, "columns: tensor of rank 0")
        return shape.dropFirst().reduce(1, *)
    }

    /// The only element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar: tensor of shape \(shape) has \(count) elements")
        return scalars[0]
    }

    /// Element access by a full multi-index.
    public subscript(_ index: Int...) -> Float {
        get { scalars[offset(index)] }
        set { scalars[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == rank, "subscript: \(index.count) indices for shape \(shape)")
        var offset = 0
        for (i, (k, n)) in zip(index, shape).enumerated() {
            precondition(k >= 0 && k < n, "subscript: index \(k) out of range 0..<\(n) on axis \(i)")
            offset = offset * n + k
        }
        return offset
    }

    /// The same elements with another shape of equal size.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    public var description: String {
        "Tensor(shape: \(shape), scalars: \(scalars.prefix(16))\(count > 16 ? "…" : ""))"
    }
}

/// A raw pointer that may cross into `DispatchQueue.concurrentPerform`
/// workers, each of which reads or writes its own disjoint part.
public struct SharedPointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    public init(base: UnsafeMutablePointer<T>) { self.base = base }
}
