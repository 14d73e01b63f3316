/// The eigen-decomposition `A = V diag(values) V^T` of a real symmetric matrix (`dsyevd`).
///
/// Cost `O(n^3)`. Eigenvalues are in ascending order; eigenvectors are orthonormal.
public struct SymmetricEigen: Sendable {
  /// Eigenvalues in ascending order.
  public let values: [Double]
  /// Eigenvectors as **columns** (`n x n`): `A * vectors[:, j] = values[j] * vectors[:, j]`.
  /// Empty (`0 x 0`) when computed without vectors.
  public let vectors: Matrix

  /// Decomposes the symmetric `matrix` (its upper row-major triangle is read).
  ///
  /// - Parameters:
  ///   - matrix: `n x n`, symmetric.
  ///   - computeVectors: also compute eigenvectors (about 2x the work).
  /// - Throws: ``LinearAlgebraError/eigenDecompositionFailed(info:)``,
  ///   ``LinearAlgebraError/nonFiniteInput(_:)``.
  public init(_ matrix: Matrix, computeVectors: Bool = true) throws(LinearAlgebraError) {
    precondition(matrix.isSquare, "SymmetricEigen: matrix is \(matrix.rows) x \(matrix.columns)")
    guard matrix.isFinite else { throw .nonFiniteInput("the symmetric matrix") }
    let n = matrix.rows
    var a = matrix.elements
    var w = [Double](repeating: 0, count: n)
    let info: Int =
      n == 0
      ? 0
      : a.withUnsafeMutableBufferPointer { pa in
        w.withUnsafeMutableBufferPointer {
          LAPACK.syevd(n: n, a: pa.start, vectors: computeVectors, w: $0.start)
        }
      }
    guard info == 0 else { throw .eigenDecompositionFailed(info: info) }
    values = w
    // Column-major eigenvectors are row-major rows; transpose once so columns are vectors.
    vectors =
      computeVectors
      ? Matrix(rows: n, columns: n, elements: a).transposed() : Matrix(rows: 0, columns: 0)
  }

  /// The largest eigenvalue.
  public var largest: Double { values.last ?? 0 }
  /// The smallest eigenvalue.
  public var smallest: Double { values.first ?? 0 }
  /// `(negative, zero, positive)` eigenvalue counts, with `|lambda| <= tolerance` counted as zero.
  public func inertia(tolerance: Double = 0) -> (negative: Int, zero: Int, positive: Int) {
    let neg = values.filter { $0 < -tolerance }.count
    let pos = values.filter { $0 > tolerance }.count
    return (neg, values.count - neg - pos, pos)
  }

  /// Eigenvector `j` (length `n`).
  public func eigenvector(_ j: Int) -> [Double] { vectors.column(j) }

  /// Only the largest eigenvalue of a symmetric matrix (`dsyevr`, cheaper than all of them).
  public static func largestEigenvalue(of matrix: Matrix) throws(LinearAlgebraError) -> Double {
    precondition(matrix.isSquare, "largestEigenvalue: matrix is \(matrix.rows) x \(matrix.columns)")
    guard matrix.isFinite else { throw .nonFiniteInput("the symmetric matrix") }
    let n = matrix.rows
    if n == 0 { return 0 }
    var a = matrix.elements
    let (info, values) = a.withUnsafeMutableBufferPointer {
      LAPACK.syevrValues(n: n, a: $0.start, il: n, iu: n)
    }
    guard info == 0, let top = values.first else { throw .eigenDecompositionFailed(info: info) }
    return top
  }

  /// Only the smallest eigenvalue of a symmetric matrix (`dsyevr`).
  public static func smallestEigenvalue(of matrix: Matrix) throws(LinearAlgebraError) -> Double {
    precondition(
      matrix.isSquare, "smallestEigenvalue: matrix is \(matrix.rows) x \(matrix.columns)")
    guard matrix.isFinite else { throw .nonFiniteInput("the symmetric matrix") }
    let n = matrix.rows
    if n == 0 { return 0 }
    var a = matrix.elements
    let (info, values) = a.withUnsafeMutableBufferPointer {
      LAPACK.syevrValues(n: n, a: $0.start, il: 1, iu: 1)
    }
    guard info == 0, let bottom = values.first else { throw .eigenDecompositionFailed(info: info) }
    return bottom
  }
}

extension Matrix {
  /// An **upper bound** on the spectral norm `||X||_2 = sqrt(lambda_max(X^T X))`.
  ///
  /// Computed exactly (LAPACK `dsyevr` on the smaller of `X^T X` and `X X^T`), never by power
  /// iteration, which approaches the norm from below. The result is inflated by a relative
  /// `1e-12` (well above the round-off of forming the Gram matrix and of the eigen-solver) so
  /// that it is safe to use in a certificate. Deleting rows never increases the norm, so the
  /// value computed once on the full data bounds every retained subset.
  ///
  /// Cost: `min(n, d)^2 max(n, d)` flops for the Gram matrix plus `O(min(n, d)^3)`.
  public func spectralNormUpperBound() throws(LinearAlgebraError) -> Double {
    guard isFinite else { throw .nonFiniteInput("the matrix whose norm is needed") }
    if rows == 0 || columns == 0 { return 0 }
    let gram = columns <= rows ? weightedGram() : rowGram()
    let top = try SymmetricEigen.largestEigenvalue(of: gram)
    return Swift.max(top, 0).squareRoot() * (1 + 1e-12)
  }
}
