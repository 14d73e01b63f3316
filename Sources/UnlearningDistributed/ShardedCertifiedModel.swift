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
/// ``ShardedModel``; removal runs the single-process certified Newton engine itself, with the
/// rows placed on the ranks (sums over rows completed by replicated all-reduces, removed rows
/// supplied by their owners), so parameters and certificates agree with ``CertifiedRemoval``
/// up to round-off and the decisions (`O(d^2)` steps, steps taken, refreshes, retrains,
/// certified or not) are the same. Every solver is served, the amortised `O(d^2)` steps of
/// Docs/Math.md 6.10 included. Per request (default solver, `m` ids):
/// - the owners of the ids supply their rows: one all-gather of `m (d + 4)` doubles;
/// - replicated: the removal's gradient change, `m` rank-1 factor downdates (`O(m d^2)`), one
///   `O(d^2)` solve;
/// - one local fused pass over the shard and ONE all-reduce of `2d + 2` doubles per step
///   (none for an `O(d^2)` step).
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
  /// The certified Newton engine's cache, its rows placed on the ranks.
  var solver: HeadNewtonSolver<Head>
  /// The engine's collectives: bytes sent and the first MPI failure.
  let ledger: CollectiveLedger

  /// `n_R`, the global retained count.
  public var retainedCount: Int { data.globalCount - removedIDs.count }

  /// This rank's rows of the retained objective, with the global `n_R` (so `lambda n_R` is
  /// global) and the replicated `b`.
  static func objective(
    model: Head, data: ShardedData, weights: [Double], regularization: Double,
    perturbation: [Double], removedCount: Int
  ) -> Objective<Head> {
    var objective = Objective(
      model: model, features: data.local.features, targets: data.local.targets,
      weights: weights, regularization: regularization, perturbation: perturbation)
    objective.effectiveCount = Double(data.globalCount - removedCount)
    return objective
  }

  /// ``objective(model:data:weights:regularization:perturbation:removedCount:)`` of this state.
  var objective: Objective<Head> {
    Self.objective(
      model: model, data: data, weights: weights, regularization: regularization,
      perturbation: perturbation, removedCount: removedIDs.count)
  }

  /// Where the engine's rows live: this rank's shard, sums completed by replicated all-reduces
  /// (``Communicator/allReduceSum(_:)-([Double])``), so every rank takes the same decisions.
  /// A failed collective is recorded in the ledger, poisons the sum with NaN and skips later
  /// collectives; callers rethrow it after the engine returns.
  static func placement(_ data: ShardedData, ledger: CollectiveLedger) -> RowPlacement {
    let communicator = data.communicator
    return RowPlacement(
      rowCount: data.globalCount,
      sum: { values in
        let summed = ledger.collective(words: values.count) { () throws(MPIError) in
          try communicator.allReduceSum(&values)
        }
        if !summed { values = [Double](repeating: .nan, count: values.count) }
      },
      sumMatrix: { matrix in
        let summed = ledger.collective(words: matrix.rows * matrix.columns) {
          () throws(MPIError) in try communicator.allReduceSum(&matrix)
        }
        if !summed { matrix = Matrix(rows: matrix.rows, columns: matrix.columns, repeating: .nan) }
      },
      maximum: { value in
        var reduced = value
        let done = ledger.collective(words: 1) { () throws(MPIError) in
          reduced = try communicator.allReduceMax(value)
        }
        value = done ? reduced : .nan
      })
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
    // The facts every rank needs, reduced first (collectives), then the single-process checks.
    let communicator = data.communicator
    let badLabels = try mpi { () throws(MPIError) in
      try communicator.allReduceSum(data.local.labels.filter { $0 != 0 && $0 != 1 }.count)
    }
    let largestNorm = try mpi { () throws(MPIError) in
      try communicator.allReduceMax(data.local.features.rowNorms().max() ?? 0)
    }
    try CertifiedTrainingChecks.validate(
      regularization: regularization, fitsIntercept: model.fitsIntercept,
      modelFeatures: model.featureCount, dataFeatures: data.featureCount,
      rowCount: data.globalCount, headCount: 1, classCount: data.local.classCount,
      labelsAreBinary: badLabels == 0, maximumSteps: maximumSteps, solver: solver,
      largestRowNorm: largestNorm, row: nil)
    let spectralNorm = CertifiedTrainingChecks.inflated(
      spectralNorm: try data.spectralNormUpperBound(), rowCount: data.globalCount,
      featureCount: data.featureCount)
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
      state.solver.gradient.norm() + state.solver.allowance(state.objective, at: state.parameters)
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
    let ledger = CollectiveLedger()
    self.ledger = ledger
    let objective = Self.objective(
      model: model, data: data, weights: weights, regularization: regularization,
      perturbation: perturbation, removedCount: removedIDs.count)
    do {
      solver = try HeadNewtonSolver(
        strategy: certification.solver, objective: objective, at: parameters,
        placement: Self.placement(data, ledger: ledger))
    } catch {
      try ledger.failure.rethrow()
      throw .notPositiveDefinite("the retained Hessian could not be factored: \(error)")
    }
    try ledger.failure.rethrow()
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
    let curvature = solver.factorCurvature(ofRows: held.map(\.row))
    payload.reserveCapacity(held.count * (d + 4))
    for (k, (request, row)) in held.enumerated() {
      payload.append(Double(request))
      payload.append(weights[row] == 0 ? 1 : 0)
      payload.append(data.local.targets[row])
      payload.append(curvature[k])
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
    if rows.isEmpty {
      let residual = try gradientResidualNorm()
      return (
        self,
        ShardedRemovalResult(
          report: RemovalReport(
            method: "certified", forgottenCount: 0, seconds: 0, gradientResidualNorm: residual,
            trainingResidualNorm: residual, notes: ["empty request: nothing changed"]),
          bytesCommunicated: data.communicator.size > 1 ? gatherBytes : 0)
      )
    }
    var next = self
    for row in localRows { next.weights[row] = 0 }
    next.removedIDs += ids
    let bytesBefore = ledger.bytes
    // The single-process engine on this rank's rows, with the owners' rows supplied.
    let request = CertifiedRequest(
      solvers: [solver], objectives: [next.objective], thetas: [parameters],
      removed: Matrix(rowArrays: rows.map(\.features)), removedTargets: [rows.map(\.target)],
      removedCurvature: [rows.map(\.factorCurvature)], retainedBefore: retainedCount)
    let served: CertifiedRequest<Head>.Served
    do {
      served = try request.serve(certification: certification) { draw in
        let b = try Self.drawPerturbation(
          certification.perturbationSource, count: model.parameterCount,
          sigma: certification.privacy.sigma, draw: draw, communicator: data.communicator)
        next.perturbation = b
        next.training = try data.train(
          model: model, regularization: regularization, weights: next.weights, perturbation: b,
          trainer: trainer)
        return ([next.objective], [next.training.parameters])
      }
    } catch {
      try ledger.failure.rethrow()
      throw error
    }
    try ledger.failure.rethrow()
    next.parameters = served.thetas[0]
    next.certification = served.certification
    next.solver = served.solvers[0]
    let trainingResidual = try served.trainingResidual ?? gradientResidualNorm()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    let report = RemovalReport(
      method: "certified", forgottenCount: rows.count, seconds: seconds,
      gradientResidualNorm: served.residual, trainingResidualNorm: trainingResidual,
      notes: served.notes, details: served.details, certificate: served.certificate)
    let bytes = gatherBytes + ledger.bytes - bytesBefore
    return (
      next,
      ShardedRemovalResult(
        report: report, bytesCommunicated: data.communicator.size > 1 ? bytes : 0)
    )
  }
}

/// A removed row as its owner supplies it to every rank.
struct SuppliedRow: Sendable {
  /// `x_j` (`d`).
  var features: [Double]
  /// `y_j`.
  var target: Double
  /// `loss''(z0_j)` at the factor's parameters (0 without a factor).
  var factorCurvature: Double
}

/// The collectives of the certified engine on one rank: payload bytes sent, and the first
/// failure (after which the engine's sums are NaN and no further collective is attempted).
final class CollectiveLedger: @unchecked Sendable {
  let failure = CollectiveFailure()
  private let lock = NSLock()
  private var sent = 0

  /// Payload bytes of the collectives so far.
  var bytes: Int { lock.withLock { sent } }

  /// Runs `body` (a collective of `words` doubles) unless an earlier one failed, and records
  /// its failure. Returns whether the collective completed (else the caller poisons its result).
  func collective(words: Int, _ body: () throws(MPIError) -> Void) -> Bool {
    guard failure.error == nil else { return false }
    do throws(MPIError) {
      try body()
      lock.withLock { sent += 8 * words }
      return true
    } catch {
      failure.record(error)
      return false
    }
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
