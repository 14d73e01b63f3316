/// The cached state and per-request kernels of fast sequential certified removal
/// (``CertifiedRemovalSolver/fastSequential(_:)``, MATH.md section 6): binary GLMs without
/// intercept (`p = d`, `z = X theta`).
///
/// Cache, all at the current parameters `theta` and retain set `R`:
/// - ``predictors`` `z = X theta` (all `n` rows, removed ones included);
/// - ``gradient`` `g = grad L_b(theta; R)` (sum form, `b` included), measured by the previous
///   request's second pass;
/// - ``factor``, the Cholesky factor of `H~ = sum_{i in R} loss''(z0_i) x_i x_i^T + lambda n_0 I`,
///   the Hessian at the last refresh (`z0`, `n_0` then) with every row removed since then
///   downdated by its rank-1 term `sqrt(loss''(z0_j)) x_j`; ``factorCurvature`` holds
///   `loss''(z0)`.
///
/// Only exact quantities enter a certificate: `H v` (exact HVP at `theta`), `t = X_R v`, and
/// the gradient after the step are computed fresh by one fused pass over `X` per evaluation; the
/// factor is only a preconditioner. The predictors are carried as `z' = z + t` (exact up to one
/// rounding per update) and recomputed as `X theta` every ``predictorRecomputeInterval``
/// updates, so their round-off stays inside the floating-point allowance.
struct FastRemovalEngine: Sendable {
  let policy: FastRemovalPolicy
  var predictors: [Double]
  var gradient: [Double]
  var factor: Cholesky
  var factorCurvature: [Double]
  /// `lambda n_0`, the regulariser in the factored matrix.
  var factorShift: Double
  /// Requests served by the current factor.
  var requestsSinceRefresh = 0
  /// Evaluations since ``predictors`` was last computed as `X theta` directly (each evaluation
  /// forms `z' = z + t`, adding one rounding per entry).
  var predictorUpdates = 0
  /// ``predictors`` is recomputed as `X theta` (one pass) once this many incremental updates
  /// have accumulated, which keeps its round-off below `64 * 1.2e-16 * max|z|` per entry: the
  /// gradient error this induces, `<= ||X|| sup|loss''| ||delta z||`, stays far below the
  /// floating-point allowance `1e-13 n_R` that every charge includes.
  static let predictorRecomputeInterval = 64
  var statistics = FastRemovalStatistics()

  /// The exact quantities of a candidate step `v` at `theta`.
  struct Evaluation {
    /// `v`.
    var step: [Double]
    /// `t = X v` (all rows; removed rows are masked when bounding).
    var projected: [Double]
    /// `z' = X (theta + v)`.
    var predictors: [Double]
    /// `H(theta) v` on the retain set (exact, sum form).
    var hessianProduct: [Double]
    /// `grad L_b(theta + v; R)`.
    var gradient: [Double]
  }

  /// Builds the cache at `theta` on the objective's retain set: `z` and `g` (two passes) and a
  /// fresh factor (one weighted Gram, `O(n d^2)`, and `dpotrf`).
  ///
  /// - Throws: ``UnlearningError/notPositiveDefinite(_:)`` if the Hessian cannot be factored.
  init<Model: CertifiableModel>(
    policy: FastRemovalPolicy, objective: Objective<Model>, at theta: [Double]
  )
    throws(UnlearningError)
  {
    self.policy = policy
    let z = objective.features.multiply(theta)
    let derivatives = objective.model.lossDerivatives(
      linearPredictors: z, targets: objective.targets)
    var g = objective.features.multiply(
      Self.weighted(derivatives.first, objective.weights), transposed: true)
    g.add(theta, scaledBy: objective.curvatureShift)
    if let b = objective.perturbation { g.add(b) }
    predictors = z
    gradient = g
    factorCurvature = derivatives.second
    factor = try Self.factorize(objective, curvature: derivatives.second)
    factorShift = objective.curvatureShift
    statistics.dataPasses = 2
    statistics.refreshes = 1
  }

  /// `w_i * values_i` (removed rows exactly 0).
  static func weighted(_ values: [Double], _ weights: [Double]?) -> [Double] {
    guard let weights else { return values }
    var out = values
    for i in out.indices { out[i] = weights[i] == 0 ? 0 : weights[i] * values[i] }
    return out
  }

  /// Factors `X^T diag(w * curvature) X + lambda n_R I`.
  static func factorize<Model>(_ objective: Objective<Model>, curvature: [Double])
    throws(UnlearningError)
    -> Cholesky
  {
    var hessian = objective.features.weightedGram(weights: weighted(curvature, objective.weights))
    hessian.addToDiagonal(objective.curvatureShift)
    do {
      return try Cholesky(hessian)
    } catch {
      throw .notPositiveDefinite(NewtonRemoval.indefiniteMessage(hessian))
    }
  }

  /// Rebuilds and refactors the Hessian at `theta` (given by its predictors `z = X theta`) on the
  /// objective's retain set.
  mutating func refresh<Model: CertifiableModel>(
    _ objective: Objective<Model>, predictors z: [Double]
  ) throws(UnlearningError) {
    let curvature = objective.model.lossDerivatives(linearPredictors: z, targets: objective.targets)
      .second
    factor = try Self.factorize(objective, curvature: curvature)
    factorCurvature = curvature
    factorShift = objective.curvatureShift
    requestsSinceRefresh = 0
    statistics.refreshes += 1
  }

  /// Applies `(A - s I)^{-1}` to `b`, with `A = L L^T` the factored matrix and
  /// `s = lambda (n_0 - n_R) = factorShift - shift >= 0` the regulariser the removed rows took
  /// with them, by the Neumann series `sum_k s^k A^{-(k+1)} b` (`A >= lambda n_0 I`, so the ratio
  /// is at most `s / (lambda n_0) = (n_0 - n_R) / n_0`), truncated when the ratio's power drops
  /// below `1e-4` (at most 4 terms; one `O(d^2)` solve each): the curvature drift since the
  /// refresh dominates the preconditioner's error long before that. Symmetric positive definite,
  /// so it is also a valid PCG preconditioner. With `s = 0` it is one solve.
  func preconditionedSolve(_ b: [Double], shift: Double) -> [Double] {
    let s = Swift.max(factorShift - shift, 0)
    var y = factor.solve(b)
    guard s > 0 else { return y }
    let ratio = s / factorShift
    var term = y
    var power = ratio
    for _ in 0..<3 {
      term = factor.solve(term)
      term.scale(by: s)
      y.add(term)
      power *= ratio
      if power < 1e-4 { break }
    }
    return y
  }

  /// Downdates the factor by the rank-1 terms `sqrt(loss''(z0_j)) x_j` of the removed rows.
  /// Returns `false` when a downdate would lose positive definiteness (the factor then needs a
  /// refresh before it is used).
  mutating func downdate(rows: [Int], features: Matrix) -> Bool {
    for j in rows {
      let scale = factorCurvature[j].squareRoot()
      guard scale > 0 else { continue }
      do {
        try factor.downdate(removing: features.row(j).scaled(by: scale))
      } catch {
        return false
      }
    }
    return true
  }

  /// `Delta = sum_{j in F} loss'(z_j) x_j + m lambda theta` from the cached predictors
  /// (`O(m d)`): the full-data gradient minus the retained one, `g_D - g_R`.
  func removalDelta<Model: CertifiableModel>(
    rows: [Int], objective: Objective<Model>, regularization: Double, at theta: [Double]
  ) -> [Double] {
    let z = rows.map { predictors[$0] }
    let y = rows.map { objective.targets[$0] }
    let first = objective.model.lossDerivatives(linearPredictors: z, targets: y).first
    var delta = theta.scaled(by: Double(rows.count) * regularization)
    for (k, j) in rows.enumerated() { delta.add(objective.features.row(j), scaledBy: first[k]) }
    return delta
  }

  /// Recomputes ``predictors`` as `X theta` (one pass) when enough incremental updates have
  /// accumulated (see ``predictorRecomputeInterval``).
  mutating func refreshPredictorsIfDue(features: Matrix, at theta: [Double]) {
    guard predictorUpdates >= Self.predictorRecomputeInterval else { return }
    predictors = features.multiply(theta)
    predictorUpdates = 0
    statistics.dataPasses += 1
  }

  /// Evaluates a step `v` at `theta` (predictors `z = X theta`, weighted curvature
  /// `c = w * loss''(z)`) in ONE fused pass over the rows of `X`
  /// (``LinearAlgebra/Matrix/fusedProductPass(_:outputs:blockRows:fill:)``): per block of rows,
  /// `t_B = X_B v` (`gemv`; `z' = z + t`), then
  /// `[H v - lambda n_R v, g' - lambda n_R theta' - b] += [c * t, w * loss'(z')]_B^T X_B`
  /// (`dgemm` with 2 rows) while the block is still in cache. `X` is read from memory once.
  mutating func evaluate<Model: CertifiableModel>(
    _ v: [Double], objective: Objective<Model>, at theta: [Double], predictors z0: [Double],
    curvature c: [Double]
  ) -> Evaluation {
    let x = objective.features
    let d = x.columns
    let next = theta.adding(v)
    let targets = objective.targets
    let weights = objective.weights
    let model = objective.model
    let (t, products) = x.fusedProductPass(v, outputs: 2) { rows, tBlock, u in
      let count = rows.count
      var zBlock = [Double]()
      zBlock.reserveCapacity(count)
      for i in rows { zBlock.append(z0[i] + tBlock[i]) }
      let first = model.lossDerivatives(linearPredictors: zBlock, targets: Array(targets[rows]))
        .first
      for (offset, i) in rows.enumerated() {
        u[offset] = c[i] * tBlock[i]
        let w = weights?[i] ?? 1
        u[count + offset] = w == 0 ? 0 : w * first[offset]
      }
    }
    let z = z0.adding(t)
    predictorUpdates += 1
    var hv = Array(products.elements[0..<d])
    hv.add(v, scaledBy: objective.curvatureShift)
    var g = Array(products.elements[d..<(2 * d)])
    g.add(next, scaledBy: objective.curvatureShift)
    if let b = objective.perturbation { g.add(b) }
    statistics.dataPasses += 1
    return Evaluation(step: v, projected: t, predictors: z, hessianProduct: hv, gradient: g)
  }

  /// Solves `H(theta) v = rhs` on the objective's retain set with the cached factor, refining by
  /// PCG and refreshing as the policy says, and returns the certified step (exact inexactness
  /// and remainder bounds) with its evaluation.
  ///
  /// - Parameters:
  ///   - predictors: `X theta`.
  ///   - forceRefresh: refresh before solving (count limit or failed downdate).
  ///   - charge: the charged remainder bound of a step (tight or Guo).
  ///   - acceptableCharge: also accept a step whose bound plus inexactness is at most this
  ///     (exact-step: ``FastRemovalPolicy/budgetFraction`` times the budget; paper: 0).
  mutating func step<Model: CertifiableModel>(
    _ objective: Objective<Model>, at theta: [Double], predictors z: [Double], rhs: [Double],
    spectralNorm: Double, forceRefresh: Bool, acceptableCharge: Double,
    charge: (CertifiedNewtonStepper.Step) -> Double
  ) throws(UnlearningError) -> (
    step: CertifiedNewtonStepper.Step, evaluation: Evaluation, refreshed: Bool
  ) {
    let policy = self.policy
    var refreshed = false
    if forceRefresh {
      try refresh(objective, predictors: z)
      refreshed = true
    }
    let curvature = Self.weighted(
      objective.model.lossDerivatives(linearPredictors: z, targets: objective.targets).second,
      objective.weights)
    let rhsNorm = rhs.norm()
    func certify(_ e: Evaluation, iterations: Int) -> (CertifiedNewtonStepper.Step, Bool) {
      var t = e.projected
      if let w = objective.weights { for i in t.indices where w[i] == 0 { t[i] = 0 } }
      let model = objective.model
      let tight = ResidualBounds.tight(
        thirdDerivativeBound: model.thirdDerivativeBound, spectralNorm: spectralNorm,
        projectedStep: t)
      let guo = ResidualBounds.guo(
        gamma: model.curvatureLipschitzConstant, spectralNorm: spectralNorm,
        stepNorm: e.step.norm(),
        projectedStep: t)
      let inexactness = e.hessianProduct.subtracting(rhs).norm()
      let step = CertifiedNewtonStepper.Step(
        step: e.step, tight: tight, guo: guo, inexactness: inexactness, iterations: iterations)
      let remainder = charge(step)
      let target = Swift.max(
        policy.inexactnessFraction * remainder, policy.relativeTolerance * rhsNorm)
      return (step, inexactness <= target || remainder + inexactness <= acceptableCharge)
    }
    var evaluation = evaluate(
      preconditionedSolve(rhs, shift: objective.curvatureShift), objective: objective, at: theta,
      predictors: z, curvature: curvature)
    var (step, accepted) = certify(evaluation, iterations: 0)
    if !accepted && policy.maximumRefinements > 0 {
      // PCG on the correction H delta = rhs - H v, preconditioned by the factor.
      let target = Swift.max(
        policy.inexactnessFraction * charge(step), policy.relativeTolerance * rhsNorm,
        acceptableCharge - charge(step))
      let x = objective.features
      let shift = objective.curvatureShift
      var delta = [Double](repeating: 0, count: rhs.count)
      var r = rhs.subtracting(evaluation.hessianProduct)
      var s = preconditionedSolve(r, shift: shift)
      var p = s
      var rs = r.dot(s)
      var iterations = 0
      while iterations < policy.maximumRefinements {
        var u = x.multiply(p)
        for i in u.indices { u[i] *= curvature[i] }
        var hp = x.multiply(u, transposed: true)
        hp.add(p, scaledBy: shift)
        statistics.dataPasses += 2
        let php = p.dot(hp)
        guard php > 0, php.isFinite else { break }
        let alpha = rs / php
        delta.add(p, scaledBy: alpha)
        r.add(hp, scaledBy: -alpha)
        iterations += 1
        if r.norm() <= 0.5 * target { break }
        s = preconditionedSolve(r, shift: shift)
        let rsNext = r.dot(s)
        p.scale(by: rsNext / rs)
        p.add(s)
        rs = rsNext
      }
      statistics.refinementIterations += iterations
      evaluation = evaluate(
        evaluation.step.adding(delta), objective: objective, at: theta, predictors: z,
        curvature: curvature)
      (step, accepted) = certify(evaluation, iterations: iterations)
    }
    if !accepted && !refreshed {
      try refresh(objective, predictors: z)
      refreshed = true
      evaluation = evaluate(
        preconditionedSolve(rhs, shift: objective.curvatureShift), objective: objective, at: theta,
        predictors: z, curvature: curvature)
      (step, _) = certify(evaluation, iterations: step.iterations)
    }
    return (step, evaluation, refreshed)
  }
}
