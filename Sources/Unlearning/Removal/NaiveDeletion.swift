extension Baselines {
  /// Drops the rows (weight 0) and keeps the parameters: "doing nothing", the baseline any
  /// method must beat (`rho = 1` by definition). Cost: `O(m)`.
  public struct NaiveDeletion: Unlearner {
    /// Creates the baseline.
    public init() {}

    /// `"naive"`.
    public var name: String { "naive" }

    /// Marks the rows removed; parameters unchanged. - Throws: ``UnlearningError`` on a bad request.
    public func unlearn<Model: TwiceDifferentiableModel>(
      _ state: TrainedModel<Model>, forgetting ids: [SampleID]
    ) throws -> UnlearningResult<Model> {
      try UnlearningResult.run(method: name, state: state, ids: ids) { removed, _ in
        UnlearningOutcome(state: removed, notes: ["parameters unchanged"])
      }
    }
  }
}
