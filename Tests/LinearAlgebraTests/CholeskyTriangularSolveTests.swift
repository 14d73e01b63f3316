import Foundation
import LinearAlgebra
import TestSupport
import Testing

@Suite("Cholesky.solveLower with many right-hand sides")
struct CholeskyTriangularSolveTests {
  /// Oracle: `L Y = B` checked by multiplying back with the explicit `L`, and the quadratic
  /// forms `||Y_j||^2` against `b_j^T x_j` from a full solve.
  @Test(arguments: [1, 7, 60])
  func forwardSubstitutionMatchesFactor(dimension: Int) throws {
    let a = try TestData.spdMatrix(
      dimension: dimension, conditionNumber: 1e3, seed: UInt64(dimension) + 11)
    let chol = try Cholesky(a)
    let b = TestData.gaussianMatrix(rows: dimension, columns: 4, seed: 3)
    let y = chol.solveLower(b)
    #expect(Matrix.product(chol.lower, y).isApproximatelyEqual(to: b, relativeTolerance: 1e-12))
    for j in 0..<4 {
      let quadratic = b.column(j).dot(chol.solve(b.column(j)))
      let viaLower = y.column(j).dot(y.column(j))
      #expect(abs(quadratic - viaLower) <= 1e-10 * quadratic)
      #expect(
        y.column(j).isApproximatelyEqual(to: chol.solveLower(b.column(j)), relativeTolerance: 1e-13)
      )
    }
  }
}
