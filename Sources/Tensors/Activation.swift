// The activation functions, defined once: the function, and its derivative
// written in terms of the output y = f(x), so that a layer (the fused dense
// layer, the narrow training step, the tape's operations) keeps only its
// output. Autodiff adds the same derivative in variable operations.

/// An elementwise activation function.
public enum Activation: Sendable, Hashable {
    /// tanh(x); f' = 1 - y². The saturating nonlinearity of Shwartz-Ziv & Tishby.
    case tanh
    /// max(x, 0); f' = [y > 0]. Saxe et al.'s non-saturating counterpart.
    case relu
    /// 1 / (1 + e⁻ˣ); f' = y (1 - y).
    case sigmoid
    /// x / (1 + |x|); f' = 1 / (1 + |x|)² = (1 - |y|)².
    case softsign
    /// log(1 + eˣ); f' = sigmoid(x) = 1 - e⁻ʸ.
    case softplus
    /// x; f' = 1. Deep linear networks.
    case linear
    /// x for x > 0, slope·x otherwise (0 < slope < 1); f' = 1 where y > 0,
    /// else the slope. Karras et al. use slope 0.2.
    case leakyReLU(slope: Float)

    /// The activations known by name alone (the command line's choices).
    public static let allCases: [Activation] = [.tanh, .relu, .sigmoid, .softsign, .softplus, .linear]

    /// The name: "tanh", "relu", …, and "leaky_relu(0.2)" with the slope.
    public var rawValue: String {
        switch self {
        case .tanh: "tanh"
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .softsign: "softsign"
        case .softplus: "softplus"
        case .linear: "linear"
        case let .leakyReLU(slope): "leaky_relu(\(slope))"
        }
    }

    /// The activation of a name (as `rawValue` writes it), or nil.
    public init?(rawValue: String) {
        if let named = Activation.allCases.first(where: { $0.rawValue == rawValue }) {
            self = named
            return
        }
        guard rawValue.hasPrefix("leaky_relu("), rawValue.hasSuffix(")"),
              let slope = Float(rawValue.dropFirst("leaky_relu(".count).dropLast()),
              slope > 0 && slope < 1 else { return nil }
        self = .leakyReLU(slope: slope)
    }

    /// f applied to every element of `x`, in place.
    public func apply(_ x: inout Tensor) {
        if self == .linear { return }
        let count = x.count
        x.scalars.withUnsafeMutableBufferPointer { apply($0.baseAddress!, count: count) }
    }

    /// f applied to `count` floats at `p`, in place. NaN stays NaN.
    public func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .tanh: VectorMath.tanh(p, p, count: count)
        case .sigmoid: VectorMath.sigmoid(p, p, count: count)
        case .softplus: VectorMath.softplus(p, p, count: count)
        case .relu: for i in 0..<count where !(p[i] >= 0) && !p[i].isNaN { p[i] = 0 }
        case .softsign: for i in 0..<count { p[i] = p[i] / (1 + abs(p[i])) }
        case .linear: break
        case let .leakyReLU(slope): for i in 0..<count where p[i] < 0 { p[i] *= slope }
        }
    }

    /// f(x) as a new tensor.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var y = x
        apply(&y)
        return y
    }

    /// g ⊙ f'(x), given the output y = f(x): the gradient through f.
    public func backward(_ g: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                         into d: UnsafeMutablePointer<Float>, count n: Int) {
        switch self {
        case .tanh: for i in 0..<n { d[i] = g[i] * (1 - y[i] * y[i]) }
        case .relu: for i in 0..<n { d[i] = y[i] > 0 ? g[i] : 0 }
        case .sigmoid: for i in 0..<n { d[i] = g[i] * y[i] * (1 - y[i]) }
        case .softsign: for i in 0..<n { let s = 1 - abs(y[i]); d[i] = g[i] * s * s }
        case .softplus:
            // sigmoid(x) = 1 - e^{-y} = 1 - 1/e^{y}, with e^{y} from the vector
            // kernel; the absolute error for very negative x stays below 6e-8.
            VectorMath.exp(y, d, count: n)
            for i in 0..<n { d[i] = g[i] * (1 - 1 / d[i]) }
        case .linear: d.update(from: g, count: n)
        case let .leakyReLU(slope): for i in 0..<n { d[i] = y[i] > 0 ? g[i] : slope * g[i] }
        }
    }

    /// g ⊙ f'(x) as a tensor, from g and the output y.
    public func backward(_ g: Tensor, output y: Tensor) -> Tensor {
        g.zipBuffer(y, "\(rawValue)'") { g, y, d, n in backward(g, output: y, into: d, count: n) }
    }
}

extension Activation: Codable {
    /// Encoded as its name, a single string ("tanh").
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let value = Activation(rawValue: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown activation \"\(name)\""))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
