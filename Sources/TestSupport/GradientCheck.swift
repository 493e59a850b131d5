// Test helpers: tensor comparison and gradient checks against central finite
// differences of an independent reference implementation in Double.
//
// The check is a vector-Jacobian comparison: for a random upstream gradient
// u, the analytic VJP from the tape must equal ∂⟨u, f(x)⟩/∂x computed by
// central differences of the Double reference f. The reference is written
// separately (naive loops) in each test, so the check also cross-checks the
// forward value.

import Autodiff
import Tensors

/// The largest absolute and relative difference between two arrays.
public struct Difference: CustomStringConvertible, Sendable {
    public var maxAbsolute: Double
    public var maxRelative: Double
    public var worstIndex: Int
    public var description: String {
        "max |Δ| = \(maxAbsolute), max relative = \(maxRelative) at index \(worstIndex)"
    }
}

/// Compares `actual` to `expected` elementwise; relative error uses
/// max(|expected|, floor) as the denominator.
public func difference(_ actual: [Double], _ expected: [Double], floor: Double = 1e-3) -> Difference {
    precondition(actual.count == expected.count, "difference: \(actual.count) vs \(expected.count) elements")
    var result = Difference(maxAbsolute: 0, maxRelative: 0, worstIndex: -1)
    for i in actual.indices {
        let a = abs(actual[i] - expected[i])
        let r = a / max(abs(expected[i]), floor)
        if !(a.isFinite) || a > result.maxAbsolute { result.maxAbsolute = a.isFinite ? a : .infinity }
        if !(r <= result.maxRelative) { result.maxRelative = r.isFinite ? r : .infinity; result.worstIndex = i }
    }
    return result
}

/// Whether two tensors have the same shape and agree within `tolerance`
/// (absolute below `floor`, relative above).
public func approximatelyEqual(_ a: Tensor, _ b: Tensor, tolerance: Double = 1e-5, floor: Double = 1e-3) -> Bool {
    a.shape == b.shape && difference(a.scalars.map(Double.init), b.scalars.map(Double.init), floor: floor).maxRelative <= tolerance
}

/// The outcome of a gradient check.
public struct GradientCheckResult: CustomStringConvertible, Sendable {
    /// Forward value of the Float implementation vs the Double reference.
    public var forward: Difference
    /// Per input: analytic VJP vs central finite differences.
    public var gradients: [Difference]

    /// The worst relative error over the forward value and every gradient.
    public var worst: Double { ([forward.maxRelative] + gradients.map(\.maxRelative)).max()! }

    public var description: String {
        "forward: \(forward); " + gradients.enumerated().map { "input \($0): \($1)" }.joined(separator: "; ")
    }
}

/// Checks the VJP of a differentiable operation.
///
/// - Parameters:
///   - inputs: the operation's arguments.
///   - constant: the indices of inputs made constants on the tape: their
///     gradient must come back as zeros (the operation skips it), and the
///     others must still be right.
///   - seed: the seed of the random upstream gradient.
///   - step: the finite-difference step h; the derivative is
///     (F(x + h) - F(x - h)) / 2h with F = ⟨u, reference(x)⟩ in Double.
///   - coordinates: check at most this many randomly chosen coordinates per
///     input (all when nil); large inputs make a full check quadratic.
///   - operation: builds the operation on a tape from input variables.
///   - reference: the same function in Double, on flat row-major arrays,
///     returning the flat output.
public func checkGradients(
    _ inputs: [Tensor], constant: Set<Int> = [], seed: UInt64 = 1, step: Double = 1e-5, coordinates: Int? = nil,
    operation: ([Variable]) -> Variable,
    reference: ([[Double]]) -> [Double]
) -> GradientCheckResult {
    let tape = Tape()
    let variables = inputs.enumerated().map { k, x in constant.contains(k) ? tape.constant(x) : tape.variable(x) }
    let output = operation(variables)
    var rng = RandomGenerator(seed: seed)
    let upstream = Tensor(shape: output.shape, scalars: (0..<output.value.count).map { _ in Float(rng.normal()) })
    let analytic = tape.gradients(of: output, seed: upstream, withRespectTo: variables)

    let x = inputs.map { $0.scalars.map(Double.init) }
    let u = upstream.scalars.map(Double.init)
    func objective(_ x: [[Double]]) -> Double {
        zip(reference(x), u).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let forward = difference(output.value.scalars.map(Double.init), reference(x))
    var gradientDifferences = [Difference]()
    for k in inputs.indices {
        var chosen = Array(x[k].indices)
        if let coordinates, coordinates < chosen.count {
            rng.shuffle(&chosen)
            chosen = Array(chosen.prefix(coordinates))
        }
        var numeric = [Double](), actual = [Double]()
        if constant.contains(k) {
            gradientDifferences.append(difference(analytic[k].scalars.map(Double.init), [Double](repeating: 0, count: x[k].count)))
            continue
        }
        for j in chosen {
            var plus = x, minus = x
            plus[k][j] += step
            minus[k][j] -= step
            numeric.append((objective(plus) - objective(minus)) / (2 * step))
            actual.append(Double(analytic[k].scalars[j]))
        }
        gradientDifferences.append(difference(actual, numeric))
    }
    return GradientCheckResult(forward: forward, gradients: gradientDifferences)
}

/// The outcome of a second-order check.
public struct SecondOrderCheckResult: CustomStringConvertible, Sendable {
    /// Per differentiated input: the recorded (variable) first-order
    /// gradient vs the tensor one.
    public var recordedGradients: [Difference]
    /// Per differentiated input: the Hessian-vector product through the
    /// recorded backward pass vs central differences of first-order gradients.
    public var hessianVectorProducts: [Difference]

    /// The worst relative error.
    public var worst: Double { (recordedGradients + hessianVectorProducts).map(\.maxRelative).max() ?? 0 }

    public var description: String {
        "recorded gradients: \(recordedGradients); Hessian-vector products: \(hessianVectorProducts)"
    }
}

/// Checks the second-order (recorded) pullbacks of an operation by
/// Hessian-vector products.
///
/// With F(x) = ⟨u, f(x)⟩ for a random u, the gradients ∇F are taken with
/// `createGraph: true` (and compared with the tensor path), then
/// H·v = ∇⟨v, ∇F⟩ is differentiated through the recorded backward pass, for
/// a random direction v over all differentiated inputs at once, and compared
/// with (∇F(x + hv) - ∇F(x - hv)) / 2h from the first-order tensor path.
///
/// - Parameters:
///   - inputs: the operation's arguments.
///   - constant: indices of inputs left constant (not differentiated, not perturbed).
///   - step: h, relative to the unit-variance direction v.
///   - floor: the denominator floor of relative errors, as a fraction of
///     the largest finite-difference entry.
public func checkSecondOrder(
    _ inputs: [Tensor], constant: Set<Int> = [], seed: UInt64 = 1, step: Float = 1e-3, floor: Double = 1e-2,
    operation: ([Variable]) -> Variable
) -> SecondOrderCheckResult {
    let differentiated = inputs.indices.filter { !constant.contains($0) }
    var rng = RandomGenerator(seed: seed)
    var upstream: Tensor?
    func firstOrder(_ x: [Tensor]) -> [Tensor] {
        let tape = Tape()
        let variables = x.enumerated().map { k, x in constant.contains(k) ? tape.constant(x) : tape.variable(x) }
        let output = operation(variables)
        if upstream == nil {
            upstream = Tensor(shape: output.shape, scalars: (0..<output.value.count).map { _ in Float(rng.normal()) })
        }
        return tape.gradients(of: output, seed: upstream!, withRespectTo: differentiated.map { variables[$0] })
    }
    let plain = firstOrder(inputs)
    let direction = differentiated.map { k in
        Tensor(shape: inputs[k].shape, scalars: (0..<inputs[k].count).map { _ in Float(rng.normal()) })
    }

    let tape = Tape()
    let variables = inputs.enumerated().map { k, x in constant.contains(k) ? tape.constant(x) : tape.variable(x) }
    let output = operation(variables)
    let leaves = differentiated.map { variables[$0] }
    let recorded = tape.gradients(of: output, seed: upstream!, withRespectTo: leaves, createGraph: true)
    var projection = (recorded[0] * tape.constant(direction[0])).sum()
    for i in recorded.indices.dropFirst() { projection = projection + (recorded[i] * tape.constant(direction[i])).sum() }
    let hessianVector = tape.gradients(of: projection, withRespectTo: leaves)

    func shifted(_ sign: Float) -> [Tensor] {
        var x = inputs
        for (i, k) in differentiated.enumerated() {
            var moved = x[k]
            moved.addScaled(direction[i], by: sign * step)
            x[k] = moved
        }
        return x
    }
    let plus = firstOrder(shifted(1)), minus = firstOrder(shifted(-1))
    var recordedDifferences = [Difference](), hvpDifferences = [Difference]()
    for i in differentiated.indices {
        let reference = plain[i].scalars.map(Double.init)
        let scale = reference.map(abs).max() ?? 0
        recordedDifferences.append(difference(recorded[i].value.scalars.map(Double.init), reference,
                                              floor: max(floor * scale, 1e-6)))
        let numeric = zip(plus[i].scalars, minus[i].scalars).map { (Double($0) - Double($1)) / (2 * Double(step)) }
        let numericScale = numeric.map(abs).max() ?? 0
        hvpDifferences.append(difference(hessianVector[i].scalars.map(Double.init), numeric,
                                         floor: max(floor * numericScale, 1e-6)))
    }
    return SecondOrderCheckResult(recordedGradients: recordedDifferences, hessianVectorProducts: hvpDifferences)
}

/// A tensor of standard-normal values (scaled), for test inputs.
public func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in scale * Float(rng.normal()) })
}
