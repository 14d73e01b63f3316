#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension PrivacyParameters {
  /// The exact privacy profile of the Gaussian mechanism (the analytic Gaussian mechanism of
  /// Balle and Wang, ICML 2018) and the calibrations derived from it.
  ///
  /// Releasing `f(D) + N(0, sigma^2 I)` where neighbouring inputs move `f` by a vector of norm at
  /// most `D` (the **sensitivity**; for certified removal, the gradient-residual budget
  /// `epsilon'`) is `(epsilon, delta)`-indistinguishable exactly when `delta >= delta(epsilon)`,
  ///
  /// ```
  /// delta(epsilon) = Phi(D / (2 s) - epsilon s / D) - exp(epsilon) Phi(-D / (2 s) - epsilon s / D)
  /// ```
  ///
  /// with `s = sigma` and `Phi` the standard normal CDF. The profile depends on `D` and `sigma` only
  /// through the ratio `D / sigma`; it increases with `D / sigma` and decreases with `epsilon`.
  ///
  /// The classic calibration `sigma = c D / epsilon`, `c = sqrt(2 ln(1.5 / delta))`, is a
  /// sufficient condition that wastes budget for small `epsilon` and is *not* sufficient for large
  /// `epsilon` (beyond about 7.2 at `delta = 1e-2`, 8.4 at `1e-4`, 9.1 at `1e-6`; see
  /// ``classicValidityLimit(delta:)``). The exact profile is never looser than needed.
  ///
  /// Numerics: both terms are evaluated in log space (`log Phi` from `erfc`, with a continued
  /// fraction for `erfc` beyond its underflow), so `epsilon` up to several thousand and deltas down
  /// to about `1e-300` are handled; every function costs O(1) (`delta`) or O(100) profile
  /// evaluations (the inverses, by bisection).
  ///
  /// All inputs are checked with preconditions: `epsilon >= 0` and finite, `sigma > 0` and finite,
  /// `sensitivity >= 0` and finite, `delta` in `(0, 1)`.
  public enum GaussianProfile {
    /// The smallest `delta` for which the Gaussian mechanism is `(epsilon, delta)`-private: the
    /// exact profile above. Returns `0` for `sensitivity == 0`.
    ///
    /// - Parameters:
    ///   - epsilon: the privacy loss, `>= 0`.
    ///   - sigma: the noise standard deviation per coordinate, `> 0`.
    ///   - sensitivity: the largest norm of the shift between neighbouring outputs, `>= 0`, in
    ///     the same units as `sigma`.
    /// - Returns: `delta` in `[0, 1]`, with relative accuracy about `1e-12` away from `0` and `1`.
    public static func delta(epsilon: Double, sigma: Double, sensitivity: Double) -> Double {
      precondition(
        epsilon >= 0 && epsilon.isFinite, "epsilon must be >= 0 and finite, got \(epsilon)")
      precondition(sigma > 0 && sigma.isFinite, "sigma must be > 0 and finite, got \(sigma)")
      precondition(
        sensitivity >= 0 && sensitivity.isFinite,
        "sensitivity must be >= 0 and finite, got \(sensitivity)")
      if sensitivity == 0 { return 0 }
      let ratio = sensitivity / sigma
      let half = ratio / 2
      let shift = epsilon / ratio
      let logFirst = logNormalCDF(half - shift)
      let logSecond = epsilon + logNormalCDF(-half - shift)
      // delta = A - B = A (1 - B / A), both terms in log space.
      guard logFirst > -Double.infinity else { return 0 }
      let logRatio = logSecond - logFirst
      guard logRatio < 0 else { return 0 }
      let value = exp(logFirst) * -expm1(logRatio)
      return min(max(value, 0), 1)
    }

    /// The smallest noise `sigma` for which the mechanism with the given `sensitivity` is
    /// `(epsilon, delta)`-private, found by bisection to relative tolerance `1e-12` and rounded
    /// **up** (the returned `sigma` always satisfies `delta(epsilon:sigma:sensitivity:) <= delta`).
    ///
    /// - Parameters:
    ///   - epsilon: the target privacy loss, `> 0`.
    ///   - delta: the target failure probability in `(0, 1)`.
    ///   - sensitivity: the shift norm bound, `> 0`.
    /// - Returns: `sigma > 0`, in the units of `sensitivity`. Cost: about 100 profile evaluations.
    public static func minimumSigma(epsilon: Double, delta: Double, sensitivity: Double) -> Double {
      precondition(
        epsilon > 0 && epsilon.isFinite, "epsilon must be > 0 and finite, got \(epsilon)")
      precondition(delta > 0 && delta < 1, "delta must be in (0, 1), got \(delta)")
      precondition(
        sensitivity > 0 && sensitivity.isFinite, "sensitivity must be > 0, got \(sensitivity)")
      // Feasible: large sigma. The profile decreases in sigma.
      func feasible(_ sigma: Double) -> Bool {
        Self.delta(epsilon: epsilon, sigma: sigma, sensitivity: sensitivity) <= delta
      }
      var high = sensitivity
      while !feasible(high) { high *= 2 }
      var low = high / 2
      while feasible(low) {
        high = low
        low /= 2
      }
      while high - low > 1e-12 * high {
        let mid = low + (high - low) / 2
        if mid <= low || mid >= high { break }
        if feasible(mid) { high = mid } else { low = mid }
      }
      return high
    }

    /// The largest sensitivity (for certified removal: the gradient-residual **budget**
    /// `epsilon'`) that noise `sigma` covers at `(epsilon, delta)`: the exact analogue of the
    /// classic `sigma * epsilon / c`. Found by bisection to relative tolerance `1e-12` and rounded
    /// **down** (the result always satisfies `delta(epsilon:sigma:sensitivity:) <= delta`).
    ///
    /// - Parameters:
    ///   - epsilon: the target privacy loss, `> 0`.
    ///   - delta: the target failure probability in `(0, 1)`.
    ///   - sigma: the noise standard deviation, `> 0`.
    /// - Returns: the budget, `> 0`, in the units of `sigma`. Cost: about 100 profile evaluations.
    public static func maximumSensitivity(epsilon: Double, delta: Double, sigma: Double) -> Double {
      precondition(
        epsilon > 0 && epsilon.isFinite, "epsilon must be > 0 and finite, got \(epsilon)")
      precondition(delta > 0 && delta < 1, "delta must be in (0, 1), got \(delta)")
      precondition(sigma > 0 && sigma.isFinite, "sigma must be > 0 and finite, got \(sigma)")
      // Feasible: small sensitivity. The profile increases in sensitivity.
      func feasible(_ sensitivity: Double) -> Bool {
        Self.delta(epsilon: epsilon, sigma: sigma, sensitivity: sensitivity) <= delta
      }
      var low = sigma
      while !feasible(low) { low /= 2 }
      guard low > 0 else { return 0 }
      var high = low * 2
      while feasible(high) {
        low = high
        high *= 2
      }
      while high - low > 1e-12 * high {
        let mid = low + (high - low) / 2
        if mid <= low || mid >= high { break }
        if feasible(mid) { low = mid } else { high = mid }
      }
      return low
    }

    /// The privacy loss certified at `delta` by noise `sigma` on a shift of norm `sensitivity`:
    /// the boundary `epsilon*` with `delta(epsilon*) = delta`. The mechanism is
    /// `(epsilon, delta)`-private for every `epsilon >= epsilon*` and for no smaller one, so
    /// `epsilon*` is also the largest `epsilon` at which the profile still reaches `delta`.
    /// Found by bisection to relative tolerance `1e-12` and rounded **up** (the result always
    /// satisfies `delta(epsilon:sigma:sensitivity:) <= delta`); `0` when even `epsilon = 0`
    /// suffices.
    ///
    /// - Parameters:
    ///   - delta: the failure probability in `(0, 1)`.
    ///   - sigma: the noise standard deviation, `> 0`.
    ///   - sensitivity: the shift norm bound, `>= 0`.
    /// - Returns: `epsilon* >= 0`. Cost: about 100 profile evaluations.
    public static func largestEpsilon(delta: Double, sigma: Double, sensitivity: Double) -> Double {
      precondition(delta > 0 && delta < 1, "delta must be in (0, 1), got \(delta)")
      // Feasible: large epsilon. The profile decreases in epsilon.
      func feasible(_ epsilon: Double) -> Bool {
        Self.delta(epsilon: epsilon, sigma: sigma, sensitivity: sensitivity) <= delta
      }
      if feasible(0) { return 0 }
      var high = 1.0
      var low = 0.0
      while !feasible(high) {
        low = high
        high *= 2
      }
      while high - low > 1e-12 * high {
        let mid = low + (high - low) / 2
        if mid <= low || mid >= high { break }
        if feasible(mid) { high = mid } else { low = mid }
      }
      return high
    }

    /// The constant of the classic calibration, `c = sqrt(2 ln(1.5 / delta))`.
    public static func classicConstant(delta: Double) -> Double {
      precondition(delta > 0 && delta < 1, "delta must be in (0, 1), got \(delta)")
      return (2 * log(1.5 / delta)).squareRoot()
    }

    /// Whether the classic calibration `sigma = c D / epsilon`, `c = sqrt(2 ln(1.5 / delta))`,
    /// really gives `(epsilon, delta)`-privacy under the exact profile. True for every
    /// `epsilon <= 1` and up to ``classicValidityLimit(delta:)``; false beyond it.
    ///
    /// Cost: one profile evaluation (the answer does not depend on `D`).
    public static func classicIsValid(epsilon: Double, delta: Double) -> Bool {
      precondition(
        epsilon > 0 && epsilon.isFinite, "epsilon must be > 0 and finite, got \(epsilon)")
      let sigma = classicConstant(delta: delta) / epsilon
      return Self.delta(epsilon: epsilon, sigma: sigma, sensitivity: 1) <= delta
    }

    /// The largest `epsilon` for which the classic calibration is valid at `delta` (the
    /// boundary of ``classicIsValid(epsilon:delta:)``, to relative tolerance `1e-12`, rounded
    /// down). Measured: 7.207 at `delta = 1e-2`, 8.376 at `1e-4`, 9.148 at `1e-6`.
    ///
    /// Cost: about 100 profile evaluations.
    public static func classicValidityLimit(delta: Double) -> Double {
      precondition(delta > 0 && delta < 1, "delta must be in (0, 1), got \(delta)")
      var low = 1.0
      var high = 2.0
      while classicIsValid(epsilon: high, delta: delta) {
        low = high
        high *= 2
      }
      while high - low > 1e-12 * high {
        let mid = low + (high - low) / 2
        if mid <= low || mid >= high { break }
        if classicIsValid(epsilon: mid, delta: delta) { low = mid } else { high = mid }
      }
      return low
    }

    /// `log Phi(x)` for the standard normal CDF `Phi`, accurate to a few ulps of `Phi` for every
    /// finite `x` (it reaches `-x^2 / 2` without underflow in the far left tail).
    public static func logNormalCDF(_ x: Double) -> Double {
      if x.isNaN { return .nan }
      if x == .infinity { return 0 }
      if x == -.infinity { return -.infinity }
      let z = -x / 2.0.squareRoot()
      if z < 0 {
        // Phi(x) = 1 - erfc(x / sqrt 2) / 2 near 1.
        return log1p(-0.5 * erfc(-z))
      }
      if z < 26 { return log(0.5 * erfc(z)) }
      // erfc(z) = exp(-z^2) * erfcx(z); erfcx by the Laplace continued fraction, which converges
      // to machine precision in a few dozen terms for z >= 26.
      return -z * z + log(0.5 * scaledComplementaryErrorFunction(largeArgument: z))
    }

    /// `erfcx(z) = exp(z^2) erfc(z)` for `z >= 26`:
    /// `1 / sqrt(pi) * 1 / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...))))`.
    static func scaledComplementaryErrorFunction(largeArgument z: Double) -> Double {
      var tail = z
      for k in stride(from: 60, through: 1, by: -1) {
        tail = z + (Double(k) / 2) / tail
      }
      return 1 / (Double.pi.squareRoot() * tail)
    }
  }
}
