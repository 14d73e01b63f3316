import LinearAlgebra
import TestSupport
import Testing

@Suite("BLAS wrappers against naive loops")
struct BLASTests {
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func gemmEveryTransposeCombination(transposeA: Bool, transposeB: Bool) {
    let (m, k, n) = (7, 5, 4)
    let a = TestData.gaussianMatrix(rows: transposeA ? k : m, columns: transposeA ? m : k, seed: 1)
    let b = TestData.gaussianMatrix(rows: transposeB ? n : k, columns: transposeB ? k : n, seed: 2)
    let c = Matrix.product(a, b, transposeA: transposeA, transposeB: transposeB, alpha: 1.5)
    var expected = Naive.product(a, transposeA, b, transposeB)
    expected.scale(by: 1.5)
    #expect(c.rows == m && c.columns == n)
    #expect(c.isApproximatelyEqual(to: expected, relativeTolerance: 1e-13))
  }

  /// `dsymv` reads the upper triangle only, and `dsyrk` updates the upper triangle only: the
  /// pair agrees with dense products whatever the strict lower triangle holds.
  @Test func symmetricProductAndUpperGramUseTheUpperTriangleOnly() {
    let n = 9
    let b = TestData.gaussianMatrix(rows: 4, columns: n, seed: 5)
    var a = Matrix.product(b, b, transposeA: true)
    a.addToDiagonal(1)
    let dense = a
    // Garbage below the diagonal must not matter.
    for i in 0..<n { for j in 0..<i { a[i, j] = 1e300 } }
    let x = TestData.gaussianMatrix(rows: n, columns: 1, seed: 6).elements
    let expected = dense.multiply(x)
    #expect(a.symmetricMultiply(x).subtracting(expected).norm() <= 1e-13 * expected.norm())
    let r = TestData.gaussianMatrix(rows: 3, columns: n, seed: 7)
    a.addUpperGram(of: r, scaledBy: -0.5)
    var updated = dense
    updated.add(Matrix.product(r, r, transposeA: true), scaledBy: -0.5)
    for i in 0..<n {
      for j in 0..<n {
        if j >= i {
          #expect(abs(a[i, j] - updated[i, j]) <= 1e-13 * (1 + abs(updated[i, j])))
        } else {
          #expect(a[i, j] == 1e300)
        }
      }
    }
    let expectedAfter = updated.multiply(x)
    #expect(
      a.symmetricMultiply(x).subtracting(expectedAfter).norm() <= 1e-13 * expectedAfter.norm())
  }

  @Test func gemmAccumulatesWithBeta() {
    let a = TestData.gaussianMatrix(rows: 3, columns: 6, seed: 3)
    let b = TestData.gaussianMatrix(rows: 6, columns: 2, seed: 4)
    let c0 = TestData.gaussianMatrix(rows: 3, columns: 2, seed: 5)
    var c = c0
    Matrix.gemm(alpha: 2, a, b, beta: -0.5, into: &c)
    var expected = Naive.product(a, false, b, false)
    expected.scale(by: 2)
    expected.add(c0, scaledBy: -0.5)
    #expect(c.isApproximatelyEqual(to: expected, relativeTolerance: 1e-13))
  }

  @Test(arguments: [false, true])
  func gemv(transposed: Bool) {
    let a = TestData.gaussianMatrix(rows: 9, columns: 4, seed: 6)
    var g = SeededGenerator(seed: 7)
    let x = g.normalVector(count: transposed ? 9 : 4)
    let y = a.multiply(x, transposed: transposed, alpha: -2)
    let expected = Naive.matVec(a, x, transposed: transposed).map { -2 * $0 }
    #expect(y.isApproximatelyEqual(to: expected, relativeTolerance: 1e-13))
  }

  @Test(arguments: [1, 3, 1000])
  func weightedGramMatchesNaiveWithAnyBlocking(blockRows: Int) {
    let x = TestData.gaussianMatrix(rows: 23, columns: 6, seed: 8)
    var g = SeededGenerator(seed: 9)
    // Positive, zero and negative weights.
    let w = (0..<23).map { i in i % 5 == 0 ? 0 : (i % 7 == 0 ? -0.3 : g.nextUniform()) }
    let gram = x.weightedGram(weights: w, blockRows: blockRows)
    var scaled = x
    scaled.scaleRows(by: w)
    let expected = Naive.product(x, true, scaled, false)
    #expect(gram.isApproximatelyEqual(to: expected, relativeTolerance: 1e-13))
    #expect(gram.asymmetry == 0)
    let plain = x.weightedGram()
    #expect(
      plain.isApproximatelyEqual(to: Naive.product(x, true, x, false), relativeTolerance: 1e-13))
    #expect(
      x.rowGram().isApproximatelyEqual(
        to: Naive.product(x, false, x, true), relativeTolerance: 1e-13))
  }

  @Test func levelOneOperations() {
    var g = SeededGenerator(seed: 10)
    let x = g.normalVector(count: 17)
    let y = g.normalVector(count: 17)
    #expect(abs(x.dot(y) - zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }) <= 1e-13 * 17)
    #expect(abs(x.norm() - x.reduce(0) { $0 + $1 * $1 }.squareRoot()) <= 1e-14 * 17)
    let axpy = y.adding(x, scaledBy: 0.25)
    for i in 0..<17 { #expect(abs(axpy[i] - (y[i] + 0.25 * x[i])) <= 1e-15 * 4) }
    let scaled = x.scaled(by: -3)
    for i in 0..<17 { #expect(scaled[i] == -3 * x[i]) }
    #expect(Matrix(rows: 2, columns: 2, elements: [3, 0, 0, 4]).rowNorms() == [3, 4])
  }

  @Test func transposeAndRowGather() {
    let a = TestData.gaussianMatrix(rows: 37, columns: 41, seed: 11)
    let t = a.transposed()
    for i in 0..<37 { for j in 0..<41 { #expect(t[j, i] == a[i, j]) } }
    let picked = a.rows(at: [5, 0, 36])
    #expect(picked.row(0) == a.row(5) && picked.row(1) == a.row(0) && picked.row(2) == a.row(36))
  }
}
