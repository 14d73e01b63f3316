extension Baselines {
  /// NegGrad+ (Docs/Math.md section 7): gradient steps on
  ///
  ///     beta * L_b(theta; R) / n_R  -  (1 - beta) * mean_{j in F} loss_j(theta),
  ///
  /// i.e. the **retained objective in mean form** (data loss, the L2 regulariser
  /// `(lambda / 2) ||theta||^2` and `b^T theta / n_R`) weighted by `beta`, minus the mean forget
  /// loss weighted by `1 - beta`; from the current parameters:
  /// `theta <- theta - learningRate * gradient`. `beta = 1` is fine-tuning on the retained rows.
  /// Cost: `epochs` gradient passes over all `n` rows (`O(epochs n p)`).
  public struct NegGradPlus: Unlearner {
    /// `beta` in `[0, 1]`, the weight of the retained objective.
    public var beta: Double
    /// Step size. Default 0.1.
    public var learningRate: Double
    /// Number of steps. Default 100.
    public var epochs: Int

    /// Creates the method.
    ///
    /// - Parameters:
    ///   - beta: weight of the retained objective, in `[0, 1]` (default 0.9).
    ///   - learningRate: step size `> 0`.
    ///   - epochs: number of full-batch steps.
    public init(beta: Double = 0.9, learningRate: Double = 0.1, epochs: Int = 100) {
      precondition(
        beta >= 0 && beta <= 1 && learningRate > 0 && epochs >= 0,
        "Baselines.NegGradPlus: bad configuration")
      self.beta = beta
      self.learningRate = learningRate
      self.epochs = epochs
    }

    /// `"neggrad+"`.
    public var name: String { "neggrad+" }

    /// Runs the NegGrad+ steps. - Throws: ``UnlearningError`` on a bad request.
    public func unlearn<Model: TwiceDifferentiableModel>(
      _ state: TrainedModel<Model>, forgetting ids: [SampleID]
    ) throws -> UnlearningResult<Model> {
      try UnlearningResult.run(method: name, state: state, ids: ids) { removed, rows in
        let objective = removed.objective()
        let forget = removed.data.features.rows(at: rows)
        let targets = rows.map { Double(removed.data.labels[$0]) }
        let retainedScale = beta / objective.effectiveCount
        let forgetScale = (1 - beta) / Double(rows.count)
        var theta = removed.parameters
        for _ in 0..<epochs {
          var gradient = objective.gradient(at: theta)
          gradient.scale(by: retainedScale)
          let forgetGradient = removed.model.lossAndGradient(
            theta, features: forget, targets: targets, weights: nil
          ).gradient
          gradient.add(forgetGradient, scaledBy: -forgetScale)
          theta.add(gradient, scaledBy: -learningRate)
        }
        var next = removed
        next.parameters = theta
        return UnlearningOutcome(
          state: next,
          notes: [
            "objective: beta * (retained sum-form objective incl. regulariser and b) / n_R - (1 - beta) * mean forget loss"
          ],
          details: ["epochs": Double(epochs), "beta": beta, "learning rate": learningRate])
      }
    }
  }
}
