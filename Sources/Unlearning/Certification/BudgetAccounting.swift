/// How certified removal charges sequential removals against the budget `epsilon'`
/// (MATH.md section 6, issue 11). An explicit, documented choice.
public enum BudgetAccounting: String, Sendable, Codable, Hashable, CaseIterable {
  /// Guo et al.'s algorithm: each removal takes the `Delta` step `v = H^{-1} Delta`, which
  /// assumes the current model is an exact optimum, so residuals add up:
  /// `spent = r_0 + sum_t beta_t` (`r_0` the training residual, `beta_t` each step's bound plus
  /// its solve inexactness `||H v - Delta||`). A step that would push `spent` above `epsilon'`
  /// triggers a retrain on the current retain set with a fresh `b`, and `spent` restarts at the
  /// new training residual.
  case paper
  /// Ours (the default): each removal takes the full-gradient step `v = -H^{-1} g`,
  /// `g = grad L_b(theta; R)` (`b` included). The residual after it is exactly
  /// `(H_avg - H) v + (H v + g)`, so the new model's certificate is this step's bound plus
  /// `||H v + g||` alone: nothing accumulates. If one step's bound exceeds `epsilon'`, further
  /// full-gradient steps are taken (each certified the same way, up to a limit) before falling
  /// back to a retrain with a fresh `b`.
  case exactStep
}

/// Which data-dependent bound on the Taylor remainder `||(H_avg - H) v||` is charged.
public enum CertificateBound: String, Sendable, Codable, Hashable, CaseIterable {
  /// Guo et al.: `gamma ||X||_2 ||v|| ||X_R v||`.
  case guo
  /// Ours: `(g3 / 2) ||X||_2 ||X_R v||_4^2` (never larger than Guo's; see Derivation.md).
  case tight
}

/// How the Newton system of a certified removal is solved. Either way the solve's inexactness
/// `||H v - rhs||` is measured with one exact Hessian-vector product and charged, so the
/// certificate stays rigorous.
public enum CertifiedRemovalSolver: Sendable, Codable, Hashable {
  /// Form the dense Hessian at the current parameters on the retain set (`O(n d^2)`) and solve
  /// by Cholesky (`O(d^3 / 3)`) at every removal.
  case direct
  /// Conjugate gradient on exact Hessian-vector products (`O(n d)` each), preconditioned by the
  /// cached Cholesky factor of an earlier Hessian; when CG needs more than
  /// `maximumIterations`, the Hessian is re-formed and re-factored at the current point
  /// (MATH.md section 6, "fast sequential removal"). Cost per removal usually `O(n d + d^2)`.
  case preconditionedConjugateGradient(tolerance: Double, maximumIterations: Int)
  /// Fast sequential removal (binary ``CertifiedRemover`` only; MATH.md section 6): a cached,
  /// downdated Cholesky factor of an earlier Hessian, the cached predictors `X theta` and the
  /// cached full gradient. A request costs `O(m d^2)` for the downdates, one `O(d^2)` solve and
  /// one fused pass over `X` (`t = X v`, then `X^T [D t, r']` block by block, giving the exact `H v`,
  /// the tight bound and the new gradient), plus refinements and refreshes as the policy says.
  /// Other removers treat it as ``default``.
  case fastSequential(FastRemovalPolicy)

  /// PCG with relative tolerance `1e-10` and at most 25 iterations before re-factoring.
  public static var `default`: CertifiedRemovalSolver {
    .preconditionedConjugateGradient(tolerance: 1e-10, maximumIterations: 25)
  }
}
