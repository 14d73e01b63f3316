/// The Cholesky factorisation `A = L L^T` of a symmetric positive definite matrix.
///
/// Factor once (`dpotrf`, `n^3 / 3` flops), then solve for any number of right-hand sides
/// (`dpotrs` / `dtrsm`, `2 n^2` flops each). The factor can be modified by rank-1 terms in
/// `O(n^2)` without refactoring: ``update(adding:)`` turns it into the factor of `A + x x^T`,
/// ``downdate(removing:)`` into that of `A - x x^T` (used when training rows leave a Hessian).
///
/// Storage: `L` column-major in an `n x n` array, i.e. the row-major upper triangle `L^T`; the
/// strict upper part (column-major) is zero. A value type: copies are independent.
public struct Cholesky: Sendable {
  /// The order `n` of the factored matrix.
  public let dimension: Int
  /// `L` in column-major order (lower triangle; zeros above).
  public private(set) var factor: [Double]

  /// Factors the symmetric positive definite `matrix` (only its upper row-major triangle, that is
  /// its lower column-major triangle, is read).
  ///
  /// - Throws: ``LinearAlgebraError/notPositiveDefinite(pivot:dimension:)`` naming the first
  ///   leading minor that is not positive; ``LinearAlgebraError/nonFiniteInput(_:)`` for NaN/inf.
  public init(_ matrix: Matrix) throws(LinearAlgebraError) {
    precondition(matrix.isSquare, "Cholesky: matrix is \(matrix.rows) x \(matrix.columns)")
    guard matrix.isFinite else { throw .nonFiniteInput("the matrix to factor") }
    let n = matrix.rows
    var a = matrix.elements
    let info: Int =
      n == 0 ? 0 : a.withUnsafeMutableBufferPointer { LAPACK.potrf(n: n, a: $0.start) }
    if info > 0 { throw .notPositiveDefinite(pivot: info, dimension: n) }
    precondition(info == 0, "dpotrf: illegal argument \(-info)")
    // Zero the strict upper triangle (column-major) so the array is exactly L.
    for j in 0..<n {
      for i in 0..<j { a[i + j * n] = 0 }
    }
    self.dimension = n
    self.factor = a
  }

  /// Factors like ``init(_:)``, by right-looking blocks of `blockSize` columns: `dpotrf` on
  /// each diagonal block, `dtrsm` on the panel below it, `dsyrk` on the trailing matrix. The
  /// same factor up to round-off, in large BLAS-3 calls: about twice as fast as one `dpotrf` call
  /// at `n = 784` on two cores (measured with OpenBLAS 0.3.21).
  ///
  /// - Throws: as ``init(_:)`` (the pivot is counted from the start of the whole matrix).
  public init(blocked matrix: Matrix, blockSize: Int = 64) throws(LinearAlgebraError) {
    precondition(matrix.isSquare, "Cholesky: matrix is \(matrix.rows) x \(matrix.columns)")
    precondition(blockSize >= 1, "Cholesky: blockSize must be >= 1")
    guard matrix.isFinite else { throw .nonFiniteInput("the matrix to factor") }
    let n = matrix.rows
    var a = matrix.elements
    var failed = 0
    a.withUnsafeMutableBufferPointer { pa in
      guard n > 0 else { return }
      var k = 0
      while k < n {
        let m = Swift.min(blockSize, n - k)
        let diagonal = pa.start + k + k * n
        let info = LAPACK.potrfBlock(n: m, a: diagonal, lda: n)
        if info != 0 {
          failed = info > 0 ? k + info : info
          return
        }
        let rest = n - k - m
        if rest > 0 {
          LAPACK.trsmRightLowerTransposed(
            m: rest, n: m, factor: diagonal, b: diagonal + m, lda: n)
          LAPACK.syrkLowerSubtract(
            n: rest, k: m, a: diagonal + m, c: diagonal + m + m * n, lda: n)
        }
        k += m
      }
    }
    if failed > 0 { throw .notPositiveDefinite(pivot: failed, dimension: n) }
    precondition(failed == 0, "dpotrf: illegal argument \(-failed)")
    for j in 0..<n {
      for i in 0..<j { a[i + j * n] = 0 }
    }
    self.dimension = n
    self.factor = a
  }

  /// Element `L[i, j]` of the lower-triangular factor.
  public subscript(i: Int, j: Int) -> Double { factor[i + j * dimension] }

  /// `L` as a row-major ``Matrix``.
  public var lower: Matrix {
    Matrix(rows: dimension, columns: dimension, elements: factor).transposed()
  }

  /// `L L^T`, the matrix this factor represents (`O(n^3)`; for checks).
  public func reconstructed() -> Matrix {
    let l = lower
    return Matrix.product(l, l, transposeB: true)
  }

  /// Solves `A x = b` by two triangular solves (`dtrsv`, `2 n^2` flops; the factor is known to
  /// be finite, so LAPACKE's `O(n^2)` NaN scans of it are skipped).
  ///
  /// - Parameter b: length `dimension`.
  public func solve(_ b: [Double]) -> [Double] {
    precondition(b.count == dimension, "Cholesky.solve: \(b.count) entries, expected \(dimension)")
    if dimension == 0 { return [] }
    var x = b
    let n = dimension
    factor.withUnsafeBufferPointer { f in
      x.withUnsafeMutableBufferPointer {
        LAPACK.trsvLower(n: n, factor: f.start, transpose: false, x: $0.start)
        LAPACK.trsvLower(n: n, factor: f.start, transpose: true, x: $0.start)
      }
    }
    return x
  }

  /// Solves `A X = B` for a row-major `n x k` right-hand side (two `dtrsm` calls, `2 n^2 k`
  /// flops, no transposing copies).
  public func solve(_ b: Matrix) -> Matrix {
    precondition(b.rows == dimension, "Cholesky.solve: \(b.rows) rows, expected \(dimension)")
    var x = b
    if dimension == 0 || b.columns == 0 { return x }
    let (n, k) = (dimension, b.columns)
    factor.withUnsafeBufferPointer { f in
      x.elements.withUnsafeMutableBufferPointer { px in
        LAPACK.trsmLowerRowMajorRHS(n: n, k: k, factor: f.start, transposeL: false, b: px.start)
        LAPACK.trsmLowerRowMajorRHS(n: n, k: k, factor: f.start, transposeL: true, b: px.start)
      }
    }
    return x
  }

  /// Solves `L y = b` (forward substitution): `||y||^2 = b^T A^{-1} b`.
  public func solveLower(_ b: [Double]) -> [Double] {
    precondition(
      b.count == dimension, "Cholesky.solveLower: \(b.count) entries, expected \(dimension)")
    return triangularSolve(b, transposed: false)
  }

  /// `log det A = 2 sum_i log L_ii`.
  public var logDeterminant: Double {
    var s = 0.0
    for i in 0..<dimension { s += Double.log(factor[i + i * dimension]) }
    return 2 * s
  }

  /// Turns this into the factor of `A + x x^T` (`O(n^2)`, by Givens-like column sweeps).
  public mutating func update(adding x: [Double]) {
    precondition(x.count == dimension, "Cholesky.update: \(x.count) entries, expected \(dimension)")
    var work = x
    let ok = Self.rankOne(&factor, n: dimension, work: &work, sign: 1)
    precondition(ok, "Cholesky.update cannot fail for a positive definite factor")
  }

  /// Turns this into the factor of `A - x x^T` (`O(n^2)`).
  ///
  /// `A - x x^T` is positive definite exactly when `||L^{-1} x|| < 1`; that is checked first
  /// (one `dtrsv`). With a clear margin (`||L^{-1} x||^2 <= 0.99`, so no pivot shrinks by more
  /// than 10x) the sweep runs in place; closer to the boundary it runs on a copy that replaces
  /// the factor only on success.
  ///
  /// - Throws: ``LinearAlgebraError/downdateLosesDefiniteness(index:)`` when `A - x x^T` is not
  ///   (numerically) positive definite; the factor is then left unchanged.
  public mutating func downdate(removing x: [Double]) throws(LinearAlgebraError) {
    precondition(
      x.count == dimension, "Cholesky.downdate: \(x.count) entries, expected \(dimension)")
    let p = solveLower(x)
    var cumulative = 0.0
    var failing: Int?
    for (i, value) in p.enumerated() {
      cumulative += value * value
      if !(cumulative < 1) {
        failing = i
        break
      }
    }
    if let failing { throw .downdateLosesDefiniteness(index: failing) }
    var work = x
    if cumulative <= 0.99 {
      let ok = Self.rankOne(&factor, n: dimension, work: &work, sign: -1)
      // Every new pivot is at least 0.1 of the old one here, far above the sweep's guard.
      precondition(ok, "Cholesky.downdate: an in-place sweep with margin cannot fail")
      return
    }
    var candidate = factor
    guard Self.rankOne(&candidate, n: dimension, work: &work, sign: -1) else {
      throw .downdateLosesDefiniteness(index: work.firstIndex(where: { $0.isNaN }) ?? 0)
    }
    factor = candidate
  }

  /// Turns this into the factor of `A - x x^T` (`O(n^2)`, one sweep over the factor) when the
  /// caller knows a lower bound `mu > 0` on the smallest eigenvalue of `A`: if
  /// `||x||^2 <= mu / 4`, then `x^T A^{-1} x <= 1 / 4` and the definiteness check of
  /// ``downdate(removing:)`` (one more `dtrsv`, a second read of the factor) is skipped; otherwise
  /// this is ``downdate(removing:)``.
  ///
  /// `mu` must bound the matrix the factor represents, `L L^T`, not only the exact matrix it
  /// approximates; a regulariser `mu I` added before factoring qualifies while the accumulated
  /// round-off of the factor stays far below `mu / 2`.
  ///
  /// - Throws: ``LinearAlgebraError/downdateLosesDefiniteness(index:)`` when `A - x x^T` is not
  ///   (numerically) positive definite. After a failure on the unchecked path (which means
  ///   `mu` was not a valid bound) the factor is unusable: refactor.
  public mutating func downdate(removing x: [Double], smallestEigenvalueAtLeast mu: Double)
    throws(LinearAlgebraError)
  {
    precondition(
      x.count == dimension, "Cholesky.downdate: \(x.count) entries, expected \(dimension)")
    let squaredNorm = x.withUnsafeBufferPointer { BLAS.dot(dimension, $0.start, $0.start) }
    guard mu > 0, mu.isFinite, squaredNorm <= 0.25 * mu else {
      try downdate(removing: x)
      return
    }
    var work = x
    guard Self.rankOne(&factor, n: dimension, work: &work, sign: -1) else {
      throw .downdateLosesDefiniteness(index: work.firstIndex(where: { $0.isNaN }) ?? 0)
    }
  }

  /// The rank-1 sweep shared by update (`sign = 1`) and downdate (`sign = -1`). Returns `false`
  /// (with `work[0]` set to NaN at the failing index) if a diagonal would become non-positive.
  private static func rankOne(_ l: inout [Double], n: Int, work x: inout [Double], sign: Double)
    -> Bool
  {
    if n == 0 { return true }
    return l.withUnsafeMutableBufferPointer { pl in
      x.withUnsafeMutableBufferPointer { px in
        let base = pl.start
        let xb = px.start
        for k in 0..<n {
          let lkk = base[k + k * n]
          let xk = xb[k]
          let r2 = lkk * lkk + sign * xk * xk
          // A pivot must stay clearly positive (relative to its old value) to stay well posed.
          guard r2 > lkk * lkk * 1e-14, r2.isFinite else {
            xb[k] = .nan
            return false
          }
          let r = r2.squareRoot()
          let c = r / lkk
          let s = xk / lkk
          base[k + k * n] = r
          let m = n - k - 1
          if m > 0 {
            let col = base + (k + 1) + k * n
            let xs = xb + (k + 1)
            BLAS.axpy(m, sign * s, xs, col)  // col += sign * s * x
            BLAS.scal(m, 1 / c, col)  // col /= c
            BLAS.scal(m, c, xs)  // x = c * x - s * col
            BLAS.axpy(m, -s, col, xs)
          }
        }
        return true
      }
    }
  }
}

extension Cholesky: Preconditioner {
  /// Applies `A^{-1}` (a solve): the factor as a preconditioner for conjugate gradient.
  public func applyInverse(_ r: [Double]) -> [Double] { solve(r) }
}
