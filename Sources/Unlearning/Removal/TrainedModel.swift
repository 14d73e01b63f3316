/// A trained model plus everything removal needs: the model, its parameters, the **full**
/// training data, which ids have been removed, the regulariser and the (secret) loss
/// perturbation.
///
/// Removed rows are not copied out: they carry weight 0 in ``weights`` (1 for retained rows), so
/// the retained objective
///
///     L_b(theta; R) = sum_i w_i loss_i(theta) + (lambda / 2) n_R ||theta||^2 + b^T theta,
///     n_R = sum_i w_i = retainedCount,
///
/// is ``objective()`` with no `n x d` copy (Docs/Math.md section 1; the regulariser rescales with
/// the retained count automatically). A value type: an unlearner returns a new state and leaves its
/// input untouched.
public struct TrainedModel<Model: TwiceDifferentiableModel>: Sendable {
  /// The model (architecture and loss).
  public var model: Model
  /// The current parameters `theta` (length `model.parameterCount`).
  public var parameters: [Double]
  /// Every training row ever seen, removed ones included.
  public var data: Dataset
  /// The ids removed so far.
  public var removedIDs: Set<SampleID>
  /// Per-row weights, 1 retained and 0 removed (derived from ``removedIDs``, kept in sync by
  /// every method of this library).
  public var weights: [Double]
  /// `lambda > 0`, the L2 strength per retained sample (sum form scales it by
  /// ``retainedCount``; mean form uses it as is).
  public var regularization: Double
  /// The loss perturbation `b` (secret) of a certified model, or `nil`.
  public var perturbation: [Double]?
  /// Summary of the last (re)training.
  public var training: Training.Result
  /// The certified-removal state (privacy parameters, accounting, budget spent, certificates)
  /// of a model trained by ``trainCertified(model:data:regularization:privacy:accounting:bound:solver:maximumSteps:trainer:perturbation:)``;
  /// `nil` otherwise.
  public var certification: CertifiedRemoval.State?
  /// Certified removal's per-head solver caches (rebuilt when they do not match the state).
  var certifiedCache: CertifiedCache?

  /// Creates a state from its parts; ``weights`` are derived from `removedIDs` (ids not in
  /// `data` are ignored by the weights).
  ///
  /// - Parameters:
  ///   - model: the model.
  ///   - parameters: `theta`, length `model.parameterCount` (a precondition).
  ///   - data: all training rows.
  ///   - removedIDs: ids already removed.
  ///   - regularization: `lambda`.
  ///   - perturbation: `b` or `nil`.
  ///   - training: the training summary.
  ///   - certification: the certified-removal state, or `nil`.
  public init(
    model: Model, parameters: [Double], data: Dataset, removedIDs: Set<SampleID> = [],
    regularization: Double, perturbation: [Double]? = nil, training: Training.Result,
    certification: CertifiedRemoval.State? = nil
  ) {
    precondition(
      parameters.count == model.parameterCount,
      "TrainedModel: \(parameters.count) parameters, expected \(model.parameterCount)")
    self.model = model
    self.parameters = parameters
    self.data = data
    self.removedIDs = removedIDs
    var weights = [Double](repeating: 1, count: data.count)
    for id in removedIDs { if let row = data.rowIndex(of: id) { weights[row] = 0 } }
    self.weights = weights
    self.regularization = regularization
    self.perturbation = perturbation
    self.training = training
    self.certification = certification
  }

  /// `n_R`, the number of retained rows. `O(n)`.
  public var retainedCount: Int { weights.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

  /// The sum-form objective over the retained rows (``weights``), with `b`. `O(n)` to build
  /// (the targets are converted; the features are shared, not copied).
  public func objective() -> Objective<Model> {
    Objective(
      model: model, features: data.features, targets: data.targets, weights: weights,
      regularization: regularization, perturbation: perturbation)
  }

  /// `||grad L_b(theta; R)||`, sum form, `b` included: the gradient residual every report and
  /// certificate quotes. Cost: one gradient evaluation, `O(n p)`.
  public func gradientResidualNorm() -> Double { objective().gradientNorm(at: parameters) }

  /// Trains from scratch on all of `data` and returns the state.
  ///
  /// Minimises `L_b(theta; D)` (sum form) with `trainer` from `start` (default: the model's
  /// ``TwiceDifferentiableModel/initialParameters(seed:)``). A run that does not reach its
  /// tolerance is returned with `training.converged == false` (never silently).
  ///
  /// - Parameters:
  ///   - model: the model; its `featureCount` must equal `data.featureCount`.
  ///   - data: the training rows.
  ///   - regularization: `lambda > 0`.
  ///   - perturbation: `b` (length `p`) for a certified model, or `nil`.
  ///   - trainer: the optimiser (e.g. ``Training/Newton`` for convex models).
  ///   - start: starting parameters (length `p`), or `nil`.
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` for an empty data set, `lambda <= 0`, or
  ///   mismatched shapes.
  public static func train(
    model: Model, data: Dataset, regularization: Double, perturbation: [Double]? = nil,
    trainer: some Trainer, start: [Double]? = nil
  ) throws -> TrainedModel {
    guard !data.isEmpty else { throw UnlearningError.invalidArgument("the training data is empty") }
    guard regularization > 0, regularization.isFinite else {
      throw UnlearningError.invalidArgument("regularization must be > 0, got \(regularization)")
    }
    guard model.featureCount == data.featureCount else {
      throw UnlearningError.invalidArgument(
        "the model expects \(model.featureCount) features, the data has \(data.featureCount)")
    }
    if let perturbation, perturbation.count != model.parameterCount {
      throw UnlearningError.invalidArgument(
        "perturbation has \(perturbation.count) entries, the model has \(model.parameterCount) parameters"
      )
    }
    if let start, start.count != model.parameterCount {
      throw UnlearningError.invalidArgument(
        "start has \(start.count) entries, the model has \(model.parameterCount) parameters")
    }
    var state = TrainedModel(
      model: model, parameters: model.initialParameters(seed: 0), data: data,
      regularization: regularization, perturbation: perturbation,
      training: Training.Result(
        parameters: [], iterations: 0, gradientNorm: .infinity, gradientTolerance: 0,
        objectiveValue: .infinity, seconds: 0, converged: false, method: "none"))
    state.retrain(trainer: trainer, start: start)
    return state
  }
}

extension TrainedModel {
  /// Re-minimises the retained objective (same `b`, current weights) from `start` (default: the
  /// model's initial parameters, seed 0), replacing ``parameters`` and ``training``.
  mutating func retrain(trainer: some Trainer, start: [Double]? = nil) {
    let result =
      trainHeadwise(trainer: trainer, start: start) ?? trainer.train(objective(), from: start)
    parameters = result.parameters
    training = result
    certifiedCache = nil
  }

  /// Predicted classes of the rows of `features` (`n x d`) under the current parameters.
  public func predictions(_ features: Matrix) -> [Int] {
    model.predictions(parameters, features: features)
  }

  /// The share of `data`'s rows predicted correctly (in `[0, 1]`). Cost: one prediction pass.
  public func accuracy(on data: Dataset) -> Double {
    Metrics.accuracy(predictions: predictions(data.features), labels: data.labels)
  }

  /// A model retrained from scratch on the current retain set (same `b`): the reference a
  /// removal is judged against. Cost: a full training run.
  public func retrained(trainer: some Trainer = Training.Newton(gradientTolerance: 1e-10))
    -> TrainedModel
  {
    var copy = self
    copy.retrain(trainer: trainer)
    return copy
  }

  /// The row positions of a forget request, in request order, after checking every id.
  ///
  /// - Throws: ``UnlearningError/unknownID(_:)``, ``UnlearningError/duplicateID(_:)``,
  ///   ``UnlearningError/alreadyForgotten(_:)`` naming the first offending id;
  ///   ``UnlearningError/nothingLeft`` when no row would remain.
  public func rowsToForget(_ ids: [SampleID]) throws(UnlearningError) -> [Int] {
    var seen = Set<SampleID>(minimumCapacity: ids.count)
    var rows = [Int]()
    rows.reserveCapacity(ids.count)
    for id in ids {
      guard let row = data.rowIndex(of: id) else { throw .unknownID(id) }
      guard seen.insert(id).inserted else { throw .duplicateID(id) }
      guard !removedIDs.contains(id), weights[row] != 0 else { throw .alreadyForgotten(id) }
      rows.append(row)
    }
    if !rows.isEmpty && rows.count >= retainedCount { throw .nothingLeft }
    return rows
  }

  /// The same state with the given rows marked removed (weight 0); parameters unchanged.
  func removing(rows: [Int]) -> TrainedModel {
    var next = self
    for row in rows {
      next.weights[row] = 0
      next.removedIDs.insert(data.ids[row])
    }
    return next
  }
}
