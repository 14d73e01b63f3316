// MARK: - Per-sample removal gradients and their products

extension InfluenceFunctions {
  /// The removal gradients `r_i` of `rows` as the rows of a `k x p` matrix (unweighted):
  /// `grad loss_i`, plus `lambda theta` under ``Influence/Regularization/rescaled``.
  /// Linear models: the selected feature rows scaled by `ell'(z_i)` (and the intercept column).
  func removalGradients(rows: [Int]) -> Matrix {
    let features = objective.features.rows(at: rows)
    let targets = rows.map { objective.targets[$0] }
    var gradients: Matrix
    if let linear = objective.model as? any GeneralizedLinearModel {
      let first = LinearModelTerms(
        linear, features: features, targets: targets, weights: nil, parameters: parameters
      ).first
      if linear.fitsIntercept {
        let d = features.columns
        gradients = Matrix(rows: rows.count, columns: d + 1)
        for i in 0..<rows.count {
          for j in 0..<d { gradients[i, j] = features[i, j] }
          gradients[i, d] = 1
        }
      } else {
        gradients = features
      }
      gradients.scaleRows(by: first)
    } else {
      gradients = objective.model.perSampleGradients(
        parameters, features: features, targets: targets)
    }
    if removalRegularization == .rescaled {
      let shift = parameters.scaled(by: objective.regularization)
      let p = gradients.columns
      for i in 0..<gradients.rows {
        for j in 0..<p { gradients[i, j] += shift[j] }
      }
    }
    return gradients
  }

  /// `P[i, j] = r_i^T S[:, j]` for every training row `i` (`n x m`), without forming the
  /// `n x p` matrix of per-sample gradients:
  /// - linear models: `diag(ell'(z)) X~ S`, one `gemm` (`gemv` when `m = 1`);
  /// - other models: per-sample gradients in blocks of ``blockSize`` rows, one `gemm` each.
  /// Under ``Influence/Regularization/rescaled`` every row also gets `lambda theta^T S`.
  func removalGradientProducts(_ directions: Matrix) -> Matrix {
    let n = sampleCount
    let m = directions.columns
    let p = objective.parameterCount
    precondition(
      directions.rows == p, "removalGradientProducts: \(directions.rows) rows, expected \(p)")
    var products: Matrix
    if let linear = objective.model as? any GeneralizedLinearModel {
      let d = linear.featureCount
      let top = Matrix(rows: d, columns: m, elements: Array(directions.elements[0..<(d * m)]))
      if m == 1 {
        products = Matrix(rows: n, columns: 1, elements: objective.features.multiply(top.elements))
      } else {
        products = Matrix.product(objective.features, top)
      }
      if linear.fitsIntercept {
        let bias = Array(directions.elements[(d * m)..<((d + 1) * m)])
        for i in 0..<n {
          for j in 0..<m { products[i, j] += bias[j] }
        }
      }
      let terms = LinearModelTerms(
        linear, features: objective.features, targets: objective.targets, weights: nil,
        parameters: parameters)
      products.scaleRows(by: terms.first)
    } else {
      products = Matrix(rows: n, columns: m)
      var start = 0
      while start < n {
        let end = Swift.min(start + blockSize, n)
        let rows = Array(start..<end)
        let block = objective.model.perSampleGradients(
          parameters, features: objective.features.rows(at: rows),
          targets: rows.map { objective.targets[$0] })
        let part = Matrix.product(block, directions)
        products.elements.replaceSubrange((start * m)..<(end * m), with: part.elements)
        start = end
      }
    }
    if removalRegularization == .rescaled {
      var shift = directions.multiply(parameters, transposed: true)  // S^T theta, length m
      shift.scale(by: objective.regularization)
      for i in 0..<n {
        for j in 0..<m { products[i, j] += shift[j] }
      }
    }
    return products
  }
}
