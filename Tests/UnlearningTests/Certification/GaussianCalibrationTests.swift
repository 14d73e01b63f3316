import Foundation
import Testing
import Unlearning

/// Reference values computed independently with mpmath at 50-60 significant digits
/// (`ncdf`, exact profile formula, bisection to 300 halvings).
@Suite("Gaussian privacy profile")
struct GaussianCalibrationTests {
  /// `|a - b| <= tolerance * |b|`.
  static func close(_ a: Double, _ b: Double, relative tolerance: Double) -> Bool {
    abs(a - b) <= tolerance * abs(b)
  }

  /// `(epsilon, sigma, sensitivity, delta)`.
  static let profileReferences: [(Double, Double, Double, Double)] = [
    (1, 1, 1, 0.12693673750664395),
    (0.5, 2, 1, 0.052440323287669662),
    (1, 10, 2.280301, 4.5185537895565963e-7),
    (0.1, 4.385, 0.1, 2.9039114418078724e-8),
    (5, 1, 3, 0.31939187990588805),
    (10, 0.5, 1, 9.9402028161181528e-6),
    (50, 0.1, 1, 0.46049330589861378),
    (100, 0.2, 3, 0.7778696647956227),
    (300, 0.05, 1, 2.2727748823194729e-7),
    (700, 0.04, 1, 1.0683199937822674e-54),
    (700, 0.03, 1, 6.4580948695375396e-6),
    (2, 0.3, 1, 0.7704477036325401),
    (0.01, 100, 1, 0.00083732426747734229),
    (20, 1, 1, 2.6647067053654977e-86),
    (0, 1, 1, 0.38292492254802621),
    (3, 0.25, 1, 0.83450008185309931),
  ]

  @Test("delta(epsilon) matches mpmath to 1e-9 relative, eps up to 700, delta down to 1e-86")
  func profileMatchesReference() {
    for (epsilon, sigma, sensitivity, expected) in Self.profileReferences {
      let value = PrivacyParameters.GaussianProfile.delta(
        epsilon: epsilon, sigma: sigma, sensitivity: sensitivity)
      #expect(
        Self.close(value, expected, relative: 1e-9),
        "delta(eps \(epsilon), sigma \(sigma), D \(sensitivity)) = \(value), mpmath \(expected)")
    }
  }

  @Test("delta is 1 (to rounding) for overwhelming shifts and 0 for no shift")
  func profileEdges() {
    let nearlyOne = PrivacyParameters.GaussianProfile.delta(epsilon: 1, sigma: 0.05, sensitivity: 1)
    #expect(abs(nearlyOne - 1) <= 1e-12)
    #expect(PrivacyParameters.GaussianProfile.delta(epsilon: 1, sigma: 1, sensitivity: 0) == 0)
    // Far past exp(epsilon) overflow, still finite and in [0, 1].
    let huge = PrivacyParameters.GaussianProfile.delta(epsilon: 5000, sigma: 0.01, sensitivity: 1)
    #expect(huge >= 0 && huge <= 1)
  }

  @Test("log Phi matches mpmath across both erfc branches and the continued fraction")
  func logNormalCDFReference() {
    let references: [(Double, Double)] = [
      (-3, -6.6077262215103495),
      (-10, -53.231285150512471),
      (-36.7, -677.96745636633022),
      (-36.8, -681.64517344170337),
      (-40, -804.60844201375379),
      (-100, -5005.5242086942051),
      (-1000, -500007.82669481218),
      (2, -0.023012909328963488),
      (0, -0.69314718055994531),
    ]
    for (x, expected) in references {
      let value = PrivacyParameters.GaussianProfile.logNormalCDF(x)
      #expect(Self.close(value, expected, relative: 1e-12), "log Phi(\(x)) = \(value)")
    }
    // Continuity where the evaluation switches to the continued fraction (z = 26).
    let boundary = -26 * 2.0.squareRoot()
    let below = PrivacyParameters.GaussianProfile.logNormalCDF(boundary.nextDown)
    let above = PrivacyParameters.GaussianProfile.logNormalCDF(boundary.nextUp)
    #expect(abs(below - above) <= 1e-12 * abs(above))
  }

  @Test("delta decreases in epsilon and sigma and increases in sensitivity")
  func monotonicity() {
    var previous = 1.0
    for k in 0...400 {
      let epsilon = Double(k) * 0.05
      let value = PrivacyParameters.GaussianProfile.delta(
        epsilon: epsilon, sigma: 0.7, sensitivity: 1)
      #expect(value <= previous, "not decreasing at epsilon \(epsilon)")
      previous = value
    }
    previous = 1.0
    for k in 1...400 {
      let sigma = Double(k) * 0.02
      let value = PrivacyParameters.GaussianProfile.delta(epsilon: 1, sigma: sigma, sensitivity: 1)
      #expect(value <= previous, "not decreasing at sigma \(sigma)")
      previous = value
    }
    previous = 0.0
    for k in 0...400 {
      let sensitivity = Double(k) * 0.02
      let value = PrivacyParameters.GaussianProfile.delta(
        epsilon: 1, sigma: 1, sensitivity: sensitivity)
      #expect(value >= previous, "not increasing at sensitivity \(sensitivity)")
      previous = value
    }
  }

  @Test("minimumSigma matches mpmath, holds the guarantee and is tight")
  func minimumSigmaReference() {
    let references: [(Double, Double, Double, Double)] = [
      (1, 1e-4, 1, 3.18570298996067),
      (0.1, 1e-5, 1, 30.749566131977448),
      (10, 1e-6, 1, 0.54108683181836598),
      (0.5, 1e-2, 2.5, 7.8672827465167007),
      (3, 1e-10, 0.7, 1.4435772252351844),
      (50, 1e-20, 1, 0.22688162515027894),
    ]
    for (epsilon, delta, sensitivity, expected) in references {
      let sigma = PrivacyParameters.GaussianProfile.minimumSigma(
        epsilon: epsilon, delta: delta, sensitivity: sensitivity)
      #expect(Self.close(sigma, expected, relative: 1e-9), "sigma(\(epsilon), \(delta)) = \(sigma)")
      #expect(sigma >= expected * (1 - 1e-12), "rounded up")
      let achieved = PrivacyParameters.GaussianProfile.delta(
        epsilon: epsilon, sigma: sigma, sensitivity: sensitivity)
      #expect(achieved <= delta)
      let smaller = PrivacyParameters.GaussianProfile.delta(
        epsilon: epsilon, sigma: sigma * (1 - 1e-9), sensitivity: sensitivity)
      #expect(smaller > delta, "a 1e-9 smaller sigma must fail")
    }
  }

  @Test("largestEpsilon matches mpmath (eps beyond exp overflow too) and holds the guarantee")
  func largestEpsilonReference() {
    let references: [(Double, Double, Double, Double)] = [
      (1e-4, 10, 2.280301, 0.69725223019591901),
      (1e-5, 1, 1, 4.3771780956812246),
      (1e-6, 0.2, 1, 35.566343714136215),
      (1e-2, 5, 1, 0.26323120977408296),
      (1e-12, 0.1, 1, 119.58840871231335),
      (1e-100, 0.02, 1, 2312.8395292505168),
    ]
    for (delta, sigma, sensitivity, expected) in references {
      let epsilon = PrivacyParameters.GaussianProfile.largestEpsilon(
        delta: delta, sigma: sigma, sensitivity: sensitivity)
      #expect(
        Self.close(epsilon, expected, relative: 1e-9), "epsilon(\(delta), \(sigma)) = \(epsilon)")
      let achieved = PrivacyParameters.GaussianProfile.delta(
        epsilon: epsilon, sigma: sigma, sensitivity: sensitivity)
      #expect(achieved <= delta)
    }
    // Noise so large that epsilon = 0 already suffices.
    #expect(
      PrivacyParameters.GaussianProfile.largestEpsilon(delta: 0.5, sigma: 100, sensitivity: 1) == 0)
  }

  @Test("sigma -> delta -> sigma and sensitivity -> sigma round trips")
  func roundTrips() {
    for epsilon in [0.05, 0.5, 1, 4, 20] {
      for sigma in [0.3, 1, 3, 30] {
        let delta = PrivacyParameters.GaussianProfile.delta(
          epsilon: epsilon, sigma: sigma, sensitivity: 1)
        guard delta > 1e-300, delta < 0.9 else { continue }
        let back = PrivacyParameters.GaussianProfile.minimumSigma(
          epsilon: epsilon, delta: delta, sensitivity: 1)
        #expect(Self.close(back, sigma, relative: 1e-9), "eps \(epsilon) sigma \(sigma): \(back)")
        let budget = PrivacyParameters.GaussianProfile.maximumSensitivity(
          epsilon: epsilon, delta: delta, sigma: sigma)
        #expect(Self.close(budget, 1, relative: 1e-9), "eps \(epsilon) sigma \(sigma): \(budget)")
        #expect(
          PrivacyParameters.GaussianProfile.delta(
            epsilon: epsilon, sigma: sigma, sensitivity: budget)
            <= delta, "rounded down")
      }
    }
  }

  @Test("classic calibration fails beyond eps 7.21 (1e-2), 8.38 (1e-4), 9.15 (1e-6)")
  func classicValidity() {
    // mpmath roots of delta_exact(eps, sigma = c / eps) = delta.
    let limits: [(Double, Double)] = [
      (1e-2, 7.20707379407027), (1e-4, 8.37600357900111), (1e-6, 9.1480192334557),
    ]
    let approximate: [Double: Double] = [1e-2: 7.2, 1e-4: 8.4, 1e-6: 9.2]
    for (delta, expected) in limits {
      let limit = PrivacyParameters.GaussianProfile.classicValidityLimit(delta: delta)
      #expect(Self.close(limit, expected, relative: 1e-9), "limit(\(delta)) = \(limit)")
      #expect(abs(limit - (approximate[delta] ?? 0)) <= 0.1)
      #expect(PrivacyParameters.GaussianProfile.classicIsValid(epsilon: limit - 0.1, delta: delta))
      #expect(!PrivacyParameters.GaussianProfile.classicIsValid(epsilon: limit + 0.1, delta: delta))
      for epsilon in [0.001, 0.01, 0.1, 0.5, 1, 2, 5] {
        #expect(PrivacyParameters.GaussianProfile.classicIsValid(epsilon: epsilon, delta: delta))
      }
    }
    // At eps 10, delta 1e-4 the classic sigma gives a true delta of 2.25e-4.
    let c = PrivacyParameters.GaussianProfile.classicConstant(delta: 1e-4)
    #expect(abs(c - 4.385386) < 5e-7)
    let trueDelta = PrivacyParameters.GaussianProfile.delta(
      epsilon: 10, sigma: c / 10, sensitivity: 1)
    #expect(Self.close(trueDelta, 2.25004552479162e-4, relative: 1e-9), "\(trueDelta)")
  }

  @Test("where the classic calibration is valid, the exact sigma never exceeds it")
  func exactNeverNeedsMoreNoise() {
    for delta in [1e-2, 1e-4, 1e-6, 1e-9] {
      let c = PrivacyParameters.GaussianProfile.classicConstant(delta: delta)
      for epsilon in [0.01, 0.1, 0.5, 1, 2, 4, 7] {
        guard PrivacyParameters.GaussianProfile.classicIsValid(epsilon: epsilon, delta: delta)
        else {
          continue
        }
        let exact = PrivacyParameters.GaussianProfile.minimumSigma(
          epsilon: epsilon, delta: delta, sensitivity: 1)
        #expect(exact <= c / epsilon, "eps \(epsilon), delta \(delta)")
      }
    }
  }

  @Test("budget gain exact / classic at delta 1e-4: 1.789 (eps 0.1), 1.377 (1), 0.963 (10)")
  func budgetGain() {
    let references: [(Double, Double)] = [
      (0.1, 1.78936150314104), (1, 1.37658346720412), (10, 0.963259817885858),
    ]
    let delta = 1e-4
    let sigma = 10.0
    let c = PrivacyParameters.GaussianProfile.classicConstant(delta: delta)
    for (epsilon, expected) in references {
      let exact = PrivacyParameters.GaussianProfile.maximumSensitivity(
        epsilon: epsilon, delta: delta, sigma: sigma)
      let classic = sigma * epsilon / c
      #expect(
        Self.close(exact / classic, expected, relative: 1e-9), "eps \(epsilon): \(exact / classic)")
    }
  }
}
