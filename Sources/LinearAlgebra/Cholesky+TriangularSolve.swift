extension Cholesky {
  /// Solves `L Y = B` (forward substitution with the factor alone) for a row-major `n x k`
  /// right-hand side, by one `dtrsm` call (`n^2 k` flops, no transposing copies).
  ///
  /// Column `j` of `Y` satisfies `||Y[:, j]||^2 = B[:, j]^T A^{-1} B[:, j]`: the quadratic forms
  /// of many vectors at half the cost of a full solve, and non-negative by construction.
  ///
  /// - Parameter b: `dimension x k`, row-major.
  /// - Returns: `Y = L^{-1} B`, `dimension x k`.
  public func solveLower(_ b: Matrix) -> Matrix {
    precondition(b.rows == dimension, "Cholesky.solveLower: \(b.rows) rows, expected \(dimension)")
    var y = b
    if dimension == 0 || b.columns == 0 { return y }
    let (n, k) = (dimension, b.columns)
    factor.withUnsafeBufferPointer { f in
      y.elements.withUnsafeMutableBufferPointer { py in
        LAPACK.trsmLowerRowMajorRHS(n: n, k: k, factor: f.start, transposeL: false, b: py.start)
      }
    }
    return y
  }

  /// Solves `L^T x = y` (back substitution with the factor alone, one `dtrsv`): with
  /// `solveLower`, `x = A^{-1} b` for `y = L^{-1} b`.
  ///
  /// - Parameter y: length `dimension`.
  public func solveLowerTransposed(_ y: [Double]) -> [Double] {
    precondition(
      y.count == dimension,
      "Cholesky.solveLowerTransposed: \(y.count) entries, expected \(dimension)")
    return triangularSolve(y, transposed: true)
  }

  /// `L^{-1} b` or `L^{-T} b` by one `dtrsv` (lengths checked by the callers).
  func triangularSolve(_ b: [Double], transposed: Bool) -> [Double] {
    if dimension == 0 { return [] }
    var x = b
    let n = dimension
    factor.withUnsafeBufferPointer { f in
      x.withUnsafeMutableBufferPointer {
        LAPACK.trsvLower(n: n, factor: f.start, transpose: transposed, x: $0.start)
      }
    }
    return x
  }

  /// Solves `L y = a` and `L z = b` together, reading `L` from memory once (forward
  /// substitution by blocks of 64 columns: `dtrsv` on each diagonal block, then one `dgemm` with
  /// two columns, OpenBLAS's unthreaded small-matrix kernel, on the panel below it). Same cost in
  /// flops as two one-vector forward substitutions, about half the memory traffic.
  ///
  /// - Parameters:
  ///   - a: length `dimension`.
  ///   - b: length `dimension`.
  public func solveLower(_ a: [Double], _ b: [Double]) -> (first: [Double], second: [Double]) {
    let n = dimension
    precondition(a.count == n && b.count == n, "Cholesky.solveLower: expected \(n) entries")
    if n == 0 { return ([], []) }
    var y = a + b  // column-major n x 2
    let block = 64
    factor.withUnsafeBufferPointer { f in
      y.withUnsafeMutableBufferPointer { py in
        var j = 0
        while j < n {
          let m = Swift.min(block, n - j)
          let diagonal = f.start + j + j * n
          LAPACK.trsvLowerBlock(n: m, factor: diagonal, lda: n, x: py.start + j)
          LAPACK.trsvLowerBlock(n: m, factor: diagonal, lda: n, x: py.start + n + j)
          let rest = n - j - m
          if rest > 0 {
            LAPACK.gemmSubtractColumnMajor(
              m: rest, n: 2, k: m, a: diagonal + m, lda: n, b: py.start + j, c: py.start + j + m,
              ldb: n)
          }
          j += m
        }
      }
    }
    return (Array(y[0..<n]), Array(y[n...]))
  }
}
