// MARK: - Level 3 and level 2 products on Matrix

extension Matrix {
  /// The product `alpha * op(a) * op(b)` by one `dgemm` call.
  ///
  /// `op(x)` is `x` or its transpose. Shapes: `op(a)` is `m x k`, `op(b)` is `k x n`, the
  /// result `m x n`. Cost `2 m n k` flops.
  public static func product(
    _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
    alpha: Double = 1
  ) -> Matrix {
    let m = transposeA ? a.columns : a.rows
    let n = transposeB ? b.rows : b.columns
    var c = Matrix(rows: m, columns: n)
    gemm(alpha: alpha, a, b, transposeA: transposeA, transposeB: transposeB, beta: 0, into: &c)
    return c
  }

  /// `c <- alpha * op(a) * op(b) + beta * c` by one `dgemm` call (shapes as in
  /// ``product(_:_:transposeA:transposeB:alpha:)``).
  public static func gemm(
    alpha: Double = 1, _ a: Matrix, _ b: Matrix, transposeA: Bool = false,
    transposeB: Bool = false, beta: Double = 0, into c: inout Matrix
  ) {
    let m = transposeA ? a.columns : a.rows
    let k = transposeA ? a.rows : a.columns
    let kb = transposeB ? b.columns : b.rows
    let n = transposeB ? b.rows : b.columns
    precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
    precondition(
      c.rows == m && c.columns == n,
      "gemm: result is \(c.rows) x \(c.columns), expected \(m) x \(n)")
    if m == 0 || n == 0 { return }
    if k == 0 {
      c.scale(by: beta)
      return
    }
    let (lda, ldb, ldc) = (max(a.columns, 1), max(b.columns, 1), max(n, 1))
    a.elements.withUnsafeBufferPointer { pa in
      b.elements.withUnsafeBufferPointer { pb in
        c.elements.withUnsafeMutableBufferPointer { pc in
          BLAS.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: pa.start, lda: lda, b: pb.start, ldb: ldb, beta: beta,
            c: pc.start, ldc: ldc)
        }
      }
    }
  }

  /// The matrix-vector product `alpha * op(self) * x` by one `dgemv` call.
  ///
  /// - Parameters:
  ///   - x: length `columns` (or `rows` when `transposed`).
  ///   - transposed: multiply by the transpose.
  ///   - alpha: the scale of the product.
  /// - Returns: length `rows` (or `columns` when `transposed`). Cost `2 rows columns` flops.
  public func multiply(_ x: [Double], transposed: Bool = false, alpha: Double = 1) -> [Double] {
    var y = [Double](repeating: 0, count: transposed ? columns : rows)
    multiply(x, transposed: transposed, alpha: alpha, beta: 0, into: &y)
    return y
  }

  /// `y <- alpha * op(self) * x + beta * y` by one `dgemv` call.
  public func multiply(
    _ x: [Double], transposed: Bool = false, alpha: Double = 1, beta: Double, into y: inout [Double]
  ) {
    let xCount = transposed ? rows : columns
    let yCount = transposed ? columns : rows
    precondition(x.count == xCount, "gemv: vector has \(x.count) entries, expected \(xCount)")
    precondition(y.count == yCount, "gemv: result has \(y.count) entries, expected \(yCount)")
    if yCount == 0 { return }
    if xCount == 0 {
      y.scale(by: beta)
      return
    }
    elements.withUnsafeBufferPointer { pa in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          BLAS.gemv(
            transpose: transposed, m: rows, n: columns, alpha: alpha, a: pa.start,
            lda: columns, x: px.start, beta: beta, y: py.start)
        }
      }
    }
  }

  /// `A x` for a square matrix `A = self` that is symmetric, by one `dsymv` call that reads only
  /// the upper triangle (row-major, diagonal included): half the memory traffic of
  /// ``multiply(_:transposed:alpha:)``, `2 n^2` flops. The strict lower triangle is never read,
  /// so it may hold anything.
  ///
  /// - Parameter x: length `rows`.
  /// - Returns: length `rows`.
  public func symmetricMultiply(_ x: [Double]) -> [Double] {
    precondition(isSquare, "symmetricMultiply: matrix is \(rows) x \(columns)")
    precondition(x.count == rows, "symmetricMultiply: \(x.count) entries, expected \(rows)")
    var y = [Double](repeating: 0, count: rows)
    if rows == 0 { return y }
    elements.withUnsafeBufferPointer { pa in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          BLAS.symvUpper(
            n: rows, alpha: 1, a: pa.start, lda: columns, x: px.start, beta: 0, y: py.start)
        }
      }
    }
    return y
  }

  /// Adds `alpha * A^T A` to the **upper triangle** (row-major, diagonal included) of this square
  /// matrix by one `dsyrk` call (`d^2 k` flops for a `k x d` matrix `A`, half of the equivalent
  /// `gemm`); the strict lower triangle is not touched. Pairs with ``symmetricMultiply(_:)``.
  ///
  /// - Parameters:
  ///   - a: `k x columns`.
  ///   - alpha: the scale of `A^T A` (e.g. `-1` to remove rows from a Gram matrix).
  public mutating func addUpperGram(of a: Matrix, scaledBy alpha: Double) {
    precondition(isSquare, "addUpperGram: matrix is \(rows) x \(columns)")
    precondition(a.columns == columns, "addUpperGram: \(a.columns) columns, expected \(columns)")
    if rows == 0 || a.rows == 0 { return }
    let (n, k) = (columns, a.rows)
    a.elements.withUnsafeBufferPointer { pa in
      elements.withUnsafeMutableBufferPointer { pc in
        BLAS.syrkTransposed(
          n: n, k: k, alpha: alpha, a: pa.start, lda: n, beta: 1, c: pc.start, ldc: n)
      }
    }
  }

  /// The weighted Gram matrix `X^T diag(w) X` (`columns x columns`, both triangles filled).
  ///
  /// Built with `dsyrk` on row blocks of `sqrt(|w_i|) x_i` (at most `blockRows x columns`
  /// scratch, never a full copy of `X`); negative weights are accumulated with a negative
  /// `alpha`, zero weights are skipped. With `weights == nil` every weight is 1 and no scratch
  /// is used. Cost `n d^2` flops (half of the equivalent `gemm`).
  ///
  /// - Parameters:
  ///   - weights: length `rows`, or `nil` for all ones.
  ///   - blockRows: rows per `syrk` call.
  public func weightedGram(weights: [Double]? = nil, blockRows: Int = 2048) -> Matrix {
    let d = columns
    var c = Matrix(rows: d, columns: d)
    if d == 0 || rows == 0 { return c }
    c.elements.withUnsafeMutableBufferPointer { pc in
      elements.withUnsafeBufferPointer { px in
        guard let weights else {
          BLAS.syrkTransposed(
            n: d, k: rows, alpha: 1, a: px.start, lda: d, beta: 0, c: pc.start, ldc: d)
          return
        }
        precondition(
          weights.count == rows, "weightedGram: \(weights.count) weights for \(rows) rows")
        var scratch = [Double](repeating: 0, count: Swift.min(blockRows, rows) * d)
        for sign in [1.0, -1.0] {
          var start = 0
          while start < rows {
            var filled = 0
            var i = start
            while i < rows && filled < blockRows {
              let w = weights[i] * sign
              if w > 0 {
                let s = w.squareRoot()
                let src = px.start + i * d
                scratch.withUnsafeMutableBufferPointer { ps in
                  let dst = ps.start + filled * d
                  for j in 0..<d { dst[j] = s * src[j] }
                }
                filled += 1
              }
              i += 1
            }
            if filled > 0 {
              scratch.withUnsafeBufferPointer { ps in
                BLAS.syrkTransposed(
                  n: d, k: filled, alpha: sign, a: ps.start, lda: d, beta: 1,
                  c: pc.start, ldc: d)
              }
            }
            start = i
          }
        }
      }
    }
    c.symmetrizeFromUpper()
    return c
  }

  /// The Gram matrix of the rows, `X X^T` (`rows x rows`, both triangles filled), by `dsyrk`.
  public func rowGram() -> Matrix {
    let n = rows
    var c = Matrix(rows: n, columns: n)
    if n == 0 || columns == 0 { return c }
    c.elements.withUnsafeMutableBufferPointer { pc in
      elements.withUnsafeBufferPointer { px in
        BLAS.syrk(
          n: n, k: columns, alpha: 1, a: px.start, lda: columns, beta: 0, c: pc.start, ldc: n)
      }
    }
    c.symmetrizeFromUpper()
    return c
  }

  /// Multiplies every element by `alpha` (`dscal`).
  public mutating func scale(by alpha: Double) {
    elements.scale(by: alpha)
  }

  /// `self <- self + alpha * other` (`daxpy` over the elements; same shape required).
  public mutating func add(_ other: Matrix, scaledBy alpha: Double = 1) {
    precondition(rows == other.rows && columns == other.columns, "Matrix.add: shapes differ")
    elements.add(other.elements, scaledBy: alpha)
  }

  /// Multiplies row `i` by `factors[i]` (in place).
  public mutating func scaleRows(by factors: [Double]) {
    precondition(factors.count == rows, "scaleRows: \(factors.count) factors for \(rows) rows")
    let (n, d) = (rows, columns)
    elements.withUnsafeMutableBufferPointer { p in
      for i in 0..<n {
        BLAS.scal(d, factors[i], p.start + i * d)
      }
    }
  }

  /// The Euclidean norm of every row (length `rows`).
  public func rowNorms() -> [Double] {
    let d = columns
    return elements.withUnsafeBufferPointer { p in
      (0..<rows).map { d == 0 ? 0 : BLAS.nrm2(d, p.start + $0 * d) }
    }
  }
}

// MARK: - Level 1 operations on vectors ([Double])

extension Array where Element == Double {
  /// The inner product `x^T y` (`ddot`).
  public func dot(_ other: [Double]) -> Double {
    precondition(count == other.count, "dot: lengths \(count) and \(other.count) differ")
    if isEmpty { return 0 }
    return withUnsafeBufferPointer { px in
      other.withUnsafeBufferPointer { py in BLAS.dot(count, px.start, py.start) }
    }
  }

  /// The Euclidean norm `||x||_2` (`dnrm2`, safe against overflow).
  public func norm() -> Double {
    if isEmpty { return 0 }
    return withUnsafeBufferPointer { BLAS.nrm2(count, $0.start) }
  }

  /// `self <- self + alpha * x` (`daxpy`).
  public mutating func add(_ x: [Double], scaledBy alpha: Double = 1) {
    precondition(count == x.count, "axpy: lengths \(x.count) and \(count) differ")
    if isEmpty { return }
    let n = count
    x.withUnsafeBufferPointer { px in
      withUnsafeMutableBufferPointer { py in BLAS.axpy(n, alpha, px.start, py.start) }
    }
  }

  /// `self <- alpha * self` (`dscal`).
  public mutating func scale(by alpha: Double) {
    if isEmpty { return }
    let n = count
    withUnsafeMutableBufferPointer { BLAS.scal(n, alpha, $0.start) }
  }

  /// `self + alpha * x` as a new vector.
  public func adding(_ x: [Double], scaledBy alpha: Double = 1) -> [Double] {
    var y = self
    y.add(x, scaledBy: alpha)
    return y
  }

  /// `self - x` as a new vector.
  public func subtracting(_ x: [Double]) -> [Double] { adding(x, scaledBy: -1) }

  /// `alpha * self` as a new vector.
  public func scaled(by alpha: Double) -> [Double] {
    var y = self
    y.scale(by: alpha)
    return y
  }

  /// `||self - other|| <= relativeTolerance * max(||self||, ||other||)`.
  public func isApproximatelyEqual(to other: [Double], relativeTolerance: Double) -> Bool {
    guard count == other.count else { return false }
    return subtracting(other).norm() <= relativeTolerance * Swift.max(norm(), other.norm())
  }
}

/// Facts about the BLAS library in use.
public enum BLASInfo {
  /// Number of threads OpenBLAS runs level-3 calls on.
  ///
  /// Threading rule of this package: OpenBLAS is threaded (it uses every core it is given);
  /// Swift code around it is serial. Set `OPENBLAS_NUM_THREADS` to change it.
  public static var threadCount: Int { BLAS.threadCount }

  /// Runs `body` with OpenBLAS limited to `count` threads (at least 1), then restores the
  /// previous count. For work that is parallel above BLAS (independent model fits on every
  /// core): threaded BLAS calls from several threads at once oversubscribe the cores and spin.
  /// The setting is process-wide, so nothing else should call BLAS meanwhile.
  public static func withThreadCount<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
    let previous = BLAS.threadCount
    BLAS.setThreadCount(Swift.max(1, count))
    defer { BLAS.setThreadCount(previous) }
    return try body()
  }

  /// The CPU kernel family OpenBLAS chose at load time (e.g. `"SkylakeX"`, `"Haswell"`). On some
  /// virtual machines its detection falls back to `"Prescott"` (plain SSE3), several times
  /// slower; `OPENBLAS_CORETYPE=SkylakeX` (or `Haswell`) then selects the right kernels.
  public static var coreName: String { BLAS.coreName }
}
