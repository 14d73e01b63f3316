import Testing
import Unlearning

@Suite("Unlearning module")
struct ReexportTests {
  @Test func reexportsLinearAlgebra() {
    // `import Unlearning` alone gives access to the linear-algebra layer.
    let m = Matrix.identity(3, scale: 2)
    #expect(m.multiply([1, 2, 3]) == [2, 4, 6])
  }
}
