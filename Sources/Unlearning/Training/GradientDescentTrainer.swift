extension Training {
  /// Full-batch gradient descent on the **mean-form** objective `L / n_eff`:
  /// `theta <- theta - learningRate * grad L(theta) / n_eff`.
  ///
  /// The hospital demo's MLP settings are the defaults (learning rate 0.1, 200 epochs). One epoch is one
  /// full-batch update (one value-and-gradient evaluation). The result reports the sum-form
  /// gradient norm; with a fixed epoch budget the run is usually **not** converged to
  /// `gradientTolerance`, and says so. Stops early once the tolerance is met.
  public struct GradientDescent: Trainer, Hashable, Codable {
    /// Step size on the mean-form objective. Default 0.1 (the hospital demo's).
    public var learningRate: Double
    /// Number of full-batch updates. Default 200 (the hospital demo's).
    public var epochs: Int
    /// Converged when `||grad L|| <= gradientTolerance * n_eff` (sum form). Default `1e-9`.
    public var gradientTolerance: Double
    /// Seed for the initial parameters when no start is given (the MLP's Glorot draw).
    public var seed: UInt64

    /// Creates a gradient-descent trainer (defaults: the hospital demo's MLP settings).
    public init(
      learningRate: Double = 0.1, epochs: Int = 200, gradientTolerance: Double = 1e-9,
      seed: UInt64 = 0
    ) {
      precondition(
        learningRate > 0 && epochs >= 0 && gradientTolerance >= 0,
        "Training.GradientDescent: bad configuration")
      self.learningRate = learningRate
      self.epochs = epochs
      self.gradientTolerance = gradientTolerance
      self.seed = seed
    }

    public func train<Model: TwiceDifferentiableModel>(
      _ objective: Objective<Model>, from start: [Double]?
    ) -> Training.Result {
      let stopwatch = Stopwatch()
      let tolerance = objective.absoluteTolerance(relative: gradientTolerance)
      var theta = objective.startingPoint(start, seed: seed)
      let step = learningRate / Swift.max(objective.effectiveCount, 1e-300)
      var iterations = 0
      while iterations < epochs {
        let gradient = objective.gradient(at: theta)
        if gradient.norm() <= tolerance { break }
        theta.add(gradient, scaledBy: -step)
        iterations += 1
      }
      return objective.result(
        theta, iterations: iterations, tolerance: tolerance, stopwatch: stopwatch,
        method: "gradient-descent", notes: [])
    }
  }
}
