/// A Cholesky factor `A = L L^T` with rank-1 downdates kept as a low-rank (Woodbury) correction
/// instead of being swept into `L`: it represents `A_k = A - U U^T`, `U = [u_1 ... u_k]`
/// (`n x k`), without touching `L`.
///
/// With `W = L^{-1} U` (kept, `k x n` row-major, one forward substitution per appended column),
///
///     A_k = L (I - W W^T) L^T,   (I - W W^T)^{-1} = I + W C^{-1} W^T,   C = I_k - W^T W,
///
/// so `A_k^{-1} b = L^{-T} (y + W C^{-1} W^T y)` with `y = L^{-1} b`: the two triangular
/// solves of `A` plus `O(n k + k^3)`. `A_k` is positive definite exactly when the small
/// capacitance matrix `C` is, which its Cholesky factor checks at every append. The stored `L`
/// is only read, so copies of this value share it until ``fold(smallestEigenvalueAtLeast:)`` or
/// ``replaceBase(_:)`` (copy-on-write).
///
/// Cost per appended column: one forward substitution (`n^2` flops, one read of `L`; it can
/// share that read with one other right-hand side, see ``downdate(removing:alsoSolving:)``),
/// `O(n k + k^3)` for `C`. Per solve: `2 n^2 + 4 n k + O(k^2)`.
public struct LowRankDowndatedCholesky: Sendable {
  /// The factor of `A`, the matrix before the pending downdates.
  public private(set) var base: Cholesky
  /// `U^T`, the pending downdate vectors (`k x n`, row `j` is `u_j`).
  public private(set) var pendingVectors: Matrix
  /// `W^T = (L^{-1} U)^T` (`k x n`).
  private var solvedVectors: Matrix
  /// `W^T W` (`k x k`, row-major, full).
  private var gram: [Double] = []
  /// The Cholesky factor of `C = I - W^T W`, `nil` when `k = 0`.
  private var capacitance: Cholesky?
  /// The last right-hand side forward-solved along with an appended column, and `L^{-1} b`
  /// (valid while `L` is unchanged: appends do not change it).
  private var forward: (rhs: [Double], solved: [Double])?

  /// Wraps a factor with no pending downdates.
  public init(_ base: Cholesky) {
    self.base = base
    pendingVectors = Matrix(rows: 0, columns: base.dimension)
    solvedVectors = Matrix(rows: 0, columns: base.dimension)
  }

  /// The order `n`.
  public var dimension: Int { base.dimension }
  /// `k`, the pending downdates.
  public var pendingCount: Int { pendingVectors.rows }

  /// Appends the downdate `A_k -> A_k - u u^T`.
  ///
  /// - Parameters:
  ///   - u: length `n`.
  ///   - b: an optional right-hand side forward-solved together with `u`
  ///     (``Cholesky/solveLower(_:_:)``: one read of `L` for both) and remembered: a later ``solve(_:)`` of the same `b`
  ///     then reads `L` once instead of twice.
  /// - Throws: ``LinearAlgebraError/downdateLosesDefiniteness(index:)`` (index `k`) when
  ///   `A_k - u u^T` is not clearly positive definite (a pivot of `C` below `1e-6` of its
  ///   value without the downdates); the value is then unchanged.
  public mutating func downdate(removing u: [Double], alsoSolving b: [Double]? = nil)
    throws(LinearAlgebraError)
  {
    let n = dimension
    precondition(u.count == n, "LowRankDowndatedCholesky: \(u.count) entries, expected \(n)")
    var w: [Double]
    var y: [Double]?
    if let b {
      precondition(b.count == n, "LowRankDowndatedCholesky: \(b.count) entries, expected \(n)")
      (w, y) = base.solveLower(u, b)
    } else {
      w = base.solveLower(u)
    }
    let k = pendingCount
    let cross = k > 0 ? solvedVectors.multiply(w) : []
    var nextGram = [Double](repeating: 0, count: (k + 1) * (k + 1))
    for i in 0..<k {
      for j in 0..<k { nextGram[i * (k + 1) + j] = gram[i * k + j] }
      nextGram[i * (k + 1) + k] = cross[i]
      nextGram[k * (k + 1) + i] = cross[i]
    }
    nextGram[k * (k + 1) + k] = w.dot(w)
    var c = Matrix(rows: k + 1, columns: k + 1)
    for i in 0...k {
      for j in 0...k { c[i, j] = (i == j ? 1 : 0) - nextGram[i * (k + 1) + j] }
    }
    guard let factor = try? Cholesky(c),
      (0...k).allSatisfy({ factor[$0, $0] * factor[$0, $0] > 1e-12 })
    else { throw .downdateLosesDefiniteness(index: k) }
    capacitance = factor
    gram = nextGram
    pendingVectors.appendRows(of: Matrix(rows: 1, columns: n, elements: u))
    solvedVectors.appendRows(of: Matrix(rows: 1, columns: n, elements: w))
    if let b, let y { forward = (b, y) }
  }

  /// Solves `A_k x = b`: `x = L^{-T} (y + W C^{-1} W^T y)`, `y = L^{-1} b` (taken from the
  /// last ``downdate(removing:alsoSolving:)`` when `b` is the vector solved there).
  ///
  /// - Parameter b: length `n`.
  public func solve(_ b: [Double]) -> [Double] {
    precondition(b.count == dimension, "LowRankDowndatedCholesky.solve: \(b.count) entries")
    var y: [Double]
    if let forward, forward.rhs == b { y = forward.solved } else { y = base.solveLower(b) }
    if let capacitance, pendingCount > 0 {
      let s = capacitance.solve(solvedVectors.multiply(y))
      solvedVectors.multiply(s, transposed: true, beta: 1, into: &y)
    }
    return base.solveLowerTransposed(y)
  }

  /// Sweeps the pending downdates into `L` (rank-1 downdates in order, `O(k n^2)`), leaving
  /// none pending. `mu` is a lower bound on the smallest eigenvalue of every intermediate
  /// matrix (see ``Cholesky/downdate(removing:smallestEigenvalueAtLeast:)``).
  ///
  /// - Throws: ``LinearAlgebraError/downdateLosesDefiniteness(index:)``; the value is then
  ///   unusable (refactor).
  public mutating func fold(smallestEigenvalueAtLeast mu: Double) throws(LinearAlgebraError) {
    guard pendingCount > 0 else { return }
    var updated = base
    for j in 0..<pendingCount {
      try updated.downdate(removing: pendingVectors.row(j), smallestEigenvalueAtLeast: mu)
    }
    self = LowRankDowndatedCholesky(updated)
  }

  /// Replaces the whole value by a factor of `A_k` formed elsewhere (e.g. refactored from an
  /// explicitly maintained matrix), with no pending downdates.
  public mutating func replaceBase(_ factor: Cholesky) {
    precondition(factor.dimension == dimension, "replaceBase: dimension \(factor.dimension)")
    self = LowRankDowndatedCholesky(factor)
  }
}
