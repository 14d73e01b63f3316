import RealModule

extension Training {
  /// Adam (Kingma & Ba 2015) on the **mean-form** objective, full batch or mini-batches.
  ///
  /// With mini-batch `B` the stochastic gradient is
  /// `(sum_{i in B} w_i grad loss_i) / (sum_{i in B} w_i) + lambda theta + b / n_eff`, an
  /// unbiased-per-sample estimate of `grad L / n_eff`. Updates:
  /// `m <- beta1 m + (1 - beta1) g`, `v <- beta2 v + (1 - beta2) g^2`,
  /// `theta <- theta - learningRate * m^ / (sqrt(v^) + epsilon)` with bias corrections.
  /// Mini-batch order is a seeded shuffle per epoch; mini-batches copy their rows
  /// (`O(|B| d)`). The result reports the sum-form gradient norm of the full objective.
  public struct Adam: Trainer, Hashable, Codable {
    /// Step size. Default `1e-3`.
    public var learningRate: Double
    /// Passes over the data. Default 200.
    public var epochs: Int
    /// First-moment decay. Default 0.9.
    public var beta1: Double
    /// Second-moment decay. Default 0.999.
    public var beta2: Double
    /// Denominator guard. Default `1e-8`.
    public var epsilon: Double
    /// Samples per mini-batch, or `nil` for full batch.
    public var batchSize: Int?
    /// Converged when `||grad L|| <= gradientTolerance * n_eff` (sum form). Default `1e-9`.
    public var gradientTolerance: Double
    /// Seeds the mini-batch order and (with no start given) the initial parameters.
    public var seed: UInt64

    /// Creates an Adam trainer.
    ///
    /// - Parameters:
    ///   - learningRate: step size.
    ///   - epochs: passes over the data (a full-batch pass is one update).
    ///   - beta1: Adam's first-moment decay (the paper's default 0.9).
    ///   - beta2: Adam's second-moment decay (the paper's default 0.999).
    ///   - epsilon: Adam's denominator floor (the paper's default `1e-8`).
    ///   - batchSize: mini-batch size, `nil` for full batch (deterministic, no shuffling).
    ///   - gradientTolerance: relative to `n_eff`, sum form; checked once per epoch.
    ///   - seed: mini-batch order and initial parameters.
    public init(
      learningRate: Double = 1e-3, epochs: Int = 200, beta1: Double = 0.9, beta2: Double = 0.999,
      epsilon: Double = 1e-8, batchSize: Int? = nil, gradientTolerance: Double = 1e-9,
      seed: UInt64 = 0
    ) {
      precondition(learningRate > 0 && epochs >= 0, "Training.Adam: bad learning rate or epochs")
      precondition(
        (0..<1).contains(beta1) && (0..<1).contains(beta2) && epsilon > 0,
        "Training.Adam: bad constants")
      precondition(batchSize.map { $0 >= 1 } ?? true, "Training.Adam: batch size must be positive")
      self.learningRate = learningRate
      self.epochs = epochs
      self.beta1 = beta1
      self.beta2 = beta2
      self.epsilon = epsilon
      self.batchSize = batchSize
      self.gradientTolerance = gradientTolerance
      self.seed = seed
    }

    public func train<Model: TwiceDifferentiableModel>(
      _ objective: Objective<Model>, from start: [Double]?
    ) -> Training.Result {
      let stopwatch = Stopwatch()
      let tolerance = objective.absoluteTolerance(relative: gradientTolerance)
      var theta = objective.startingPoint(start, seed: seed)
      var generator = SeededGenerator(seed: seed ^ 0x5EED_ADA0)
      let n = objective.features.rows
      let p = theta.count
      let neff = Swift.max(objective.effectiveCount, 1e-300)
      var m = [Double](repeating: 0, count: p)
      var v = m
      var updates = 0
      var order = Array(0..<n)
      for _ in 0..<epochs {
        if objective.gradientNorm(at: theta) <= tolerance { break }
        let size = Swift.min(batchSize ?? n, Swift.max(n, 1))
        if batchSize != nil { order.shuffle(using: &generator) }
        var first = 0
        while first < n {
          let batch = order[first..<Swift.min(first + size, n)]
          first += size
          var g: [Double]
          if batch.count == n && batchSize == nil {
            g = objective.gradient(at: theta).scaled(by: 1 / neff)
          } else {
            let w = batch.map { objective.weights?[$0] ?? 1 }
            let total = w.reduce(0, +)
            if total == 0 { continue }
            let rows = objective.features.rows(at: batch)
            g = objective.model.lossAndGradient(
              theta, features: rows, targets: batch.map { objective.targets[$0] },
              weights: objective.weights == nil ? nil : w
            ).gradient.scaled(by: 1 / total)
            g.add(theta, scaledBy: objective.regularization)
            if let b = objective.perturbation { g.add(b, scaledBy: 1 / neff) }
          }
          updates += 1
          let c1 = 1 - Double.pow(beta1, Double(updates))
          let c2 = 1 - Double.pow(beta2, Double(updates))
          for j in 0..<p {
            m[j] = beta1 * m[j] + (1 - beta1) * g[j]
            v[j] = beta2 * v[j] + (1 - beta2) * g[j] * g[j]
            theta[j] -= learningRate * (m[j] / c1) / ((v[j] / c2).squareRoot() + epsilon)
          }
        }
      }
      return objective.result(
        theta, iterations: updates, tolerance: tolerance, stopwatch: stopwatch, method: "adam",
        notes: [])
    }
  }
}
