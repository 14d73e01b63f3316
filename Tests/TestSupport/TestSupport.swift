import Foundation
import Unlearning

/// Random test matrices and reference kernels shared by the test targets.
public enum TestData {
  /// An `rows x columns` matrix of standard normal entries.
  public static func gaussianMatrix(rows: Int, columns: Int, seed: UInt64) -> Matrix {
    var g = SeededGenerator(seed: seed)
    return Matrix(rows: rows, columns: columns, elements: g.normalVector(count: rows * columns))
  }

  /// A symmetric positive definite matrix with eigenvalues spread log-uniformly over
  /// `[1, conditionNumber]` and random eigenvectors.
  public static func spdMatrix(dimension n: Int, conditionNumber: Double, seed: UInt64) throws
    -> Matrix
  {
    let q = try SymmetricEigen(gaussianMatrix(rows: n, columns: n, seed: seed).weightedGram())
      .vectors
    let eigenvalues = (0..<n).map { i in
      n == 1 ? 1 : pow10(log10(conditionNumber) * Double(i) / Double(n - 1))
    }
    // Q diag(l) Q^T
    var scaled = q.transposed()
    scaled.scaleRows(by: eigenvalues)
    var a = Matrix.product(q, scaled)
    a.symmetrizeFromUpper()
    return a
  }
}

/// Naive triple-loop reference kernels (the oracles the BLAS wrappers are tested against).
public enum Naive {
  public static func product(_ a: Matrix, _ ta: Bool, _ b: Matrix, _ tb: Bool) -> Matrix {
    let a2 = ta ? a.transposed() : a
    let b2 = tb ? b.transposed() : b
    var c = Matrix(rows: a2.rows, columns: b2.columns)
    for i in 0..<a2.rows {
      for j in 0..<b2.columns {
        var s = 0.0
        for k in 0..<a2.columns { s += a2[i, k] * b2[k, j] }
        c[i, j] = s
      }
    }
    return c
  }

  public static func matVec(_ a: Matrix, _ x: [Double], transposed: Bool) -> [Double] {
    let a2 = transposed ? a.transposed() : a
    return (0..<a2.rows).map { i in (0..<a2.columns).reduce(0.0) { $0 + a2[i, $1] * x[$1] } }
  }
}

func pow10(_ x: Double) -> Double { pow(10, x) }
