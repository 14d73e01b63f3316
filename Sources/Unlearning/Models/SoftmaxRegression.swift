/// Multinomial (softmax) regression over `K` classes: `P(y = k | x) = softmax(W x)_k`.
///
/// **Parameterisation.** The full, over-parameterised form: `W` is `K x d`, stored row-major
/// in the flat parameters (class `k`'s weights are `parameters[k*d ..< (k+1)*d]`, `p = K d`).
/// The softmax is invariant to adding the same vector to every row of `W`, so the unregularised
/// loss has a flat direction; with `lambda > 0` the L2 term of ``Objective`` makes the
/// objective strictly convex with a unique minimiser (whose rows sum to zero when every
/// weight is used). No intercept: append a constant feature if one is wanted.
///
/// Per sample, with `z = W x` and `p = softmax(z)`: `loss = logsumexp(z) - z_y`, gradient
/// `(p - e_y) x^T`, Hessian `(diag(p) - p p^T) (x) x x^T`. Batched: `Z = X W^T` and
/// `G = R^T X` are one `gemm` each; the Hessian-vector product is two `gemm`s; the dense
/// Hessian is `K (K + 1) / 2` weighted Gram calls (`O(K^2 n d^2)`).
public struct SoftmaxRegression: TwiceDifferentiableModel, Hashable, Codable {
  /// Number of input features `d`.
  public let featureCount: Int
  /// Number of classes `K >= 2`; targets are 0 ..< K as exact doubles.
  public let classCount: Int

  /// Creates a softmax regression model with `classCount` classes on `featureCount` features.
  public init(featureCount: Int, classCount: Int) {
    precondition(featureCount >= 0, "SoftmaxRegression: negative feature count")
    precondition(classCount >= 2, "SoftmaxRegression: needs at least 2 classes")
    self.featureCount = featureCount
    self.classCount = classCount
  }

  /// Creates a model after checking sizes that come from untrusted input: the throwing
  /// counterpart of ``init(featureCount:classCount:)``.
  ///
  /// - Throws: `DataError.tooFewClasses` for `classCount < 2`, `.invalidArgument` for a
  ///   negative feature count or a parameter count `K d` that overflows.
  public init(validatingFeatureCount featureCount: Int, classCount: Int) throws(DataError) {
    guard classCount >= 2 else {
      throw .tooFewClasses(name: "softmax regression", classCount: classCount)
    }
    guard featureCount >= 0 else {
      throw .invalidArgument("softmax regression: negative feature count \(featureCount)")
    }
    guard !classCount.multipliedReportingOverflow(by: featureCount).overflow else {
      throw .invalidArgument(
        "softmax regression: \(classCount) x \(featureCount) parameters overflow")
    }
    self.init(featureCount: featureCount, classCount: classCount)
  }

  /// `K d`.
  public var parameterCount: Int { classCount * featureCount }
  /// `K`.
  public var outputClassCount: Int { classCount }
  /// `true`.
  public var isConvex: Bool { true }

  /// Zeros.
  public func initialParameters(seed: UInt64) -> [Double] {
    [Double](repeating: 0, count: parameterCount)
  }

  /// `W` as a `K x d` matrix (a view-sized copy of the parameters).
  func weightMatrix(_ parameters: [Double]) -> Matrix {
    Matrix(rows: classCount, columns: featureCount, elements: parameters)
  }

  /// The logits `Z = X W^T` (`n x K`, one `gemm`).
  public func logits(_ parameters: [Double], features: Matrix) -> Matrix {
    checkShapes(parameters, features: features, targets: nil, weights: nil)
    return Matrix.product(features, weightMatrix(parameters), transposeB: true)
  }

  /// Probabilities `P` (`n x K`) and the row log-sum-exps.
  func softmax(_ parameters: [Double], features: Matrix) -> (p: Matrix, logSumExp: [Double]) {
    var z = logits(parameters, features: features)
    let lse = LogisticFunctions.softmaxRows(&z.elements, rows: z.rows, columns: z.columns)
    return (z, lse)
  }

  /// `softmax(W x_i)` for every row (`n x K`).
  public func probabilities(_ parameters: [Double], features: Matrix) -> Matrix {
    softmax(parameters, features: features).p
  }

  /// `logsumexp(z_i) - z_{i, y_i}`, computed as `-log p_{i, y_i}` from the stable
  /// log-sum-exp.
  public func losses(_ parameters: [Double], features: Matrix, targets: [Double]) -> [Double] {
    checkShapes(parameters, features: features, targets: targets, weights: nil)
    let z = logits(parameters, features: features)
    var p = z.elements
    let lse = LogisticFunctions.softmaxRows(&p, rows: z.rows, columns: classCount)
    return (0..<z.rows).map { i in
      lse[i] - z[i, LogisticFunctions.classIndex(targets[i], classCount: classCount)]
    }
  }

  /// `sum_i w_i loss_i` and `R^T X` with `R = diag(w) (P - Y)` (two `gemm`s).
  public func lossAndGradient(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> (value: Double, gradient: [Double]) {
    checkShapes(parameters, features: features, targets: targets, weights: weights)
    let z = logits(parameters, features: features)
    var r = z
    let lse = LogisticFunctions.softmaxRows(&r.elements, rows: z.rows, columns: classCount)
    var values = [Double](repeating: 0, count: z.rows)
    for i in 0..<z.rows {
      let y = LogisticFunctions.classIndex(targets[i], classCount: classCount)
      values[i] = lse[i] - z[i, y]
      r[i, y] -= 1
    }
    if let weights { r.scaleRows(by: weights) }
    let g = Matrix.product(r, features, transposeA: true)
    return (weightedSum(values, weights: weights), g.elements)
  }

  /// `Q^T X` with `U = X V^T`, `Q_i = w_i (p_i * u_i - p_i (p_i . u_i))`: three `gemm`s (the
  /// prepared product of ``preparedLossHessianVectorProduct(_:features:targets:weights:)``,
  /// applied once).
  public func lossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double] {
    preparedLossHessianVectorProduct(
      parameters, features: features, targets: targets, weights: weights)(vector)
  }

  /// Block `(k, l)` is `X^T diag(w_i (p_ik delta_kl - p_ik p_il)) X`: `K (K + 1) / 2`
  /// weighted Gram calls, `O(K^2 n d^2)` flops.
  public func lossHessian(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> Matrix {
    checkShapes(parameters, features: features, targets: targets, weights: weights)
    let p = probabilities(parameters, features: features)
    let (n, d, k) = (features.rows, featureCount, classCount)
    var h = Matrix(rows: k * d, columns: k * d)
    var c = [Double](repeating: 0, count: n)
    for a in 0..<k {
      for b in a..<k {
        for i in 0..<n {
          let w = weights?[i] ?? 1
          c[i] = w == 0 ? 0 : w * p[i, a] * ((a == b ? 1 : 0) - p[i, b])
        }
        let block = features.weightedGram(weights: c)
        for r in 0..<d {
          for s in 0..<d {
            h[a * d + r, b * d + s] = block[r, s]
            h[b * d + s, a * d + r] = block[r, s]
          }
        }
      }
    }
    return h
  }

  /// Row `i` holds `(p_i - e_{y_i}) (x) x_i` (block `k` = `(p_ik - [y_i = k]) x_i`), `n x K d`.
  public func perSampleGradients(_ parameters: [Double], features: Matrix, targets: [Double])
    -> Matrix
  {
    checkShapes(parameters, features: features, targets: targets, weights: nil)
    var r = probabilities(parameters, features: features)
    let (n, d, k) = (features.rows, featureCount, classCount)
    for i in 0..<n { r[i, LogisticFunctions.classIndex(targets[i], classCount: k)] -= 1 }
    var g = Matrix(rows: n, columns: k * d)
    features.elements.withUnsafeBufferPointer { x in
      g.elements.withUnsafeMutableBufferPointer { out in
        for i in 0..<n {
          for a in 0..<k {
            let f = r[i, a]
            let base = i * k * d + a * d
            for j in 0..<d { out[base + j] = f * x[i * d + j] }
          }
        }
      }
    }
    return g
  }
}
