// Elementwise nonlinearities on tensors, through the vectorized kernels of
// `VectorMath` where a transcendental function is involved.

extension Tensor {
    /// tanh(x), elementwise.
    public func tanh() -> Tensor { mapBuffer { VectorMath.tanh($0, $1, count: $2) } }

    /// exp(x), elementwise.
    public func exp() -> Tensor { mapBuffer { VectorMath.exp($0, $1, count: $2) } }

    /// The natural logarithm, elementwise.
    public func log() -> Tensor { mapBuffer { VectorMath.log($0, $1, count: $2) } }

    /// 1 / (1 + e^-x), elementwise.
    public func sigmoid() -> Tensor { mapBuffer { VectorMath.sigmoid($0, $1, count: $2) } }

    /// log(1 + e^x), elementwise, stable for large |x|.
    public func softplus() -> Tensor { mapBuffer { VectorMath.softplus($0, $1, count: $2) } }

    /// max(x, 0), elementwise. NaN stays NaN.
    public func relu() -> Tensor {
        mapBuffer { x, y, n in for i in 0..<n { let v = x[i]; y[i] = v < 0 ? 0 : v } }
    }

    /// x / (1 + |x|), elementwise.
    public func softsign() -> Tensor {
        mapBuffer { x, y, n in for i in 0..<n { y[i] = x[i] / (1 + abs(x[i])) } }
    }

    /// x², elementwise.
    public func squared() -> Tensor {
        mapBuffer { x, y, n in for i in 0..<n { y[i] = x[i] * x[i] } }
    }

    /// √x, elementwise.
    public func squareRoot() -> Tensor {
        mapBuffer { x, y, n in for i in 0..<n { y[i] = x[i].squareRoot() } }
    }
}
