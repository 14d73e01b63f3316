/// A model whose per-sample loss depends on the parameters only through the scalar linear
/// predictor `z_i = w^T x_i (+ c)`: `loss_i = ell(z_i, y_i)`.
///
/// Parameter layout: the `d` feature weights `w`, then (when ``fitsIntercept``) the bias `c`
/// on a constant-1 feature; `p = d` or `d + 1`. Writing `x~_i` for `x_i` (with a trailing 1
/// when fitting an intercept):
/// - gradient of the data term: `X~^T r` with residual factors `r_i = w_i ell'(z_i)`;
/// - Hessian: `X~^T diag(w_i ell''(z_i)) X~`, one weighted Gram (`syrk`) call;
/// - Hessian-vector product: `X~^T (c * (X~ v))`, two `gemv` calls;
/// - per-sample gradients: `diag(ell'(z)) X~` (row scaling).
///
/// Conformers provide ``lossDerivatives(linearPredictors:targets:)``; everything else has
/// a BLAS-backed default. The certificate code uses ``linearPredictors(_:features:)`` and the
/// scalar derivatives directly.
public protocol GeneralizedLinearModel: TwiceDifferentiableModel {
  /// Whether the model has a bias on an implicit constant-1 feature (the last parameter).
  var fitsIntercept: Bool { get }

  /// Per-sample loss `ell(z_i, y_i)` and its first and second derivatives with respect to
  /// `z_i` (each of length `n`). Cost `O(n)`.
  func lossDerivatives(linearPredictors: [Double], targets: [Double]) -> (
    values: [Double], first: [Double], second: [Double]
  )
}

extension GeneralizedLinearModel {
  /// `d`, plus one for the intercept.
  public var parameterCount: Int { featureCount + (fitsIntercept ? 1 : 0) }

  /// Zeros (the objective is convex; zero is the canonical start).
  public func initialParameters(seed: UInt64) -> [Double] {
    [Double](repeating: 0, count: parameterCount)
  }

  /// The linear predictors `z = X w (+ c)` (length `n`; one `gemv`, `2 n d` flops).
  public func linearPredictors(_ parameters: [Double], features: Matrix) -> [Double] {
    checkShapes(parameters, features: features, targets: nil, weights: nil)
    guard fitsIntercept else { return features.multiply(parameters) }
    let d = featureCount
    var z = features.multiply(Array(parameters[0..<d]))
    let c = parameters[d]
    for i in z.indices { z[i] += c }
    return z
  }

  /// `X~^T r` (length `p`): one transposed `gemv`, plus `sum_i r_i` for the intercept.
  func transposedProduct(_ features: Matrix, _ r: [Double]) -> [Double] {
    var g = features.multiply(r, transposed: true)
    if fitsIntercept { g.append(r.reduce(0, +)) }
    return g
  }

  /// `w_i * values_i` (or `values` when unweighted).
  func weighted(_ values: [Double], by weights: [Double]?) -> [Double] {
    guard let weights else { return values }
    var out = values
    for i in out.indices { out[i] = weights[i] == 0 ? 0 : weights[i] * values[i] }
    return out
  }

  public func losses(_ parameters: [Double], features: Matrix, targets: [Double]) -> [Double] {
    checkShapes(parameters, features: features, targets: targets, weights: nil)
    let z = linearPredictors(parameters, features: features)
    return lossDerivatives(linearPredictors: z, targets: targets).values
  }

  /// `sum_i w_i ell(z_i, y_i)`, `X~^T (w * ell'(z))`: two `gemv` calls.
  public func lossAndGradient(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> (value: Double, gradient: [Double]) {
    checkShapes(parameters, features: features, targets: targets, weights: weights)
    let z = linearPredictors(parameters, features: features)
    let derivatives = lossDerivatives(linearPredictors: z, targets: targets)
    let value = weightedSum(derivatives.values, weights: weights)
    return (value, transposedProduct(features, weighted(derivatives.first, by: weights)))
  }

  /// `X~^T (w * ell''(z) * (X~ v))`: three `gemv`-sized passes, `O(n d)`.
  public func lossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double] {
    checkShapes(parameters, features: features, targets: targets, weights: weights)
    precondition(vector.count == parameterCount, "HVP: vector has \(vector.count) entries")
    let z = linearPredictors(parameters, features: features)
    let curvature = weighted(
      lossDerivatives(linearPredictors: z, targets: targets).second, by: weights)
    var u = linearPredictors(vector, features: features)
    for i in u.indices { u[i] *= curvature[i] }
    return transposedProduct(features, u)
  }

  /// Computes `c = w * ell''(z)` once; each call is `X~^T (c * (X~ v))`, two `gemv`s.
  public func preparedLossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> @Sendable ([Double]) -> [Double] {
    checkShapes(parameters, features: features, targets: targets, weights: weights)
    let z = linearPredictors(parameters, features: features)
    let curvature = weighted(
      lossDerivatives(linearPredictors: z, targets: targets).second, by: weights)
    return { v in
      precondition(v.count == self.parameterCount, "HVP: vector has \(v.count) entries")
      var u = self.linearPredictors(v, features: features)
      for i in u.indices { u[i] *= curvature[i] }
      return self.transposedProduct(features, u)
    }
  }

  /// `X~^T diag(w * ell''(z)) X~` by one weighted Gram (`syrk`) call: `n d^2` flops; the
  /// intercept row/column is one extra `gemv`.
  public func lossHessian(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> Matrix {
    checkShapes(parameters, features: features, targets: targets, weights: weights)
    let z = linearPredictors(parameters, features: features)
    let curvature = weighted(
      lossDerivatives(linearPredictors: z, targets: targets).second, by: weights)
    let gram = features.weightedGram(weights: curvature)
    guard fitsIntercept else { return gram }
    let d = featureCount
    let border = features.multiply(curvature, transposed: true)
    var h = Matrix(rows: d + 1, columns: d + 1)
    for i in 0..<d {
      for j in 0..<d { h[i, j] = gram[i, j] }
      h[i, d] = border[i]
      h[d, i] = border[i]
    }
    h[d, d] = curvature.reduce(0, +)
    return h
  }

  /// `diag(ell'(z)) X~` (`n x p`): one copy of `X` and a row scaling.
  public func perSampleGradients(_ parameters: [Double], features: Matrix, targets: [Double])
    -> Matrix
  {
    checkShapes(parameters, features: features, targets: targets, weights: nil)
    let z = linearPredictors(parameters, features: features)
    let r = lossDerivatives(linearPredictors: z, targets: targets).first
    guard fitsIntercept else {
      var g = features
      g.scaleRows(by: r)
      return g
    }
    let (n, d) = (features.rows, featureCount)
    var g = Matrix(rows: n, columns: d + 1)
    features.elements.withUnsafeBufferPointer { x in
      g.elements.withUnsafeMutableBufferPointer { out in
        for i in 0..<n {
          for j in 0..<d { out[i * (d + 1) + j] = r[i] * x[i * d + j] }
          out[i * (d + 1) + d] = r[i]
        }
      }
    }
    return g
  }
}
