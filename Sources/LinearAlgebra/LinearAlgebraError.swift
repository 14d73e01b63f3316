/// Numerical failures of the linear-algebra layer, with messages a user can act on.
public enum LinearAlgebraError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Cholesky factorisation failed: the leading minor of order `pivot` (1-based) is not
  /// positive definite.
  case notPositiveDefinite(pivot: Int, dimension: Int)
  /// A rank-1 downdate would make the factor lose positive definiteness at `index` (0-based).
  case downdateLosesDefiniteness(index: Int)
  /// The symmetric eigen-decomposition did not converge (LAPACK `info`).
  case eigenDecompositionFailed(info: Int)
  /// A matrix or vector contains NaN or infinity.
  case nonFiniteInput(String)
  /// Shapes that must agree do not.
  case shapeMismatch(String)

  public var description: String {
    switch self {
    case .notPositiveDefinite(let pivot, let dimension):
      return "matrix is not positive definite: Cholesky failed at pivot \(pivot) of \(dimension)"
        + " (leading minor of order \(pivot) is not positive); add damping (H + mu I) or check"
        + " the regularization"
    case .downdateLosesDefiniteness(let index):
      return "rank-1 downdate would make the factor indefinite at index \(index);"
        + " refactor from the downdated matrix instead"
    case .eigenDecompositionFailed(let info):
      return "symmetric eigen-decomposition did not converge (LAPACK info \(info))"
    case .nonFiniteInput(let what):
      return "non-finite value (NaN or infinity) in \(what)"
    case .shapeMismatch(let what):
      return "shape mismatch: \(what)"
    }
  }
}
