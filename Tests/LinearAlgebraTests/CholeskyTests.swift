import Foundation
import LinearAlgebra
import TestSupport
import Testing

@Suite("Cholesky factorisation, solves, rank-1 update and downdate")
struct CholeskyTests {
  @Test(arguments: [1, 5, 40, 120])
  func reconstructsAndSolves(dimension: Int) throws {
    let a = try TestData.spdMatrix(
      dimension: dimension, conditionNumber: 1e3, seed: UInt64(dimension))
    let chol = try Cholesky(a)
    #expect(chol.reconstructed().isApproximatelyEqual(to: a, relativeTolerance: 1e-12))
    var g = SeededGenerator(seed: 99)
    let b = g.normalVector(count: dimension)
    let x = chol.solve(b)
    #expect(a.multiply(x).subtracting(b).norm() <= 1e-10 * b.norm())
    // Many right-hand sides at once equal column-by-column solves.
    let rhs = TestData.gaussianMatrix(rows: dimension, columns: 3, seed: 5)
    let xs = chol.solve(rhs)
    for j in 0..<3 {
      #expect(
        xs.column(j).isApproximatelyEqual(to: chol.solve(rhs.column(j)), relativeTolerance: 1e-12))
    }
    // log det from the eigenvalues.
    let eig = try SymmetricEigen(a, computeVectors: false)
    let logDet = eig.values.reduce(0) { $0 + log($1) }
    #expect(abs(chol.logDeterminant - logDet) <= 1e-9 * max(1, abs(logDet)))
  }

  @Test(arguments: [3, 30, 100])
  func updateAndDowndateMatchFreshFactorisations(dimension: Int) throws {
    let a = try TestData.spdMatrix(dimension: dimension, conditionNumber: 100, seed: 7)
    var g = SeededGenerator(seed: 8)
    let x = g.normalVector(count: dimension).scaled(by: 0.3)
    var outer = Matrix(rows: dimension, columns: dimension)
    for i in 0..<dimension { for j in 0..<dimension { outer[i, j] = x[i] * x[j] } }

    var updated = try Cholesky(a)
    updated.update(adding: x)
    var plus = a
    plus.add(outer)
    let fresh = try Cholesky(plus)
    #expect(
      Matrix(rows: dimension, columns: dimension, elements: updated.factor)
        .isApproximatelyEqual(
          to: Matrix(rows: dimension, columns: dimension, elements: fresh.factor),
          relativeTolerance: 1e-10))

    try updated.downdate(removing: x)
    let original = try Cholesky(a)
    #expect(
      Matrix(rows: dimension, columns: dimension, elements: updated.factor)
        .isApproximatelyEqual(
          to: Matrix(rows: dimension, columns: dimension, elements: original.factor),
          relativeTolerance: 1e-10))
  }

  /// Downdates with `||L^{-1} x||^2` well inside (in place) and close to the boundary (on a
  /// copy) both equal a fresh factorisation of `A - x x^T`.
  @Test(arguments: [0.5, 0.99, 0.995, 0.9999])
  func downdateNearTheBoundaryMatchesAFreshFactorisation(squaredNorm: Double) throws {
    let n = 40
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 50, seed: 21)
    let chol = try Cholesky(a)
    var g = SeededGenerator(seed: 22)
    var x = g.normalVector(count: n)
    x = x.scaled(by: squaredNorm.squareRoot() / chol.solveLower(x).norm())
    var downdated = chol
    try downdated.downdate(removing: x)
    var minus = a
    for i in 0..<n { for j in 0..<n { minus[i, j] -= x[i] * x[j] } }
    let fresh = try Cholesky(minus)
    #expect(
      Matrix(rows: n, columns: n, elements: downdated.factor)
        .isApproximatelyEqual(
          to: Matrix(rows: n, columns: n, elements: fresh.factor), relativeTolerance: 1e-8))
    // And solves with it are solves with A - x x^T.
    let b = g.normalVector(count: n)
    let residual = minus.multiply(downdated.solve(b)).subtracting(b).norm()
    #expect(residual <= 1e-8 * b.norm() / (1 - squaredNorm))
  }

  /// With a known eigenvalue bound `mu`, a downdate by `||x||^2 <= mu / 4` skips the check and
  /// still equals a fresh factorisation of `A - x x^T`; larger `x` take the checked path (and a
  /// definiteness loss still throws and changes nothing).
  @Test(arguments: [0.01, 0.25, 0.9])
  func downdateWithAnEigenvalueBoundMatchesAFreshFactorisation(fraction: Double) throws {
    let n = 30
    // A = B + mu I with B positive semidefinite: mu is a valid lower bound.
    var g = SeededGenerator(seed: 31)
    let b = Matrix(rows: 10, columns: n, elements: g.normalVector(count: 10 * n))
    let mu = 0.5
    var a = Matrix.product(b, b, transposeA: true)
    a.addToDiagonal(mu)
    let chol = try Cholesky(a)
    var x = g.normalVector(count: n)
    x = x.scaled(by: (fraction * mu).squareRoot() / x.norm())
    var downdated = chol
    try downdated.downdate(removing: x, smallestEigenvalueAtLeast: mu)
    var minus = a
    for i in 0..<n { for j in 0..<n { minus[i, j] -= x[i] * x[j] } }
    let fresh = try Cholesky(minus)
    #expect(
      Matrix(rows: n, columns: n, elements: downdated.factor)
        .isApproximatelyEqual(
          to: Matrix(rows: n, columns: n, elements: fresh.factor), relativeTolerance: 1e-10))
    // A vector that breaks definiteness is refused whatever bound is claimed for it.
    var refused = chol
    let before = refused.factor
    var large = g.normalVector(count: n)
    large = large.scaled(by: 1.5 / chol.solveLower(large).norm())
    #expect(throws: LinearAlgebraError.self) {
      try refused.downdate(removing: large, smallestEigenvalueAtLeast: mu)
    }
    #expect(refused.factor == before)
  }

  @Test func downdateThatLosesDefinitenessThrowsAndChangesNothing() throws {
    let a = Matrix.identity(4)
    var chol = try Cholesky(a)
    let before = chol.factor
    #expect(throws: LinearAlgebraError.downdateLosesDefiniteness(index: 2)) {
      try chol.downdate(removing: [0, 0, 1.5, 0])
    }
    #expect(chol.factor == before)
    // Exactly on the boundary (A - x x^T singular) is refused too.
    #expect(throws: LinearAlgebraError.self) { try chol.downdate(removing: [1, 0, 0, 0]) }
    #expect(chol.factor == before)
  }

  @Test func nonPositiveDefiniteNamesThePivot() {
    // Leading 2x2 minor is positive, the 3x3 one is not.
    let a = Matrix(rowArrays: [[4, 2, 0], [2, 5, 0], [0, 0, -1]])
    #expect(throws: LinearAlgebraError.notPositiveDefinite(pivot: 3, dimension: 3)) {
      try Cholesky(a)
    }
    let b = Matrix(rowArrays: [[0, 1], [1, 2]])
    #expect(throws: LinearAlgebraError.notPositiveDefinite(pivot: 1, dimension: 2)) {
      try Cholesky(b)
    }
    var c = Matrix.identity(2)
    c[0, 0] = .nan
    #expect(throws: LinearAlgebraError.self) { try Cholesky(c) }
  }
}
