import RealModule

extension PrivacyParameters {
  /// How the noise `sigma` of `b` and the gradient-residual budget `epsilon'` are related at a
  /// given `(epsilon, delta)` (Docs/Math.md section 6.9).
  public enum Calibration: String, Sendable, Codable, Hashable, CaseIterable {
    /// The exact privacy profile of a Gaussian shift (the analytic Gaussian mechanism of Balle
    /// and Wang 2018): the largest budget `epsilon'` with
    /// `delta >= Phi(eps'/(2 sigma) - epsilon sigma / eps') - e^epsilon Phi(-eps'/(2 sigma) - epsilon sigma / eps')`.
    /// Valid for every `epsilon`; about 1.4 times the classic budget at `epsilon = 1`,
    /// `delta = 1e-4`, and 1.8 times at `epsilon = 0.1`. The default.
    case exact
    /// Guo et al.'s `epsilon' = sigma epsilon / c`, `c = sqrt(2 ln(1.5 / delta))`, to reproduce
    /// the paper. Holds only up to a largest `epsilon` (about 8.4 at `delta = 1e-4`); larger
    /// values are refused.
    case classic
  }
}

/// The privacy parameters of certified removal (Guo et al. 2020, Docs/Math.md section 6) and
/// the calibration between them.
///
/// A removal is `(epsilon, delta)`-certified when the model it outputs has gradient residual
/// `||grad L_b(theta; R)|| <= epsilon'` (the **budget**) and the loss perturbation `b` was drawn
/// from `N(0, sigma^2 I)`; ``calibration`` says how `epsilon'` follows from `sigma`.
public struct PrivacyParameters: Sendable, Codable, Equatable {
  /// The privacy loss `epsilon > 0`.
  public var epsilon: Double
  /// The failure probability `delta` in `(0, 1)`.
  public var delta: Double
  /// Standard deviation of each entry of the loss-perturbation vector `b`.
  public var sigma: Double
  /// How the budget follows from `sigma` (default ``PrivacyParameters/Calibration/exact``).
  public var calibration: PrivacyParameters.Calibration

  /// Parameters with `sigma` given directly.
  ///
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` for values out of range, and for a
  ///   classic calibration at an `epsilon` the classic formula does not support (the message
  ///   names the largest valid `epsilon`).
  public init(
    epsilon: Double, delta: Double, sigma: Double,
    calibration: PrivacyParameters.Calibration = .exact
  )
    throws(UnlearningError)
  {
    try Self.validate(epsilon: epsilon, delta: delta)
    guard sigma > 0, sigma.isFinite else {
      throw .invalidArgument("sigma must be positive, got \(sigma)")
    }
    if calibration == .classic
      && !PrivacyParameters.GaussianProfile.classicIsValid(epsilon: epsilon, delta: delta)
    {
      let limit = PrivacyParameters.GaussianProfile.classicValidityLimit(delta: delta)
      throw .invalidArgument(
        "the classic calibration does not give (epsilon \(epsilon), delta \(delta)): it holds only up to epsilon \(String(format: "%.3f", limit)) at this delta; use the exact calibration"
      )
    }
    self.epsilon = epsilon
    self.delta = delta
    self.sigma = sigma
    self.calibration = calibration
  }

  /// Parameters with `sigma` calibrated so that the gradient-residual budget is `budget`.
  ///
  /// - Throws: as ``init(epsilon:delta:sigma:calibration:)``.
  public init(
    epsilon: Double, delta: Double, budget: Double,
    calibration: PrivacyParameters.Calibration = .exact
  )
    throws(UnlearningError)
  {
    guard budget > 0, budget.isFinite else {
      throw .invalidArgument("budget must be positive, got \(budget)")
    }
    try Self.validate(epsilon: epsilon, delta: delta)
    let sigma =
      calibration == .classic
      ? Self.c(delta: delta) * budget / epsilon
      : PrivacyParameters.GaussianProfile.minimumSigma(
        epsilon: epsilon, delta: delta, sensitivity: budget)
    try self.init(epsilon: epsilon, delta: delta, sigma: sigma, calibration: calibration)
  }

  /// `epsilon` positive and finite, `delta` in (0, 1).
  private static func validate(epsilon: Double, delta: Double) throws(UnlearningError) {
    guard epsilon > 0, epsilon.isFinite else {
      throw .invalidArgument("epsilon must be positive, got \(epsilon)")
    }
    guard delta > 0, delta < 1 else {
      throw .invalidArgument("delta must be in (0, 1), got \(delta)")
    }
  }

  private enum CodingKeys: String, CodingKey { case epsilon, delta, sigma, calibration }

  /// Decodes and validates (a missing `calibration` reads as classic, the only one once).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(
      epsilon: c.decode(Double.self, forKey: .epsilon),
      delta: c.decode(Double.self, forKey: .delta),
      sigma: c.decode(Double.self, forKey: .sigma),
      calibration: c.decodeIfPresent(PrivacyParameters.Calibration.self, forKey: .calibration)
        ?? .classic)
  }

  /// `c = sqrt(2 ln(1.5 / delta))`. Checks: `c(1e-4) = 4.385386`, `c(1e-5) = 4.882293`.
  public static func c(delta: Double) -> Double {
    (2 * Double.log(1.5 / delta)).squareRoot()
  }

  /// The inverse of ``c(delta:)``: `delta = 1.5 exp(-c^2 / 2)`.
  public static func delta(c: Double) -> Double {
    1.5 * Double.exp(-c * c / 2)
  }

  /// The constant `c(delta)` of these parameters (classic calibration).
  public var c: Double { Self.c(delta: delta) }

  /// The gradient-residual budget `epsilon'`: classic `sigma epsilon / c` (check:
  /// `budget(sigma = 10, epsilon = 1, delta = 1e-4) = 2.280301`), or the exact profile's
  /// largest shift (`3.139025` for the same values).
  public var budget: Double {
    switch calibration {
    case .classic: return sigma * epsilon / c
    case .exact:
      return PrivacyParameters.GaussianProfile.maximumSensitivity(
        epsilon: epsilon, delta: delta, sigma: sigma)
    }
  }
}

/// Bounds on the gradient residual after a Newton removal step (Docs/Math.md section 6). All are in
/// **sum form** and require rows with `||x_i|| <= 1` and `lambda > 0`.
package enum ResidualBounds {
  /// Guo et al.'s worst-case bound for removing `m` of `n` samples in one step:
  /// `4 gamma m^2 C^2 / (lambda^2 (n - m))`. Holds for the unperturbed objective and assumes
  /// `||theta|| <= C / lambda`; reported for reference, never used for the budget.
  package static func worstCase(
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
  ///   - spectralNorm: an upper bound on `||X_R||_2` (e.g. `Matrix.spectralNormUpperBound()`
  ///     of the full data).
  ///   - stepNorm: `||v||`.
  ///   - projectedStep: `t = X_R v` (one entry per retained sample; removed rows excluded).
  static func guo(
    gamma: Double = 0.25, spectralNorm: Double, stepNorm: Double, projectedStep t: [Double]
  ) -> Double {
    guo(gamma: gamma, spectralNorm: spectralNorm, stepNorm: stepNorm, projectedNorm: t.norm())
  }

  /// ``guo(gamma:spectralNorm:stepNorm:projectedStep:)`` from `||X_R v||` (e.g. summed over
  /// the ranks of a row-sharded data set).
  package static func guo(
    gamma: Double = 0.25, spectralNorm: Double, stepNorm: Double, projectedNorm: Double
  ) -> Double {
    gamma * spectralNorm * stepNorm * projectedNorm
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
  static func tight(
    thirdDerivativeBound g3: Double, spectralNorm: Double, projectedStep t: [Double]
  ) -> Double {
    var s = 0.0
    for ti in t { s += ti * ti * ti * ti }
    return tight(thirdDerivativeBound: g3, spectralNorm: spectralNorm, fourthPowerSum: s)
  }

  /// ``tight(thirdDerivativeBound:spectralNorm:projectedStep:)`` from `sum t_i^4` (e.g. summed
  /// over the ranks of a row-sharded data set).
  package static func tight(
    thirdDerivativeBound g3: Double, spectralNorm: Double, fourthPowerSum s: Double
  ) -> Double {
    0.5 * g3 * spectralNorm * s.squareRoot()
  }
}
