// Differentiable operations on variables, each with its vector-Jacobian
// product (VJP) twice: on tensors (the fast first-order path) and in
// variable operations (recorded, for second-order gradients). Every rule
// here is checked against central finite differences in Double in
// Tests/AutodiffTests, the recorded ones through Hessian-vector products.
//
// Notation in comments: g is ∂L/∂output, y the output, x the input.

import Tensors

extension Variable {
    // MARK: Elementwise arithmetic

    // Binary operations broadcast under NumPy's rule (Tensor+Broadcast.swift);
    // each operand's gradient is summed back to its own shape.

    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        lhs.tape.record(lhs.value + rhs.value, inputs: [lhs, rhs], name: "add") { g in
            [lhs.needsGradient ? g.sum(toShape: lhs.shape) : nil, rhs.needsGradient ? g.sum(toShape: rhs.shape) : nil]
        } recorded: { g in
            [lhs.needsGradient ? g.summed(toShape: lhs.shape) : nil, rhs.needsGradient ? g.summed(toShape: rhs.shape) : nil]
        }
    }

    public static func - (lhs: Variable, rhs: Variable) -> Variable {
        lhs.tape.record(lhs.value - rhs.value, inputs: [lhs, rhs], name: "subtract") { g in
            [lhs.needsGradient ? g.sum(toShape: lhs.shape) : nil, rhs.needsGradient ? (-g).sum(toShape: rhs.shape) : nil]
        } recorded: { g in
            [lhs.needsGradient ? g.summed(toShape: lhs.shape) : nil, rhs.needsGradient ? (-g).summed(toShape: rhs.shape) : nil]
        }
    }

    /// Elementwise product: g·b and g·a.
    public static func * (lhs: Variable, rhs: Variable) -> Variable {
        lhs.tape.record(lhs.value * rhs.value, inputs: [lhs, rhs], name: "multiply") { g in
            [lhs.needsGradient ? (g * rhs.value).sum(toShape: lhs.shape) : nil,
             rhs.needsGradient ? (g * lhs.value).sum(toShape: rhs.shape) : nil]
        } recorded: { g in
            [lhs.needsGradient ? (g * rhs).summed(toShape: lhs.shape) : nil,
             rhs.needsGradient ? (g * lhs).summed(toShape: rhs.shape) : nil]
        }
    }

    /// Elementwise quotient a / b: g / b and -g a / b².
    public static func / (lhs: Variable, rhs: Variable) -> Variable {
        let y = lhs.value / rhs.value
        return lhs.tape.record(y, inputs: [lhs, rhs], name: "divide") { g in
            let ga = g / rhs.value
            return [lhs.needsGradient ? ga.sum(toShape: lhs.shape) : nil,
                    rhs.needsGradient ? (-(ga * y)).sum(toShape: rhs.shape) : nil]
        } recordedUsingOutput: { g, y in
            let ga = g / rhs
            return [lhs.needsGradient ? ga.summed(toShape: lhs.shape) : nil,
                    rhs.needsGradient ? (-(ga * y)).summed(toShape: rhs.shape) : nil]
        }
    }

    /// A variable times a constant.
    public static func * (lhs: Float, rhs: Variable) -> Variable {
        rhs.tape.record(lhs * rhs.value, inputs: [rhs], name: "scale") { g in [lhs * g] } recorded: { g in [lhs * g] }
    }

    /// A variable times a constant.
    public static func * (lhs: Variable, rhs: Float) -> Variable { rhs * lhs }

    /// A variable plus a constant.
    public static func + (lhs: Variable, rhs: Float) -> Variable {
        lhs.tape.record(lhs.value + rhs, inputs: [lhs], name: "add constant") { g in [g] } recorded: { g in [g] }
    }

    /// A constant minus a variable.
    public static func - (lhs: Float, rhs: Variable) -> Variable { -rhs + lhs }

    /// The negation.
    public static prefix func - (x: Variable) -> Variable { -1 * x }

    /// [rows, columns] + [columns], the vector added to every row: the
    /// vector's gradient is the column sum of g.
    public func addingRowVector(_ v: Variable) -> Variable {
        let x = self
        return tape.record(value.addingRowVector(v.value), inputs: [x, v], name: "addingRowVector") { g in
            [x.needsGradient ? g : nil, v.needsGradient ? g.sumRows() : nil]
        } recorded: { g in
            [x.needsGradient ? g : nil, v.needsGradient ? g.sumRows() : nil]
        }
    }

    /// The sum over the rows of a [rows, columns] matrix: g repeated on every row.
    public func sumRows() -> Variable {
        let rows = value.shape[0]
        return tape.record(value.sumRows(), inputs: [self], name: "sumRows") { g in
            [Tensor.zeros([rows, g.count]).addingRowVector(g)]
        } recorded: { g in [g.repeatedAsRows(rows)] }
    }

    /// A vector [columns] repeated as the rows of a [rows, columns] matrix:
    /// the column sum of g.
    public func repeatedAsRows(_ rows: Int) -> Variable {
        precondition(value.rank == 1, "repeatedAsRows: shape \(shape)")
        return tape.record(Tensor.zeros([rows, value.count]).addingRowVector(value), inputs: [self],
                           name: "repeatedAsRows") { g in [g.sumRows()] } recorded: { g in [g.sumRows()] }
    }

    // MARK: Matrix product

    /// op(A) · op(B): ∂A = g · op(B)ᵀ (transposed back if A was), ∂B = op(A)ᵀ · g
    /// (likewise).
    public static func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
        let y = Tensor.matmul(a.value, b.value, transposeA: transposeA, transposeB: transposeB)
        return a.tape.record(y, inputs: [a, b], name: "matmul") { g in
            productPullback(g, a.value, b.value, transposeA: transposeA, transposeB: transposeB,
                            wanted: (a.needsGradient, b.needsGradient)) { Tensor.matmul($0, $1, transposeA: $2, transposeB: $3) }
        } recorded: { g in
            productPullback(g, a, b, transposeA: transposeA, transposeB: transposeB,
                            wanted: (a.needsGradient, b.needsGradient)) { Variable.matmul($0, $1, transposeA: $2, transposeB: $3) }
        }
    }

    // MARK: Nonlinearities

    /// f(x) for an activation f (Tensors/Activation.swift, where f and its
    /// derivative are defined): g ⊙ f'(x) from the output, in both pullbacks.
    public func activated(_ f: Activation) -> Variable {
        if f == .linear { return self }
        let y = f(value)
        return tape.record(y, inputs: [self], name: "activation") { g in [f.backward(g, output: y)] }
            recordedUsingOutput: { g, y in [f.backward(g, output: y)] }
    }

    /// tanh: g · (1 - y²).
    public func tanh() -> Variable { activated(.tanh) }

    /// ReLU: g where x > 0, else 0 (the subgradient at 0 is 0).
    public func relu() -> Variable { activated(.relu) }

    /// Leaky ReLU, x for x > 0 and `slope`·x otherwise (0 < slope < 1).
    public func leakyReLU(slope: Float) -> Variable { activated(.leakyReLU(slope: slope)) }

    /// Sigmoid: g · y (1 - y).
    public func sigmoid() -> Variable { activated(.sigmoid) }

    /// Softsign x / (1 + |x|): g (1 - |y|)².
    public func softsign() -> Variable { activated(.softsign) }

    /// Softplus log(1 + eˣ): g · (1 - e⁻ʸ).
    public func softplus() -> Variable { activated(.softplus) }

    /// exp: g · y.
    public func exp() -> Variable {
        let y = value.exp()
        return tape.record(y, inputs: [self], name: "exp") { g in [g * y] } recordedUsingOutput: { g, y in [g * y] }
    }

    /// log: g / x.
    public func log() -> Variable {
        let x = self
        return tape.record(x.value.log(), inputs: [x], name: "log") { g in [g / x.value] } recorded: { g in [g / x] }
    }

    /// x²: 2 g x.
    public func squared() -> Variable {
        let x = self
        return tape.record(x.value.squared(), inputs: [x], name: "squared") { g in [2 * (g * x.value)] } recorded: { g in [2 * (g * x)] }
    }

    /// √x: g / (2y).
    public func squareRoot() -> Variable {
        let y = value.squareRoot()
        return tape.record(y, inputs: [self], name: "squareRoot") { g in
            [g.zipBuffer(y, "squareRoot'") { g, y, d, n in for i in 0..<n { d[i] = 0.5 * g[i] / y[i] } }]
        } recordedUsingOutput: { g, y in [0.5 * (g / y)] }
    }

    // MARK: Reductions and shape

    /// The sum of all elements (a scalar): g broadcast to x's shape.
    public func sum() -> Variable {
        let shape = value.shape
        return tape.record(Tensor(value.sum()), inputs: [self], name: "sum") { g in
            [Tensor(shape: shape, repeating: g.scalar)]
        } recorded: { g in [g.filled(shape)] }
    }

    /// The mean of all elements (a scalar): g / n broadcast to x's shape.
    public func mean() -> Variable {
        let shape = value.shape, n = Float(value.count)
        return tape.record(Tensor(value.mean()), inputs: [self], name: "mean") { g in
            [Tensor(shape: shape, repeating: g.scalar / n)]
        } recorded: { g in [(1 / n) * g.filled(shape)] }
    }

    /// A one-element variable repeated into `shape`: the sum of g.
    public func filled(_ shape: [Int]) -> Variable {
        precondition(value.count == 1, "filled: a variable of shape \(self.shape) is not one element")
        let original = value.shape
        return tape.record(Tensor(shape: shape, repeating: value.scalars[0]), inputs: [self], name: "filled") { g in
            [Tensor(shape: original, repeating: g.sum())]
        } recorded: { g in [g.sum().reshaped(original)] }
    }

    /// The same elements in another shape: g reshaped back.
    public func reshaped(_ shape: [Int]) -> Variable {
        let original = value.shape
        return tape.record(value.reshaped(shape), inputs: [self], name: "reshape") { g in [g.reshaped(original)] } recorded: { g in [g.reshaped(original)] }
    }

    // MARK: Interpolation

    /// a + t (b - a), elementwise, with a constant t: (1 - t) g and t g.
    public static func lerp(_ a: Variable, _ b: Variable, t: Float) -> Variable {
        precondition(a.shape == b.shape, "lerp: \(a.shape) vs \(b.shape)")
        let y = a.value.zipBuffer(b.value, "lerp") { a, b, y, n in for i in 0..<n { y[i] = a[i] + t * (b[i] - a[i]) } }
        return a.tape.record(y, inputs: [a, b], name: "lerp") { g in
            [a.needsGradient ? (1 - t) * g : nil, b.needsGradient ? t * g : nil]
        } recorded: { g in
            [a.needsGradient ? (1 - t) * g : nil, b.needsGradient ? t * g : nil]
        }
    }
}

/// op(A) · op(B) on variables (see `Variable.matmul`).
public func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
    Variable.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
}

/// a + t (b - a) on variables (see `Variable.lerp`).
public func lerp(_ a: Variable, _ b: Variable, t: Float) -> Variable { Variable.lerp(a, b, t: t) }

/// The pullback of C = op(A)·op(B) computed by `product(x, y, transposeX, transposeY)`
/// (a matrix product or its batched form, on tensors or variables):
/// ∂A = g·op(B)ᵀ, or op(B)·gᵀ when A was transposed; ∂B = op(A)ᵀ·g, or gᵀ·op(A)
/// when B was; each only when wanted.
func productPullback<T>(_ g: T, _ a: T, _ b: T, transposeA: Bool, transposeB: Bool, wanted: (a: Bool, b: Bool),
                        _ product: (T, T, Bool, Bool) -> T) -> [T?] {
    var da: T?
    var db: T?
    if wanted.a { da = transposeA ? product(b, g, transposeB, true) : product(g, b, false, !transposeB) }
    if wanted.b { db = transposeB ? product(g, a, true, transposeA) : product(a, g, !transposeA, false) }
    return [da, db]
}
