/// (Preconditioned) conjugate gradient for `A x = b` with `A` symmetric positive definite.
///
/// Each iteration costs one operator application (`A p`) plus `O(n)` vector work and one
/// preconditioner application. In exact arithmetic it terminates in at most `n` iterations;
/// with a good preconditioner (e.g. the ``Cholesky`` factor of a nearby matrix) in very few.
///
/// Stops when the recursively updated residual satisfies `||r|| <= tolerance * ||b||`; the
/// reported ``IterativeSolution/relativeResidual`` is then recomputed exactly with one more
/// operator application.
public struct ConjugateGradient: Sendable {
  /// Relative residual target `||A x - b|| / ||b||`.
  public var tolerance: Double
  /// Iteration cap; `nil` means `2 * dimension + 10` (CG's finite termination plus slack for
  /// round-off).
  public var maximumIterations: Int?

  public init(tolerance: Double = 1e-10, maximumIterations: Int? = nil) {
    precondition(tolerance > 0, "ConjugateGradient: tolerance must be positive")
    self.tolerance = tolerance
    self.maximumIterations = maximumIterations
  }

  /// Solves `A x = b`.
  ///
  /// - Parameters:
  ///   - op: `A`, symmetric positive definite.
  ///   - b: right-hand side, length `op.dimension`.
  ///   - preconditioner: `M^{-1}` with `M ~ A` (SPD), or `nil`.
  ///   - initialGuess: starting point (default zero).
  ///   - measuresTrueResidual: recompute the final residual exactly with one more operator
  ///     application (default `true`); callers that measure it themselves pass `false` and get
  ///     the recursively updated residual.
  public func solve(
    _ op: some LinearOperator, _ b: [Double], preconditioner: (any Preconditioner)? = nil,
    initialGuess: [Double]? = nil, measuresTrueResidual: Bool = true
  ) -> IterativeSolution {
    let n = op.dimension
    precondition(
      b.count == n, "ConjugateGradient: right-hand side has \(b.count) entries, expected \(n)")
    let bNorm = b.norm()
    if bNorm == 0 {
      return IterativeSolution(
        solution: [Double](repeating: 0, count: n), iterations: 0, relativeResidual: 0,
        converged: true)
    }
    var x = initialGuess ?? [Double](repeating: 0, count: n)
    precondition(
      x.count == n, "ConjugateGradient: initial guess has \(x.count) entries, expected \(n)")
    var r = initialGuess == nil ? b : b.subtracting(op.apply(x))
    var z = preconditioner?.applyInverse(r) ?? r
    var p = z
    var rz = r.dot(z)
    let cap = maximumIterations ?? (2 * n + 10)
    var iterations = 0
    var converged = r.norm() <= tolerance * bNorm
    var diverged = false
    while !converged && iterations < cap {
      let ap = op.apply(p)
      let pap = p.dot(ap)
      guard pap > 0, pap.isFinite else {
        // Not positive definite along p (or overflow): stop and report.
        diverged = !pap.isFinite
        break
      }
      let alpha = rz / pap
      x.add(p, scaledBy: alpha)
      r.add(ap, scaledBy: -alpha)
      iterations += 1
      if r.norm() <= tolerance * bNorm {
        converged = true
        break
      }
      z = preconditioner?.applyInverse(r) ?? r
      let rzNew = r.dot(z)
      let beta = rzNew / rz
      rz = rzNew
      // p = z + beta p
      p.scale(by: beta)
      p.add(z)
    }
    let trueResidual =
      measuresTrueResidual
      ? relativeResidual(of: op, solution: x, rightHandSide: b) : r.norm() / bNorm
    if !trueResidual.isFinite { diverged = true }
    // Trust the exact residual over the recursive one (they drift apart in long runs).
    converged = converged && trueResidual <= Swift.max(tolerance * 10, tolerance + 1e-14)
    return IterativeSolution(
      solution: x, iterations: iterations, relativeResidual: trueResidual, converged: converged,
      diverged: diverged)
  }
}
