// The symmetric eigendecomposition (LAPACK's dsyevd) against closed forms and
// its own definition.

import XCTest
@testable import Tensors

final class SymmetricEigenTests: XCTestCase {
    func testATwoByTwoMatrixHasItsClosedFormEigenpairs() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1)/√2 and (1, 1)/√2.
        let e = SymmetricEigendecomposition([2, 1, 1, 2], size: 2)
        XCTAssertEqual(e.values[0], 1, accuracy: 1e-14)
        XCTAssertEqual(e.values[1], 3, accuracy: 1e-14)
        let h = 0.5.squareRoot()
        XCTAssertEqual(abs(e.vectors[0]), h, accuracy: 1e-14)
        XCTAssertEqual(e.vectors[0] * e.vectors[1], -0.5, accuracy: 1e-14)
        XCTAssertEqual(e.vectors[2] * e.vectors[3], 0.5, accuracy: 1e-14)
        // Its square root [[a, b], [b, a]] with a ± b = √3 and 1.
        let root = e.squareRoot
        XCTAssertEqual(root[0], (3.0.squareRoot() + 1) / 2, accuracy: 1e-14)
        XCTAssertEqual(root[1], (3.0.squareRoot() - 1) / 2, accuracy: 1e-14)
        XCTAssertEqual(e.traceOfSquareRoot, 3.0.squareRoot() + 1, accuracy: 1e-14)
    }

    func testARandomSymmetricMatrixIsRebuiltFromOrthonormalEigenvectors() {
        let n = 7
        var rng = RandomGenerator(seed: 11)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0...i { let v = rng.normal(); a[i * n + j] = v; a[j * n + i] = v } }
        let e = SymmetricEigendecomposition(a, size: n)
        XCTAssertEqual(e.values, e.values.sorted())
        for i in 0..<n {
            for j in 0..<n {
                let dot = (0..<n).reduce(0.0) { $0 + e.vectors[i * n + $1] * e.vectors[j * n + $1] }
                XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-12)
            }
        }
        let rebuilt = e.applying { $0 }
        for k in 0..<(n * n) { XCTAssertEqual(rebuilt[k], a[k], accuracy: 1e-12) }
        // tr A = Σ λ.
        XCTAssertEqual(e.values.reduce(0, +), (0..<n).reduce(0.0) { $0 + a[$1 * n + $1] }, accuracy: 1e-12)
    }

    func testTheSquareRootOfAPositiveSemidefiniteMatrixSquaresBackToIt() {
        // B Bᵀ of a 5 x 3 B: rank 3, two eigenvalues 0 up to rounding.
        let n = 5, r = 3
        var rng = RandomGenerator(seed: 4)
        let b = (0..<(n * r)).map { _ in rng.normal() }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = (0..<r).reduce(0.0) { $0 + b[i * r + $1] * b[j * r + $1] } } }
        let root = SymmetricEigendecomposition(a, size: n).squareRoot
        for i in 0..<n {
            for j in 0..<n {
                let square = (0..<n).reduce(0.0) { $0 + root[i * n + $1] * root[$1 * n + j] }
                XCTAssertEqual(square, a[i * n + j], accuracy: 1e-9)
            }
        }
    }
}
