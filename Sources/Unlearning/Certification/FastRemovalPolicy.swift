extension CertifiedRemoval {
  /// When the fast sequential certified remover (``NewtonSolver/downdatedFactor(_:)``)
  /// refines a step or rebuilds its cached Hessian factor (Docs/Math.md section 6, "Fast sequential
  /// removal").
  ///
  /// The fast path keeps a Cholesky factor `H~` of an earlier Hessian, downdated by the rank-1
  /// term `sqrt(w_j loss''(z0_j)) x_j` of every removed row (`z0` the predictors at the factor's
  /// parameters). Its regulariser stays at `lambda n_0 I` (`n_0` the retained count at the last
  /// refresh): a factor of an older, slightly different matrix is still a valid preconditioner,
  /// because only exact quantities enter the certificate (one exact Hessian-vector product
  /// `H v` at the current parameters measures the solve inexactness `||H v - rhs||`, which is
  /// charged).
  ///
  /// Per request: `v = H~^{-1} rhs`, then `H v` and the new gradient from one fused pass over `X` (each block of rows read once).
  /// A step is **accepted** when
  ///
  ///     ||H v - rhs|| <= max(inexactnessFraction * remainderBound(v), relativeTolerance * ||rhs||)
  ///
  /// (`remainderBound` the charged tight or Guo term), or, in exact-step mode, when
  /// `remainderBound(v) + ||H v - rhs|| <= budgetFraction * epsilon'`. Otherwise up to ``maximumRefinements``
  /// preconditioned-CG iterations refine `v` (two passes each, plus one fused pass to re-evaluate); if the
  /// step is still not accepted, the Hessian is rebuilt and refactored at the current parameters
  /// (a **refresh**, `O(n d^2 + d^3 / 3)`) and the step is solved with the fresh factor. A refresh
  /// also happens before the request when ``refreshInterval`` requests have been served since the
  /// last one, or when a downdate would lose positive definiteness. Refreshes are reported in
  /// ``RemovalCertificate/refreshed``.
  public struct FastRemovalPolicy: Sendable, Codable, Hashable {
    /// Accept a step when its measured inexactness is at most this fraction of its charged
    /// remainder bound (default `0.5`: a request is charged at most 1.5 times its remainder bound,
    /// an exact solve's charge being the bound alone).
    public var inexactnessFraction: Double
    /// Also accept a step whose inexactness is at most this multiple of `||rhs||` (default
    /// `1e-10`). Set ``inexactnessFraction`` to 0 to demand this accuracy always.
    public var relativeTolerance: Double
    /// Exact-step mode only: also accept a step whose whole charge (remainder bound plus
    /// inexactness) is at most this fraction of the budget `epsilon'` (default `0.01`). Exact-step
    /// certificates do not accumulate (the next full-gradient step corrects the residual), so this
    /// trades a certificate that stays far below the budget for fewer passes; `0` disables it.
    /// Paper mode ignores it (its charges add up).
    public var budgetFraction: Double
    /// Preconditioned-CG iterations on exact Hessian-vector products before a refresh (default 2).
    public var maximumRefinements: Int
    /// Refresh (rebuild and refactor the Hessian) after this many requests since the last refresh
    /// (default 200; `Int.max` never refreshes on count).
    public var refreshInterval: Int
    /// `O(d^2)` certified steps that do not read `X` between exact steps (Docs/Math.md 6.10);
    /// `nil` (the default) takes one fused pass per request. With it set, ``refreshInterval``
    /// is ignored: the factor is rebuilt only when ``CertifiedRemoval/AmortisedStepPolicy`` says so, a step is not
    /// accepted, or a downdate fails.
    public var amortisedSteps: CertifiedRemoval.AmortisedStepPolicy?

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - inexactnessFraction: `>= 0`; see ``inexactnessFraction``.
    ///   - relativeTolerance: `>= 0`; see ``relativeTolerance``.
    ///   - budgetFraction: `>= 0`; see ``budgetFraction``.
    ///   - maximumRefinements: `>= 0` PCG iterations before a refresh.
    ///   - refreshInterval: `>= 1` requests between count-triggered refreshes.
    ///   - amortisedSteps: `O(d^2)` steps between exact ones; see ``amortisedSteps``.
    public init(
      inexactnessFraction: Double = 0.5, relativeTolerance: Double = 1e-10,
      budgetFraction: Double = 0.01, maximumRefinements: Int = 2, refreshInterval: Int = 200,
      amortisedSteps: CertifiedRemoval.AmortisedStepPolicy? = nil
    ) {
      self.amortisedSteps = amortisedSteps
      self.inexactnessFraction = inexactnessFraction
      self.relativeTolerance = relativeTolerance
      self.budgetFraction = budgetFraction
      self.maximumRefinements = maximumRefinements
      self.refreshInterval = refreshInterval
    }

    /// The default policy (fraction 0.5, tolerance 1e-10, budget fraction 0.01, 2 refinements, refresh every 200).
    public static var `default`: CertifiedRemoval.FastRemovalPolicy {
      CertifiedRemoval.FastRemovalPolicy()
    }

    /// The default policy with ``CertifiedRemoval/AmortisedStepPolicy/default`` `O(d^2)` steps: certified removal
    /// below one pass over the data per request (`NewtonSolver.downdatedFactor(.amortised)`).
    public static var amortised: CertifiedRemoval.FastRemovalPolicy {
      CertifiedRemoval.FastRemovalPolicy(amortisedSteps: .default)
    }

    /// Checks the fields; the remover calls it at creation.
    func validate() throws(UnlearningError) {
      guard inexactnessFraction >= 0, inexactnessFraction.isFinite else {
        throw .invalidArgument(
          "inexactnessFraction must be finite and >= 0, got \(inexactnessFraction)")
      }
      guard relativeTolerance >= 0, relativeTolerance.isFinite else {
        throw .invalidArgument(
          "relativeTolerance must be finite and >= 0, got \(relativeTolerance)")
      }
      guard budgetFraction >= 0, budgetFraction.isFinite else {
        throw .invalidArgument("budgetFraction must be finite and >= 0, got \(budgetFraction)")
      }
      guard maximumRefinements >= 0 else {
        throw .invalidArgument("maximumRefinements must be >= 0, got \(maximumRefinements)")
      }
      guard refreshInterval >= 1 else {
        throw .invalidArgument("refreshInterval must be >= 1, got \(refreshInterval)")
      }
      try amortisedSteps?.validate()
    }
  }
}
