// Differentiable operations on variables, each with its vector-Jacobian
// product (VJP). Every rule here is checked against central finite
// differences in Double in Tests/AutodiffTests.
//
// Notation in comments: g is ∂L/∂output, y the output, x the input.

import Tensors

extension Variable {
    // MARK: Elementwise arithmetic

    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        lhs.tape.record(lhs.value + rhs.value, inputs: [lhs, rhs]) { g in
            [lhs.requiresGradient ? g : nil, rhs.requiresGradient ? g : nil]
        }
    }

    public static func - (lhs: Variable, rhs: Variable) -> Variable {
        lhs.tape.record(lhs.value - rhs.value, inputs: [lhs, rhs]) { g in
            [lhs.requiresGradient ? g : nil, rhs.requiresGradient ? -g : nil]
        }
    }

    /// Elementwise product: g·b and g·a.
    public static func * (lhs: Variable, rhs: Variable) -> Variable {
        lhs.tape.record(lhs.value * rhs.value, inputs: [lhs, rhs]) { g in
            [lhs.requiresGradient ? g * rhs.value : nil, rhs.requiresGradient ? g * lhs.value : nil]
        }
    }

    /// A variable times a constant.
    public static func * (lhs: Float, rhs: Variable) -> Variable {
        rhs.tape.record(lhs * rhs.value, inputs: [rhs]) { g in [lhs * g] }
    }

    /// A variable plus a constant.
    public static func + (lhs: Variable, rhs: Float) -> Variable {
        lhs.tape.record(lhs.value + rhs, inputs: [lhs]) { g in [g] }
    }

    /// [rows, columns] + [columns], the vector added to every row: the
    /// vector's gradient is the column sum of g.
    public func addingRowVector(_ v: Variable) -> Variable {
        tape.record(value.addingRowVector(v.value), inputs: [self, v]) { [requiresGradient] g in
            [requiresGradient ? g : nil, v.requiresGradient ? g.sumRows() : nil]
        }
    }

    // MARK: Matrix product

    /// op(A) · op(B): ∂A = g · op(B)ᵀ (transposed back if A was), ∂B = op(A)ᵀ · g
    /// (likewise).
    public static func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
        let y = Tensor.matmul(a.value, b.value, transposeA: transposeA, transposeB: transposeB)
        return a.tape.record(y, inputs: [a, b]) { g in
            var da: Tensor?
            var db: Tensor?
            if a.requiresGradient {
                da = transposeA
                    ? Tensor.matmul(b.value, g, transposeA: transposeB, transposeB: true)
                    : Tensor.matmul(g, b.value, transposeB: !transposeB)
            }
            if b.requiresGradient {
                db = transposeB
                    ? Tensor.matmul(g, a.value, transposeA: true, transposeB: transposeA)
                    : Tensor.matmul(a.value, g, transposeA: !transposeA)
            }
            return [da, db]
        }
    }

    // MARK: Nonlinearities

    /// tanh: g · (1 - y²).
    public func tanh() -> Variable {
        let y = value.tanh()
        return tape.record(y, inputs: [self]) { g in
            [g.zipBuffer(y, "tanh'") { g, y, d, n in for i in 0..<n { d[i] = g[i] * (1 - y[i] * y[i]) } }]
        }
    }

    /// ReLU: g where x > 0, else 0 (the subgradient at 0 is 0).
    public func relu() -> Variable {
        let x = value
        return tape.record(x.relu(), inputs: [self]) { g in
            [g.zipBuffer(x, "relu'") { g, x, d, n in for i in 0..<n { d[i] = x[i] > 0 ? g[i] : 0 } }]
        }
    }

    /// Sigmoid: g · y (1 - y).
    public func sigmoid() -> Variable {
        let y = value.sigmoid()
        return tape.record(y, inputs: [self]) { g in
            [g.zipBuffer(y, "sigmoid'") { g, y, d, n in for i in 0..<n { d[i] = g[i] * y[i] * (1 - y[i]) } }]
        }
    }

    /// Softsign x / (1 + |x|): g / (1 + |x|)².
    public func softsign() -> Variable {
        let x = value
        return tape.record(x.softsign(), inputs: [self]) { g in
            [g.zipBuffer(x, "softsign'") { g, x, d, n in
                for i in 0..<n { let s = 1 + abs(x[i]); d[i] = g[i] / (s * s) }
            }]
        }
    }

    /// Softplus log(1 + eˣ): g · sigmoid(x).
    public func softplus() -> Variable {
        let x = value
        return tape.record(x.softplus(), inputs: [self]) { g in [g * x.sigmoid()] }
    }

    /// exp: g · y.
    public func exp() -> Variable {
        let y = value.exp()
        return tape.record(y, inputs: [self]) { g in [g * y] }
    }

    /// log: g / x.
    public func log() -> Variable {
        let x = value
        return tape.record(x.log(), inputs: [self]) { g in [g / x] }
    }

    /// x²: 2 g x.
    public func squared() -> Variable {
        let x = value
        return tape.record(x.squared(), inputs: [self]) { g in [2 * (g * x)] }
    }

    // MARK: Reductions and shape

    /// The sum of all elements (a scalar): g broadcast to x's shape.
    public func sum() -> Variable {
        let shape = value.shape
        return tape.record(Tensor(value.sum()), inputs: [self]) { g in
            [Tensor(shape: shape, repeating: g.scalar)]
        }
    }

    /// The mean of all elements (a scalar): g / n broadcast to x's shape.
    public func mean() -> Variable {
        let shape = value.shape, n = Float(value.count)
        return tape.record(Tensor(value.mean()), inputs: [self]) { g in
            [Tensor(shape: shape, repeating: g.scalar / n)]
        }
    }

    /// The same elements in another shape: g reshaped back.
    public func reshaped(_ shape: [Int]) -> Variable {
        let original = value.shape
        return tape.record(value.reshaped(shape), inputs: [self]) { g in [g.reshaped(original)] }
    }
}

/// op(A) · op(B) on variables (see `Variable.matmul`).
public func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
    Variable.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
}
