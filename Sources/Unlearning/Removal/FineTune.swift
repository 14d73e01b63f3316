import Foundation

extension Baselines {
  /// Fine-tuning on the retained rows: the baseline of the NeurIPS 2023 Machine Unlearning
  /// challenge (Triantafillou et al. 2023, starting kit): a few epochs of mini-batch SGD with
  /// momentum and cosine annealing on the retained data only, from the current parameters, so
  /// that the forgotten rows' influence fades ("catastrophic forgetting") while the retained fit
  /// is kept.
  ///
  /// Each step uses the mean-form gradient of the model's own retained objective estimated on a
  /// mini-batch `B`,
  ///
  ///     g = (1 / |B|) sum_{i in B} grad loss_i(theta) + lambda theta + b / n_R,
  ///
  /// (`lambda` the state's regularisation, playing the role of the kit's weight decay), then
  /// `u <- momentum u + g`, `theta <- theta - eta_e u`, with the learning rate of epoch
  /// `e = 0, ..., E - 1` annealed as `eta_e = learningRate (1 + cos(pi e / E)) / 2`.
  /// Batches are a seeded permutation of the retained rows per epoch. The retained rows are
  /// copied out first (`O(n_R d)`): forgotten rows are never read, so the result equals running
  /// on a data set physically without them. Defaults are the kit's: 5 epochs, learning rate
  /// 0.001, momentum 0.9, cosine annealing; batch size 64.
  ///
  /// Cost: `epochs` passes of gradient evaluations over the `n_R` retained rows (`O(epochs n_R p)`).
  public struct FineTune: Unlearner {
    /// Passes over the retained rows. Default 5.
    public var epochs: Int
    /// Initial learning rate on the mean-form objective. Default 0.001.
    public var learningRate: Double
    /// Heavy-ball momentum in `[0, 1)`. Default 0.9.
    public var momentum: Double
    /// Rows per mini-batch. Default 64.
    public var batchSize: Int
    /// Anneal the learning rate by a half cosine over the epochs (default `true`).
    public var cosineAnnealing: Bool
    /// Seeds the batch order.
    public var seed: UInt64

    /// Creates the method (defaults: the challenge's starting kit).
    ///
    /// - Parameters:
    ///   - epochs: `E >= 0`.
    ///   - learningRate: `eta > 0`.
    ///   - momentum: in `[0, 1)`.
    ///   - batchSize: `>= 1`.
    ///   - cosineAnnealing: anneal per epoch.
    ///   - seed: seed of the batch order.
    public init(
      epochs: Int = 5, learningRate: Double = 1e-3, momentum: Double = 0.9, batchSize: Int = 64,
      cosineAnnealing: Bool = true, seed: UInt64 = 0
    ) {
      precondition(
        epochs >= 0 && learningRate > 0 && (0..<1).contains(momentum) && batchSize >= 1,
        "Baselines.FineTune: bad configuration")
      self.epochs = epochs
      self.learningRate = learningRate
      self.momentum = momentum
      self.batchSize = batchSize
      self.cosineAnnealing = cosineAnnealing
      self.seed = seed
    }

    /// `"finetune"`.
    public var name: String { "finetune" }

    /// Learning rate of epoch `e` (0-based).
    func learningRate(epoch e: Int) -> Double {
      guard cosineAnnealing, epochs > 0 else { return learningRate }
      return learningRate * 0.5 * (1 + cos(Double.pi * Double(e) / Double(epochs)))
    }

    /// Fine-tunes on the retained rows. - Throws: ``UnlearningError`` on a bad request.
    public func unlearn<Model: TwiceDifferentiableModel>(
      _ state: TrainedModel<Model>, forgetting ids: [SampleID]
    ) throws -> UnlearningResult<Model> {
      try UnlearningResult.run(method: name, state: state, ids: ids) { removed, _ in
        let retained = removed.weights.indices.filter { removed.weights[$0] != 0 }
        let features = removed.data.features.rows(at: retained)
        let targets = retained.map { Double(removed.data.labels[$0]) }
        let model = removed.model
        let n = Double(retained.count)
        var theta = removed.parameters
        let before = model.lossValue(theta, features: features, targets: targets, weights: nil) / n
        var optimizer = MiniBatchSGD(parameterCount: theta.count, momentum: momentum)
        var generator = SeededGenerator(seed: seed)
        var steps = 0
        for e in 0..<epochs {
          let rate = learningRate(epoch: e)
          for batch in MiniBatchSGD.batches(
            count: retained.count, size: batchSize, using: &generator)
          {
            var gradient = model.lossAndGradient(
              theta, features: features.rows(at: batch), targets: batch.map { targets[$0] },
              weights: nil
            ).gradient
            gradient.scale(by: 1 / Double(batch.count))
            gradient.add(theta, scaledBy: removed.regularization)
            if let b = removed.perturbation { gradient.add(b, scaledBy: 1 / n) }
            optimizer.step(&theta, gradient: gradient, learningRate: rate)
            steps += 1
          }
        }
        let after = model.lossValue(theta, features: features, targets: targets, weights: nil) / n
        var next = removed
        next.parameters = theta
        return UnlearningOutcome(
          state: next,
          notes: [
            "SGD with momentum on the retained rows only (mean-form retained objective, lambda as weight decay)"
          ],
          details: [
            "epochs": Double(epochs), "steps": Double(steps), "learning rate": learningRate,
            "retained mean loss before": before, "retained mean loss after": after,
          ])
      }
    }
  }
}
