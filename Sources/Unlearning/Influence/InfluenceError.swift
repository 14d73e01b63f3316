/// What can go wrong when computing influence functions, with what a user needs to fix it.
public enum InfluenceError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The (damped) mean-form Hessian `H_J + damping I` is not positive definite, so the direct
  /// solver's Cholesky factorisation failed. Carries the inertia and the smallest eigenvalue of
  /// the damped Hessian and a damping that would make it positive definite.
  case hessianNotPositiveDefinite(
    smallestEigenvalue: Double, negativeCount: Int, zeroCount: Int, dimension: Int,
    damping: Double, suggestedDamping: Double)
  /// An iterative IHVP solver blew up (NaN, infinity or unbounded growth).
  case solverDiverged(method: String, iterations: Int, reason: String)
  /// A solver configuration value is out of range.
  case invalidConfiguration(String)
  /// The LiSSA scale cannot be chosen automatically for this model and size.
  case scaleUnavailable(String)
  /// A sample id or the data passed in is wrong (unknown / repeated id, shape mismatch).
  case data(DataError)
  /// Inputs whose sizes must agree do not (named in the message).
  case shapeMismatch(String)

  public var description: String {
    switch self {
    case .hessianNotPositiveDefinite(
      let smallest, let negative, let zero, let p, let damping, let suggested):
      return "the damped Hessian H_J + \(damping) I (mean form, p = \(p)) is not positive definite:"
        + " smallest eigenvalue \(smallest), inertia \(negative) negative / \(zero) zero /"
        + " \(p - negative - zero) positive; use damping >= \(suggested)"
    case .solverDiverged(let method, let iterations, let reason):
      return "the \(method) IHVP solver diverged after \(iterations) iterations: \(reason)"
    case .invalidConfiguration(let what):
      return "invalid IHVP solver configuration: \(what)"
    case .scaleUnavailable(let what):
      return "cannot choose the LiSSA scale automatically: \(what); pass an explicit scale"
    case .data(let error):
      return error.description
    case .shapeMismatch(let what):
      return "shape mismatch: \(what)"
    }
  }
}
