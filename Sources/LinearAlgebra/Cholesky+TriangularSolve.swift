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
    if dimension == 0 { return [] }
    var x = y
    let n = dimension
    factor.withUnsafeBufferPointer { f in
      x.withUnsafeMutableBufferPointer {
        LAPACK.trsvLower(n: n, factor: f.start, transpose: true, x: $0.start)
      }
    }
    return x
  }
}
