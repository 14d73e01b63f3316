/// Line searches along a descent direction `p` from `theta`, for ``Training/Newton`` and
/// ``Training/LBFGS``. Internal.
///
/// Both tolerate round-off near the optimum: the sufficient-decrease test allows
/// `f(theta + t p) <= f(theta) + c1 t g^T p + 1e-13 * max(1, |f(theta)|)`, so a step whose
/// predicted decrease is below the resolution of `f` is still accepted (the gradient norm,
/// not the value, is what decides convergence).
enum LineSearch {
  struct Point {
    var step: Double
    var theta: [Double]
    var value: Double
    var gradient: [Double]?
    var slope: Double
  }

  static func slack(_ f0: Double) -> Double { 1e-13 * Swift.max(1, Swift.abs(f0)) }

  /// Backtracking Armijo search: `t = 1, 1/2, 1/4, ...` until sufficient decrease.
  /// Value evaluations only. Returns `nil` after `maximumHalvings` failures.
  static func backtracking<M>(
    _ objective: Objective<M>, from theta: [Double], value f0: Double, slope d0: Double,
    direction p: [Double], c1: Double = 1e-4, maximumHalvings: Int = 50
  ) -> Point? {
    var t = 1.0
    for _ in 0..<maximumHalvings {
      let trial = theta.adding(p, scaledBy: t)
      let f = objective.value(at: trial)
      if f.isFinite && f <= f0 + c1 * t * d0 + slack(f0) {
        return Point(step: t, theta: trial, value: f, gradient: nil, slope: .nan)
      }
      t *= 0.5
    }
    return nil
  }

  /// A strong-Wolfe search (Nocedal & Wright, Algorithms 3.5 and 3.6, with safeguarded
  /// quadratic interpolation). Returns the accepted point with its gradient, or the best
  /// sufficient-decrease point found, or `nil` when no step decreased `f`.
  static func strongWolfe<M>(
    _ objective: Objective<M>, from theta: [Double], value f0: Double, slope d0: Double,
    direction p: [Double], initialStep: Double, c1: Double = 1e-4, c2: Double = 0.9,
    maximumEvaluations: Int = 40
  ) -> Point? {
    let tolerance = slack(f0)
    var evaluations = 0
    func evaluate(_ t: Double) -> Point {
      evaluations += 1
      let trial = theta.adding(p, scaledBy: t)
      let (f, g) = objective.valueAndGradient(at: trial)
      return Point(step: t, theta: trial, value: f, gradient: g, slope: g.dot(p))
    }
    func sufficient(_ x: Point) -> Bool {
      x.value.isFinite && x.value <= f0 + c1 * x.step * d0 + tolerance
    }
    func curvature(_ x: Point) -> Bool { Swift.abs(x.slope) <= -c2 * d0 }

    func zoom(_ low: Point, _ high: Point) -> Point? {
      var (lo, hi) = (low, high)
      while evaluations < maximumEvaluations {
        let width = hi.step - lo.step
        // Minimiser of the quadratic through (lo.f, lo.slope) and hi.f, kept inside the
        // middle 80% of the bracket.
        var t = lo.step + 0.5 * width
        let denominator = 2 * (hi.value - lo.value - lo.slope * width)
        if denominator.isFinite && denominator > 0 {
          let candidate = lo.step - lo.slope * width * width / denominator
          if candidate.isFinite { t = candidate }
        }
        let (a, b) = (Swift.min(lo.step, hi.step), Swift.max(lo.step, hi.step))
        t = Swift.min(Swift.max(t, a + 0.1 * (b - a)), b - 0.1 * (b - a))
        let x = evaluate(t)
        if !sufficient(x) || x.value >= lo.value {
          hi = x
        } else {
          if curvature(x) { return x }
          if x.slope * (hi.step - lo.step) >= 0 { hi = lo }
          lo = x
        }
        if Swift.abs(hi.step - lo.step) <= 1e-14 * Swift.max(1, lo.step) { break }
      }
      return lo.step > 0 ? lo : nil
    }

    let origin = Point(step: 0, theta: theta, value: f0, gradient: nil, slope: d0)
    var previous = origin
    var t = initialStep
    while evaluations < maximumEvaluations {
      let x = evaluate(t)
      if !sufficient(x) || (previous.step > 0 && x.value >= previous.value) {
        return zoom(previous, x)
      }
      if curvature(x) { return x }
      if x.slope >= 0 { return zoom(x, previous) }
      previous = x
      t *= 2
    }
    return previous.step > 0 ? previous : nil
  }
}
