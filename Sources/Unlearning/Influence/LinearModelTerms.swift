/// The per-sample scalars of a generalized linear model at fixed parameters, used by the
/// influence kernels: `ell'(z_i)` and `w_i ell''(z_i)` (one `gemv` for `z = X~ theta`, `O(n)`
/// scalar work).
struct LinearModelTerms {
  /// `ell'(z_i, y_i)` (unweighted; length `n`).
  let first: [Double]
  /// `w_i ell''(z_i, y_i)` (length `n`; `w_i = 1` when unweighted).
  let weightedCurvatures: [Double]

  init<Model: TwiceDifferentiableModel>(
    _ linear: any GeneralizedLinearModel, objective: Objective<Model>, parameters: [Double]
  ) {
    self.init(
      linear, features: objective.features, targets: objective.targets, weights: objective.weights,
      parameters: parameters)
  }

  init(
    _ linear: any GeneralizedLinearModel, features: Matrix, targets: [Double], weights: [Double]?,
    parameters: [Double]
  ) {
    let z = linear.linearPredictors(parameters, features: features)
    let derivatives = linear.lossDerivatives(linearPredictors: z, targets: targets)
    first = derivatives.first
    var c = derivatives.second
    if let weights {
      for i in c.indices { c[i] = weights[i] == 0 ? 0 : weights[i] * c[i] }
    }
    weightedCurvatures = c
  }
}

extension Matrix {
  /// `sum_i weights_i x_ij^2` for every column `j` (length `columns`): row blocks of at most
  /// `blockRows` are squared elementwise into scratch, then one transposed `gemv` per block.
  /// Memory `O(blockRows * columns)`, cost `O(rows * columns)`.
  func squaredColumnSums(weights: [Double], blockRows: Int = 1024) -> [Double] {
    precondition(
      weights.count == rows, "squaredColumnSums: \(weights.count) weights for \(rows) rows")
    var out = [Double](repeating: 0, count: columns)
    var start = 0
    while start < rows {
      let end = Swift.min(start + blockRows, rows)
      var block = Matrix(
        rows: end - start, columns: columns,
        elements: Array(elements[(start * columns)..<(end * columns)]))
      block.elements.withUnsafeMutableBufferPointer { b in
        for k in b.indices { b[k] *= b[k] }
      }
      block.multiply(Array(weights[start..<end]), transposed: true, alpha: 1, beta: 1, into: &out)
      start = end
    }
    return out
  }
}
