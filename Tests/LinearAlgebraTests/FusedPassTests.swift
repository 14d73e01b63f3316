import LinearAlgebra
import TestSupport
import Testing

@Suite("Fused forward-backward pass")
struct FusedPassTests {
  @Test(arguments: [(1, 1), (7, 1), (64, 1), (1000, 1), (7, 2), (7, 3), (64, 2), (1000, 2)])
  func equalsTheTwoPassComputation(blockRows: Int, threads: Int) {
    let x = TestData.gaussianMatrix(rows: 301, columns: 13, seed: 1)
    var g = SeededGenerator(seed: 2)
    let v = g.normalVector(count: 13)
    let w = (0..<301).map { _ in g.nextUniform() }
    // U rows: w_i * t_i and t_i^2 (a nonlinear function of t, as in the removal step).
    let (t, product) = x.fusedProductPass(v, outputs: 2, blockRows: blockRows, threads: threads) {
      rows, tBlock, u in
      let count = rows.count
      for (offset, i) in rows.enumerated() {
        let ti = tBlock[i]
        u[offset] = w[i] * ti
        u[count + offset] = ti * ti
      }
    }
    let expectedT = Naive.matVec(x, v, transposed: false)
    #expect(t.isApproximatelyEqual(to: expectedT, relativeTolerance: 1e-13))
    let u = Matrix(
      rows: 2, columns: 301,
      elements: expectedT.enumerated().map { w[$0.offset] * $0.element } + expectedT.map { $0 * $0 }
    )
    let expected = Naive.product(u, false, x, false)
    #expect(product.isApproximatelyEqual(to: expected, relativeTolerance: 1e-12))
  }
}
