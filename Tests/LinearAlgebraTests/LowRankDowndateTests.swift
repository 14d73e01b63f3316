import Foundation
import LinearAlgebra
import TestSupport
import Testing

@Suite("Cholesky factor with rank-1 downdates as a Woodbury correction")
struct LowRankDowndateTests {
  /// `A - sum_j u_j u_j^T`, formed explicitly.
  static func downdated(_ a: Matrix, _ vectors: [[Double]]) -> Matrix {
    var m = a
    for u in vectors {
      for i in 0..<a.rows { for j in 0..<a.rows { m[i, j] -= u[i] * u[j] } }
    }
    return m
  }

  @Test(arguments: [1, 7, 40, 120])
  func solvesMatchDenseSolvesOfTheDowndatedMatrix(dimension n: Int) throws {
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 100, seed: UInt64(n))
    let base = try Cholesky(a)
    var g = SeededGenerator(seed: 3)
    var low = LowRankDowndatedCholesky(base)
    var vectors: [[Double]] = []
    for j in 0..<12 {
      // Each vector uses about a tenth of what is left of the definiteness, plus a duplicate.
      var u = j == 5 ? vectors[2] : g.normalVector(count: n)
      let current = try Cholesky(Self.downdated(a, vectors))
      u = u.scaled(by: (0.1 / current.solveLower(u).dot(current.solveLower(u))).squareRoot())
      let b = g.normalVector(count: n)
      // Solving b along with the append, and afresh, both solve with A - U U^T.
      try low.downdate(removing: u, alsoSolving: j % 2 == 0 ? b : nil)
      vectors.append(u)
      let explicit = Self.downdated(a, vectors)
      let dense = try Cholesky(explicit).solve(b)
      let x = low.solve(b)
      #expect(low.pendingCount == j + 1)
      #expect(x.subtracting(dense).norm() <= 1e-9 * dense.norm(), "append \(j)")
      #expect(explicit.multiply(x).subtracting(b).norm() <= 1e-9 * b.norm())
      // A different right-hand side after the append is not taken from the remembered one.
      let c = g.normalVector(count: n)
      let y = low.solve(c)
      #expect(explicit.multiply(y).subtracting(c).norm() <= 1e-9 * c.norm())
    }
    // Folding sweeps the same downdates into the factor.
    var folded = low
    try folded.fold(smallestEigenvalueAtLeast: 0)
    #expect(folded.pendingCount == 0)
    let explicit = Self.downdated(a, vectors)
    let b = g.normalVector(count: n)
    #expect(
      explicit.multiply(folded.solve(b)).subtracting(b).norm() <= 1e-9 * b.norm())
    #expect(
      folded.base.reconstructed().isApproximatelyEqual(to: explicit, relativeTolerance: 1e-9))
    // The original value still solves with the same matrix (its factor was never written).
    #expect(low.base.reconstructed().isApproximatelyEqual(to: a, relativeTolerance: 1e-12))
    #expect(low.pendingCount == 12)
  }

  @Test(
    "The blocked factorisation equals dpotrf's, and names the failing pivot",
    arguments: [1, 63, 64, 200])
  func blockedFactorisation(dimension n: Int) throws {
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 1e4, seed: 9)
    let blocked = try Cholesky(blocked: a, blockSize: 64)
    let plain = try Cholesky(a)
    #expect(
      Matrix(rows: n, columns: n, elements: blocked.factor)
        .isApproximatelyEqual(
          to: Matrix(rows: n, columns: n, elements: plain.factor), relativeTolerance: 1e-12))
    var indefinite = a
    indefinite[n - 1, n - 1] = -1
    #expect(throws: LinearAlgebraError.notPositiveDefinite(pivot: n, dimension: n)) {
      try Cholesky(blocked: indefinite, blockSize: 64)
    }
  }

  @Test("A downdate that loses definiteness is refused and leaves the value unchanged")
  func refusesIndefiniteDowndates() throws {
    let n = 20
    let a = try TestData.spdMatrix(dimension: n, conditionNumber: 10, seed: 4)
    let base = try Cholesky(a)
    var g = SeededGenerator(seed: 5)
    var low = LowRankDowndatedCholesky(base)
    var u = g.normalVector(count: n)
    u = u.scaled(by: (0.6 / base.solveLower(u).dot(base.solveLower(u))).squareRoot())
    try low.downdate(removing: u)
    // The same vector again: u^T A^{-1} u = 1.2 > 1 in total, A - 2 u u^T is indefinite.
    #expect(throws: LinearAlgebraError.self) { try low.downdate(removing: u) }
    #expect(low.pendingCount == 1)
    let b = g.normalVector(count: n)
    let explicit = Self.downdated(a, [u])
    #expect(explicit.multiply(low.solve(b)).subtracting(b).norm() <= 1e-10 * b.norm())
    // Exactly at the boundary (u^T A^{-1} u = 1 for the remaining matrix) too.
    let rest = try Cholesky(explicit)
    var w = g.normalVector(count: n)
    w = w.scaled(by: 1 / rest.solveLower(w).norm())
    #expect(throws: LinearAlgebraError.self) { try low.downdate(removing: w) }
  }
}
