extension CertifiedRemoval {
  /// How certified removal charges sequential removals against the budget `epsilon'`
  /// (Docs/Math.md section 6). An explicit, documented choice.
  public enum Accounting: String, Sendable, Codable, Hashable, CaseIterable {
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
    case exactStep = "exact-step"
  }
}

extension RemovalCertificate {
  /// Which data-dependent bound on the Taylor remainder `||(H_avg - H) v||` is charged.
  public enum Bound: String, Sendable, Codable, Hashable, CaseIterable {
    /// Guo et al.: `gamma ||X||_2 ||v|| ||X_R v||`.
    case guo
    /// Ours: `(g3 / 2) ||X||_2 ||X_R v||_4^2` (never larger than Guo's; Docs/Math.md section 6).
    case tight
  }
}
