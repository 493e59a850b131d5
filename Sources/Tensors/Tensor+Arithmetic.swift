// Elementwise arithmetic with NumPy's broadcasting, the row-vector bias,
// and whole-tensor reductions.
//
// The binary operators + - * / follow NumPy's broadcasting rule (stated in
// full in Tensor+Broadcast.swift): shapes are aligned at their trailing
// dimensions, missing leading dimensions count as 1, each aligned pair must
// be equal or one of them 1, and an extent of 1 is repeated to the other.
// Operands of equal shape take the plain elementwise loop, as before any
// broadcasting existed; other pairs go through the strided broadcast loop.
// Shapes that do not broadcast are a programmer error and trap with both
// shapes in the message. The in-place `+=` and `addScaled`, and `zipBuffer`,
// still require equal shapes. Reductions along an axis are in
// Tensor+Reduction.swift.

extension Tensor {
    /// Applies `body(x, y, count)` to fresh output storage of the same shape.
    @inlinable
    public func mapBuffer(_ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        scalars.withUnsafeBufferPointer { x in
            Tensor(shape: shape) { y in body(x.baseAddress!, y.baseAddress!, x.count) }
        }
    }

    /// Elementwise combination of two tensors of the same shape.
    @inlinable
    public func zipBuffer(_ other: Tensor, _ name: String,
                          _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        precondition(shape == other.shape, "\(name): \(shape) vs \(other.shape)")
        return scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                Tensor(shape: shape) { c in body(a.baseAddress!, b.baseAddress!, c.baseAddress!, a.count) }
            }
        }
    }

    /// Applies `transform` to every element.
    @inlinable
    public func map(_ transform: (Float) -> Float) -> Tensor {
        mapBuffer { x, y, n in for i in 0..<n { y[i] = transform(x[i]) } }
    }

    /// Elementwise sum, broadcasting when the shapes differ (NumPy's rule).
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        guard lhs.shape == rhs.shape else { return broadcasting(lhs, rhs, "+") { $0 + $1 } }
        return lhs.zipBuffer(rhs, "+") { a, b, c, n in for i in 0..<n { c[i] = a[i] + b[i] } }
    }

    /// Elementwise difference, broadcasting when the shapes differ (NumPy's rule).
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        guard lhs.shape == rhs.shape else { return broadcasting(lhs, rhs, "-") { $0 - $1 } }
        return lhs.zipBuffer(rhs, "-") { a, b, c, n in for i in 0..<n { c[i] = a[i] - b[i] } }
    }

    /// Elementwise (Hadamard) product, broadcasting when the shapes differ
    /// (NumPy's rule).
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        guard lhs.shape == rhs.shape else { return broadcasting(lhs, rhs, "*") { $0 * $1 } }
        return lhs.zipBuffer(rhs, "*") { a, b, c, n in for i in 0..<n { c[i] = a[i] * b[i] } }
    }

    /// Elementwise quotient, broadcasting when the shapes differ (NumPy's rule).
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        guard lhs.shape == rhs.shape else { return broadcasting(lhs, rhs, "/") { $0 / $1 } }
        return lhs.zipBuffer(rhs, "/") { a, b, c, n in for i in 0..<n { c[i] = a[i] / b[i] } }
    }

    public static func * (lhs: Float, rhs: Tensor) -> Tensor {
        rhs.mapBuffer { x, y, n in for i in 0..<n { y[i] = lhs * x[i] } }
    }

    public static func * (lhs: Tensor, rhs: Float) -> Tensor { rhs * lhs }

    public static func + (lhs: Tensor, rhs: Float) -> Tensor {
        lhs.mapBuffer { x, y, n in for i in 0..<n { y[i] = x[i] + rhs } }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        x.mapBuffer { x, y, n in for i in 0..<n { y[i] = -x[i] } }
    }

    /// self += other, in place.
    public static func += (lhs: inout Tensor, rhs: Tensor) {
        precondition(lhs.shape == rhs.shape, "+=: \(lhs.shape) vs \(rhs.shape)")
        rhs.scalars.withUnsafeBufferPointer { b in
            lhs.scalars.withUnsafeMutableBufferPointer { a in
                for i in 0..<a.count { a[i] += b[i] }
            }
        }
    }

    /// self + scale * other, in place (BLAS saxpy semantics).
    public mutating func addScaled(_ other: Tensor, by scale: Float) {
        precondition(shape == other.shape, "addScaled: \(shape) vs \(other.shape)")
        other.scalars.withUnsafeBufferPointer { b in
            scalars.withUnsafeMutableBufferPointer { a in
                for i in 0..<a.count { a[i] += scale * b[i] }
            }
        }
    }

    /// A [rows, columns] matrix plus a [columns] row vector added to every row.
    public func addingRowVector(_ v: Tensor) -> Tensor {
        precondition(rank == 2 && v.count == shape[1],
                     "addingRowVector: \(shape) + \(v.shape)")
        let cols = shape[1]
        return scalars.withUnsafeBufferPointer { x in
            v.scalars.withUnsafeBufferPointer { b in
                Tensor(shape: shape) { y in
                    for r in 0..<shape[0] {
                        let xr = x.baseAddress! + r * cols, yr = y.baseAddress! + r * cols
                        for c in 0..<cols { yr[c] = xr[c] + b[c] }
                    }
                }
            }
        }
    }

    /// The sum over rows of a [rows, columns] matrix: a [columns] vector.
    public func sumRows() -> Tensor {
        precondition(rank == 2, "sumRows: rank \(rank)")
        let cols = shape[1], rows = shape[0]
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: [cols]) { y in
                y.initialize(repeating: 0)
                // Sixteen columns at a time in a vector accumulator: the
                // layers here are narrow and the batch is long.
                var c0 = 0
                while c0 < cols {
                    let width = min(16, cols - c0)
                    var acc = SIMD16<Float>()
                    // A 16-wide load from a narrower row reads into the next
                    // row; those lanes are ignored. Rows whose load would
                    // pass the end of the buffer are gathered lane by lane.
                    let total = rows * cols
                    var r = 0
                    while r < rows && r * cols + c0 + 16 <= total {
                        acc += UnsafeRawPointer(x.baseAddress! + r * cols + c0).loadUnaligned(as: SIMD16<Float>.self)
                        r += 1
                    }
                    while r < rows {
                        var lane = SIMD16<Float>()
                        let xr = x.baseAddress! + r * cols + c0
                        for c in 0..<width { lane[c] = xr[c] }
                        acc += lane
                        r += 1
                    }
                    for c in 0..<width { y[c0 + c] = acc[c] }
                    c0 += 16
                }
            }
        }
    }

    /// The sum of all elements, accumulated in Double.
    public func sum() -> Float {
        var s = 0.0
        for v in scalars { s += Double(v) }
        return Float(s)
    }

    /// The mean of all elements, accumulated in Double.
    public func mean() -> Float {
        precondition(count > 0, "mean: empty tensor")
        return Float(Double(sum()) / Double(count))
    }

    /// The Frobenius norm, accumulated in Double.
    public func norm() -> Double {
        var s = 0.0
        for v in scalars { s += Double(v) * Double(v) }
        return s.squareRoot()
    }

    /// The rows at `indices` of a tensor whose first axis indexes samples.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        precondition(rank >= 1, "gatherRows: rank 0")
        let cols = columns
        var newShape = shape
        newShape[0] = indices.count
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: newShape) { y in
                for (r, i) in indices.enumerated() {
                    precondition(i >= 0 && i < shape[0], "gatherRows: row \(i) of \(shape[0])")
                    (y.baseAddress! + r * cols).update(from: x.baseAddress! + i * cols, count: cols)
                }
            }
        }
    }

    /// Rows `range` of a tensor whose first axis indexes samples.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[0], "rows: \(range) of \(shape[0])")
        var newShape = shape
        newShape[0] = range.count
        let cols = columns
        return Tensor(shape: newShape, scalars: Array(scalars[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// The transpose of a matrix.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed: rank \(rank)")
        let (r, c) = (shape[0], shape[1])
        return scalars.withUnsafeBufferPointer { x in
            Tensor(shape: [c, r]) { y in
                for i in 0..<r { for j in 0..<c { y[j * r + i] = x[i * c + j] } }
            }
        }
    }

    /// The index of the largest element of each row of a matrix (first on ties).
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows: rank \(rank)")
        let cols = shape[1]
        return scalars.withUnsafeBufferPointer { x in
            (0..<shape[0]).map { r in
                let row = x.baseAddress! + r * cols
                var best = 0
                for c in 1..<Swift.max(cols, 1) where row[c] > row[best] { best = c }
                return best
            }
        }
    }

    /// Whether every element is finite.
    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }
}
