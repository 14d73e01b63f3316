extension Training {
  /// Limited-memory BFGS with a strong-Wolfe line search: the trainer for large `p`, and for
  /// the MLP when a near-stationary point is wanted.
  ///
  /// Keeps the last `memory` pairs `(s, y)` (with `s^T y > 0`; others are skipped) and applies
  /// the inverse-Hessian approximation by the two-loop recursion, scaled by
  /// `s^T y / y^T y`. Cost per iteration: `O(memory * p)` plus one or a few value-and-gradient
  /// evaluations.
  public struct LBFGS: Trainer, Hashable, Codable {
    /// Number of correction pairs kept. Default 10.
    public var memory: Int
    /// Stop when `||grad L|| <= gradientTolerance * n_eff` (sum form). Default `1e-9`.
    public var gradientTolerance: Double
    /// Maximum iterations. Default 10,000.
    public var maximumIterations: Int
    /// Seed for the model's initial parameters when no start is given.
    public var seed: UInt64

    /// Creates an L-BFGS trainer.
    ///
    /// - Parameters:
    ///   - memory: correction pairs (5 to 20 is typical).
    ///   - gradientTolerance: relative to `n_eff`, sum form.
    ///   - maximumIterations: a cap on iterations (each one or more gradient evaluations).
    ///   - seed: initial-parameter seed (the MLP's Glorot draw).
    public init(
      memory: Int = 10, gradientTolerance: Double = 1e-9, maximumIterations: Int = 10_000,
      seed: UInt64 = 0
    ) {
      precondition(
        memory >= 1 && gradientTolerance >= 0 && maximumIterations >= 0,
        "Training.LBFGS: bad configuration")
      self.memory = memory
      self.gradientTolerance = gradientTolerance
      self.maximumIterations = maximumIterations
      self.seed = seed
    }

    public func train<Model: TwiceDifferentiableModel>(
      _ objective: Objective<Model>, from start: [Double]?
    ) -> Training.Result {
      let stopwatch = Stopwatch()
      let tolerance = objective.absoluteTolerance(relative: gradientTolerance)
      var theta = objective.startingPoint(start, seed: seed)
      var (value, gradient) = objective.valueAndGradient(at: theta)
      var pairs: [(s: [Double], y: [Double], rho: Double)] = []
      var notes: [String] = []
      var iterations = 0
      while iterations < maximumIterations, gradient.norm() > tolerance {
        // Two-loop recursion: direction = -H_k grad.
        var q = gradient
        var alphas = [Double](repeating: 0, count: pairs.count)
        for i in pairs.indices.reversed() {
          alphas[i] = pairs[i].rho * pairs[i].s.dot(q)
          q.add(pairs[i].y, scaledBy: -alphas[i])
        }
        if let last = pairs.last {
          q.scale(by: last.s.dot(last.y) / last.y.dot(last.y))
        }
        for i in pairs.indices {
          let beta = pairs[i].rho * pairs[i].y.dot(q)
          q.add(pairs[i].s, scaledBy: alphas[i] - beta)
        }
        var direction = q.scaled(by: -1)
        var slope = gradient.dot(direction)
        if !(slope < 0) {
          pairs.removeAll()
          direction = gradient.scaled(by: -1)
          slope = -gradient.dot(gradient)
        }
        let initialStep = pairs.isEmpty ? Swift.min(1, 1 / Swift.max(gradient.norm(), 1e-300)) : 1
        guard
          let point = LineSearch.strongWolfe(
            objective, from: theta, value: value, slope: slope, direction: direction,
            initialStep: initialStep), let newGradient = point.gradient
        else {
          if pairs.isEmpty {
            notes.append("stopped: the line search found no decrease at iteration \(iterations)")
            break
          }
          pairs.removeAll()  // restart from steepest descent once
          continue
        }
        let s = point.theta.subtracting(theta)
        let y = newGradient.subtracting(gradient)
        let sy = s.dot(y)
        if sy > 1e-12 * s.norm() * y.norm() && sy > 0 {
          pairs.append((s, y, 1 / sy))
          if pairs.count > memory { pairs.removeFirst() }
        }
        theta = point.theta
        value = point.value
        gradient = newGradient
        iterations += 1
      }
      return objective.result(
        theta, iterations: iterations, tolerance: tolerance, stopwatch: stopwatch, method: "lbfgs",
        notes: notes)
    }
  }
}
