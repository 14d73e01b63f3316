extension CertifiedRemoval {
  /// Certified removal below one pass over the data (Docs/Math.md section 6.10): when
  /// ``CertifiedRemoval/FastRemovalPolicy/amortisedSteps`` is set, a request first tries an `O(d^2)` step that
  /// never reads `X`.
  ///
  /// The cheap step is a paper-accounting `Delta` step `v = M^{-1} Delta` with the cached
  /// (downdated) factor of the Hessian at an earlier point `theta~`, `M` the explicitly stored
  /// dense matrix of that factor with the current regulariser. Its charge, added to the head's
  /// running sum, is
  ///
  ///     ||M v - Delta|| + ||X|| g3 (||theta - theta~|| + ||v|| / 2) sqrt(v^T G_R v) + round-off,
  ///
  /// with `G_R = X_R^T X_R` kept by rank-1 downdates: `O(d^2)` per head, `O(m d^2)` for the `m`
  /// removed rows, no pass over `X`. When the running sum would pass ``budgetFraction`` of the
  /// budget, the request instead takes one exact full-gradient step (one or two passes over `X`),
  /// which resets each head's certified residual to that step's own bound (Theorem 6.1). When
  /// fewer than ``minimumCheapSteps`` cheap steps fitted between two exact steps, the exact step
  /// also rebuilds and refactors the Hessian at the current parameters (a new `theta~`), since
  /// the drift term `||theta - theta~||` has made the cheap steps too expensive.
  ///
  /// Extra memory: two dense `d x d` matrices per head (the stored `M` and `G_R`).
  public struct AmortisedStepPolicy: Sendable, Codable, Hashable {
    /// Take cheap steps while the certified residual stays at most this fraction of the budget
    /// `epsilon'` (default `0.9`); `(0, 1]`.
    ///
    /// The guarantee needs only every released certificate to be at most `epsilon'`, and an
    /// exact step resets the residual to its own bound rather than adding to it, so the
    /// fraction changes speed, not privacy: a larger one fits more cheap steps between exact
    /// steps (Fashion-MNIST 0 vs 6, 1,000 single removals: 19 exact steps at 0.9 against 30 at
    /// 0.5, `unlearn bench --only amortised`). It stays below 1 so that the step that crosses
    /// it is still taken exactly, with a tight bound, rather than retraining.
    public var budgetFraction: Double
    /// Refactor at the exact step when fewer than this many cheap steps fitted since the previous
    /// exact step (default 8); `>= 0` (`0` never refactors for drift).
    public var minimumCheapSteps: Int

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - budgetFraction: `(0, 1]`; see ``budgetFraction``.
    ///   - minimumCheapSteps: `>= 0`; see ``minimumCheapSteps``.
    public init(budgetFraction: Double = 0.9, minimumCheapSteps: Int = 8) {
      self.budgetFraction = budgetFraction
      self.minimumCheapSteps = minimumCheapSteps
    }

    /// The default policy (0.9 of the budget, refactor below 8 cheap steps per exact step).
    public static var `default`: CertifiedRemoval.AmortisedStepPolicy {
      CertifiedRemoval.AmortisedStepPolicy()
    }

    /// Checks the fields.
    func validate() throws(UnlearningError) {
      guard budgetFraction > 0, budgetFraction <= 1 else {
        throw .invalidArgument("amortised budgetFraction must be in (0, 1], got \(budgetFraction)")
      }
      guard minimumCheapSteps >= 0 else {
        throw .invalidArgument(
          "amortised minimumCheapSteps must be >= 0, got \(minimumCheapSteps)")
      }
    }
  }
}
