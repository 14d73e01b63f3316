import Foundation

extension CertifiedRemoval {
  /// Everything certified removal carries between requests, stored in
  /// ``TrainedModel/certification`` and persisted with the model: nothing is recomputed on load.
  ///
  /// The secret perturbation `b` itself is ``TrainedModel/perturbation`` (stacked head after head
  /// for a multi-head model).
  public struct State: Sendable, Codable, Equatable {
    /// `(epsilon, delta, sigma)`.
    public var privacy: PrivacyParameters
    /// How sequential removals are charged.
    public var accounting: CertifiedRemoval.Accounting
    /// The remainder bound charged.
    public var bound: RemovalCertificate.Bound
    /// How Newton systems are solved (default ``NewtonSolver/default``, the downdated factor).
    public var solver: NewtonSolver
    /// Exact-step accounting: full-gradient steps per request before a retrain.
    public var maximumSteps: Int
    /// An upper bound on `||X||_2` of the full training data (valid for every retain set),
    /// computed once at training.
    public var spectralNorm: Double
    /// The budget used by each head's current parameters (paper: the running sums; exact-step:
    /// each head's certified residual). The model's is their root sum of squares, ``spent``.
    public var headSpent: [Double]
    /// Budget-triggered retrains so far (each with a fresh `b`).
    public var retrainCount: Int
    /// Every certificate issued, oldest first.
    public var certificates: [RemovalCertificate]
    /// Where `b` comes from.
    public var perturbationSource: CertifiedRemoval.PerturbationSource
    /// How many `b` vectors have been drawn (1 after training; one more per retrain).
    public var perturbationDraws: Int

    /// The budget `epsilon'`.
    public var budget: Double { privacy.budget }
    /// The certified residual bound of the current parameters: `sqrt(sum_k spent_k^2)`.
    public var spent: Double { rootSumOfSquares(headSpent) }
    /// `budget - spent`.
    public var remaining: Double { budget - spent }
  }
}

/// `sqrt(sum x_i^2)` (0 for an empty list).
package func rootSumOfSquares(_ values: [Double]) -> Double {
  values.reduce(0) { $0 + $1 * $1 }.squareRoot()
}

/// Certified removal (Guo, Goldstein, Hannun, van der Maaten, ICML 2020) as an ``Unlearner``,
/// with rigorous certificates (Docs/Math.md section 6).
///
/// The state must come from ``TrainedModel/trainCertified(model:data:regularization:privacy:accounting:bound:solver:maximumSteps:trainer:perturbation:)``
/// (a ``CertifiableModel`` with a ``CertifiedRemoval/State``); other states are refused with
/// ``UnlearningError/unsupported(_:)``. Each request (one id or a batch) takes Newton steps on
/// the retained objective of every head, charges rigorous bounds on the gradient residual of
/// the result against the budget `epsilon' = sigma epsilon / c`, retrains every head with a
/// fresh `b` when the budget would be exceeded, and returns the ``RemovalCertificate`` in
/// ``RemovalReport/certificate``. Per-head bounds combine by the root of the sum of squares.
///
/// Cost per request with the default solver: `O(m d^2)` downdates, one `O(d^2)` solve and one
/// fused pass over `X` per head, plus refinements and refreshes as ``CertifiedRemoval/FastRemovalPolicy`` says.
/// The input state's cached solvers are shared, never modified: removing again from the same
/// input state starts from the same cache (the removed rows are a low-rank correction to the
/// cached factor, folded into a copy every few dozen rows).
/// With ``CertifiedRemoval/FastRemovalPolicy/amortisedSteps`` (`.downdatedFactor(.amortised)`) most requests cost
/// `O(m d^2)` and read no row of `X` outside the removed ones; an exact step (two passes) resets
/// the running sum when it would pass the policy's fraction of the budget (Docs/Math.md 6.10).
public struct CertifiedRemoval: Unlearner {
  /// The optimiser of budget-triggered retrains (default: Newton to `1e-10 n`).
  public var trainer: any Trainer

  /// Creates the method.
  ///
  /// - Parameter trainer: the optimiser for retrains with a fresh `b`; it must reach a residual
  ///   well below the budget.
  public init(trainer: some Trainer = Training.Newton(gradientTolerance: 1e-10)) {
    self.trainer = trainer
  }

  /// `"certified"`.
  public var name: String { "certified" }

  /// Removes `ids` and certifies the result.
  ///
  /// - Throws: ``UnlearningError`` for bad ids (naming the id), an uncertified state or model;
  ///   ``UnlearningError/trainingResidualExceedsBudget(residual:budget:)`` if even a retrain
  ///   exceeds the budget. The input is unchanged (a value type).
  public func unlearn<Model: TwiceDifferentiableModel>(
    _ state: TrainedModel<Model>, forgetting ids: [SampleID]
  ) throws -> UnlearningResult<Model> {
    guard let certifiable = state.model as? any CertifiableModel else {
      throw UnlearningError.unsupported(
        "certified removal needs logistic regression or one-vs-rest logistic heads, not \(Model.self)"
      )
    }
    guard state.certification != nil, state.perturbation != nil else {
      throw UnlearningError.unsupported(
        "this model was not trained for certified removal (train it with trainCertified / --certified)"
      )
    }
    return try open(certifiable, state: state, ids: ids)
  }

  private func open<M: CertifiableModel, Model: TwiceDifferentiableModel>(
    _ model: M, state: TrainedModel<Model>, ids: [SampleID]
  ) throws -> UnlearningResult<Model> {
    // Model == M at run time: the casts succeed.
    guard let typed = state as? TrainedModel<M> else {
      throw UnlearningError.unsupported("the state's model type changed")
    }
    let result = try UnlearningResult.run(method: name, state: typed, ids: ids) { removed, rows in
      try CertifiedEngine(trainer: trainer).remove(rows: rows, from: typed, removed: removed)
    }
    guard let typedResult = result as? UnlearningResult<Model> else {
      throw UnlearningError.unsupported("the state's model type changed")
    }
    return typedResult
  }
}

/// The request loop shared by every head count.
struct CertifiedEngine {
  let trainer: any Trainer

  /// The objective of head `k` on the given weights and perturbation.
  static func headObjective<M: CertifiableModel>(
    _ model: M, data: Dataset, weights: [Double], regularization: Double, perturbation: [Double],
    head k: Int
  ) -> Objective<M.Head> {
    let targets = data.labels.map(Double.init)
    return Objective(
      model: model.head, features: data.features, targets: model.headTargets(targets, head: k),
      weights: weights, regularization: regularization,
      perturbation: Array(perturbation[model.headRange(k)]))
  }

  /// The cached solvers of a state, rebuilt when the cache does not describe it.
  static func solvers<M: CertifiableModel>(for state: TrainedModel<M>) throws(UnlearningError)
    -> [HeadNewtonSolver<M.Head>]
  {
    if let cache = state.certifiedCache, cache.parameters == state.parameters,
      cache.removedCount == state.removedIDs.count,
      let solvers = cache.heads as? [HeadNewtonSolver<M.Head>]
    {
      // Shared with the state, copy-on-write: a request never writes the stored factor (removed
      // rows are a Woodbury correction until a fold), and a fold of the factor or of the dense
      // H~ and G_R copies them first while the state still holds them. A second removal from
      // the same state therefore starts from the same cache as the first.
      return solvers
    }
    guard let certification = state.certification, let b = state.perturbation else {
      throw .unsupported("this model was not trained for certified removal")
    }
    return try (0..<state.model.headCount).map { k throws(UnlearningError) in
      try HeadNewtonSolver(
        strategy: certification.solver,
        objective: headObjective(
          state.model, data: state.data, weights: state.weights,
          regularization: state.regularization, perturbation: b, head: k),
        at: Array(state.parameters[state.model.headRange(k)]))
    }
  }

  /// One request: `removed` is `state` with the rows weighted 0, parameters unchanged.
  func remove<M: CertifiableModel>(
    rows: [Int], from state: TrainedModel<M>, removed: TrainedModel<M>
  ) throws -> UnlearningOutcome<M> {
    guard let certification = state.certification, let b = state.perturbation else {
      throw UnlearningError.unsupported("this model was not trained for certified removal")
    }
    let model = state.model
    let heads = model.headCount
    let solvers = try Self.solvers(for: state)
    var next = removed
    let objectives = (0..<heads).map {
      Self.headObjective(
        model, data: next.data, weights: next.weights, regularization: next.regularization,
        perturbation: b, head: $0)
    }
    let request = CertifiedRequest(
      solvers: solvers, objectives: objectives,
      thetas: (0..<heads).map { Array(state.parameters[model.headRange($0)]) },
      removed: next.data.features.rows(at: rows),
      removedTargets: objectives.map { objective in rows.map { objective.targets[$0] } },
      removedCurvature: solvers.map { $0.factorCurvature(ofRows: rows) },
      retainedBefore: state.retainedCount)
    let served = try request.serve(certification: certification) { draw in
      let fresh = certification.perturbationSource.drawPerturbation(
        count: model.parameterCount, sigma: certification.privacy.sigma, draw: draw)
      next.perturbation = fresh
      next.retrain(trainer: trainer)
      let objectives = (0..<heads).map {
        Self.headObjective(
          model, data: next.data, weights: next.weights, regularization: next.regularization,
          perturbation: fresh, head: $0)
      }
      return (objectives, (0..<heads).map { Array(next.parameters[model.headRange($0)]) })
    }
    next.parameters = served.thetas.flatMap { $0 }
    next.certification = served.certification
    next.certifiedCache = CertifiedCache(
      heads: served.solvers, parameters: next.parameters, removedCount: next.removedIDs.count)
    return UnlearningOutcome(
      state: next, notes: served.notes, details: served.details,
      certificate: served.certificate, residual: served.residual,
      trainingResidual: served.trainingResidual)
  }
}

/// One certified removal request on the cached solvers of a model's heads, wherever the rows
/// live (one process, or row shards over ranks: ``RowPlacement``): the decisions of
/// Docs/Math.md sections 6 and 6.10 (an `O(d^2)` step, exact steps, refreshes, a retrain with a
/// fresh `b`) and the certificate. ``CertifiedRemoval`` and the row-sharded model both serve
/// their requests here, so they take the same decisions by construction.
package struct CertifiedRequest<Head: CertifiableHead> {
  /// Per head: the solver cache at ``thetas`` before the request.
  package var solvers: [HeadNewtonSolver<Head>]
  /// Per head: the retained objective after the request (removed rows weighted 0, this
  /// process's rows, `effectiveCount` the global retained count after the request).
  package var objectives: [Objective<Head>]
  /// Per head: the parameters before the request.
  package var thetas: [[Double]]
  /// The removed rows `x_j` (`m x d`, request order), as their owners supplied them.
  package var removed: Matrix
  /// Per head: the removed rows' targets.
  package var removedTargets: [[Double]]
  /// Per head: the removed rows' `loss''(z0_j)` at the factor's parameters
  /// (``HeadNewtonSolver/factorCurvature(ofRows:)`` on their owner).
  package var removedCurvature: [[Double]]
  /// The global retained count before the request.
  package var retainedBefore: Int

  /// A request from its parts (see the properties).
  package init(
    solvers: [HeadNewtonSolver<Head>], objectives: [Objective<Head>], thetas: [[Double]],
    removed: Matrix, removedTargets: [[Double]], removedCurvature: [[Double]],
    retainedBefore: Int
  ) {
    self.solvers = solvers
    self.objectives = objectives
    self.thetas = thetas
    self.removed = removed
    self.removedTargets = removedTargets
    self.removedCurvature = removedCurvature
    self.retainedBefore = retainedBefore
  }

  /// What a request did: the caller stores ``thetas``, ``certification`` and ``solvers``.
  package struct Served {
    /// Per head: the solver caches at ``thetas``.
    package var solvers: [HeadNewtonSolver<Head>]
    /// Per head: the new parameters.
    package var thetas: [[Double]]
    /// The state with the certificate appended and the budget charged.
    package var certification: CertifiedRemoval.State
    /// The request's certificate.
    package var certificate: RemovalCertificate
    /// The residual after the request (measured; the certified upper bound after an `O(d^2)`
    /// step, which reads no row of `X`).
    package var residual: Double
    /// The residual before the request, when known.
    package var trainingResidual: Double?
    /// Notes and counters for the report.
    package var notes: [String]
    package var details: [String: Double]
  }

  /// Serves the request (Docs/Math.md 6, 6.10; cost: see ``CertifiedRemoval``).
  ///
  /// - Parameters:
  ///   - certification: the state before the request.
  ///   - retrain: a budget-triggered retrain on the retained rows with the `draw`-th fresh `b`
  ///     (collective over ranks); returns each head's new objective and parameters.
  package func serve(
    certification: CertifiedRemoval.State,
    retrain: (_ draw: Int) throws -> (objectives: [Objective<Head>], thetas: [[Double]])
  ) throws -> Served {
    var certification = certification
    var solvers = solvers
    var objectives = objectives
    var thetas = thetas
    let heads = solvers.count
    let budget = certification.budget
    let spectralNorm = certification.spectralNorm
    let rowCount = removed.rows
    // After O(d^2) steps the cached gradients describe earlier parameters: not reported.
    var trainingResidual: Double? =
      solvers.contains { $0.amortised?.stale == true }
      ? nil : rootSumOfSquares(solvers.map { $0.gradient.norm() })
    var amortisedPolicy: CertifiedRemoval.AmortisedStepPolicy?
    if case .downdatedFactor(let policy) = certification.solver {
      amortisedPolicy = policy.amortisedSteps
    }
    var predictors: [[Double]] = []
    var gradients: [[Double]] = []
    var forceRefresh: [Bool] = []
    var deltas: [[Double]] = []
    for k in 0..<heads {
      solvers[k].refreshPredictorsIfDue(features: objectives[k].features, at: thetas[k])
      // The removed rows' gradient at theta plus their share of the regulariser.
      var delta = objectives[k].model.lossAndGradient(
        thetas[k], features: removed, targets: removedTargets[k], weights: nil
      ).gradient
      delta.add(thetas[k], scaledBy: Double(rowCount) * objectives[k].regularization)
      deltas.append(delta)
      gradients.append(solvers[k].gradient.subtracting(delta))
      predictors.append(solvers[k].predictors)
      // The first solve's right-hand side shares the factor read of the first removed row:
      // Delta for an O(d^2) or paper step, -g_R(theta) for an exact-step request.
      let firstRHS =
        amortisedPolicy != nil || certification.accounting == .paper
        ? delta : gradients[k].scaled(by: -1)
      let downdated = solvers[k].downdate(
        removed: removed, curvature: removedCurvature[k], alsoSolving: firstRHS)
      var due = false
      if case .downdatedFactor(let policy) = certification.solver {
        due =
          policy.amortisedSteps == nil && solvers[k].requestsSinceRefresh >= policy.refreshInterval
      }
      forceRefresh.append(!downdated || due)
    }

    // Docs/Math.md 6.10: first try one O(d^2) Delta step per head that reads no row of X,
    // charged to the running sums; accepted while they stay within the policy's fraction of
    // the budget.
    var cheap: [HeadNewtonSolver<Head>.CheapStep] = []
    if let amortisedPolicy, !forceRefresh.contains(true) {
      cheap = (0..<heads).compactMap { k in
        solvers[k].cheapStep(
          objectives[k], at: thetas[k], delta: deltas[k], spectralNorm: spectralNorm)
      }
      if cheap.count == heads {
        let proposed = (0..<heads).map { certification.headSpent[$0] + cheap[$0].charge }
        if rootSumOfSquares(proposed) <= amortisedPolicy.budgetFraction * budget {
          return cheapOutcome(
            cheap, proposed: proposed, solvers: solvers, certification: certification)
        }
      }
    }
    // The exact step below resets the residual. It needs the exact gradient (one fused pass
    // after cheap steps). If few cheap steps fitted since the last exact step and the drift
    // term dominated, it also refactors at the current parameters (a new theta~).
    var resynchronized = [Double](repeating: 0, count: heads)
    for k in 0..<heads {
      guard let amortised = solvers[k].amortised, let amortisedPolicy else { continue }
      if amortised.stale {
        solvers[k].resynchronize(objectives[k], at: thetas[k])
        gradients[k] = solvers[k].gradient
        predictors[k] = solvers[k].predictors
        // g_D(theta) = g_R(theta) + Delta exactly (E3.1): the residual before the request.
        resynchronized[k] = gradients[k].adding(deltas[k]).norm()
      }
      let drift = (solvers[k].amortised ?? amortised).driftBound(at: thetas[k])
      if k < cheap.count, amortised.cheapSteps < amortisedPolicy.minimumCheapSteps,
        drift > cheap[k].step.norm() / 2
      {
        forceRefresh[k] = true
      }
      solvers[k].amortised?.cheapSteps = 0
    }
    if trainingResidual == nil, solvers.allSatisfy({ $0.amortised?.stale == false }) {
      trainingResidual = rootSumOfSquares(resynchronized)
    }
    let bound = certification.bound
    let charge: (HeadNewtonSolver<Head>.Step) -> Double = { step in
      bound == .guo ? step.guo : step.tight
    }
    var acceptable = 0.0
    if certification.accounting == .exactStep || amortisedPolicy != nil,
      case .downdatedFactor(let policy) = certification.solver
    {
      acceptable = policy.budgetFraction * budget / Double(heads).squareRoot()
    }
    var last = [HeadNewtonSolver<Head>.Step](repeating: .none, count: heads)
    var allowances = (0..<heads).map { solvers[$0].allowance(objectives[$0], at: thetas[$0]) }
    var refreshed = false
    var stepsTaken = 0
    var retrained = false
    var headSpent = certification.headSpent

    // One loop for both accountings. Paper: one Delta step per head, its charge added to the
    // head's running sum. Exact-step: full-gradient steps until the model's own bound (this
    // step's remainder bound plus inexactness) fits the budget, at most maximumSteps.
    // With O(d^2) steps the exact step is always a full-gradient step (Theorem 6.1): it resets
    // the running sums that the cheap steps charge.
    let paper = certification.accounting == .paper && amortisedPolicy == nil
    var candidates = thetas
    var candidatePredictors = predictors
    var candidateGradients = gradients
    var proposed = headSpent
    // Predictors computed afresh as X theta (no carried updates): the anchor of 6.10 can then be
    // measured after the step.
    let freshPredictors = solvers.map { $0.predictorUpdates == 0 }
    repeat {
      for k in 0..<heads {
        let result = try solvers[k].step(
          objectives[k], at: candidates[k], predictors: candidatePredictors[k],
          rhs: paper ? deltas[k] : candidateGradients[k].scaled(by: -1),
          spectralNorm: spectralNorm, forceRefresh: forceRefresh[k] && stepsTaken == 0,
          acceptableCharge: paper ? 0 : acceptable, charge: charge)
        last[k] = result.step
        refreshed = refreshed || result.refreshed
        candidates[k].add(result.step.step)
        candidatePredictors[k] = result.evaluation.predictors
        candidateGradients[k] = result.evaluation.gradient
        if !paper {
          allowances[k] = solvers[k].allowance(objectives[k], at: candidates[k])
        }
        let charged = charge(result.step) + result.step.inexactness + allowances[k]
        proposed[k] = paper ? headSpent[k] + charged : charged
      }
      stepsTaken += 1
    } while !paper && rootSumOfSquares(proposed) > budget
      && stepsTaken < certification.maximumSteps
    if rootSumOfSquares(proposed) <= budget {
      if amortisedPolicy != nil && stepsTaken == 1 {
        // Docs/Math.md 6.10: z' = fl(fl(X theta) + fl(X v)) is within
        // 2 gamma_{d+2} (||theta|| + ||v||) of X theta' entrywise.
        for k in 0..<heads where freshPredictors[k] {
          let u = 0x1p-53
          let terms = Double(thetas[k].count + 2)
          let gammaD = terms * u / (1 - terms * u)
          let placement = solvers[k].placement
          solvers[k].amortised?.measureAnchor(
            at: candidates[k], predictors: candidatePredictors[k],
            roundOff: 2 * gammaD * (thetas[k].norm() + last[k].step.norm()),
            weights: objectives[k].weights, placement: placement)
        }
      }
      headSpent = proposed
      thetas = candidates
      predictors = candidatePredictors
      gradients = candidateGradients
    } else {
      retrained = true
    }

    if retrained {
      let counters = solvers.map(\.statistics)
      (objectives, thetas) = try retrain(certification.perturbationDraws)
      certification.perturbationDraws += 1
      solvers = try (0..<heads).map { k throws(UnlearningError) in
        var solver = try HeadNewtonSolver(
          strategy: certification.solver, objective: objectives[k], at: thetas[k],
          placement: solvers[k].placement)
        solver.statistics = solver.statistics + counters[k]
        return solver
      }
      refreshed = true
      predictors = solvers.map(\.predictors)
      gradients = solvers.map(\.gradient)
      allowances = (0..<heads).map { solvers[$0].allowance(objectives[$0], at: thetas[$0]) }
      headSpent = (0..<heads).map { gradients[$0].norm() + allowances[$0] }
      guard rootSumOfSquares(headSpent) <= budget else {
        throw UnlearningError.trainingResidualExceedsBudget(
          residual: rootSumOfSquares(headSpent), budget: budget)
      }
      certification.retrainCount += 1
    }
    for k in 0..<heads {
      solvers[k].predictors = predictors[k]
      solvers[k].gradient = gradients[k]
      solvers[k].requestsSinceRefresh += 1
    }
    let head = objectives[0].model
    let trueResidual = rootSumOfSquares(gradients.map { $0.norm() })
    let certificate = RemovalCertificate(
      accounting: certification.accounting, bound: bound, epsilon: certification.privacy.epsilon,
      delta: certification.privacy.delta, sigma: certification.privacy.sigma, budget: budget,
      tightBound: rootSumOfSquares(last.map(\.tight)),
      guoBound: rootSumOfSquares(last.map(\.guo)),
      worstCaseBound: Double(heads).squareRoot()
        * ResidualBounds.worstCase(
          removed: rowCount, of: retainedBefore, regularization: objectives[0].regularization,
          gamma: head.curvatureLipschitzConstant, gradientBound: head.gradientNormBound),
      solveInexactness: rootSumOfSquares(last.map(\.inexactness)),
      certifiedResidual: rootSumOfSquares(headSpent), spent: rootSumOfSquares(headSpent),
      remaining: budget - rootSumOfSquares(headSpent), trueResidual: trueResidual,
      floatingPointAllowance: rootSumOfSquares(allowances), retrained: retrained,
      stepsTaken: stepsTaken, removedCount: rowCount, retainedCount: retainedBefore - rowCount,
      headCount: heads, refreshed: refreshed)
    certification.headSpent = headSpent
    certification.certificates.append(certificate)
    var notes: [String] = []
    if retrained { notes.append("the budget ran out: every head retrained with a fresh b") }
    let counters = solvers.map(\.statistics).reduce(CertifiedRemoval.WorkCounters(), +)
    return Served(
      solvers: solvers, thetas: thetas, certification: certification, certificate: certificate,
      residual: trueResidual, trainingResidual: trainingResidual, notes: notes,
      details: [
        "steps": Double(stepsTaken), "data passes": Double(counters.dataPasses),
        "refreshes": Double(counters.refreshes),
      ])
  }

  /// A request served by O(d^2) steps alone (Docs/Math.md 6.10): parameters moved by `v_k`,
  /// running sums raised by the charges, nothing measured on `X`.
  func cheapOutcome(
    _ cheap: [HeadNewtonSolver<Head>.CheapStep], proposed: [Double],
    solvers: [HeadNewtonSolver<Head>], certification: CertifiedRemoval.State
  ) -> Served {
    let heads = solvers.count
    var certification = certification
    var solvers = solvers
    for k in 0..<heads {
      solvers[k].amortised?.stale = true
      solvers[k].amortised?.cheapSteps += 1
      solvers[k].requestsSinceRefresh += 1
    }
    let budget = certification.budget
    let previousSpent = certification.spent
    let spent = rootSumOfSquares(proposed)
    let m = removed.rows
    let head = objectives[0].model
    let certificate = RemovalCertificate(
      accounting: certification.accounting, bound: certification.bound,
      epsilon: certification.privacy.epsilon, delta: certification.privacy.delta,
      sigma: certification.privacy.sigma, budget: budget,
      tightBound: rootSumOfSquares(cheap.map(\.remainder)),
      guoBound: rootSumOfSquares(cheap.map(\.guo)),
      worstCaseBound: Double(heads).squareRoot()
        * ResidualBounds.worstCase(
          removed: m, of: retainedBefore, regularization: objectives[0].regularization,
          gamma: head.curvatureLipschitzConstant, gradientBound: head.gradientNormBound),
      solveInexactness: rootSumOfSquares(cheap.map(\.inexactness)), certifiedResidual: spent,
      spent: spent, remaining: budget - spent, trueResidual: spent,
      floatingPointAllowance: rootSumOfSquares(cheap.map(\.allowance)), retrained: false,
      stepsTaken: 1, removedCount: m, retainedCount: retainedBefore - m, headCount: heads,
      refreshed: false, residualMeasured: false)
    certification.headSpent = proposed
    certification.certificates.append(certificate)
    let counters = solvers.map(\.statistics).reduce(CertifiedRemoval.WorkCounters(), +)
    // The frame would otherwise measure both residuals with passes over X: report the
    // certified upper bounds instead, and say so.
    return Served(
      solvers: solvers, thetas: (0..<heads).map { thetas[$0].adding(cheap[$0].step) },
      certification: certification, certificate: certificate, residual: spent,
      trainingResidual: previousSpent,
      notes: [
        "O(d^2) step: X was not read; the reported residuals are certified upper bounds, not measurements"
      ],
      details: [
        "steps": 1, "data passes": Double(counters.dataPasses),
        "refreshes": Double(counters.refreshes), "O(d^2) steps": 1,
      ])
  }
}

/// The per-head solver caches of a certified state (not persisted: rebuilt on first use after
/// loading, at the cost of two passes over `X` and, for the downdated strategy, one factor per
/// head). Valid only for the parameters and removal count it records.
///
/// The solvers are value types shared copy-on-write with every copy of the state: a request
/// reads them and stores its own in the next state, so a state can be removed from any number
/// of times. Between folds a request writes no `d x d` array (removed rows are a Woodbury
/// correction to the factor and a pending correction to the dense `H~` and `G_R`); a fold
/// copies the arrays it rewrites when the previous state still holds them.
struct CertifiedCache: @unchecked Sendable {
  private final class Box: @unchecked Sendable {
    let heads: Any
    init(_ heads: Any) { self.heads = heads }
  }
  private let box: Box
  var parameters: [Double]
  var removedCount: Int

  init(heads: Any, parameters: [Double], removedCount: Int) {
    box = Box(heads)
    self.parameters = parameters
    self.removedCount = removedCount
  }

  /// `[HeadNewtonSolver<Head>]` of the state's head type.
  var heads: Any? { box.heads }
}
