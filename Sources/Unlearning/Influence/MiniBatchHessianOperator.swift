/// An unbiased mini-batch estimate of the **full-data** mean-form product
/// `(H_J + damping I) v`, `H_J = (1/n_eff) sum_i w_i hess loss_i + lambda I`.
///
/// Each application draws `batchSize` rows uniformly **with replacement** from the rows with
/// non-zero weight (`n_active` of them), copies them (`O(batchSize d)`), and returns
/// `(n_active / batchSize) (1/n_eff) sum_{i in batch} w_i hess loss_i v + (lambda + damping) v`,
/// whose expectation is the full-data product. It never inverts a batch Hessian.
struct MiniBatchHessianOperator: StochasticLinearOperator, Sendable {
  let dimension: Int
  let batchSize: Int
  /// `(active rows, features/targets/weights, model, theta)` captured in a closure so the
  /// operator stays non-generic.
  let activeRows: [Int]
  let product: @Sendable ([Int], [Double]) -> [Double]
  /// `(n_active / batchSize) / n_eff`.
  let batchScale: Double
  /// `lambda + damping`.
  let shift: Double

  init<Model: TwiceDifferentiableModel>(
    objective: Objective<Model>, parameters: [Double], damping: Double, batchSize: Int
  ) {
    let weights = objective.weights
    let active =
      weights.map { w in w.indices.filter { w[$0] > 0 } } ?? Array(0..<objective.features.rows)
    self.dimension = objective.parameterCount
    self.batchSize = batchSize
    self.activeRows = active
    self.batchScale = Double(active.count) / Double(batchSize) / objective.effectiveCount
    self.shift = objective.regularization + damping
    let model = objective.model
    let features = objective.features
    let targets = objective.targets
    self.product = { rows, v in
      let batchWeights = weights.map { w in rows.map { w[$0] } }
      return model.lossHessianVectorProduct(
        parameters, features: features.rows(at: rows), targets: rows.map { targets[$0] },
        weights: batchWeights, vector: v)
    }
  }

  func apply(_ v: [Double], using generator: inout SeededGenerator) -> [Double] {
    precondition(
      v.count == dimension,
      "MiniBatchHessianOperator: vector has \(v.count) entries, expected \(dimension)")
    let rows = (0..<batchSize).map { _ in
      activeRows[Int.random(in: 0..<activeRows.count, using: &generator)]
    }
    var out = product(rows, v)
    out.scale(by: batchScale)
    out.add(v, scaledBy: shift)
    return out
  }
}
