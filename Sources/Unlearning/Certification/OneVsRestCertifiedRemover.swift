/// Certified removal for `K` classes by one-vs-rest (MATH.md sections 2 and 6): `K` independent
/// binary heads (head `k` separates class `k` from the rest), each trained on the sum-form
/// objective with its **own** perturbation `b_k ~ N(0, sigma^2 I)`.
///
/// A removal updates every head; the `K` per-head charged bounds are **summed** into one budget
/// increment (the joint parameter vector's residual is at most the sum of the heads' residual
/// norms: `sqrt(sum_k r_k^2) <= sum_k r_k`). When the budget would be exceeded, every head is
/// retrained with a fresh `b_k`. Shared statistics are kept once: the request is validated once,
/// the retained weights and removed ids are updated once per sample (not once per head), and
/// `||X||_2` is computed once on the full data at creation.
///
/// The accounting modes and bounds are those of ``CertifiedRemover`` (see ``BudgetAccounting``).
/// A value type: ``remove(_:)`` either succeeds or throws and changes nothing.
public struct OneVsRestCertifiedRemover<Model: CertifiableModel>: Sendable {
  /// The binary head model (the same for every head).
  public let model: Model
  /// All training rows (labels `0..<K`), removed ones included.
  public let data: Dataset
  /// Ids removed so far.
  public private(set) var removedIDs: Set<SampleID>
  /// Shared per-row weights, 1 retained, 0 removed.
  public private(set) var weights: [Double]
  /// `lambda > 0`.
  public let regularization: Double
  /// `(epsilon, delta, sigma)`; `sigma` is the standard deviation of every `b_k` entry.
  public let privacy: PrivacyParameters
  /// The accounting mode.
  public let accounting: BudgetAccounting
  /// The remainder bound charged.
  public let bound: CertificateBound
  /// Exact-step mode's step limit per request.
  public let maximumSteps: Int
  /// Upper bound on `||X||_2` of the full data, computed once.
  public let spectralNorm: Double
  /// Head parameters `theta_k` (`K` vectors of length `p`).
  public private(set) var parameters: [[Double]]
  /// The last (re)training summary of every head.
  public private(set) var training: [TrainingResult]
  /// Budget used by the current heads (summed).
  public private(set) var spent: Double
  /// How many times the budget forced a retrain (of all heads).
  public private(set) var retrainCount: Int
  /// Every certificate issued, oldest first.
  public private(set) var certificates: [RemovalCertificate]

  var perturbations: [[Double]]
  let headTargets: [[Double]]
  let trainer: any Trainer
  var generator: SeededGenerator
  var steppers: [CertifiedNewtonStepper]

  /// Trains the `K` heads and prepares the remover.
  ///
  /// Cost: `O(n d^2)` for `||X||_2` plus `K` training runs.
  ///
  /// - Parameters:
  ///   - model: the binary head model (no intercept; e.g. ``LogisticRegression``).
  ///   - data: rows with `||x_i|| <= 1`, labels `0..<K` with `K = data.classCount >= 2`.
  ///   - regularization: `lambda > 0`.
  ///   - privacy: `(epsilon, delta, sigma)`.
  ///   - accounting, bound, solver, maximumSteps, trainer, seed: as for ``CertifiedRemover``.
  /// - Throws: the ``CertificationError``s of ``CertifiedRemover``.
  public init(
    model: Model, data: Dataset, regularization: Double, privacy: PrivacyParameters,
    accounting: BudgetAccounting = .exactStep, bound: CertificateBound? = nil,
    solver: CertifiedRemovalSolver = .default, maximumSteps: Int = 4,
    trainer: some Trainer = NewtonTrainer(), seed: UInt64 = 0
  ) throws {
    let spectralNorm = try CertifiedRemover<Model>.validate(
      model: model, data: data, regularization: regularization)
    guard data.classCount >= 2 else {
      throw CertificationError.invalidParameter(
        "one-vs-rest needs at least 2 classes, got \(data.classCount)")
    }
    guard maximumSteps >= 1 else {
      throw CertificationError.invalidParameter("maximumSteps must be >= 1, got \(maximumSteps)")
    }
    let k = data.classCount
    self.model = model
    self.data = data
    self.removedIDs = []
    self.weights = [Double](repeating: 1, count: data.count)
    self.regularization = regularization
    self.privacy = privacy
    self.accounting = accounting
    self.bound = bound ?? (accounting == .paper ? .guo : .tight)
    self.maximumSteps = maximumSteps
    self.spectralNorm = spectralNorm
    self.headTargets = (0..<k).map { c in data.labels.map { $0 == c ? 1.0 : 0.0 } }
    self.trainer = trainer
    self.generator = SeededGenerator(seed: seed)
    self.steppers = Array(
      repeating: CertifiedNewtonStepper(spectralNorm: spectralNorm, solver: solver), count: k)
    self.perturbations = []
    self.parameters = []
    self.training = []
    self.retrainCount = 0
    self.certificates = []
    self.spent = 0
    let (perturbations, results, residual) = Self.trainHeads(
      model: model, data: data, targets: headTargets, weights: weights,
      regularization: regularization,
      sigma: privacy.sigma, generator: &generator, trainer: trainer)
    guard residual <= privacy.budget else {
      throw CertificationError.trainingResidualExceedsBudget(
        residual: residual, budget: privacy.budget)
    }
    self.perturbations = perturbations
    self.training = results
    self.parameters = results.map(\.parameters)
    self.spent = residual
  }

  /// Draws a fresh `b_k` for every head and trains it from scratch; returns the summed charged
  /// residual (training residuals plus floating-point allowances).
  static func trainHeads(
    model: Model, data: Dataset, targets: [[Double]], weights: [Double], regularization: Double,
    sigma: Double, generator: inout SeededGenerator, trainer: any Trainer
  ) -> (perturbations: [[Double]], results: [TrainingResult], residual: Double) {
    var perturbations: [[Double]] = []
    var results: [TrainingResult] = []
    var residual = 0.0
    for headTargets in targets {
      let b = generator.normalVector(count: model.parameterCount, standardDeviation: sigma)
      let objective = Objective(
        model: model, features: data.features, targets: headTargets, weights: weights,
        regularization: regularization, perturbation: b)
      let result = trainer.train(objective, from: nil)
      residual +=
        result.gradientNorm
        + CertifiedNewtonStepper.floatingPointAllowance(objective, at: result.parameters)
      perturbations.append(b)
      results.append(result)
    }
    return (perturbations, results, residual)
  }

  /// `K`, the number of heads.
  public var classCount: Int { headTargets.count }
  /// The budget `epsilon'`.
  public var budget: Double { privacy.budget }
  /// `epsilon' - spent`.
  public var remaining: Double { budget - spent }
  /// Retained rows.
  public var retainedCount: Int { weights.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

  /// Head `k` as a binary ``TrainedModel`` (labels `1` for class `k`, else `0`; features shared,
  /// not copied), **including its secret `b_k`**: for inspection and tests, not for
  /// publication.
  public func head(_ k: Int) -> TrainedModel<Model> {
    precondition(k >= 0 && k < classCount, "OneVsRestCertifiedRemover: head \(k) out of range")
    let labels = data.labels.map { $0 == k ? 1 : 0 }
    // Valid by construction: same rows and ids, labels 0/1.
    let binary = Dataset(
      validatedFeatures: data.features, labels: labels, ids: data.ids, classCount: 2,
      classNames: ["rest", data.classNames[k]], featureNames: data.featureNames,
      name: "\(data.name) (class \(k) vs rest)")
    return TrainedModel(
      model: model, parameters: parameters[k], data: binary, removedIDs: removedIDs,
      regularization: regularization, perturbation: perturbations[k], training: training[k])
  }

  /// The predicted class of every row: the head with the largest linear predictor (`n`).
  public func predictions(features: Matrix) -> [Int] {
    let scores = parameters.map { model.linearPredictors($0, features: features) }
    return (0..<features.rows).map { i in
      var best = 0
      for k in 1..<classCount where scores[k][i] > scores[best][i] { best = k }
      return best
    }
  }

  func objective(head k: Int, weights: [Double], perturbation: [Double]) -> Objective<Model> {
    Objective(
      model: model, features: data.features, targets: headTargets[k], weights: weights,
      regularization: regularization, perturbation: perturbation)
  }

  /// Removes the samples named by `ids` from every head and certifies the result; see
  /// ``CertifiedRemover/remove(_:)``. The per-head charged bounds (and the reported bounds and
  /// residuals) are summed over heads. Cost: `K` Newton steps, one shared weight update.
  ///
  /// - Throws: ``UnlearningError`` for bad ids (naming the id) or when nothing would be left;
  ///   ``CertificationError`` if a retrained model exceeds the budget. Unchanged on throw.
  public mutating func remove(_ ids: [SampleID]) throws -> RemovalCertificate {
    // Validate once, on the shared bookkeeping.
    var seen = Set<SampleID>(minimumCapacity: ids.count)
    var rows: [Int] = []
    for id in ids {
      guard let row = data.rowIndex(of: id) else { throw UnlearningError.unknownID(id) }
      guard seen.insert(id).inserted else { throw UnlearningError.duplicateID(id) }
      guard weights[row] != 0 else { throw UnlearningError.alreadyForgotten(id) }
      rows.append(row)
    }
    let before = retainedCount
    if !rows.isEmpty && rows.count >= before { throw UnlearningError.nothingLeft }
    // Downdate the shared statistics once per sample.
    var weights = self.weights
    var removedIDs = self.removedIDs
    for row in rows {
      weights[row] = 0
      removedIDs.insert(data.ids[row])
    }
    var steppers = self.steppers
    var generator = self.generator
    var perturbations = self.perturbations
    var training = self.training
    var thetas = self.parameters
    var spent = self.spent
    var certified = spent
    var retrained = false
    var stepsTaken = 0
    var tight = 0.0
    var guo = 0.0
    var inexactness = 0.0
    var allowance = 0.0
    let k = classCount
    if !rows.isEmpty {
      let objectives = (0..<k).map {
        objective(head: $0, weights: weights, perturbation: perturbations[$0])
      }
      var candidates = thetas
      repeat {
        var charged = 0.0
        (tight, guo, inexactness, allowance) = (0, 0, 0, 0)
        for head in 0..<k {
          let rhs: [Double]
          if accounting == .paper {
            let forget = data.features.rows(at: rows)
            var delta = model.lossAndGradient(
              candidates[head], features: forget, targets: rows.map { headTargets[head][$0] },
              weights: nil
            ).gradient
            delta.add(candidates[head], scaledBy: Double(rows.count) * regularization)
            rhs = delta
          } else {
            rhs = objectives[head].gradient(at: candidates[head]).scaled(by: -1)
          }
          let step = try steppers[head].step(objectives[head], at: candidates[head], rhs: rhs)
          candidates[head].add(step.step)
          tight += step.tight
          guo += step.guo
          inexactness += step.inexactness
          allowance += CertifiedNewtonStepper.floatingPointAllowance(
            objectives[head], at: candidates[head])
          charged += (bound == .guo ? step.guo : step.tight) + step.inexactness
        }
        stepsTaken += 1
        certified = accounting == .paper ? spent + charged + allowance : charged + allowance
      } while accounting == .exactStep && certified > budget && stepsTaken < maximumSteps
      if certified <= budget {
        thetas = candidates
        spent = certified
      } else {
        retrained = true
        let heads = Self.trainHeads(
          model: model, data: data, targets: headTargets, weights: weights,
          regularization: regularization,
          sigma: privacy.sigma, generator: &generator, trainer: trainer)
        guard heads.residual <= budget else {
          throw CertificationError.trainingResidualExceedsBudget(
            residual: heads.residual, budget: budget)
        }
        perturbations = heads.perturbations
        training = heads.results
        thetas = heads.results.map(\.parameters)
        for head in 0..<k { steppers[head].factor = nil }
        certified = heads.residual
        spent = certified
        allowance = 0
      }
    }
    var trueResidual = 0.0
    for head in 0..<k {
      trueResidual += objective(head: head, weights: weights, perturbation: perturbations[head])
        .gradientNorm(at: thetas[head])
    }
    let m = rows.count
    let worstCase =
      m == 0
      ? 0
      : Double(k)
        * ResidualBounds.worstCase(
          removed: m, of: before, regularization: regularization,
          gamma: model.curvatureLipschitzConstant,
          gradientBound: model.gradientNormBound)
    let certificate = RemovalCertificate(
      accounting: accounting, bound: bound, epsilon: privacy.epsilon, delta: privacy.delta,
      sigma: privacy.sigma, budget: budget, tightBound: tight, guoBound: guo,
      worstCaseBound: worstCase,
      solveInexactness: inexactness, certifiedResidual: certified, spent: spent,
      remaining: budget - spent,
      trueResidual: trueResidual, floatingPointAllowance: allowance, retrained: retrained,
      stepsTaken: stepsTaken, removedCount: m, retainedCount: before - m, headCount: k)
    guard m > 0 else { return certificate }
    self.weights = weights
    self.removedIDs = removedIDs
    self.steppers = steppers
    self.generator = generator
    self.perturbations = perturbations
    self.training = training
    self.parameters = thetas
    self.spent = spent
    if retrained { self.retrainCount += 1 }
    self.certificates.append(certificate)
    return certificate
  }
}
