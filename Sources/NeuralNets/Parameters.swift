// Named parameters: the store a model's layers draw their tensors from, its
// binding to a tape for one step, and the tools that act on every parameter
// at once (saving and loading as .npz, an exponential moving average,
// clipping gradients by their global norm).
//
// Layers (Conv2D, Linear, Embedding, LayerNorm, MultiHeadAttention, the
// recurrent cells) hold only their sizes and the names of their parameters;
// the tensors live in one `ParameterStore`, in the order they were added.
// An optimizer updates `store.tensors` with gradients in the same order.

import ArrayIO
import Autodiff
import Tensors

/// Named tensors in a fixed order.
public struct ParameterStore: Sendable, Equatable {
    /// The names, in order of addition.
    public private(set) var names: [String] = []
    /// The tensors, in the order of `names`.
    public var tensors: [Tensor] = []
    private var index: [String: Int] = [:]

    public init() {}

    /// Adds a parameter. - Precondition: the name is new.
    public mutating func add(_ name: String, _ value: Tensor) {
        precondition(index[name] == nil, "ParameterStore: parameter '\(name)' added twice")
        index[name] = names.count
        names.append(name)
        tensors.append(value)
    }

    /// Whether a parameter of this name exists.
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The position of the parameter called `name` in `names` and `tensors`.
    public func position(of name: String) -> Int? { index[name] }

    /// The parameter called `name`.
    public subscript(name: String) -> Tensor {
        get {
            guard let i = index[name] else { preconditionFailure("ParameterStore: no parameter '\(name)'") }
            return tensors[i]
        }
        set {
            guard let i = index[name] else { preconditionFailure("ParameterStore: no parameter '\(name)'") }
            precondition(newValue.shape == tensors[i].shape,
                         "ParameterStore: '\(name)' has shape \(tensors[i].shape), not \(newValue.shape)")
            tensors[i] = newValue
        }
    }

    /// The number of scalars over all parameters.
    public var scalarCount: Int { tensors.reduce(0) { $0 + $1.count } }

    /// Every parameter as a variable on `tape`; with `requiringGradients:
    /// false`, as constants (a generator's weights while its critic trains).
    public func bind(to tape: Tape, requiringGradients: Bool = true) -> BoundParameters {
        BoundParameters(store: self, variables: tensors.map { tape.variable($0, requiresGradient: requiringGradients) })
    }

    // MARK: Files

    /// Writes the parameters to a `.npz` archive, one float32 member per
    /// parameter, named as in the store, atomically.
    public func save(to path: String) throws {
        try NPZ.write(zip(names, tensors).map { ($0, NPYArray(floats: $1.scalars, shape: $1.shape)) }, to: path)
    }

    /// Replaces every parameter's value by the member of the same name in
    /// the `.npz` archive at `path` (any float dtype).
    /// - Throws: `FileError` naming the file when it cannot be read, when a
    ///   parameter is missing or has another shape, or when the archive has
    ///   members this store does not know.
    public mutating func load(from path: String) throws {
        let entries = try NPZ.read(path: path)
        var byName = [String: NPYArray]()
        for (name, array) in entries { byName[name] = array }
        for name in byName.keys where index[name] == nil {
            throw FileError(path: path, reason: "member '\(name)' is not a parameter of this model")
        }
        var loaded = tensors
        for (i, name) in names.enumerated() {
            guard let array = byName[name] else {
                throw FileError(path: path, reason: "parameter '\(name)' is missing")
            }
            guard array.shape == tensors[i].shape else {
                throw FileError(path: path, reason: "parameter '\(name)' has shape \(array.shape), expected \(tensors[i].shape)")
            }
            guard [.float16, .float32, .float64].contains(array.dtype) else {
                throw FileError(path: path, reason: "parameter '\(name)' has dtype \(array.dtype), not a float")
            }
            let values = array.floats()
            guard values.allSatisfy(\.isFinite) else {
                throw FileError(path: path, reason: "parameter '\(name)' holds NaN or infinity")
            }
            loaded[i] = Tensor(shape: array.shape, scalars: values)
        }
        tensors = loaded
    }
}

/// A store's parameters as variables on one tape, for one step.
public struct BoundParameters {
    public let store: ParameterStore
    /// The variables, in the store's order.
    public let variables: [Variable]

    /// The store's parameters as the given variables (one per parameter, same shapes).
    public init(store: ParameterStore, variables: [Variable]) {
        precondition(variables.count == store.tensors.count && zip(variables, store.tensors).allSatisfy { $0.shape == $1.shape },
                     "BoundParameters: \(variables.count) variables for \(store.tensors.count) parameters")
        self.store = store
        self.variables = variables
    }

    /// The variable of the parameter called `name`.
    public subscript(name: String) -> Variable {
        guard let i = store.position(of: name) else { preconditionFailure("BoundParameters: no parameter '\(name)'") }
        return variables[i]
    }

    /// ∂loss/∂θ for every parameter, in the store's order (zeros for those
    /// the loss does not use).
    public func gradients(of loss: Variable) -> [Tensor] {
        loss.tape.gradients(of: loss, withRespectTo: variables)
    }
}

/// An exponential moving average of parameters: θ̄ ← β θ̄ + (1 - β) θ after
/// each step (Karras et al. keep one of the generator with β = 0.999).
public struct ExponentialMovingAverage: Sendable, Equatable {
    public var decay: Float
    /// The averaged parameters.
    public var average: ParameterStore

    /// Starts the average at the current parameters.
    public init(of store: ParameterStore, decay: Float) {
        precondition(decay >= 0 && decay < 1, "ExponentialMovingAverage: decay \(decay) outside [0, 1)")
        self.decay = decay
        average = store
    }

    /// One update with the current parameters.
    /// - Precondition: `store` has the average's names and shapes.
    public mutating func update(with store: ParameterStore) {
        precondition(store.names == average.names, "ExponentialMovingAverage: parameters differ from the average's")
        for i in average.tensors.indices {
            precondition(store.tensors[i].shape == average.tensors[i].shape,
                         "ExponentialMovingAverage: '\(store.names[i])' changed shape")
            var a = average.tensors[i]
            let beta = decay
            store.tensors[i].scalars.withUnsafeBufferPointer { x in
                a.scalars.withUnsafeMutableBufferPointer { m in
                    for j in 0..<m.count { m[j] = beta * m[j] + (1 - beta) * x[j] }
                }
            }
            average.tensors[i] = a
        }
    }
}

/// Scales `gradients` so that their global norm √(Σ‖g‖²) is at most
/// `maxNorm`, as `torch.nn.utils.clip_grad_norm_` does; returns the norm
/// before clipping. Gradients already within the bound are left as they are.
@discardableResult
public func clipByGlobalNorm(_ gradients: inout [Tensor], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipByGlobalNorm: maxNorm \(maxNorm)")
    var total = 0.0
    for g in gradients { for v in g.scalars { total += Double(v) * Double(v) } }
    let norm = Float(total.squareRoot())
    if norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for i in gradients.indices { gradients[i] = scale * gradients[i] }
    }
    return norm
}
