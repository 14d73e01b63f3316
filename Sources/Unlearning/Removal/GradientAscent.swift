extension Baselines {
  /// Gradient ascent as the naive hospital demo this project started from ran it on the forget set (Docs/Math.md section 7):
  ///
  ///     repeat epochs times:  theta <- theta + learningRate * multiplier * grad (mean_{j in F} loss_j(theta))
  ///
  /// (the data loss only: no regulariser, no `b`). It does not aim at the retrained model: run
  /// long enough it pushes forget-set accuracy below the retrained model's level
  /// ("over-forgetting"), which makes the forgotten people *more* identifiable. Reported honestly
  /// in the notes. Cost: `epochs` gradient passes over the `m` forgotten rows (`O(epochs m p)`;
  /// the `m x d` forget rows are copied once).
  public struct GradientAscent: Unlearner {
    /// `eta`. Default 0.1 (the hospital demo's).
    public var learningRate: Double
    /// `alpha`, the hospital demo's "multiplier". Default 0.7.
    public var multiplier: Double
    /// Number of ascent steps. Default 145 (the hospital demo's).
    public var epochs: Int

    /// Creates the method with the hospital demo's settings by default.
    ///
    /// - Parameters:
    ///   - learningRate: `eta > 0`.
    ///   - multiplier: `alpha > 0`.
    ///   - epochs: `E >= 0`.
    public init(learningRate: Double = 0.1, multiplier: Double = 0.7, epochs: Int = 145) {
      precondition(
        learningRate > 0 && multiplier > 0 && epochs >= 0,
        "Baselines.GradientAscent: bad configuration")
      self.learningRate = learningRate
      self.multiplier = multiplier
      self.epochs = epochs
    }

    /// `"gradient-ascent"`.
    public var name: String { "gradient-ascent" }

    /// Ascends the mean forget loss. - Throws: ``UnlearningError`` on a bad request.
    public func unlearn<Model: TwiceDifferentiableModel>(
      _ state: TrainedModel<Model>, forgetting ids: [SampleID]
    ) throws -> UnlearningResult<Model> {
      try UnlearningResult.run(method: name, state: state, ids: ids) { removed, rows in
        let forget = removed.data.features.rows(at: rows)
        let targets = rows.map { Double(removed.data.labels[$0]) }
        let step = learningRate * multiplier / Double(rows.count)
        var theta = removed.parameters
        let before = removed.model.lossValue(
          theta, features: forget, targets: targets, weights: nil)
        for _ in 0..<epochs {
          let gradient = removed.model.lossAndGradient(
            theta, features: forget, targets: targets, weights: nil
          ).gradient
          theta.add(gradient, scaledBy: step)
        }
        let after = removed.model.lossValue(theta, features: forget, targets: targets, weights: nil)
        var next = removed
        next.parameters = theta
        return UnlearningOutcome(
          state: next,
          notes: [
            "ascends the forget loss; does not target the retrained model and can over-forget"
              + " (compare forget accuracy with retrain's)"
          ],
          details: [
            "epochs": Double(epochs), "learning rate": learningRate, "multiplier": multiplier,
            "forget mean loss before": before / Double(rows.count),
            "forget mean loss after": after / Double(rows.count),
          ])
      }
    }
  }
}
