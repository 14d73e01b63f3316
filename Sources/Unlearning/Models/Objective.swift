/// The regularised, optionally weighted and perturbed training objective of a model, in
/// **sum form** (Docs/Math.md section 1):
///
///     L(theta) = sum_i w_i loss_i(theta) + (lambda / 2) n_eff ||theta||^2 + b^T theta,
///     n_eff = sum_i w_i  (n when unweighted).
///
/// Every parameter is regularised, MLP biases included. Setting `w_i = 0` removes sample `i`
/// exactly (the regulariser rescales with `n_eff`), so the retrained reference after removing
/// a set F is `with(weights:)` of the same objective. `b` (the certified-removal loss
/// perturbation) has no Hessian. Gradient norms of this objective, including `b`, are the
/// scale of every certificate bound.
///
/// A value type holding the data by reference-counted copy-on-write storage: `with(...)`
/// variants are cheap.
public struct Objective<Model: TwiceDifferentiableModel>: Sendable {
  /// The model whose data term is summed.
  public let model: Model
  /// `n x d` features, one sample per row.
  public let features: Matrix
  /// `n` targets (class indices as exact doubles, or real values).
  public let targets: [Double]
  /// Per-sample weights (`n`, non-negative), or `nil` for all ones.
  public let weights: [Double]?
  /// `lambda > 0`, the L2 strength per unit of effective sample count.
  public let regularization: Double
  /// The loss perturbation `b` (length `p`), or `nil`.
  public let perturbation: [Double]?
  /// `n_eff = sum_i w_i` (or `n`). Package code that sums the data term over several
  /// processes sets it to the global count.
  public package(set) var effectiveCount: Double

  /// Creates an objective; shapes are checked with `precondition` (programmer errors).
  ///
  /// - Parameters:
  ///   - model: the model.
  ///   - features: `n x model.featureCount`.
  ///   - targets: length `n`.
  ///   - weights: length `n`, each finite and `>= 0`; `nil` means all ones.
  ///   - regularization: `lambda >= 0` (strictly positive for a unique minimiser).
  ///   - perturbation: `b`, length `model.parameterCount`, or `nil`.
  public init(
    model: Model, features: Matrix, targets: [Double], weights: [Double]? = nil,
    regularization: Double, perturbation: [Double]? = nil
  ) {
    precondition(
      features.columns == model.featureCount,
      "Objective: \(features.columns) feature columns, model expects \(model.featureCount)")
    precondition(
      targets.count == features.rows,
      "Objective: \(targets.count) targets for \(features.rows) rows")
    if let weights {
      precondition(
        weights.count == features.rows,
        "Objective: \(weights.count) weights for \(features.rows) rows")
      precondition(
        weights.allSatisfy { $0 >= 0 && $0.isFinite }, "Objective: weights must be finite and >= 0")
    }
    if let perturbation {
      precondition(
        perturbation.count == model.parameterCount,
        "Objective: perturbation has \(perturbation.count) entries, expected \(model.parameterCount)"
      )
    }
    precondition(
      regularization >= 0 && regularization.isFinite, "Objective: regularization must be >= 0")
    self.model = model
    self.features = features
    self.targets = targets
    self.weights = weights
    self.regularization = regularization
    self.perturbation = perturbation
    self.effectiveCount = weights.map { $0.reduce(0, +) } ?? Double(features.rows)
  }

  /// A seeded sample of at most `count` rows of positive weight, re-weighted so that its
  /// effective count (and so `lambda n_eff` and the scale of every sum) equals this one's:
  /// `w_i' = w_i n_eff / sum_S w_i`. The `count x d` rows are copied. Used for sub-sampled
  /// curvature (Docs/Math.md section 3.7); the perturbation is kept.
  package func sample(rows count: Int, seed: UInt64) -> Objective {
    var candidates = Array(0..<features.rows)
    if let weights { candidates = candidates.filter { weights[$0] > 0 } }
    guard candidates.count > count, count >= 1 else { return self }
    var generator = SeededGenerator(seed: seed)
    let rows = Array(candidates.shuffled(using: &generator).prefix(count)).sorted()
    let sampled = weights.map { w in rows.reduce(0) { $0 + w[$1] } } ?? Double(rows.count)
    let scale = effectiveCount / sampled
    return Objective(
      model: model, features: features.rows(at: rows), targets: rows.map { targets[$0] },
      weights: rows.map { scale * (weights?[$0] ?? 1) }, regularization: regularization,
      perturbation: perturbation)
  }

  /// The same objective with other sample weights (`nil`: all ones).
  public func with(weights: [Double]?) -> Objective {
    Objective(
      model: model, features: features, targets: targets, weights: weights,
      regularization: regularization, perturbation: perturbation)
  }

  /// The same objective with another perturbation `b` (`nil`: none).
  public func with(perturbation: [Double]?) -> Objective {
    Objective(
      model: model, features: features, targets: targets, weights: weights,
      regularization: regularization, perturbation: perturbation)
  }

  /// `p`, the number of parameters.
  public var parameterCount: Int { model.parameterCount }

  /// The regulariser coefficient of the Hessian, `lambda * n_eff`.
  public var curvatureShift: Double { regularization * effectiveCount }

  /// `(lambda / 2) n_eff ||theta||^2 + b^T theta`.
  func penalty(_ theta: [Double]) -> Double {
    var value = 0.5 * curvatureShift * theta.dot(theta)
    if let perturbation { value += perturbation.dot(theta) }
    return value
  }

  /// `L(theta)`. Cost: the model's loss evaluation (`O(n p)`).
  public func value(at theta: [Double]) -> Double {
    model.lossValue(theta, features: features, targets: targets, weights: weights) + penalty(theta)
  }

  /// `grad L(theta) = sum_i w_i grad loss_i + lambda n_eff theta + b`.
  public func gradient(at theta: [Double]) -> [Double] { valueAndGradient(at: theta).gradient }

  /// `L(theta)` and `grad L(theta)` from one pass over the data.
  public func valueAndGradient(at theta: [Double]) -> (value: Double, gradient: [Double]) {
    var (value, gradient) = model.lossAndGradient(
      theta, features: features, targets: targets, weights: weights)
    value += penalty(theta)
    gradient.add(theta, scaledBy: curvatureShift)
    if let perturbation { gradient.add(perturbation) }
    return (value, gradient)
  }

  /// The exact `hess L(theta) v = (sum_i w_i hess loss_i) v + lambda n_eff v`.
  public func hessianVectorProduct(at theta: [Double], _ vector: [Double]) -> [Double] {
    var hv = model.lossHessianVectorProduct(
      theta, features: features, targets: targets, weights: weights, vector: vector)
    hv.add(vector, scaledBy: curvatureShift)
    return hv
  }

  /// The Gauss-Newton product plus `lambda n_eff v` (positive definite for `lambda > 0`;
  /// equal to ``hessianVectorProduct(at:_:)`` for convex linear models).
  public func gaussNewtonVectorProduct(at theta: [Double], _ vector: [Double]) -> [Double] {
    var hv = model.lossGaussNewtonVectorProduct(
      theta, features: features, targets: targets, weights: weights, vector: vector)
    hv.add(vector, scaledBy: curvatureShift)
    return hv
  }

  /// The dense `p x p` Hessian `hess F(theta) + lambda n_eff I` (both triangles filled).
  /// Linear models: one weighted Gram call, `O(n p^2)`.
  public func hessian(at theta: [Double]) -> Matrix {
    var h = model.lossHessian(theta, features: features, targets: targets, weights: weights)
    h.addToDiagonal(curvatureShift)
    return h
  }

  /// The Hessian at `theta` as a matrix-free ``LinearOperator`` (one exact HVP per `apply`;
  /// the `theta`-dependent part is prepared once, so linear models cost two `gemv`s per
  /// `apply`).
  public func hessianOperator(at theta: [Double]) -> ClosureOperator {
    let product = model.preparedLossHessianVectorProduct(
      theta, features: features, targets: targets, weights: weights)
    let shift = curvatureShift
    return ClosureOperator(dimension: parameterCount) { v in
      var hv = product(v)
      hv.add(v, scaledBy: shift)
      return hv
    }
  }

  /// The Gauss-Newton curvature at `theta` as a ``LinearOperator``.
  public func gaussNewtonOperator(at theta: [Double]) -> ClosureOperator {
    ClosureOperator(dimension: parameterCount) { v in self.gaussNewtonVectorProduct(at: theta, v) }
  }

  /// `||grad L(theta)||` (sum form, `b` included): the residual every certificate charges.
  public func gradientNorm(at theta: [Double]) -> Double { gradient(at: theta).norm() }
}
