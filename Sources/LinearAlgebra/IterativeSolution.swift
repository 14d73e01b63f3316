/// The outcome of an iterative solve of `A x = b`. Never silently non-converged: check
/// ``converged`` (and ``diverged`` for LiSSA).
public struct IterativeSolution: Sendable, Codable, Equatable {
  /// The approximate solution `x`.
  public var solution: [Double]
  /// Iterations taken (operator applications, not counting the final residual check).
  public var iterations: Int
  /// The **true** relative residual `||A x - b|| / ||b||` of the returned solution, from one extra
  /// operator application (not a recursively updated estimate). `nil` when it was not computed
  /// (LiSSA with a stochastic operator and no exact operator given).
  public var relativeResidual: Double?
  /// Whether the stopping tolerance was reached.
  public var converged: Bool
  /// Whether the iteration blew up (NaN, infinity or unbounded growth); the solution is then
  /// meaningless.
  public var diverged: Bool

  public init(
    solution: [Double], iterations: Int, relativeResidual: Double?, converged: Bool,
    diverged: Bool = false
  ) {
    self.solution = solution
    self.iterations = iterations
    self.relativeResidual = relativeResidual
    self.converged = converged
    self.diverged = diverged
  }
}

func relativeResidual(of op: some LinearOperator, solution x: [Double], rightHandSide b: [Double])
  -> Double
{
  let r = op.apply(x).subtracting(b)
  let bn = b.norm()
  return bn == 0 ? r.norm() : r.norm() / bn
}
