import Dispatch

extension Matrix {
  /// One pass over the rows that computes `t = X v` and then `U^T X`, where the `k x n`
  /// matrix `U` is produced from `t` block by block.
  ///
  /// For each block `B` of at most `blockRows` rows: `t_B = X_B v` (a one-column `dgemm`), then
  /// `fill(rows, t_B, U_B)` writes the `k x |B|` block of `U` (row `j` of `U_B` at
  /// `U_B[j * |B| + i]`), then `P += U_B X_B` (`dgemm`). The block of `X` is still in cache
  /// for its second use, so `X` is read from memory about once instead of twice; the result
  /// equals the two-pass `t = X v`, `P = U^T X` up to round-off.
  ///
  /// With `threads > 1` the rows are cut into `4 threads` contiguous ranges (whole blocks),
  /// handed out to the cores as they become free (a core slowed by other processes takes
  /// fewer), each run through the loop above with its own partial `P`; the partials are added
  /// in range order. So the result depends on `threads` but not on the scheduling: `t` is the
  /// same bits, `P` differs from the one-thread result only by the order of its row sums
  /// (round-off; any worst-case summation bound over the `n` rows covers every order). One core
  /// does not saturate the memory bandwidth of a pass over `X`.
  ///
  /// - Parameters:
  ///   - v: length `columns`.
  ///   - k: the number of rows of `U` (and of the result `P`).
  ///   - blockRows: rows per block (default 256: a 256 x 784 block of doubles is 1.6 MB).
  ///   - threads: cores to split the rows over (default 1).
  ///   - fill: computes the block of `U` from the block's row range and `t_B`; called
  ///     concurrently for disjoint blocks when `threads > 1`.
  /// - Returns: `t` (length `rows`) and `P = U^T X` (`k x columns`).
  public func fusedProductPass(
    _ v: [Double], outputs k: Int, blockRows: Int = 256, threads: Int = 1,
    fill: @Sendable (_ rows: Range<Int>, _ t: ArraySlice<Double>, _ u: inout [Double]) -> Void
  ) -> (t: [Double], product: Matrix) {
    precondition(v.count == columns, "fusedProductPass: \(v.count) entries, expected \(columns)")
    precondition(k >= 1 && blockRows >= 1, "fusedProductPass: need k >= 1 and blockRows >= 1")
    let (n, d) = (rows, columns)
    var t = [Double](repeating: 0, count: n)
    var product = Matrix(rows: k, columns: d)
    if n == 0 || d == 0 { return (t, product) }
    let blocks = (n + blockRows - 1) / blockRows
    let parts = threads > 1 ? Swift.min(4 * threads, blocks) : 1
    if parts == 1 {
      elements.withUnsafeBufferPointer { px in
        product.elements.withUnsafeMutableBufferPointer { pp in
          Self.fusedRange(
            0..<n, x: px.start, d: d, v: v, k: k, blockRows: blockRows, t: &t,
            product: pp.start, fill: fill)
        }
      }
      return (t, product)
    }
    // Range p covers blocks [p * blocks / parts, (p + 1) * blocks / parts).
    let ranges = (0..<parts).map { p in
      (p * blocks / parts * blockRows)..<Swift.min((p + 1) * blocks / parts * blockRows, n)
    }
    var partials = [Double](repeating: 0, count: parts * k * d)
    elements.withUnsafeBufferPointer { px in
      t.withUnsafeMutableBufferPointer { pt in
        partials.withUnsafeMutableBufferPointer { pp in
          // Each range fills its own t (indexed by row, as fill expects) and its own partial,
          // then copies its rows of t out: the workers write disjoint memory.
          let (x, tOut, partial) = (
            SendablePointer(px.start), SendablePointer(pt.start), SendablePointer(pp.start)
          )
          DispatchQueue.concurrentPerform(iterations: parts) { p in
            let rows = ranges[p]
            var own = [Double](repeating: 0, count: n)
            Self.fusedRange(
              rows, x: x.pointer, d: d, v: v, k: k, blockRows: blockRows, t: &own,
              product: partial.pointer + p * k * d, fill: fill)
            own.withUnsafeBufferPointer { po in
              (tOut.pointer + rows.lowerBound).update(
                from: po.start + rows.lowerBound, count: rows.count)
            }
          }
        }
      }
    }
    for p in 0..<parts {
      for i in 0..<(k * d) { product.elements[i] += partials[p * k * d + i] }
    }
    return (t, product)
  }

  /// The block loop of ``fusedProductPass(_:outputs:blockRows:threads:fill:)`` over `range`:
  /// writes `t[range]` and adds `U_range^T X_range` into `product` (`k x d`).
  private static func fusedRange(
    _ range: Range<Int>, x: UnsafePointer<Double>, d: Int, v: [Double], k: Int, blockRows: Int,
    t: inout [Double], product: UnsafeMutablePointer<Double>,
    fill: (_ rows: Range<Int>, _ t: ArraySlice<Double>, _ u: inout [Double]) -> Void
  ) {
    var u = [Double](repeating: 0, count: k * Swift.min(blockRows, range.count))
    var start = range.lowerBound
    while start < range.upperBound {
      let count = Swift.min(blockRows, range.upperBound - start)
      // t_B = X_B v as a one-column dgemm: OpenBLAS's small-matrix kernel, unthreaded (its
      // dgemv splits every block over its own threads, whose hand-offs cost more than the
      // block on a busy machine).
      v.withUnsafeBufferPointer { pv in
        t.withUnsafeMutableBufferPointer { pt in
          BLAS.gemm(
            transposeA: false, transposeB: false, m: count, n: 1, k: d, alpha: 1,
            a: x + start * d, lda: d, b: pv.start, ldb: 1, beta: 0, c: pt.start + start, ldc: 1)
        }
      }
      if u.count != k * count { u = [Double](repeating: 0, count: k * count) }
      fill(start..<(start + count), t[start..<(start + count)], &u)
      precondition(u.count == k * count, "fusedProductPass: fill changed the block size")
      u.withUnsafeBufferPointer { pu in
        BLAS.gemm(
          transposeA: false, transposeB: false, m: k, n: d, k: count, alpha: 1, a: pu.start,
          lda: count, b: x + start * d, ldb: d, beta: 1, c: product, ldc: d)
      }
      start += count
    }
  }
}

/// A raw pointer handed to worker threads that touch disjoint parts of its memory.
private struct SendablePointer<T>: @unchecked Sendable {
  let pointer: T
  init(_ pointer: T) { self.pointer = pointer }
}
