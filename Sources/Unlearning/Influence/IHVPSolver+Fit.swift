extension Influence.IHVPSolver {
  /// Precomputes what this solver needs for `(H_J + damping I)^{-1}` at `parameters`.
  ///
  /// `H_J = hess L(theta) / n_eff` is the **mean-form** Hessian of `objective` (its sum-form
  /// Hessian divided by `n_eff = sum_i w_i`): `(1/n_eff) sum_i w_i hess loss_i + lambda I`.
  /// The perturbation `b` of the objective has no Hessian and is irrelevant here.
  ///
  /// - direct: the dense `H_J + damping I` and its Cholesky factor (`O(n p^2 + p^3/3)` for
  ///   linear models).
  /// - conjugate gradient: with Jacobi, the diagonal (`O(n p)` for linear models, `p` HVPs
  ///   otherwise).
  /// - LiSSA: the scale (see ``LiSSAConfiguration/ScaleRule``).
  ///
  /// - Parameters:
  ///   - objective: the training objective (model, data, weights, `lambda`).
  ///   - parameters: `theta`, length `p` (usually the trained minimiser).
  ///   - damping: `mu >= 0` added to the mean-form Hessian (non-convex models).
  /// - Throws: ``UnlearningError/notPositiveDefinite(_:)``
  ///   (direct), ``UnlearningError/invalidArgument(_:)`` for out-of-range settings or a
  ///   non-positive Jacobi diagonal, ``UnlearningError/unsupported(_:)`` (LiSSA, large
  ///   non-linear models with the automatic rule), ``UnlearningError/invalidArgument(_:)``.
  public func fit<Model: TwiceDifferentiableModel>(
    _ objective: Objective<Model>, at parameters: [Double], damping: Double = 0
  ) throws(UnlearningError) -> Influence.IHVPSolver.Fitted {
    let stopwatch = Stopwatch()
    let p = objective.parameterCount
    guard parameters.count == p else {
      throw .invalidArgument("shape mismatch: \(parameters.count) parameters, the model has \(p)")
    }
    guard damping >= 0, damping.isFinite else {
      throw .invalidArgument("damping \(damping) must be finite and >= 0")
    }
    guard objective.effectiveCount > 0 else {
      throw .invalidArgument("every sample weight is zero: there is no Hessian")
    }
    let meanFactor = 1 / objective.effectiveCount
    // The theta-dependent part of the HVP is prepared once (linear models: two gemv per call).
    let dataProduct = objective.model.preparedLossHessianVectorProduct(
      parameters, features: objective.features, targets: objective.targets,
      weights: objective.weights)
    let shift = objective.regularization + damping
    let exactProduct: @Sendable ([Double]) -> [Double] = { v in
      var hv = dataProduct(v)
      hv.scale(by: meanFactor)
      hv.add(v, scaledBy: shift)
      return hv
    }
    var notes: [String] = []
    let storage: Influence.IHVPSolver.Fitted.Storage
    var lissaScale: Double?
    var lissaEffectiveDamping: Double?

    switch self {
    case .direct:
      let matrix = Self.meanFormHessian(objective, at: parameters, damping: damping)
      do {
        storage = .direct(factor: try Cholesky(matrix), matrix: matrix)
      } catch {
        throw Self.indefiniteError(matrix, damping: damping)
      }
      notes.append("dense mean-form Hessian H_J + \(damping) I factored by Cholesky")

    case .conjugateGradient(let configuration):
      guard configuration.tolerance > 0 else {
        throw .invalidArgument("CG tolerance \(configuration.tolerance) must be positive")
      }
      if let cap = configuration.maximumIterations, cap < 1 {
        throw .invalidArgument("CG maximumIterations \(cap) must be >= 1")
      }
      let cg = ConjugateGradient(
        tolerance: configuration.tolerance, maximumIterations: configuration.maximumIterations)
      var diagonal: [Double]?
      if configuration.preconditioner == .jacobi {
        let d = Self.meanFormDiagonal(
          objective, at: parameters, damping: damping, exactProduct: exactProduct)
        if let bad = d.firstIndex(where: { !($0 > 0) }) {
          throw .invalidArgument(
            "Jacobi preconditioner needs a positive diagonal; H_J + \(damping) I has \(d[bad]) at index \(bad) (add damping)"
          )
        }
        diagonal = d
        notes.append("Jacobi preconditioner: diagonal of H_J + \(damping) I")
      }
      storage = .conjugateGradient(cg, diagonal: diagonal)

    case .lissa(let configuration):
      guard configuration.damping >= 0, configuration.damping < 1 else {
        throw .invalidArgument("LiSSA damping \(configuration.damping) must be in [0, 1)")
      }
      guard configuration.depth > 0, configuration.repeats > 0 else {
        throw .invalidArgument(
          "LiSSA depth \(configuration.depth) and repeats \(configuration.repeats) must be positive"
        )
      }
      if let b = configuration.batchSize, b < 1 {
        throw .invalidArgument("LiSSA batchSize \(b) must be >= 1")
      }
      let (scale, how) = try Self.lissaScale(
        configuration.scale, objective, at: parameters, damping: damping)
      guard scale > 0, scale.isFinite else {
        throw .invalidArgument("LiSSA scale \(scale) must be finite and positive")
      }
      notes.append("LiSSA scale \(scale) (\(how))")
      lissaScale = scale
      lissaEffectiveDamping = configuration.damping * scale
      let lissa = LiSSA(
        scale: scale, damping: configuration.damping, depth: configuration.depth,
        repeats: configuration.repeats, seed: configuration.seed)
      var batch: MiniBatchHessianOperator?
      if let b = configuration.batchSize {
        batch = MiniBatchHessianOperator(
          objective: objective, parameters: parameters, damping: damping, batchSize: b)
        notes.append("mini-batch HVPs of \(b) samples, rescaled to the full-data H_J")
      }
      storage = .lissa(lissa, batch: batch)
    }
    return Influence.IHVPSolver.Fitted(
      solver: self, dimension: p, damping: damping, lissaScale: lissaScale,
      lissaEffectiveDamping: lissaEffectiveDamping, fitSeconds: stopwatch.seconds, notes: notes,
      storage: storage, exactProduct: exactProduct)
  }

  // MARK: - Helpers

  /// The dense `H_J + damping I = hess L / n_eff + damping I`.
  static func meanFormHessian<Model: TwiceDifferentiableModel>(
    _ objective: Objective<Model>, at parameters: [Double], damping: Double
  ) -> Matrix {
    var h = objective.hessian(at: parameters)
    h.scale(by: 1 / objective.effectiveCount)
    h.addToDiagonal(damping)
    return h
  }

  /// The error for a failed factorisation: inertia and smallest eigenvalue of `matrix`.
  static func indefiniteError(_ matrix: Matrix, damping: Double) -> UnlearningError {
    .notPositiveDefinite(Indefiniteness(matrix, damping: damping).description)
  }

  /// `diag(H_J + damping I)`: linear models `(1/n_eff) sum_i w_i ell''_i x~_ij^2 + lambda +
  /// damping` in row blocks (`O(n p)`); other models `p` exact HVPs with basis vectors.
  static func meanFormDiagonal<Model: TwiceDifferentiableModel>(
    _ objective: Objective<Model>, at parameters: [Double], damping: Double,
    exactProduct: ([Double]) -> [Double]
  ) -> [Double] {
    let p = objective.parameterCount
    if let linear = objective.model as? any GeneralizedLinearModel {
      let c = LinearModelTerms(linear, objective: objective, parameters: parameters)
        .weightedCurvatures
      var diagonal = objective.features.squaredColumnSums(weights: c)
      if linear.fitsIntercept { diagonal.append(c.reduce(0, +)) }
      diagonal.scale(by: 1 / objective.effectiveCount)
      for j in diagonal.indices { diagonal[j] += objective.regularization + damping }
      return diagonal
    }
    var e = [Double](repeating: 0, count: p)
    return (0..<p).map { j in
      e[j] = 1
      defer { e[j] = 0 }
      return exactProduct(e)[j]
    }
  }

  /// The LiSSA scale `1.1 lambda_max` (of a bound or the exact value) and how it was found.
  static func lissaScale<Model: TwiceDifferentiableModel>(
    _ rule: LiSSAConfiguration.ScaleRule, _ objective: Objective<Model>, at parameters: [Double],
    damping: Double
  ) throws(UnlearningError) -> (Double, String) {
    let p = objective.parameterCount
    let linear = objective.model as? any GeneralizedLinearModel
    switch rule {
    case .fixed(let scale):
      return (scale, "fixed by the caller")
    case .exactEigenvalue:
      return (
        try exactScale(objective, parameters, damping), "1.1 x exact lambda_max(H_J + damping I)"
      )
    case .traceBound:
      guard let linear else {
        throw .unsupported(
          "cannot choose the LiSSA scale automatically (pass an explicit scale): the trace bound needs a generalized linear model, not \(Model.self)"
        )
      }
      return (traceScale(linear, objective, parameters, damping), "1.1 x trace bound on lambda_max")
    case .automatic:
      if p <= 2000 {
        return (
          try exactScale(objective, parameters, damping), "1.1 x exact lambda_max(H_J + damping I)"
        )
      }
      guard let linear else {
        throw .unsupported(
          "cannot choose the LiSSA scale automatically (pass an explicit scale): p = \(p) > 2000 is too large for an exact eigenvalue of \(Model.self)"
        )
      }
      return (traceScale(linear, objective, parameters, damping), "1.1 x trace bound on lambda_max")
    }
  }

  static func exactScale<Model: TwiceDifferentiableModel>(
    _ objective: Objective<Model>, _ parameters: [Double], _ damping: Double
  ) throws(UnlearningError) -> Double {
    let h = meanFormHessian(objective, at: parameters, damping: damping)
    do {
      return LiSSA.recommendedScale(largestEigenvalue: try SymmetricEigen.largestEigenvalue(of: h))
    } catch {
      throw .unsupported(
        "cannot choose the LiSSA scale automatically (pass an explicit scale): the eigenvalue computation failed: \(error)"
      )
    }
  }

  static func traceScale<Model: TwiceDifferentiableModel>(
    _ linear: any GeneralizedLinearModel, _ objective: Objective<Model>, _ parameters: [Double],
    _ damping: Double
  ) -> Double {
    let c = LinearModelTerms(linear, objective: objective, parameters: parameters)
      .weightedCurvatures
    var squaredNorms = objective.features.rowNorms().map { $0 * $0 }
    if linear.fitsIntercept { for i in squaredNorms.indices { squaredNorms[i] += 1 } }
    let trace = c.dot(squaredNorms) / objective.effectiveCount
    return LiSSA.recommendedScale(largestEigenvalue: trace + objective.regularization + damping)
  }
}
