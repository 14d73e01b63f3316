extension Matrix {
  /// One pass over the rows that computes `t = X v` and then `U^T X`, where the `k x n`
  /// matrix `U` is produced from `t` block by block.
  ///
  /// For each block `B` of at most `blockRows` rows: `t_B = X_B v` (`dgemv`), then
  /// `fill(rows, t_B, U_B)` writes the `k x |B|` block of `U` (row `j` of `U_B` at
  /// `U_B[j * |B| + i]`), then `P += U_B X_B` (`dgemm`). The block of `X` is still in cache
  /// for its second use, so `X` is read from memory about once instead of twice; the result
  /// equals the two-pass `t = X v`, `P = U^T X` up to round-off.
  ///
  /// - Parameters:
  ///   - v: length `columns`.
  ///   - k: the number of rows of `U` (and of the result `P`).
  ///   - blockRows: rows per block (default 256: a 256 x 784 block of doubles is 1.6 MB).
  ///   - fill: computes the block of `U` from the block's row range and `t_B`.
  /// - Returns: `t` (length `rows`) and `P = U^T X` (`k x columns`).
  public func fusedProductPass(
    _ v: [Double], outputs k: Int, blockRows: Int = 256,
    fill: (_ rows: Range<Int>, _ t: ArraySlice<Double>, _ u: inout [Double]) -> Void
  ) -> (t: [Double], product: Matrix) {
    precondition(v.count == columns, "fusedProductPass: \(v.count) entries, expected \(columns)")
    precondition(k >= 1 && blockRows >= 1, "fusedProductPass: need k >= 1 and blockRows >= 1")
    let (n, d) = (rows, columns)
    var t = [Double](repeating: 0, count: n)
    var product = Matrix(rows: k, columns: d)
    if n == 0 || d == 0 { return (t, product) }
    var u = [Double](repeating: 0, count: k * Swift.min(blockRows, n))
    var start = 0
    while start < n {
      let count = Swift.min(blockRows, n - start)
      elements.withUnsafeBufferPointer { px in
        v.withUnsafeBufferPointer { pv in
          t.withUnsafeMutableBufferPointer { pt in
            BLAS.gemv(
              transpose: false, m: count, n: d, alpha: 1, a: px.start + start * d, lda: d,
              x: pv.start, beta: 0, y: pt.start + start)
          }
        }
      }
      if u.count != k * count { u = [Double](repeating: 0, count: k * count) }
      fill(start..<(start + count), t[start..<(start + count)], &u)
      precondition(u.count == k * count, "fusedProductPass: fill changed the block size")
      elements.withUnsafeBufferPointer { px in
        u.withUnsafeBufferPointer { pu in
          product.elements.withUnsafeMutableBufferPointer { pp in
            BLAS.gemm(
              transposeA: false, transposeB: false, m: k, n: d, k: count, alpha: 1, a: pu.start,
              lda: count, b: px.start + start * d, ldb: d, beta: 1, c: pp.start, ldc: d)
          }
        }
      }
      start += count
    }
    return (t, product)
  }
}
