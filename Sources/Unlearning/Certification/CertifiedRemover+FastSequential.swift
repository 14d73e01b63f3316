extension CertifiedRemover {
  /// The fast engine for `solver`, built at the state's parameters, or `nil` when `solver` is
  /// not ``CertifiedRemovalSolver/fastSequential(_:)``.
  static func fastEngine(solver: CertifiedRemovalSolver, state: TrainedModel<Model>) throws
    -> FastRemovalEngine?
  {
    guard case .fastSequential(let policy) = solver else { return nil }
    try policy.validate()
    return try FastRemovalEngine(policy: policy, objective: state.objective(), at: state.parameters)
  }

  /// ``remove(_:)`` on the fast path (``FastRemovalPolicy``), for a non-empty request.
  ///
  /// The same accounting, bounds, retrain trigger and certificate as the exact path; only the
  /// solve differs (cached downdated factor, then PCG refinement or a refresh when the measured
  /// inexactness is too large), and every charged quantity is exact: `H v` and `t = X_R v` from
  /// fresh passes over `X`, the gradient after the step measured by the second pass.
  mutating func removeFast(rows: [Int], engine start: FastRemovalEngine) throws
    -> RemovalCertificate
  {
    var engine = start
    let before = state.retainedCount
    let m = rows.count
    var next = state.removing(rows: rows)
    var generator = self.generator
    var objective = next.objective()
    var theta = next.parameters
    var spent = self.spent
    var retrained = false
    var refreshed = false
    var stepsTaken = 0
    var last = CertifiedNewtonStepper.Step(
      step: [], tight: 0, guo: 0, inexactness: 0, iterations: 0)
    var certified = spent
    var allowance = CertifiedNewtonStepper.floatingPointAllowance(objective, at: theta)

    engine.refreshPredictorsIfDue(features: objective.features, at: theta)
    // O(m d): Delta = g_D - g_R from the cached predictors, and the retained gradient.
    let delta = engine.removalDelta(
      rows: rows, objective: objective, regularization: next.regularization, at: theta)
    var gradient = engine.gradient.subtracting(delta)
    let downdated = engine.downdate(rows: rows, features: objective.features)
    var forceRefresh = !downdated || engine.requestsSinceRefresh >= engine.policy.refreshInterval
    var predictors = engine.predictors
    let acceptableCharge = accounting == .exactStep ? engine.policy.budgetFraction * budget : 0
    let charge: (CertifiedNewtonStepper.Step) -> Double = { [bound] step in
      bound == .guo ? step.guo : step.tight
    }

    switch accounting {
    case .paper:
      let result = try engine.step(
        objective, at: theta, predictors: predictors, rhs: delta, spectralNorm: spectralNorm,
        forceRefresh: forceRefresh, acceptableCharge: acceptableCharge, charge: charge)
      last = result.step
      refreshed = refreshed || result.refreshed
      stepsTaken = 1
      let increment = charged(last) + allowance
      if spent + increment <= budget {
        theta.add(last.step)
        spent += increment
        certified = spent
        predictors = result.evaluation.predictors
        gradient = result.evaluation.gradient
      } else {
        retrained = true
      }
    case .exactStep:
      var candidate = theta
      var candidatePredictors = predictors
      var candidateGradient = gradient
      repeat {
        let result = try engine.step(
          objective, at: candidate, predictors: candidatePredictors,
          rhs: candidateGradient.scaled(by: -1), spectralNorm: spectralNorm,
          forceRefresh: forceRefresh, acceptableCharge: acceptableCharge, charge: charge)
        forceRefresh = false
        refreshed = refreshed || result.refreshed
        last = result.step
        candidate.add(last.step)
        candidatePredictors = result.evaluation.predictors
        candidateGradient = result.evaluation.gradient
        stepsTaken += 1
        allowance = CertifiedNewtonStepper.floatingPointAllowance(objective, at: candidate)
        certified = charged(last) + allowance
      } while certified > budget && stepsTaken < maximumSteps
      if certified <= budget {
        theta = candidate
        spent = certified
        predictors = candidatePredictors
        gradient = candidateGradient
      } else {
        retrained = true
      }
    }
    if retrained {
      Self.retrainWithFreshPerturbation(
        &next, generator: &generator, sigma: privacy.sigma, trainer: trainer)
      objective = next.objective()
      theta = next.parameters
      var fresh = try FastRemovalEngine(policy: engine.policy, objective: objective, at: theta)
      fresh.statistics.dataPasses += engine.statistics.dataPasses
      fresh.statistics.refreshes += engine.statistics.refreshes
      fresh.statistics.refinementIterations = engine.statistics.refinementIterations
      engine = fresh
      refreshed = true
      predictors = engine.predictors
      gradient = engine.gradient
      allowance = CertifiedNewtonStepper.floatingPointAllowance(objective, at: theta)
      certified = next.training.gradientNorm + allowance
      guard certified <= budget else {
        throw CertificationError.trainingResidualExceedsBudget(residual: certified, budget: budget)
      }
      spent = certified
    } else {
      next.parameters = theta
    }
    engine.predictors = predictors
    engine.gradient = gradient
    engine.requestsSinceRefresh += 1
    let worstCase = ResidualBounds.worstCase(
      removed: m, of: before, regularization: state.regularization,
      gamma: state.model.curvatureLipschitzConstant, gradientBound: state.model.gradientNormBound)
    let certificate = RemovalCertificate(
      accounting: accounting, bound: bound, epsilon: privacy.epsilon, delta: privacy.delta,
      sigma: privacy.sigma, budget: budget, tightBound: last.tight, guoBound: last.guo,
      worstCaseBound: worstCase, solveInexactness: last.inexactness, certifiedResidual: certified,
      spent: spent, remaining: budget - spent, trueResidual: gradient.norm(),
      floatingPointAllowance: allowance, retrained: retrained, stepsTaken: stepsTaken,
      removedCount: m, retainedCount: before - m, headCount: 1, refreshed: refreshed)
    // Commit (nothing above mutated self).
    self.state = next
    self.fast = engine
    self.generator = generator
    self.spent = spent
    if retrained { self.retrainCount += 1 }
    self.certificates.append(certificate)
    return certificate
  }
}
