/// Work counters of the fast sequential certified remover (``FastRemovalPolicy``), since it was
/// created (a retrain keeps counting).
public struct FastRemovalStatistics: Sendable, Codable, Equatable {
  /// Passes over the `n x d` feature matrix (`gemv`, or `dgemm` with at most 2 columns), not
  /// counting the Gram matrices of refreshes.
  public var dataPasses = 0
  /// Hessian rebuilds and refactorizations (`O(n d^2 + d^3 / 3)` each), the initial one
  /// included.
  public var refreshes = 0
  /// Preconditioned-CG refinement iterations (two passes each).
  public var refinementIterations = 0

  /// All counters zero.
  public init() {}
}
