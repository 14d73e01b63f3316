extension TrainedModel where Model: CertifiableModel {
  /// Trains a model for certified removal: draws the secret `b ~ N(0, sigma^2 I)` from
  /// `perturbation` (the system's cryptographic generator by default), minimises
  /// `L_b(theta; D)` head by head, measures each head's residual exactly, and stores the
  /// ``CertifiedRemoval/State`` that ``CertifiedRemoval`` carries between requests.
  ///
  /// Requirements, checked first: `lambda > 0`; every row `||x_i|| <= 1` (up to `1e-12`
  /// relative, the round-off of row normalisation; e.g. ``Dataset/normalizingRows()``); heads
  /// without intercept (a constant feature breaks `||x|| <= 1`); labels `0/1` for a single head,
  /// `0..<K` for `K` heads. `||X||_2` is bounded once, exactly (`Matrix.spectralNormUpperBound()`),
  /// on the full data; deleting rows never increases it.
  ///
  /// Cost: `O(n d^2)` for `||X||_2`, `K` training runs, and for the default solver one weighted
  /// Gram and Cholesky factor per head.
  ///
  /// - Parameters:
  ///   - model: ``LogisticRegression`` (binary) or ``OneVsRest`` of logistic heads.
  ///   - data: the training rows.
  ///   - regularization: `lambda > 0` per sample (sum form scales it by the retained count).
  ///   - privacy: `(epsilon, delta, sigma)`.
  ///   - accounting: `.exactStep` (default) or `.paper`.
  ///   - bound: the charged remainder bound; `nil` picks `.guo` for paper accounting and
  ///     `.tight` for exact-step.
  ///   - solver: how Newton systems are solved (default ``NewtonSolver/default``).
  ///   - maximumSteps: exact-step accounting's step limit per request (default 4).
  ///   - trainer: the optimiser; it must reach a residual well below the budget (default
  ///     Newton to `1e-10 n`).
  ///   - perturbation: where `b` comes from (default `.system`; the seeded source is for tests
  ///     only and voids privacy).
  /// - Throws: ``UnlearningError`` (parameters, row norms, a training residual above the
  ///   budget), ``UnlearningError/invalidArgument(_:)`` (shapes).
  public static func trainCertified(
    model: Model, data: Dataset, regularization: Double, privacy: PrivacyParameters,
    accounting: CertifiedRemoval.Accounting = .exactStep, bound: RemovalCertificate.Bound? = nil,
    solver: NewtonSolver = .default, maximumSteps: Int = 4,
    trainer: some Trainer = Training.Newton(gradientTolerance: 1e-10),
    perturbation: CertifiedRemoval.PerturbationSource = .system
  ) throws -> TrainedModel {
    let norms = data.features.rowNorms()
    let offending = norms.firstIndex { !($0 <= 1 + 1e-12) }
    try CertifiedTrainingChecks.validate(
      regularization: regularization, fitsIntercept: model.head.fitsIntercept,
      modelFeatures: model.featureCount, dataFeatures: data.featureCount, rowCount: data.count,
      headCount: model.headCount, classCount: data.classCount,
      labelsAreBinary: data.labels.allSatisfy({ $0 == 0 || $0 == 1 }),
      maximumSteps: maximumSteps, solver: solver,
      largestRowNorm: offending.map { norms[$0] } ?? (norms.max() ?? 0), row: offending)
    let spectralNorm: Double
    do {
      spectralNorm = CertifiedTrainingChecks.inflated(
        spectralNorm: try data.features.spectralNormUpperBound(), rowCount: data.count,
        featureCount: data.featureCount)
    } catch {
      throw UnlearningError.invalidArgument("spectral norm of the data failed: \(error)")
    }
    let b = perturbation.drawPerturbation(
      count: model.parameterCount, sigma: privacy.sigma, draw: 0)
    var state = try TrainedModel.train(
      model: model, data: data, regularization: regularization, perturbation: b, trainer: trainer)
    state.certification = CertifiedRemoval.State(
      privacy: privacy, accounting: accounting,
      bound: bound ?? (accounting == .paper ? .guo : .tight),
      solver: solver, maximumSteps: maximumSteps, spectralNorm: spectralNorm, headSpent: [],
      retrainCount: 0, certificates: [], perturbationSource: perturbation, perturbationDraws: 1)
    let solvers = try CertifiedEngine.solvers(for: state)
    let headSpent = (0..<model.headCount).map { k in
      solvers[k].gradient.norm()
        + HeadNewtonSolver.floatingPointAllowance(
          CertifiedEngine.headObjective(
            model, data: data, weights: state.weights, regularization: regularization,
            perturbation: b, head: k),
          at: Array(state.parameters[model.headRange(k)]))
    }
    guard rootSumOfSquares(headSpent) <= privacy.budget else {
      throw UnlearningError.trainingResidualExceedsBudget(
        residual: rootSumOfSquares(headSpent), budget: privacy.budget)
    }
    state.certification?.headSpent = headSpent
    state.certifiedCache = CertifiedCache(
      heads: solvers, parameters: state.parameters, removedCount: 0)
    return state
  }

  /// Work counters of the certified solver caches (passes over `X`, refreshes, refinement
  /// iterations) since the state was trained or loaded; `nil` before the first use.
  public var removalWorkCounters: CertifiedRemoval.WorkCounters? {
    guard let solvers = certifiedCache?.heads as? [HeadNewtonSolver<Model.Head>] else {
      return nil
    }
    return solvers.map(\.statistics).reduce(CertifiedRemoval.WorkCounters(), +)
  }
}

extension TrainedModel {
  /// Minimises the retained objective head by head when the model is a multi-head
  /// ``CertifiableModel`` (its Hessian is block diagonal, so this is the same minimisation at a
  /// `K`-th of the memory); `nil` for other models.
  func trainHeadwise(trainer: some Trainer, start: [Double]?) -> Training.Result? {
    guard let certifiable = model as? any CertifiableModel, certifiable.headCount > 1 else {
      return nil
    }
    return trainHeads(certifiable, trainer: trainer, start: start)
  }

  private func trainHeads<M: CertifiableModel>(
    _ model: M, trainer: some Trainer, start: [Double]?
  ) -> Training.Result {
    let targets = data.labels.map(Double.init)
    var parameters: [Double] = []
    var results: [Training.Result] = []
    for k in 0..<model.headCount {
      let range = model.headRange(k)
      let objective = Objective(
        model: model.head, features: data.features,
        targets: model.headTargets(targets, head: k), weights: weights,
        regularization: regularization, perturbation: perturbation.map { Array($0[range]) })
      let result = trainer.train(objective, from: start.map { Array($0[range]) })
      parameters += result.parameters
      results.append(result)
    }
    return Training.Result(
      parameters: parameters, iterations: results.map(\.iterations).reduce(0, +),
      gradientNorm: rootSumOfSquares(results.map(\.gradientNorm)),
      gradientTolerance: rootSumOfSquares(results.map(\.gradientTolerance)),
      objectiveValue: results.map(\.objectiveValue).reduce(0, +),
      seconds: results.map(\.seconds).reduce(0, +),
      converged: results.allSatisfy(\.converged),
      method: (results.first?.method ?? "none") + " (per head)",
      notes: results.flatMap(\.notes))
  }
}

extension TrainedModel {
  /// Certified states: builds the per-head solver caches now (two passes over `X` and, for the
  /// default solver, one weighted Gram and Cholesky factor per head), so that the next
  /// ``CertifiedRemoval`` request costs only its own work. A no-op for other states. Call it
  /// after loading a model file; the caches are never stored.
  ///
  /// - Throws: ``UnlearningError/notPositiveDefinite(_:)`` if a Hessian cannot be factored.
  public mutating func prepareForRemoval() throws {
    guard certification != nil, let certifiable = model as? any CertifiableModel else { return }
    certifiedCache = try prepare(certifiable)
  }

  private func prepare<M: CertifiableModel>(_ model: M) throws -> CertifiedCache {
    guard let typed = self as? TrainedModel<M> else {
      throw UnlearningError.unsupported("the state's model type changed")
    }
    return CertifiedCache(
      heads: try CertifiedEngine.solvers(for: typed), parameters: parameters,
      removedCount: removedIDs.count)
  }
}

/// The requirements of certified training (Docs/Math.md section 6), shared by one process and
/// row shards (which pass facts reduced over every rank), checked in one order so both refuse
/// the same input with the same error.
package enum CertifiedTrainingChecks {
  /// Throws ``UnlearningError`` for the first violated requirement: `lambda > 0`, no intercept,
  /// matching feature counts, at least 2 rows, labels `0/1` for one head (`K` classes for `K`
  /// heads), `maximumSteps >= 1`, a valid solver, every row `||x|| <= 1` (up to `1e-12`).
  ///
  /// - Parameters:
  ///   - largestRowNorm: the largest row norm, or the first offending one.
  ///   - row: the offending row's index when known (one process), else `nil`.
  package static func validate(
    regularization: Double, fitsIntercept: Bool, modelFeatures: Int, dataFeatures: Int,
    rowCount: Int, headCount: Int, classCount: Int, labelsAreBinary: Bool, maximumSteps: Int,
    solver: NewtonSolver, largestRowNorm: Double, row: Int?
  ) throws(UnlearningError) {
    guard regularization > 0, regularization.isFinite else {
      throw .invalidArgument("certified removal requires lambda > 0, got \(regularization)")
    }
    guard !fitsIntercept else {
      throw .invalidArgument(
        "certified removal needs ||x|| <= 1; an intercept (constant feature 1) breaks it: use fitsIntercept: false"
      )
    }
    guard modelFeatures == dataFeatures else {
      throw .invalidArgument(
        "the model expects \(modelFeatures) features, the data has \(dataFeatures)")
    }
    guard rowCount >= 2 else {
      throw .invalidArgument("need at least 2 training rows, got \(rowCount)")
    }
    if headCount == 1 {
      guard labelsAreBinary else {
        throw .invalidArgument(
          "binary certified removal needs labels 0/1 (use OneVsRest for \(classCount) classes)")
      }
    } else {
      guard classCount == headCount else {
        throw .invalidArgument(
          "the model has \(headCount) heads, the data has \(classCount) classes")
      }
    }
    guard maximumSteps >= 1 else {
      throw .invalidArgument("maximumSteps must be >= 1, got \(maximumSteps)")
    }
    try solver.validate()
    guard largestRowNorm <= 1 + 1e-12 else {
      if let row { throw .rowNormTooLarge(row: row, norm: largestRowNorm) }
      throw .invalidArgument(
        "a row has norm \(largestRowNorm) > 1: certified removal requires ||x|| <= 1 (normalise the rows)"
      )
    }
  }

  /// An upper bound on `||X||_2` (`n x d`) inflated by the worst-case round-off of the Gram
  /// matrix and of the eigensolver (Docs/Math.md 6.4): times `1 + gamma_n n / ||X||^2 + 10 d u`.
  package static func inflated(spectralNorm: Double, rowCount: Int, featureCount: Int) -> Double {
    let u = 0x1p-53
    let n = Double(rowCount)
    let gammaN = n * u / (1 - n * u)
    return spectralNorm
      * (1 + gammaN * n / Swift.max(spectralNorm * spectralNorm, 1e-300)
        + 10 * Double(featureCount) * u)
  }
}
