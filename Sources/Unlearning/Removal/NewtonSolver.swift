import LinearAlgebra

/// How a Newton system `H v = rhs` is solved: the one solver enum of Newton removal and
/// certified removal.
///
/// Certified removal measures every solve's inexactness `||H v - rhs||` with an exact
/// Hessian-vector product and charges it, so any strategy keeps the certificate rigorous; the
/// strategies differ only in cost.
///
/// | strategy | per step |
/// |---|---|
/// | ``cholesky`` | dense Hessian (`O(n p^2)` for linear models) + Cholesky `O(p^3 / 3)` |
/// | ``conjugateGradient(tolerance:maximumIterations:)`` | CG on exact HVPs (`O(n p)` each), preconditioned by the last factor when one is cached |
/// | ``downdatedFactor(_:)`` | certified removal: a cached factor downdated as rows leave (`O(m d^2)`), one `O(d^2)` solve and one fused pass over `X`; refinement and refresh per ``CertifiedRemoval/FastRemovalPolicy`` |
public enum NewtonSolver: Sendable, Hashable {
  /// A fresh dense factor at every step.
  case cholesky
  /// Conjugate gradient on exact Hessian-vector products to relative residual `tolerance`, at
  /// most `maximumIterations` iterations (certified removal: then a fresh factor).
  case conjugateGradient(tolerance: Double, maximumIterations: Int)
  /// Certified removal's fast path (binary GLM heads): the cached factor of an earlier Hessian,
  /// rank-1 downdated as rows leave, used as a preconditioner; exact quantities come from one
  /// fused pass over `X` per evaluation. Newton removal treats it as ``cholesky``.
  case downdatedFactor(CertifiedRemoval.FastRemovalPolicy)

  /// The default of certified removal: ``downdatedFactor(_:)`` with the default policy.
  public static var `default`: NewtonSolver { .downdatedFactor(.default) }

  /// CG to `1e-10` with at most 25 iterations.
  public static var conjugateGradient: NewtonSolver {
    .conjugateGradient(tolerance: 1e-10, maximumIterations: 25)
  }

  /// The solver Newton removal should use for `model`: ``cholesky`` while forming the dense
  /// curvature matrix is cheaper than CG's iterations, CG beyond.
  ///
  /// Linear models form their Hessian with one GEMM (`O(n p^2)` at BLAS-3 speed): dense up to
  /// `p = 2,000`, then CG to `1e-10` (at most 2,000 iterations). Networks need one
  /// Hessian- or Gauss-Newton-vector product per column of the matrix (`p` products of
  /// `O(n p)` each) where CG needs tens to a few hundred: dense only up to `p = 200`, then CG
  /// to `1e-8` (at most 500 iterations).
  public static func preferred<Model: TwiceDifferentiableModel>(for model: Model) -> NewtonSolver {
    let p = model.parameterCount
    if model.isConvex {
      return p <= 2000 ? .cholesky : .conjugateGradient(tolerance: 1e-10, maximumIterations: 2000)
    }
    return p <= 200 ? .cholesky : .conjugateGradient(tolerance: 1e-8, maximumIterations: 500)
  }

  /// `cholesky`, `cg` or `downdated-factor`.
  public var name: String {
    switch self {
    case .cholesky: return "cholesky"
    case .conjugateGradient: return "cg"
    case .downdatedFactor: return "downdated-factor"
    }
  }

  /// Checks the settings.
  ///
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` naming the bad field.
  public func validate() throws(UnlearningError) {
    switch self {
    case .cholesky: return
    case .conjugateGradient(let tolerance, let maximumIterations):
      guard tolerance > 0, tolerance.isFinite, maximumIterations >= 1 else {
        throw .invalidArgument(
          "CG needs tolerance > 0 and maximumIterations >= 1, got \(tolerance), \(maximumIterations)"
        )
      }
    case .downdatedFactor(let policy): try policy.validate()
    }
  }

  /// Factors a symmetric matrix that must be positive definite: the one place a failed
  /// factorisation becomes ``UnlearningError/notPositiveDefinite(_:)`` (with the smallest
  /// eigenvalue and the advice to damp).
  static func factor(_ matrix: Matrix) throws(UnlearningError) -> Cholesky {
    do {
      return try Cholesky(matrix)
    } catch {
      throw .notPositiveDefinite(indefiniteMessage(matrix))
    }
  }

  /// "smallest eigenvalue ..." plus the advice to damp.
  static func indefiniteMessage(_ matrix: Matrix) -> String {
    let smallest = (try? SymmetricEigen.smallestEigenvalue(of: matrix)) ?? .nan
    return "the curvature matrix has smallest eigenvalue \(smallest); use curvature: .damped(mu)"
      + " with mu > \(Swift.abs(smallest)) or .gaussNewton"
  }
}

extension NewtonSolver: Codable {
  private enum CodingKeys: String, CodingKey {
    case kind, tolerance, maximumIterations, policy
  }

  /// Decodes `{"kind": "cholesky" | "cg" | "downdated-factor", ...}`.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let kind = try c.decode(String.self, forKey: .kind)
    switch kind {
    case "cholesky": self = .cholesky
    case "cg":
      self = .conjugateGradient(
        tolerance: try c.decode(Double.self, forKey: .tolerance),
        maximumIterations: try c.decode(Int.self, forKey: .maximumIterations))
    case "downdated-factor":
      self = .downdatedFactor(
        try c.decode(CertifiedRemoval.FastRemovalPolicy.self, forKey: .policy))
    default:
      throw DecodingError.dataCorruptedError(
        forKey: .kind, in: c,
        debugDescription: "unknown solver \"\(kind)\" (cholesky, cg, downdated-factor)")
    }
  }

  /// Encodes as `{"kind": ..., settings}`.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .kind)
    switch self {
    case .cholesky: break
    case .conjugateGradient(let tolerance, let maximumIterations):
      try c.encode(tolerance, forKey: .tolerance)
      try c.encode(maximumIterations, forKey: .maximumIterations)
    case .downdatedFactor(let policy): try c.encode(policy, forKey: .policy)
    }
  }
}
