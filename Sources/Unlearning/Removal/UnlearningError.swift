/// Why a removal request or an unlearning method could not run.
///
/// Requests are validated before anything changes: when one of these is thrown, the input state
/// is untouched. Each ``description`` is one readable line naming the offending id or value.
public enum UnlearningError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The id is not in the model's training data.
  case unknownID(SampleID)
  /// The id was removed by an earlier request (a deletion id is removed once).
  case alreadyForgotten(SampleID)
  /// The id occurs twice in the same request.
  case duplicateID(SampleID)
  /// The request would remove every remaining training sample.
  case nothingLeft
  /// The (curvature) matrix of a Newton step is not positive definite; the message says what
  /// was found (e.g. the smallest eigenvalue) and what to do.
  case notPositiveDefinite(String)
  /// The method does not support this model or configuration.
  case unsupported(String)
  /// An argument is out of range (e.g. `lambda <= 0`, a shape mismatch, a solver setting).
  case invalidArgument(String)
  /// An iterative solver blew up (NaN, infinity or unbounded growth).
  case solverDiverged(method: String, iterations: Int, reason: String)
  /// Certified removal needs `||x_i|| <= 1`; row `row` (0-based) has norm `norm`.
  case rowNormTooLarge(row: Int, norm: Double)
  /// The certified model's training residual alone exceeds the removal budget.
  case trainingResidualExceedsBudget(residual: Double, budget: Double)

  /// One line, naming the id or the value.
  public var description: String {
    switch self {
    case .unknownID(let id): return "sample id \(id) is not in the training data"
    case .alreadyForgotten(let id):
      return "sample id \(id) was already forgotten by an earlier request"
    case .duplicateID(let id): return "sample id \(id) appears more than once in the request"
    case .nothingLeft: return "the request would remove every remaining training sample"
    case .notPositiveDefinite(let what): return "not positive definite: \(what)"
    case .unsupported(let what): return "unsupported: \(what)"
    case .invalidArgument(let what): return "invalid argument: \(what)"
    case .solverDiverged(let method, let iterations, let reason):
      return "the \(method) solver diverged after \(iterations) iterations: \(reason)"
    case .rowNormTooLarge(let row, let norm):
      return "row \(row) has norm \(norm) > 1; certified removal needs ||x_i|| <= 1"
        + " (normalise the rows: --normalize-rows on the command line)"
    case .trainingResidualExceedsBudget(let residual, let budget):
      return "the training residual \(residual) already exceeds the removal budget \(budget);"
        + " train to a smaller gradient norm or raise sigma"
    }
  }
}
