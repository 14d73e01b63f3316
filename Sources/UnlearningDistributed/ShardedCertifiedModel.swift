import Foundation
import LinearAlgebra
import Unlearning

/// What one distributed certified removal request did (identical on every rank).
public struct ShardedRemovalResult: Sendable {
  /// The report, in the single-process ``RemovalReport`` form (method `"certified"`).
  public var report: RemovalReport
  /// Bytes this rank contributed to collectives during the request (payloads, counted once
  /// per collective call; the transport's own traffic is not included; 0 on one rank).
  public var bytesCommunicated: Int
}

/// A certified binary model (one ``CertifiableHead``, e.g. ``LogisticRegression`` without
/// intercept) trained on row-sharded data: the distributed counterpart of
/// ``TrainedModel/trainCertified(model:data:regularization:privacy:accounting:bound:solver:maximumSteps:trainer:perturbation:)``
/// followed by ``CertifiedRemoval`` requests.
///
/// Layout: each rank holds its shard's rows, their weights and predictors (`O(n_k d)`);
/// every rank holds the same `d`-sized state: `theta`, `b`, the gradient, the `d x d` Cholesky
/// factor and the ``CertifiedRemoval/State`` (bitwise identical on every rank). The methods are
/// collective: every rank calls them in the same order with the same arguments.
///
/// Same answers as one process: training runs the single-process ``Training/Newton`` on a
/// ``ShardedModel``; removal follows the single-process solver's control flow step for step
/// (strategy, refinement, refresh, retrain rules), so parameters and certificates agree with
/// ``CertifiedRemoval`` up to round-off and the decisions (steps taken, refreshes, retrains,
/// certified or not) are the same. Per request (default solver, `m` ids):
/// - the owners of the ids supply their rows: one all-gather of `m (d + 4)` doubles;
/// - replicated: the removal's gradient change, `m` rank-1 factor downdates (`O(m d^2)`), one
///   `O(d^2)` solve;
/// - one local fused pass over the shard and ONE all-reduce of `2d + 2` doubles per step.
public struct ShardedCertifiedModel<Head: CertifiableHead>: Sendable {
  /// The head model.
  public let model: Head
  /// This rank's rows and the global facts.
  public let data: ShardedData
  /// `lambda`.
  public let regularization: Double
  /// `theta` (replicated).
  public private(set) var parameters: [Double]
  /// The secret `b` (replicated; drawn on rank 0 and broadcast).
  public private(set) var perturbation: [Double]
  /// The certification state (replicated).
  public private(set) var certification: CertifiedRemoval.State
  /// Removed ids, in removal order (replicated).
  public private(set) var removedIDs: [SampleID]
  /// The last (re)training run.
  public private(set) var training: Training.Result
  /// This rank's row weights (0 = removed).
  public private(set) var weights: [Double]
  /// The optimiser of budget-triggered retrains.
  public let trainer: any Trainer
  var solver: ShardedHeadSolver<Head>

  /// `n_R`, the global retained count.
  public var retainedCount: Int { data.globalCount - removedIDs.count }

  var head: ShardHead<Head> {
    ShardHead(
      model: model, features: data.local.features, targets: data.local.targets,
      weights: weights, regularization: regularization, perturbation: perturbation,
      effectiveCount: Double(retainedCount), globalRows: data.globalCount,
      communicator: data.communicator)
  }

  /// Trains for certified removal on every rank's rows (collective): the checks of the
  /// single-process training, `||X||_2` from the all-reduced Gram, `b` drawn on rank 0 from
  /// `perturbation` and broadcast, Newton training on the all-reduced gradient and Hessian,
  /// the exact training residual and the solver cache (one more all-reduced Gram and factor).
  ///
  /// Cost: `O(n_k d^2)` local work for each Gram, `O(d^3)` replicated, a few all-reduces of
  /// `d^2` doubles, and the training run's (an all-reduce of `d + 1` doubles per gradient).
  ///
  /// - Parameters: as the single-process method; `model` must be binary without intercept.
  /// - Throws: ``UnlearningError`` (parameters, row norms, a training residual above the
  ///   budget), ``DistributedError``.
  public static func trainCertified(
    model: Head, data: ShardedData, regularization: Double, privacy: PrivacyParameters,
    accounting: CertifiedRemoval.Accounting = .exactStep, bound: RemovalCertificate.Bound? = nil,
    solver: NewtonSolver = .default, maximumSteps: Int = 4,
    trainer: some Trainer = Training.Newton(gradientTolerance: 1e-10),
    perturbation: CertifiedRemoval.PerturbationSource = .system
  ) throws -> ShardedCertifiedModel {
    guard regularization > 0, regularization.isFinite else {
      throw UnlearningError.invalidArgument(
        "certified removal requires lambda > 0, got \(regularization)")
    }
    guard !model.fitsIntercept else {
      throw UnlearningError.invalidArgument(
        "certified removal needs ||x|| <= 1; an intercept (constant feature 1) breaks it: use fitsIntercept: false"
      )
    }
    guard model.featureCount == data.featureCount else {
      throw UnlearningError.invalidArgument(
        "the model expects \(model.featureCount) features, the data has \(data.featureCount)")
    }
    guard data.globalCount >= 2 else {
      throw UnlearningError.invalidArgument(
        "need at least 2 training rows, got \(data.globalCount)")
    }
    let communicator = data.communicator
    let badLabels = try mpi { () throws(MPIError) in
      try communicator.allReduceSum(data.local.labels.filter { $0 != 0 && $0 != 1 }.count)
    }
    guard badLabels == 0 else {
      throw UnlearningError.invalidArgument(
        "binary certified removal needs labels 0/1 (use OneVsRest for \(data.local.classCount) classes)"
      )
    }
    guard maximumSteps >= 1 else {
      throw UnlearningError.invalidArgument("maximumSteps must be >= 1, got \(maximumSteps)")
    }
    try solver.validate()
    try refuseAmortisedSteps(solver)
    let largestNorm = try mpi { () throws(MPIError) in
      try communicator.allReduceMax(data.local.features.rowNorms().max() ?? 0)
    }
    guard largestNorm <= 1 + 1e-12 else {
      throw UnlearningError.invalidArgument(
        "a row has norm \(largestNorm) > 1: certified removal requires ||x|| <= 1 (normalise the rows)"
      )
    }
    var spectralNorm = try data.spectralNormUpperBound()
    let u = 0x1p-53
    let n = Double(data.globalCount)
    let gammaN = n * u / (1 - n * u)
    spectralNorm *=
      1 + gammaN * n / Swift.max(spectralNorm * spectralNorm, 1e-300)
      + 10 * Double(data.featureCount) * u
    let b = try drawPerturbation(
      perturbation, count: model.parameterCount, sigma: privacy.sigma, draw: 0,
      communicator: communicator)
    let weights = [Double](repeating: 1, count: data.local.count)
    let training = try data.train(
      model: model, regularization: regularization, weights: weights, perturbation: b,
      trainer: trainer)
    let certification: CertifiedRemoval.State = try decodeThroughJSON(
      CertificationFields(
        privacy: privacy, accounting: accounting,
        bound: bound ?? (accounting == .paper ? .guo : .tight), solver: solver,
        maximumSteps: maximumSteps, spectralNorm: spectralNorm, headSpent: [], retrainCount: 0,
        certificates: [], perturbationSource: perturbation, perturbationDraws: 1))
    var state = try ShardedCertifiedModel(
      model: model, data: data, regularization: regularization,
      parameters: training.parameters, perturbation: b, certification: certification,
      removedIDs: [], training: training, trainer: trainer)
    let spent = [
      state.solver.gradient.norm() + state.head.floatingPointAllowance(at: state.parameters)
    ]
    guard rootSumOfSquares(spent) <= privacy.budget else {
      throw UnlearningError.trainingResidualExceedsBudget(
        residual: rootSumOfSquares(spent), budget: privacy.budget)
    }
    state.certification.headSpent = spent
    return state
  }

  /// Rebuilds a trained state on sharded data (collective), e.g. from a model file, and
  /// prepares the solver cache (two local passes, and for the default solver one all-reduced
  /// weighted Gram and factor): the counterpart of ``TrainedModel/prepareForRemoval()``.
  ///
  /// - Parameters:
  ///   - removedIDs: ids already removed, in removal order (each must be in the data).
  /// - Throws: ``DistributedError/invalidArgument(_:)`` for a removed id no rank holds or
  ///   shapes that do not fit, ``DistributedError``.
  public init(
    model: Head, data: ShardedData, regularization: Double, parameters: [Double],
    perturbation: [Double], certification: CertifiedRemoval.State, removedIDs: [SampleID],
    training: Training.Result, trainer: any Trainer = Training.Newton(gradientTolerance: 1e-10)
  ) throws(DistributedError) {
    guard parameters.count == model.parameterCount, perturbation.count == model.parameterCount
    else {
      throw .invalidArgument(
        "\(parameters.count) parameters and \(perturbation.count) perturbation entries for a model of \(model.parameterCount)"
      )
    }
    guard model.featureCount == data.featureCount else {
      throw .invalidArgument(
        "the model expects \(model.featureCount) features, the data has \(data.featureCount)")
    }
    try Self.refuseAmortisedSteps(certification.solver)
    var weights = [Double](repeating: 1, count: data.local.count)
    let held = data.localRows(of: removedIDs)
    for (_, row) in held { weights[row] = 0 }
    let found = try mpi { () throws(MPIError) in
      try data.communicator.allReduceSum(held.count)
    }
    guard found == removedIDs.count, Set(removedIDs).count == removedIDs.count else {
      throw .invalidArgument(
        "the removed ids are not \(removedIDs.count) distinct ids of the training data (found \(found))"
      )
    }
    self.model = model
    self.data = data
    self.regularization = regularization
    self.parameters = parameters
    self.perturbation = perturbation
    self.certification = certification
    self.removedIDs = removedIDs
    self.training = training
    self.weights = weights
    self.trainer = trainer
    let head = ShardHead(
      model: model, features: data.local.features, targets: data.local.targets,
      weights: weights, regularization: regularization, perturbation: perturbation,
      effectiveCount: Double(data.globalCount - removedIDs.count), globalRows: data.globalCount,
      communicator: data.communicator)
    solver = try ShardedHeadSolver(strategy: certification.solver, head: head, at: parameters)
  }

  /// The sharded solver takes exact steps only: a solver with the `O(d^2)` amortised steps of
  /// Docs/Math.md section 6.10 is refused (on every rank alike) rather than silently served
  /// with different steps and certificates than one process would give.
  static func refuseAmortisedSteps(_ solver: NewtonSolver) throws(DistributedError) {
    if case .downdatedFactor(let policy) = solver, policy.amortisedSteps != nil {
      throw .unsupported(
        "the amortised O(d^2) steps (Docs/Math.md 6.10) are not distributed: use the downdated-factor, cholesky or cg solver"
      )
    }
  }

  /// `b` from `source`, drawn on rank 0 only and broadcast (the system CSPRNG is never
  /// consulted on other ranks).
  static func drawPerturbation(
    _ source: CertifiedRemoval.PerturbationSource, count: Int, sigma: Double, draw: Int,
    communicator: Communicator
  ) throws(DistributedError) -> [Double] {
    let mine =
      communicator.isRoot ? source.drawPerturbation(count: count, sigma: sigma, draw: draw) : []
    return try mpi { () throws(MPIError) in try communicator.broadcastVector(mine, root: 0) }
  }

  /// `||grad L_b(theta; R)||` recomputed from the data (sum form): one pass and one
  /// all-reduce of `d + 1` doubles. Audits compare it with the certificate.
  public func gradientResidualNorm() throws(DistributedError) -> Double {
    let objective = try data.objective(
      model: model, regularization: regularization, weights: weights, perturbation: perturbation)
    let norm = objective.gradientNorm(at: parameters)
    try objective.model.failure.rethrow()
    return norm
  }

  /// Work counters of the solver cache since training or loading.
  public var removalWorkCounters: CertifiedRemoval.WorkCounters { solver.statistics }

  /// Removes `ids` and certifies the result (collective; see the type's cost summary).
  ///
  /// - Throws: ``UnlearningError`` exactly as ``CertifiedRemoval`` (unknown, duplicate or
  ///   already-removed id, naming the first; nothing left), on every rank;
  ///   ``UnlearningError/trainingResidualExceedsBudget(residual:budget:)``;
  ///   ``DistributedError``. On error the state is unchanged.
  @discardableResult
  public mutating func remove(_ ids: [SampleID]) throws -> ShardedRemovalResult {
    let (next, result) = try removing(ids)
    self = next
    return result
  }

  /// The owners' rows of a request, in request order, after the single-process checks.
  func suppliedRows(_ ids: [SampleID]) throws -> (rows: [SuppliedRow], local: [Int], bytes: Int) {
    let d = data.featureCount
    var payload: [Double] = []
    let held = data.localRows(of: ids)
    payload.reserveCapacity(held.count * (d + 4))
    for (request, row) in held {
      payload.append(Double(request))
      payload.append(weights[row] == 0 ? 1 : 0)
      payload.append(data.local.targets[row])
      payload.append(solver.factorCurvature.isEmpty ? 0 : solver.factorCurvature[row])
      payload.append(contentsOf: data.local.features.row(row))
    }
    let all = try mpi { () throws(MPIError) in try data.communicator.allGather(payload) }
    var supplied = [SuppliedRow?](repeating: nil, count: ids.count)
    var removed = [Bool](repeating: false, count: ids.count)
    var owners = [Int](repeating: 0, count: ids.count)
    for part in all {
      var offset = 0
      while offset < part.count {
        let k = Int(part[offset])
        owners[k] += 1
        removed[k] = part[offset + 1] != 0
        supplied[k] = SuppliedRow(
          features: Array(part[(offset + 4)..<(offset + 4 + d)]), target: part[offset + 2],
          factorCurvature: part[offset + 3])
        offset += d + 4
      }
    }
    var seen = Set<SampleID>()
    var rows: [SuppliedRow] = []
    for (k, id) in ids.enumerated() {
      guard owners[k] > 0, let row = supplied[k] else { throw UnlearningError.unknownID(id) }
      guard owners[k] == 1 else { throw DistributedError.idOnSeveralRanks(id) }
      guard seen.insert(id).inserted else { throw UnlearningError.duplicateID(id) }
      guard !removed[k] else { throw UnlearningError.alreadyForgotten(id) }
      rows.append(row)
    }
    if !rows.isEmpty && rows.count >= retainedCount { throw UnlearningError.nothingLeft }
    let bytes = 8 * payload.count + 4
    return (rows, held.map(\.row), bytes)
  }

  /// ``remove(_:)`` without mutating: the next state and the result.
  public func removing(_ ids: [SampleID]) throws -> (ShardedCertifiedModel, ShardedRemovalResult) {
    let start = DispatchTime.now().uptimeNanoseconds
    let (rows, localRows, gatherBytes) = try suppliedRows(ids)
    let d = data.featureCount
    var bytes = gatherBytes
    if rows.isEmpty {
      let residual = solver.gradient.norm()
      return (
        self,
        ShardedRemovalResult(
          report: RemovalReport(
            method: "certified", forgottenCount: 0, seconds: 0, gradientResidualNorm: residual,
            trainingResidualNorm: residual, notes: ["empty request: nothing changed"]),
          bytesCommunicated: bytes)
      )
    }
    var next = self
    var certification = self.certification
    var b = perturbation
    let budget = certification.budget
    let spectralNorm = certification.spectralNorm
    var solver = self.solver
    let trainingResidual = rootSumOfSquares([solver.gradient.norm()])
    for row in localRows { next.weights[row] = 0 }
    next.removedIDs += ids
    var head = next.head
    var theta = parameters

    solver.refreshPredictorsIfDue(features: head.features, at: theta)
    // The removed rows' gradient at theta plus their share of the regulariser (replicated,
    // from the supplied rows: the single-process delta of Newton removal).
    let forget = Matrix(rowArrays: rows.map(\.features))
    var delta = model.lossAndGradient(
      theta, features: forget, targets: rows.map(\.target), weights: nil
    ).gradient
    delta.add(theta, scaledBy: Double(rows.count) * regularization)
    var gradient = solver.gradient.subtracting(delta)
    var predictors = solver.predictors
    let downdated = solver.downdate(rows)
    var due = false
    if case .downdatedFactor(let policy) = certification.solver {
      due = solver.requestsSinceRefresh >= policy.refreshInterval
    }
    let forceRefresh = !downdated || due
    let bound = certification.bound
    let charge: (ShardedHeadSolver<Head>.Step) -> Double = { step in
      bound == .guo ? step.guo : step.tight
    }
    var acceptable = 0.0
    if certification.accounting == .exactStep,
      case .downdatedFactor(let policy) = certification.solver
    {
      acceptable = policy.budgetFraction * budget / Double(1).squareRoot()
    }
    var last = ShardedHeadSolver<Head>.Step.none
    var allowance = head.floatingPointAllowance(at: theta)
    var refreshed = false
    var stepsTaken = 0
    var retrained = false
    var headSpent = certification.headSpent

    let paper = certification.accounting == .paper
    var candidate = theta
    var candidatePredictors = predictors
    var candidateGradient = gradient
    var proposed = headSpent
    let passesBefore = solver.statistics.dataPasses
    let refreshesBefore = solver.statistics.refreshes
    repeat {
      let result = try solver.step(
        head, at: candidate, predictors: candidatePredictors,
        rhs: paper ? delta : candidateGradient.scaled(by: -1), spectralNorm: spectralNorm,
        forceRefresh: forceRefresh && stepsTaken == 0,
        acceptableCharge: paper ? 0 : acceptable, charge: charge)
      last = result.step
      refreshed = refreshed || result.refreshed
      candidate.add(result.step.step)
      candidatePredictors = result.evaluation.predictors
      candidateGradient = result.evaluation.gradient
      if !paper { allowance = head.floatingPointAllowance(at: candidate) }
      let charged = charge(result.step) + result.step.inexactness + allowance
      proposed[0] = paper ? headSpent[0] + charged : charged
      stepsTaken += 1
    } while !paper && rootSumOfSquares(proposed) > budget
      && stepsTaken < certification.maximumSteps
    let passes = solver.statistics.dataPasses - passesBefore
    let refreshes = solver.statistics.refreshes - refreshesBefore
    // One all-reduce of 2d + 2 per evaluation, of d per CG product, of d^2 per refresh.
    bytes += 8 * (passes * (2 * d + 2) + refreshes * d * d)
    if rootSumOfSquares(proposed) <= budget {
      headSpent = proposed
      theta = candidate
      predictors = candidatePredictors
      gradient = candidateGradient
    } else {
      retrained = true
    }

    if retrained {
      let counters = solver.statistics
      b = try Self.drawPerturbation(
        certification.perturbationSource, count: model.parameterCount,
        sigma: certification.privacy.sigma, draw: certification.perturbationDraws,
        communicator: data.communicator)
      certification.perturbationDraws += 1
      head.perturbation = b
      next.perturbation = b
      let result = try data.train(
        model: model, regularization: regularization, weights: next.weights, perturbation: b,
        trainer: trainer)
      next.training = result
      theta = result.parameters
      solver = try ShardedHeadSolver(strategy: certification.solver, head: head, at: theta)
      solver.statistics.dataPasses += counters.dataPasses
      solver.statistics.refreshes += counters.refreshes
      solver.statistics.refinementIterations += counters.refinementIterations
      refreshed = true
      predictors = solver.predictors
      gradient = solver.gradient
      allowance = head.floatingPointAllowance(at: theta)
      headSpent = [gradient.norm() + allowance]
      guard rootSumOfSquares(headSpent) <= budget else {
        throw UnlearningError.trainingResidualExceedsBudget(
          residual: rootSumOfSquares(headSpent), budget: budget)
      }
      certification.retrainCount += 1
    }
    next.parameters = theta
    solver.predictors = predictors
    solver.gradient = gradient
    solver.requestsSinceRefresh += 1
    let m = rows.count
    let before = retainedCount
    let trueResidual = rootSumOfSquares([gradient.norm()])
    let certificate = try makeCertificate(
      CertificateFields(
        accounting: certification.accounting, bound: bound,
        epsilon: certification.privacy.epsilon, delta: certification.privacy.delta,
        sigma: certification.privacy.sigma, budget: budget,
        tightBound: rootSumOfSquares([last.tight]), guoBound: rootSumOfSquares([last.guo]),
        worstCaseBound: Double(1).squareRoot()
          * ResidualBounds.worstCase(
            removed: m, of: before, regularization: regularization,
            gamma: model.curvatureLipschitzConstant, gradientBound: model.gradientNormBound),
        solveInexactness: rootSumOfSquares([last.inexactness]),
        certifiedResidual: rootSumOfSquares(headSpent), spent: rootSumOfSquares(headSpent),
        remaining: budget - rootSumOfSquares(headSpent), trueResidual: trueResidual,
        floatingPointAllowance: rootSumOfSquares([allowance]), retrained: retrained,
        stepsTaken: stepsTaken, removedCount: m, retainedCount: before - m, headCount: 1,
        refreshed: refreshed))
    certification.headSpent = headSpent
    certification.certificates.append(certificate)
    next.certification = certification
    next.solver = solver
    var notes: [String] = []
    if retrained { notes.append("the budget ran out: every head retrained with a fresh b") }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    let report = RemovalReport(
      method: "certified", forgottenCount: m, seconds: seconds,
      gradientResidualNorm: trueResidual, trainingResidualNorm: trainingResidual, notes: notes,
      details: [
        "steps": Double(stepsTaken), "data passes": Double(solver.statistics.dataPasses),
        "refreshes": Double(solver.statistics.refreshes),
      ],
      certificate: certificate)
    return (
      next,
      ShardedRemovalResult(
        report: report, bytesCommunicated: data.communicator.size > 1 ? bytes : 0)
    )
  }
}

/// The fields of a ``CertifiedRemoval/State`` under its JSON keys (its memberwise initializer is
/// internal to `Unlearning`; its decoder is the public way in).
struct CertificationFields: Encodable {
  var privacy: PrivacyParameters
  var accounting: CertifiedRemoval.Accounting
  var bound: RemovalCertificate.Bound
  var solver: NewtonSolver
  var maximumSteps: Int
  var spectralNorm: Double
  var headSpent: [Double]
  var retrainCount: Int
  var certificates: [RemovalCertificate]
  var perturbationSource: CertifiedRemoval.PerturbationSource
  var perturbationDraws: Int
}

/// Decodes `T` from the JSON of `fields` (doubles round-trip exactly).
func decodeThroughJSON<T: Decodable>(_ fields: some Encodable) throws -> T {
  let encoder = JSONEncoder()
  encoder.nonConformingFloatEncodingStrategy = .convertToString(
    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  let decoder = JSONDecoder()
  decoder.nonConformingFloatDecodingStrategy = .convertFromString(
    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  return try decoder.decode(T.self, from: encoder.encode(fields))
}

/// The fields of a ``RemovalCertificate``, encoded with its JSON keys (the certificate's
/// initializer is internal to `Unlearning`; its decoder is the public way in).
struct CertificateFields: Encodable {
  var accounting: CertifiedRemoval.Accounting
  var bound: RemovalCertificate.Bound
  var epsilon: Double
  var delta: Double
  var sigma: Double
  var budget: Double
  var tightBound: Double
  var guoBound: Double
  var worstCaseBound: Double
  var solveInexactness: Double
  var certifiedResidual: Double
  var spent: Double
  var remaining: Double
  var trueResidual: Double
  var floatingPointAllowance: Double
  var retrained: Bool
  var stepsTaken: Int
  var removedCount: Int
  var retainedCount: Int
  var headCount: Int
  var refreshed: Bool
}

func makeCertificate(_ fields: CertificateFields) throws -> RemovalCertificate {
  try decodeThroughJSON(fields)
}
