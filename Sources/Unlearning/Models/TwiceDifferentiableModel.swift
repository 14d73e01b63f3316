/// A parametric model whose per-sample loss is twice differentiable in the parameters, with
/// exact first and second derivatives of the data term evaluated over a whole batch.
///
/// Parameters are one flat `[Double]` of length ``parameterCount`` (every conformer documents
/// its layout). `features` is an `n x featureCount` row-major `Matrix` (one sample per row);
/// `targets` has length `n`: class indices as exact doubles (0, 1, ..., K - 1) for
/// classifiers, real values for regression. `weights` (length `n`, or `nil` for all ones)
/// weight each sample's loss; weight 0 removes a sample exactly.
///
/// The methods here compute the **data term** only,
/// `F(theta) = sum_i w_i loss_i(theta)`, and its derivatives. Regularisation and the loss
/// perturbation `b^T theta` are added by ``Objective``.
///
/// Cost model: a full-batch value/gradient/Hessian-vector product is a handful of BLAS level 2
/// or level 3 calls (`O(n p)` flops), never a Swift loop doing vector work per sample.
public protocol TwiceDifferentiableModel: Sendable {
  /// Length of the flat parameter vector, `p`.
  var parameterCount: Int { get }
  /// Number of input features `d` (columns of `features`).
  var featureCount: Int { get }
  /// Number of output classes: 2 for binary models, `K` for multiclass, 1 for regression.
  var outputClassCount: Int { get }
  /// Whether the per-sample loss is convex in the parameters (so the regularised objective is
  /// strongly convex and Newton's method applies without damping).
  var isConvex: Bool { get }

  /// Starting parameters: zeros for convex linear models, a seeded random draw (e.g. Glorot)
  /// for networks.
  ///
  /// - Parameter seed: seeds the `SeededGenerator` used for any random draw.
  func initialParameters(seed: UInt64) -> [Double]

  /// Predicted class probabilities, `n x outputClassCount`, rows summing to 1 (binary models
  /// give `[1 - p, p]`; regression gives the `n x 1` predictions).
  func probabilities(_ parameters: [Double], features: Matrix) -> Matrix

  /// Predicted labels: the argmax class of every row (regression: the rounded prediction).
  func predictions(_ parameters: [Double], features: Matrix) -> [Int]

  /// The unweighted per-sample losses `loss_i(theta)` (length `n`).
  func losses(_ parameters: [Double], features: Matrix, targets: [Double]) -> [Double]

  /// The data term `F = sum_i w_i loss_i(theta)` alone (cheaper than with the gradient).
  func lossValue(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> Double

  /// The data term `F = sum_i w_i loss_i(theta)` and its gradient `sum_i w_i grad loss_i`
  /// (length `p`).
  func lossAndGradient(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> (value: Double, gradient: [Double])

  /// The exact Hessian-vector product of the data term,
  /// `(sum_i w_i hess loss_i(theta)) v` (length `p`).
  ///
  /// - Parameters:
  ///   - parameters: `theta`, length `p`.
  ///   - vector: the direction `v`, length `p`.
  ///   - features: `n x featureCount`, one sample per row.
  ///   - targets: length `n`, each sample's label as a `Double`.
  ///   - weights: per-sample weights `w_i` (length `n`), `nil` for all ones.
  func lossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double]

  /// The Hessian-vector product of the data term at fixed parameters, as a reusable closure:
  /// everything that depends only on `theta` (linear models: the curvatures
  /// `w_i ell''(z_i)`) is computed once, so each call costs two `gemv`s. Used by iterative
  /// solvers that apply the same Hessian many times. The default calls
  /// ``lossHessianVectorProduct(_:features:targets:weights:vector:)``.
  func preparedLossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> @Sendable ([Double]) -> [Double]

  /// The generalised Gauss-Newton product `(sum_i w_i J_i^T H_out,i J_i) v` of the data term:
  /// positive semidefinite for every model. For models whose loss is a convex function of a
  /// linear predictor it equals the exact Hessian-vector product (the default).
  func lossGaussNewtonVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double]

  /// The dense `p x p` Hessian of the data term, symmetric to round-off (both triangles
  /// filled). The default builds it from `p` Hessian-vector products and symmetrises it;
  /// linear models override it with weighted Gram matrices.
  func lossHessian(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> Matrix

  /// The unweighted per-sample gradients `grad loss_i(theta)` as the rows of an `n x p`
  /// matrix.
  func perSampleGradients(_ parameters: [Double], features: Matrix, targets: [Double]) -> Matrix
}

extension TwiceDifferentiableModel {
  /// Default: the argmax of ``probabilities(_:features:)`` (first index on ties).
  public func predictions(_ parameters: [Double], features: Matrix) -> [Int] {
    let p = probabilities(parameters, features: features)
    return (0..<p.rows).map { i in
      var best = 0
      for k in 1..<max(p.columns, 1) where p[i, k] > p[i, best] { best = k }
      return best
    }
  }

  /// Default: `sum_i w_i loss_i` from ``losses(_:features:targets:)`` (zero-weight samples
  /// skipped).
  public func lossValue(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> Double {
    weightedSum(losses(parameters, features: features, targets: targets), weights: weights)
  }

  /// Default: a closure over ``lossHessianVectorProduct(_:features:targets:weights:vector:)``.
  public func preparedLossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> @Sendable ([Double]) -> [Double] {
    { v in
      self.lossHessianVectorProduct(
        parameters, features: features, targets: targets, weights: weights, vector: v)
    }
  }

  /// Default: the exact Hessian-vector product (correct for convex losses of a linear
  /// predictor, where Gauss-Newton and Newton coincide).
  public func lossGaussNewtonVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double] {
    lossHessianVectorProduct(
      parameters, features: features, targets: targets, weights: weights, vector: vector)
  }

  /// Default: column `j` is the Hessian-vector product with the basis vector `e_j`, then
  /// `(H + H^T) / 2`. Cost: `p` Hessian-vector products.
  public func lossHessian(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> Matrix {
    denseMatrix(dimension: parameterCount) { e in
      lossHessianVectorProduct(
        parameters, features: features, targets: targets, weights: weights, vector: e)
    }
  }

  /// Checks the shapes shared by every data-term method (programmer errors).
  func checkShapes(
    _ parameters: [Double], features: Matrix, targets: [Double]?, weights: [Double]?
  ) {
    precondition(
      parameters.count == parameterCount,
      "\(Self.self): \(parameters.count) parameters, expected \(parameterCount)")
    precondition(
      features.columns == featureCount,
      "\(Self.self): features have \(features.columns) columns, expected \(featureCount)")
    if let targets {
      precondition(
        targets.count == features.rows,
        "\(Self.self): \(targets.count) targets for \(features.rows) samples")
    }
    if let weights {
      precondition(
        weights.count == features.rows,
        "\(Self.self): \(weights.count) weights for \(features.rows) samples")
    }
  }
}

/// `sum_i w_i x_i` (all weights 1 when `weights` is `nil`; zero weights skipped exactly).
func weightedSum(_ values: [Double], weights: [Double]?) -> Double {
  guard let weights else { return values.reduce(0, +) }
  var s = 0.0
  for (v, w) in zip(values, weights) where w != 0 { s += w * v }
  return s
}

/// A dense symmetric matrix from the products `column(e_j)` with the basis vectors,
/// symmetrised as `(A + A^T) / 2`.
func denseMatrix(dimension p: Int, column: ([Double]) -> [Double]) -> Matrix {
  var a = Matrix(rows: p, columns: p)
  var e = [Double](repeating: 0, count: p)
  for j in 0..<p {
    e[j] = 1
    let c = column(e)
    e[j] = 0
    for i in 0..<p { a[i, j] = c[i] }
  }
  for i in 0..<p {
    for j in (i + 1)..<p {
      let s = 0.5 * (a[i, j] + a[j, i])
      a[i, j] = s
      a[j, i] = s
    }
  }
  return a
}
