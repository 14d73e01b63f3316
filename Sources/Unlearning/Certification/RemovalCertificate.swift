import Foundation

/// The certificate of one certified removal request (single id or batch), Docs/Math.md section 6.
///
/// All residuals are **sum form** and include the loss perturbation `b`. The published model is
/// `(epsilon, delta)`-certified when ``certifiedResidual`` `<= budget` (`epsilon'`), with `b`
/// drawn from `N(0, sigma^2 I)`, `sigma = c epsilon' / epsilon`, `c = sqrt(2 ln(1.5 / delta))`.
///
/// Bounds of the **last Newton step taken** (also when it was rejected and a retrain followed):
/// ``tightBound`` `(g3 / 2) ||X|| ||X_R v||_4^2`, ``guoBound`` `gamma ||X|| ||v|| ||X_R v||`,
/// ``solveInexactness`` `||H v - rhs||`. ``worstCaseBound`` `4 gamma m^2 C^2 / (lambda^2 (n - m))`
/// is for reference only (it assumes `||theta|| <= C / lambda`, true without `b`, only with high
/// probability with it). ``trueResidual`` is measured: `||grad L_b(theta^-; R)||`.
public struct RemovalCertificate: Sendable, Codable, Equatable {
  /// The accounting mode.
  public var accounting: CertifiedRemoval.Accounting
  /// The bound charged for the Taylor remainder.
  public var bound: RemovalCertificate.Bound
  /// Privacy loss `epsilon`.
  public var epsilon: Double
  /// Failure probability `delta`.
  public var delta: Double
  /// Standard deviation of every entry of `b`.
  public var sigma: Double
  /// The gradient-residual budget `epsilon' = sigma epsilon / c`.
  public var budget: Double
  /// `(g3 / 2) ||X||_2 ||X_R v||_4^2` of the last step (root sum of squares over heads).
  public var tightBound: Double
  /// `gamma ||X||_2 ||v|| ||X_R v||` of the last step (root sum of squares over heads).
  public var guoBound: Double
  /// `4 gamma m^2 C^2 / (lambda^2 (n - m))` (times `sqrt(K)` for `K` heads); reference
  /// only.
  public var worstCaseBound: Double
  /// `||H v - rhs||` of the last step (root sum of squares over heads).
  public var solveInexactness: Double
  /// The residual bound of the published model that is charged: exact-step mode, the last
  /// step's bound plus its inexactness; paper mode, ``spent``; after a retrain, the new training
  /// residual. Includes a floating-point allowance (see ``floatingPointAllowance``).
  public var certifiedResidual: Double
  /// Budget used by the published model (paper: the running sum; exact-step: equal to
  /// ``certifiedResidual``).
  public var spent: Double
  /// `budget - spent`.
  public var remaining: Double
  /// The measured `||grad L_b(theta^-; R)||` (`b` included; the stacked gradient of all heads).
  public var trueResidual: Double
  /// The round-off allowance added to each charged term:
  /// `1e-13 (n_R + lambda n_R ||theta|| + ||b||)`, a generous bound on the error of evaluating
  /// the gradient and `H v` in double precision.
  public var floatingPointAllowance: Double
  /// Whether the budget forced a retrain with a fresh `b`.
  public var retrained: Bool
  /// Newton steps taken (or attempted before a retrain).
  public var stepsTaken: Int
  /// Samples removed by this request.
  public var removedCount: Int
  /// Samples retained after this request.
  public var retainedCount: Int
  /// Number of binary heads (1, or `K` for one-vs-rest).
  public var headCount: Int
  /// Whether the fast sequential path rebuilt and refactored its cached Hessian during this
  /// request (``CertifiedRemoval/FastRemovalPolicy``); always `false` for the other solvers. Decodes as `false`
  /// when absent (certificates written before the field existed).
  public var refreshed: Bool = false
  /// Whether ``trueResidual`` was measured on the data. `false` for a request served by an
  /// `O(d^2)` step that never read `X` (``CertifiedRemoval/AmortisedStepPolicy``): ``trueResidual`` then repeats
  /// ``certifiedResidual``, an upper bound, and ``tightBound`` holds the charged stale-factor
  /// remainder bound (Docs/Math.md 6.10). Decodes as `true` when absent.
  public var residualMeasured: Bool = true

  /// Whether the published model is certified: `certifiedResidual <= budget`.
  public var isCertified: Bool { certifiedResidual <= budget }
}

extension RemovalCertificate: CustomStringConvertible {
  /// One line: the verdict, the certified residual against the budget, the measured residual,
  /// and whether the budget forced a retrain.
  public var description: String {
    func f(_ x: Double) -> String { String(format: "%.3g", x) }
    return (isCertified ? "certified" : "NOT certified")
      + " (epsilon \(f(epsilon)), delta \(f(delta))): residual bound \(f(certifiedResidual))"
      + " <= budget \(f(budget)) [\(accounting.rawValue), \(bound.rawValue) bound]"
      + (residualMeasured
        ? "; measured residual \(f(trueResidual))" : "; residual not measured (O(d^2) step)")
      + "; removed \(removedCount), retained \(retainedCount)"
      + (retrained ? "; budget exhausted: retrained with a fresh b" : "")
  }
}

extension RemovalCertificate {
  private enum CodingKeys: String, CodingKey {
    case accounting, bound, epsilon, delta, sigma, budget, tightBound, guoBound, worstCaseBound
    case solveInexactness, certifiedResidual, spent, remaining, trueResidual
    case floatingPointAllowance, retrained, stepsTaken, removedCount, retainedCount, headCount
    case refreshed, residualMeasured
  }

  /// Decodes a certificate; a missing `refreshed` (older files) reads as `false`, a missing
  /// `residualMeasured` as `true`.
  ///
  /// - Throws: `DecodingError` for a missing or mistyped field other than `refreshed`.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    accounting = try c.decode(CertifiedRemoval.Accounting.self, forKey: .accounting)
    bound = try c.decode(RemovalCertificate.Bound.self, forKey: .bound)
    epsilon = try c.decode(Double.self, forKey: .epsilon)
    delta = try c.decode(Double.self, forKey: .delta)
    sigma = try c.decode(Double.self, forKey: .sigma)
    budget = try c.decode(Double.self, forKey: .budget)
    tightBound = try c.decode(Double.self, forKey: .tightBound)
    guoBound = try c.decode(Double.self, forKey: .guoBound)
    worstCaseBound = try c.decode(Double.self, forKey: .worstCaseBound)
    solveInexactness = try c.decode(Double.self, forKey: .solveInexactness)
    certifiedResidual = try c.decode(Double.self, forKey: .certifiedResidual)
    spent = try c.decode(Double.self, forKey: .spent)
    remaining = try c.decode(Double.self, forKey: .remaining)
    trueResidual = try c.decode(Double.self, forKey: .trueResidual)
    floatingPointAllowance = try c.decode(Double.self, forKey: .floatingPointAllowance)
    retrained = try c.decode(Bool.self, forKey: .retrained)
    stepsTaken = try c.decode(Int.self, forKey: .stepsTaken)
    removedCount = try c.decode(Int.self, forKey: .removedCount)
    retainedCount = try c.decode(Int.self, forKey: .retainedCount)
    headCount = try c.decode(Int.self, forKey: .headCount)
    refreshed = try c.decodeIfPresent(Bool.self, forKey: .refreshed) ?? false
    residualMeasured = try c.decodeIfPresent(Bool.self, forKey: .residualMeasured) ?? true
  }
}
