/// Retraining from scratch on the retained rows: the reference every other method is judged
/// against (Docs/Math.md section 7).
///
/// Minimises the same objective `L_b(theta; R)`: same `b`, regulariser rescaled to the retained
/// count (automatic with weights), from the model's initial parameters
/// (``TwiceDifferentiableModel/initialParameters(seed:)``, zeros for convex linear models), to
/// the trainer's tolerance. Cost: a full training run.
public struct Retrain: Unlearner {
  /// The optimiser (default ``Training/Newton``).
  public var trainer: any Trainer
  /// Seed of the initial parameters (networks; linear models start at zero).
  public var seed: UInt64

  /// Creates the retraining reference.
  ///
  /// - Parameters:
  ///   - trainer: the optimiser; use the one that trained the original model for a fair
  ///     comparison.
  ///   - seed: seed of the initial parameters.
  public init(trainer: some Trainer = Training.Newton(), seed: UInt64 = 0) {
    self.trainer = trainer
    self.seed = seed
  }

  /// `"retrain"`.
  public var name: String { "retrain" }

  /// Trains from scratch on the retained rows. - Throws: ``UnlearningError`` on a bad request.
  public func unlearn<Model: TwiceDifferentiableModel>(
    _ state: TrainedModel<Model>, forgetting ids: [SampleID]
  ) throws -> UnlearningResult<Model> {
    try UnlearningResult.run(method: name, state: state, ids: ids) { removed, _ in
      var next = removed
      next.retrain(trainer: trainer, start: removed.model.initialParameters(seed: seed))
      var notes: [String] = []
      if !next.training.converged {
        notes.append(
          "retraining did not reach its tolerance: residual \(next.training.gradientNorm) > \(next.training.gradientTolerance)"
        )
      }
      return UnlearningOutcome(
        state: next, notes: notes,
        details: [
          "iterations": Double(next.training.iterations),
          "converged": next.training.converged ? 1 : 0,
        ])
    }
  }
}
