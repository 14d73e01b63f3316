import RealModule

/// The privacy parameters of certified removal (Guo et al. 2020, MATH.md section 6) and the
/// calibration between them.
///
/// A removal is `(epsilon, delta)`-certified when the model it outputs has gradient residual
/// `||grad L_b(theta; R)|| <= epsilon'` (the **budget**) and the loss perturbation `b` was drawn
/// from `N(0, sigma^2 I)` with `sigma = c * epsilon' / epsilon`, `c = sqrt(2 ln(1.5 / delta))`.
public struct PrivacyParameters: Sendable, Codable, Equatable {
  /// The privacy loss `epsilon > 0`.
  public var epsilon: Double
  /// The failure probability `delta` in `(0, 1)`.
  public var delta: Double
  /// Standard deviation of each entry of the loss-perturbation vector `b`.
  public var sigma: Double

  /// Parameters with `sigma` given directly.
  public init(epsilon: Double, delta: Double, sigma: Double) throws(CertificationError) {
    guard epsilon > 0, epsilon.isFinite else {
      throw .invalidParameter("epsilon must be positive, got \(epsilon)")
    }
    guard delta > 0, delta < 1 else {
      throw .invalidParameter("delta must be in (0, 1), got \(delta)")
    }
    guard sigma > 0, sigma.isFinite else {
      throw .invalidParameter("sigma must be positive, got \(sigma)")
    }
    self.epsilon = epsilon
    self.delta = delta
    self.sigma = sigma
  }

  /// Parameters with `sigma` calibrated so that the gradient-residual budget is `budget`:
  /// `sigma = c(delta) * budget / epsilon`.
  public init(epsilon: Double, delta: Double, budget: Double) throws(CertificationError) {
    guard budget > 0, budget.isFinite else {
      throw .invalidParameter("budget must be positive, got \(budget)")
    }
    guard delta > 0, delta < 1 else {
      throw .invalidParameter("delta must be in (0, 1), got \(delta)")
    }
    try self.init(epsilon: epsilon, delta: delta, sigma: Self.c(delta: delta) * budget / epsilon)
  }

  /// `c = sqrt(2 ln(1.5 / delta))`. Checks: `c(1e-4) = 4.385386`, `c(1e-5) = 4.882293`.
  public static func c(delta: Double) -> Double {
    (2 * Double.log(1.5 / delta)).squareRoot()
  }

  /// The inverse of ``c(delta:)``: `delta = 1.5 exp(-c^2 / 2)`.
  public static func delta(c: Double) -> Double {
    1.5 * Double.exp(-c * c / 2)
  }

  /// The constant `c(delta)` of these parameters.
  public var c: Double { Self.c(delta: delta) }

  /// The gradient-residual budget `epsilon' = sigma * epsilon / c`. Check:
  /// `budget(sigma = 10, epsilon = 1, delta = 1e-4) = 2.280301`.
  public var budget: Double { sigma * epsilon / c }
}

/// Bounds on the gradient residual after a Newton removal step (MATH.md section 6). All are in
/// **sum form** and require rows with `||x_i|| <= 1` and `lambda > 0`.
public enum ResidualBounds {
  /// Guo et al.'s worst-case bound for removing `m` of `n` samples in one step:
  /// `4 gamma m^2 C^2 / (lambda^2 (n - m))`. Holds for the unperturbed objective and assumes
  /// `||theta|| <= C / lambda`; reported for reference, never used for the budget.
  public static func worstCase(
    removed m: Int, of n: Int, regularization lambda: Double, gamma: Double = 0.25,
    gradientBound c: Double = 1
  ) -> Double {
    precondition(m >= 1 && m < n, "worstCase: need 1 <= m < n, got m = \(m), n = \(n)")
    let md = Double(m)
    return 4 * gamma * md * md * c * c / (lambda * lambda * Double(n - m))
  }

  /// Guo et al.'s data-dependent bound for any step `v`: `gamma * ||X_R||_2 * ||v|| * ||X_R v||`.
  ///
  /// - Parameters:
  ///   - spectralNorm: an upper bound on `||X_R||_2` (e.g. ``Matrix/spectralNormUpperBound()``
  ///     of the full data).
  ///   - stepNorm: `||v||`.
  ///   - projectedStep: `t = X_R v` (one entry per retained sample; removed rows excluded).
  public static func guo(
    gamma: Double = 0.25, spectralNorm: Double, stepNorm: Double, projectedStep t: [Double]
  ) -> Double {
    gamma * spectralNorm * stepNorm * t.norm()
  }

  /// The tight bound on the Taylor remainder of a step `v`:
  /// `(g3 / 2) * ||X_R||_2 * ||X_R v||_4^2` with `||t||_4^2 = sqrt(sum t_i^4)` and
  /// `g3 = sup |loss'''|` (`1 / (6 sqrt 3)` for the logistic loss).
  ///
  /// Derivation: per sample, the loss derivative along `z = theta^T x_i` satisfies
  /// `l'(z + t) = l'(z) + l''(z) t + e` with `|e| <= (g3 / 2) t^2` (Lagrange remainder), so the
  /// gradient after the step is `g + H v + X_R^T e` and `||X_R^T e|| <= ||X_R||_2 ||e||_2
  /// <= ||X_R||_2 (g3 / 2) sqrt(sum t_i^4)`. Never above ``guo(gamma:spectralNorm:stepNorm:projectedStep:)``
  /// with `gamma = 1/4`: `g3 / 2 < 1/4` and `||t||_4^2 <= max|t_i| ||t||_2 <= ||v|| ||t||_2` for
  /// `||x_i|| <= 1`.
  public static func tight(
    thirdDerivativeBound g3: Double, spectralNorm: Double, projectedStep t: [Double]
  ) -> Double {
    var s = 0.0
    for ti in t { s += ti * ti * ti * ti }
    return 0.5 * g3 * spectralNorm * s.squareRoot()
  }
}

/// Errors of certified removal: invalid parameters, data that voids the certificate.
public enum CertificationError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A privacy or model parameter is out of range.
  case invalidParameter(String)
  /// A row has `||x|| > 1` (the bounds need `||x_i|| <= 1`); `row` is 0-based.
  case rowNormTooLarge(row: Int, norm: Double)
  /// `lambda` must be positive.
  case nonPositiveRegularization(Double)
  /// A (re)trained model's own gradient residual already exceeds the budget `epsilon'`, so no
  /// removal from it can be certified: train to a tighter tolerance or raise `sigma`.
  case trainingResidualExceedsBudget(residual: Double, budget: Double)

  public var description: String {
    switch self {
    case .invalidParameter(let s): return "invalid certification parameter: \(s)"
    case .rowNormTooLarge(let row, let norm):
      return
        "row \(row) has norm \(norm) > 1: certified removal requires ||x|| <= 1 (normalise the rows)"
    case .nonPositiveRegularization(let l):
      return "certified removal requires lambda > 0, got \(l)"
    case .trainingResidualExceedsBudget(let residual, let budget):
      return "training residual \(residual) exceeds the budget \(budget): train to a tighter"
        + " tolerance or raise sigma"
    }
  }
}
