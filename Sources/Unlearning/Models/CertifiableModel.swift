/// A binary convex model with the curvature constants that certified removal (Guo et al. 2020)
/// needs: one "head" of a ``CertifiableModel``.
///
/// With the loss a function `ell(z)` of a linear predictor and every feature vector bounded by
/// `||x~|| <= 1` (rows L2-normalised; see the conformer for how an intercept changes this):
/// - ``curvatureLipschitzConstant`` `gamma`: `ell''` is `gamma`-Lipschitz in `z`, so the data
///   Hessian is `gamma ||x||`-Lipschitz per sample;
/// - ``gradientNormBound`` `C`: `||grad loss_i|| <= C`;
/// - ``thirdDerivativeBound`` `g3 = sup |ell'''|` for the tight Taylor bound (Docs/Math.md
///   section 6).
public protocol CertifiableHead: GeneralizedLinearModel {
  /// `gamma`, the Lipschitz constant of `ell''` (logistic: 1/4 by default, as in the paper).
  var curvatureLipschitzConstant: Double { get }
  /// `C`, a bound on every per-sample gradient norm when `||x|| <= 1`.
  var gradientNormBound: Double { get }
  /// `g3 = sup_z |ell'''(z)|` (logistic: `1 / (6 sqrt 3)`).
  var thirdDerivativeBound: Double { get }
}

/// A model certified removal can run on: `K >= 1` independent binary ``CertifiableHead``s whose
/// parameter vectors are stacked head after head (`p = K p_head`), so that the objective, its
/// gradient and its (block-diagonal) Hessian are sums over heads.
///
/// A binary model is its own single head (``LogisticRegression``); ``OneVsRest`` stacks `K`
/// heads for `K` classes. The certificate of a request combines the per-head bounds by the root
/// of the sum of squares (the stacked residual's norm; Docs/Math.md section 6).
public protocol CertifiableModel: TwiceDifferentiableModel {
  /// The binary head type.
  associatedtype Head: CertifiableHead
  /// The head model (the same for every head).
  var head: Head { get }
  /// `K`, the number of heads (1 for a binary model).
  var headCount: Int { get }
  /// The binary targets (0/1) head `k` is trained on, from the model's targets (length `n`).
  func headTargets(_ targets: [Double], head k: Int) -> [Double]
}

extension CertifiableModel {
  /// The parameters of head `k` inside the stacked vector (`p_head` entries).
  func headRange(_ k: Int) -> Range<Int> {
    let p = head.parameterCount
    return (k * p)..<((k + 1) * p)
  }
}

extension LogisticRegression: CertifiableHead, CertifiableModel {
  /// The model itself.
  public var head: LogisticRegression { self }
  /// 1.
  public var headCount: Int { 1 }
  /// `targets` unchanged (already 0/1).
  public func headTargets(_ targets: [Double], head k: Int) -> [Double] { targets }
}

/// `K` binary heads, head `k` separating class `k` from the rest: a multiclass model certified
/// removal can run on (Docs/Math.md section 2).
///
/// Parameter layout: `theta = [theta_0; theta_1; ...; theta_{K-1}]`, each of
/// `head.parameterCount` entries. The data term is `sum_k sum_i w_i ell(theta_k^T x_i,
/// [y_i == k])`, so the sum-form objective (one regulariser over the stacked vector, one stacked
/// `b`) is the sum of the `K` binary head objectives and its Hessian is block diagonal.
/// Targets are class indices `0..<K`. Probabilities are the heads' sigmoids normalised to sum 1;
/// predictions are the head with the largest linear predictor.
///
/// Cost: every data-term method is `K` times the head's (`O(K n d)` per gradient or HVP).
public struct OneVsRest<Head: CertifiableHead>: CertifiableModel, Sendable {
  /// The head model.
  public let head: Head
  /// `K >= 2`.
  public let headCount: Int

  /// Creates a one-vs-rest model.
  ///
  /// - Parameters:
  ///   - head: the binary head model (e.g. ``LogisticRegression`` without intercept).
  ///   - classCount: `K >= 2`.
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` when `classCount < 2`.
  public init(head: Head, classCount: Int) throws(UnlearningError) {
    guard classCount >= 2 else {
      throw .invalidArgument("one-vs-rest needs at least 2 classes, got \(classCount)")
    }
    self.head = head
    self.headCount = classCount
  }

  /// `K p_head`.
  public var parameterCount: Int { headCount * head.parameterCount }
  /// `d`.
  public var featureCount: Int { head.featureCount }
  /// `K`.
  public var outputClassCount: Int { headCount }
  /// The heads' convexity.
  public var isConvex: Bool { head.isConvex }

  /// `1` where `targets_i == k`, else `0`.
  public func headTargets(_ targets: [Double], head k: Int) -> [Double] {
    let label = Double(k)
    return targets.map { $0 == label ? 1 : 0 }
  }

  /// Zeros (every head's own start).
  public func initialParameters(seed: UInt64) -> [Double] {
    (0..<headCount).flatMap { _ in head.initialParameters(seed: seed) }
  }

  func slice(_ parameters: [Double], _ k: Int) -> [Double] { Array(parameters[headRange(k)]) }

  /// The `n x K` linear predictors, column `k` from head `k`.
  func scores(_ parameters: [Double], features: Matrix) -> [[Double]] {
    (0..<headCount).map { head.linearPredictors(slice(parameters, $0), features: features) }
  }

  /// `n x K`: `sigmoid(z_ik) / sum_j sigmoid(z_ij)`.
  public func probabilities(_ parameters: [Double], features: Matrix) -> Matrix {
    let z = scores(parameters, features: features)
    var out = Matrix(rows: features.rows, columns: headCount)
    for i in 0..<features.rows {
      var total = 0.0
      for k in 0..<headCount {
        let s = LogisticFunctions.sigmoid(z[k][i])
        out[i, k] = s
        total += s
      }
      for k in 0..<headCount { out[i, k] /= total }
    }
    return out
  }

  /// The head with the largest linear predictor (first on ties).
  public func predictions(_ parameters: [Double], features: Matrix) -> [Int] {
    let z = scores(parameters, features: features)
    return (0..<features.rows).map { i in
      var best = 0
      for k in 1..<headCount where z[k][i] > z[best][i] { best = k }
      return best
    }
  }

  /// `sum_k loss_ik`.
  public func losses(_ parameters: [Double], features: Matrix, targets: [Double]) -> [Double] {
    var total = [Double](repeating: 0, count: features.rows)
    for k in 0..<headCount {
      total.add(
        head.losses(
          slice(parameters, k), features: features, targets: headTargets(targets, head: k)))
    }
    return total
  }

  /// The stacked head gradients.
  public func lossAndGradient(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> (value: Double, gradient: [Double]) {
    var value = 0.0
    var gradient: [Double] = []
    gradient.reserveCapacity(parameterCount)
    for k in 0..<headCount {
      let (v, g) = head.lossAndGradient(
        slice(parameters, k), features: features, targets: headTargets(targets, head: k),
        weights: weights)
      value += v
      gradient += g
    }
    return (value, gradient)
  }

  /// The block-diagonal product, head by head.
  public func lossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double] {
    (0..<headCount).flatMap { k in
      head.lossHessianVectorProduct(
        slice(parameters, k), features: features, targets: headTargets(targets, head: k),
        weights: weights, vector: slice(vector, k))
    }
  }

  /// Block diagonal: head `k`'s weighted Gram in block `k` (`O(K n d^2)`; `p x p` memory).
  public func lossHessian(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> Matrix {
    let p = head.parameterCount
    var out = Matrix(rows: parameterCount, columns: parameterCount)
    for k in 0..<headCount {
      let block = head.lossHessian(
        slice(parameters, k), features: features, targets: headTargets(targets, head: k),
        weights: weights)
      for i in 0..<p { for j in 0..<p { out[k * p + i, k * p + j] = block[i, j] } }
    }
    return out
  }

  /// `n x K p_head`: head `k`'s per-sample gradients in columns of block `k`.
  public func perSampleGradients(_ parameters: [Double], features: Matrix, targets: [Double])
    -> Matrix
  {
    let p = head.parameterCount
    var out = Matrix(rows: features.rows, columns: parameterCount)
    for k in 0..<headCount {
      let block = head.perSampleGradients(
        slice(parameters, k), features: features, targets: headTargets(targets, head: k))
      for i in 0..<features.rows { for j in 0..<p { out[i, k * p + j] = block[i, j] } }
    }
    return out
  }
}
