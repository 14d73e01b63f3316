/// Certified removal (Guo, Goldstein, Hannun, van der Maaten, ICML 2020) for a binary convex
/// GLM, with sound certificates (MATH.md section 6, issue 11).
///
/// Creating the remover trains `theta* = argmin L_b(.; D)` (sum form) with a secret loss
/// perturbation `b ~ N(0, sigma^2 I)` drawn from a ``SeededGenerator`` that stays in the state,
/// so the fresh `b` of every later retrain is deterministic too. Each ``remove(_:)`` (one id or
/// a batch) takes a Newton step on the retained objective, charges a rigorous bound on the
/// gradient residual of the result against the budget `epsilon' = sigma epsilon / c`, retrains
/// with a fresh `b` when the budget would be exceeded, and returns a ``RemovalCertificate``.
///
/// Requirements, checked at creation: `lambda > 0`; every row `||x_i|| <= 1` (up to `1e-12`
/// relative, the round-off of row normalisation); no intercept (a constant feature breaks
/// `||x|| <= 1`). `||X||_2` is computed **once**, exactly, on the full data
/// (``Matrix/spectralNormUpperBound()``); deleting rows never increases it.
///
/// A value type: `remove` either succeeds and updates every field, or throws and changes
/// nothing. Publish ``publishableModel`` (no `b`), never ``state``.
public struct CertifiedRemover<Model: CertifiableModel>: Sendable {
  /// The full state, including the secret perturbation `b`. Do not publish it.
  public internal(set) var state: TrainedModel<Model>
  /// `(epsilon, delta, sigma)`.
  public let privacy: PrivacyParameters
  /// The accounting mode (default ``BudgetAccounting/exactStep``).
  public let accounting: BudgetAccounting
  /// The remainder bound charged (default: Guo's in paper mode, the tight one in exact-step).
  public let bound: CertificateBound
  /// The maximum number of full-gradient steps per request in exact-step mode before a
  /// retrain (paper mode always takes one `Delta` step).
  public let maximumSteps: Int
  /// The upper bound on `||X||_2` of the full data, computed once.
  public let spectralNorm: Double
  /// Budget used by the current model (paper: `r_0 + sum beta_t`; exact-step: the current
  /// model's certified residual).
  public internal(set) var spent: Double
  /// How many times the budget forced a retrain.
  public internal(set) var retrainCount: Int
  /// Every certificate issued, oldest first.
  public internal(set) var certificates: [RemovalCertificate]

  let trainer: any Trainer
  var generator: SeededGenerator
  var stepper: CertifiedNewtonStepper
  /// The fast sequential engine (``CertifiedRemovalSolver/fastSequential(_:)``), else `nil`.
  var fast: FastRemovalEngine?

  /// The fast path's cached Cholesky factor (``FastRemovalPolicy``): of
  /// `sum_{i in R} loss''(z0_i) x_i x_i^T + lambda n_0 I` with `z0 = X theta0` at the last
  /// refresh's parameters and `n_0` the retained count then, `R` the current retain set. `nil`
  /// for the other solvers.
  public var fastFactor: Cholesky? { fast?.factor }

  /// Work counters of the fast path, or `nil` for the other solvers.
  public var fastStatistics: FastRemovalStatistics? { fast?.statistics }

  /// Trains the certified model and prepares the remover.
  ///
  /// Cost: `O(n d^2)` for `||X||_2`, plus the training run.
  ///
  /// - Parameters:
  ///   - model: a binary certifiable model without intercept (e.g. ``LogisticRegression``).
  ///   - data: training rows with `||x_i|| <= 1` (e.g. ``Dataset/normalizingRows()``), labels
  ///     0/1.
  ///   - regularization: `lambda > 0` (per sample; the sum form scales it by the retained
  ///     count).
  ///   - privacy: `(epsilon, delta, sigma)`; build it from a budget with
  ///     ``PrivacyParameters/init(epsilon:delta:budget:)``.
  ///   - accounting: `.exactStep` (default) or `.paper`.
  ///   - bound: the charged bound; `nil` picks `.guo` for paper mode and `.tight` for
  ///     exact-step.
  ///   - solver: how Newton systems are solved. Default: the fast sequential path
  ///     (``CertifiedRemovalSolver/fastSequential(_:)``: a cached Cholesky factor downdated as
  ///     rows leave, one fused pass over the data per request, every step's inexactness charged
  ///     exactly); pass `.default` (PCG with a fresh factor when needed) or `.direct` for
  ///     steps that match a fresh Newton solve to round-off.
  ///   - maximumSteps: exact-step mode's step limit per request (default 4).
  ///   - trainer: the optimiser for training and retrains; it must reach a residual well below
  ///     the budget (default ``NewtonTrainer``, `1e-9 n` relative).
  ///   - seed: seeds the generator of every `b`.
  /// - Throws: ``CertificationError/nonPositiveRegularization(_:)``,
  ///   ``CertificationError/rowNormTooLarge(row:norm:)``,
  ///   ``CertificationError/invalidParameter(_:)`` (intercept, shapes, non-binary labels),
  ///   ``CertificationError/trainingResidualExceedsBudget(residual:budget:)``.
  public init(
    model: Model, data: Dataset, regularization: Double, privacy: PrivacyParameters,
    accounting: BudgetAccounting = .exactStep, bound: CertificateBound? = nil,
    solver: CertifiedRemovalSolver = .fastSequential(.default), maximumSteps: Int = 4,
    trainer: some Trainer = NewtonTrainer(), seed: UInt64 = 0
  ) throws {
    let spectralNorm = try Self.validate(model: model, data: data, regularization: regularization)
    guard data.labels.allSatisfy({ $0 == 0 || $0 == 1 }) else {
      throw CertificationError.invalidParameter("binary certified removal needs labels 0/1")
    }
    guard maximumSteps >= 1 else {
      throw CertificationError.invalidParameter("maximumSteps must be >= 1, got \(maximumSteps)")
    }
    var generator = SeededGenerator(seed: seed)
    let b = generator.normalVector(count: model.parameterCount, standardDeviation: privacy.sigma)
    let state = try TrainedModel.train(
      model: model, data: data, regularization: regularization, perturbation: b, trainer: trainer)
    let objective = state.objective()
    let residual =
      state.training.gradientNorm
      + CertifiedNewtonStepper.floatingPointAllowance(objective, at: state.parameters)
    guard residual <= privacy.budget else {
      throw CertificationError.trainingResidualExceedsBudget(
        residual: residual, budget: privacy.budget)
    }
    try self.init(
      validated: state, privacy: privacy, accounting: accounting, bound: bound,
      solver: solver, maximumSteps: maximumSteps, spectralNorm: spectralNorm, spent: residual,
      retrainCount: 0, trainer: trainer, generator: generator)
  }

  /// The one place the stored state is assigned, after either public initialiser has trained
  /// or restored and validated it.
  private init(
    validated state: TrainedModel<Model>, privacy: PrivacyParameters,
    accounting: BudgetAccounting, bound: CertificateBound?, solver: CertifiedRemovalSolver,
    maximumSteps: Int, spectralNorm: Double, spent: Double, retrainCount: Int,
    trainer: any Trainer, generator: SeededGenerator
  ) throws {
    self.state = state
    self.privacy = privacy
    self.accounting = accounting
    self.bound = bound ?? (accounting == .paper ? .guo : .tight)
    self.maximumSteps = maximumSteps
    self.spectralNorm = spectralNorm
    self.spent = spent
    self.retrainCount = retrainCount
    self.certificates = []
    self.trainer = trainer
    self.generator = generator
    self.stepper = CertifiedNewtonStepper(spectralNorm: spectralNorm, solver: solver)
    self.fast = try Self.fastEngine(solver: solver, state: state)
  }

  /// Checks the certification requirements and returns `||X||_2` (an exact upper bound).
  static func validate(model: some CertifiableModel, data: Dataset, regularization: Double) throws
    -> Double
  {
    guard regularization > 0, regularization.isFinite else {
      throw CertificationError.nonPositiveRegularization(regularization)
    }
    guard !model.fitsIntercept else {
      throw CertificationError.invalidParameter(
        "certified removal needs ||x|| <= 1; an intercept (constant feature 1) breaks it: use fitsIntercept: false"
      )
    }
    guard model.featureCount == data.featureCount else {
      throw CertificationError.invalidParameter(
        "the model expects \(model.featureCount) features, the data has \(data.featureCount)")
    }
    guard data.count >= 2 else {
      throw CertificationError.invalidParameter("need at least 2 training rows, got \(data.count)")
    }
    let norms = data.features.rowNorms()
    for (row, norm) in norms.enumerated() where !(norm <= 1 + 1e-12) {
      throw CertificationError.rowNormTooLarge(row: row, norm: norm)
    }
    do {
      return try data.features.spectralNormUpperBound()
    } catch {
      throw CertificationError.invalidParameter("spectral norm of the data failed: \(error)")
    }
  }

  /// Restores a remover from saved state (a model file), so that the budget carries across
  /// processes.
  ///
  /// `state` must hold the secret `b` and the removed ids; `spent` and `retrainCount` are the
  /// saved budget state; a later budget-triggered retrain draws its fresh `b` from
  /// `SeededGenerator(seed: nextPerturbationSeed)`. `||X||_2` is recomputed from the full data.
  /// Continuing in-process and restoring give the same parameters and certificates for every
  /// removal that does not retrain (a retrain draws from the restored stream), except with
  /// ``CertifiedRemovalSolver/fastSequential(_:)``: a restored remover starts from a fresh
  /// factor, so its steps differ from the in-process ones within the charged inexactness.
  ///
  /// - Throws: the requirements of the training initialiser (row norms, lambda, labels), and
  ///   ``CertificationError/invalidParameter(_:)`` when `b` is missing or `spent` is invalid.
  public init(
    restoring state: TrainedModel<Model>, privacy: PrivacyParameters, accounting: BudgetAccounting,
    bound: CertificateBound? = nil, spent: Double, retrainCount: Int, nextPerturbationSeed: UInt64,
    solver: CertifiedRemovalSolver = .default, maximumSteps: Int = 4,
    trainer: some Trainer = NewtonTrainer()
  ) throws {
    let spectralNorm = try Self.validate(
      model: state.model, data: state.data, regularization: state.regularization)
    guard let b = state.perturbation, b.count == state.model.parameterCount else {
      throw CertificationError.invalidParameter(
        "the saved state has no perturbation b: cannot continue certified removal")
    }
    _ = b
    guard spent >= 0, spent.isFinite, retrainCount >= 0 else {
      throw CertificationError.invalidParameter(
        "saved budget state is invalid (spent \(spent), retrains \(retrainCount))")
    }
    guard maximumSteps >= 1 else {
      throw CertificationError.invalidParameter("maximumSteps must be >= 1, got \(maximumSteps)")
    }
    try self.init(
      validated: state, privacy: privacy, accounting: accounting, bound: bound,
      solver: solver, maximumSteps: maximumSteps, spectralNorm: spectralNorm, spent: spent,
      retrainCount: retrainCount, trainer: trainer,
      generator: SeededGenerator(seed: nextPerturbationSeed))
  }

  /// A seed for the generator of the next fresh `b`, to save with the model (see
  /// ``init(restoring:privacy:accounting:bound:spent:retrainCount:nextPerturbationSeed:solver:maximumSteps:trainer:)``).
  /// Deterministic: derived from the current generator state without advancing it.
  public var nextPerturbationSeed: UInt64 {
    var copy = generator
    return copy.next()
  }

  /// The budget-exhausted fallback shared by both solver paths: draws a fresh
  /// `b ~ N(0, sigma^2 I)` from `generator` and retrains `state` from scratch on its retained
  /// rows.
  static func retrainWithFreshPerturbation(
    _ state: inout TrainedModel<Model>, generator: inout SeededGenerator, sigma: Double,
    trainer: any Trainer
  ) {
    state.perturbation = generator.normalVector(
      count: state.model.parameterCount, standardDeviation: sigma)
    state.retrain(trainer: trainer)
  }

  /// The budget `epsilon'`.
  public var budget: Double { privacy.budget }

  /// `epsilon' - spent`.
  public var remaining: Double { budget - spent }

  /// What may be published: the model and its parameters, **without** `b`.
  public var publishableModel: PublishedModel<Model> {
    PublishedModel(
      model: state.model, parameters: state.parameters, regularization: state.regularization,
      retainedCount: state.retainedCount, removedCount: state.removedIDs.count,
      certificate: certificates.last)
  }

  /// Removes the samples named by `ids` (one request: a single id or a batch) and certifies the
  /// result.
  ///
  /// Paper mode: one `Delta` step, `spent += bound + ||H v - Delta||`; retrain with a fresh
  /// `b` if that would exceed the budget. Exact-step mode: full-gradient steps until the new
  /// model's own bound `bound + ||H v + g||` is within budget (at most ``maximumSteps``), else a
  /// retrain with a fresh `b`. Cost: one or a few Newton steps (`O(n d)` per PCG iteration, or
  /// `O(n d^2 + d^3)` when re-factoring), plus one gradient to measure the true residual.
  ///
  /// An empty request changes nothing and returns the current status (not recorded in
  /// ``certificates``).
  ///
  /// - Throws: ``UnlearningError`` for unknown, duplicate or already-forgotten ids (naming the
  ///   id) or when nothing would be left; ``CertificationError`` if even a retrained model
  ///   exceeds the budget. The remover is unchanged when it throws.
  public mutating func remove(_ ids: [SampleID]) throws -> RemovalCertificate {
    let rows = try state.rowsToForget(ids)
    if !rows.isEmpty, let engine = fast { return try removeFast(rows: rows, engine: engine) }
    let before = state.retainedCount
    var next = state.removing(rows: rows)
    var stepper = self.stepper
    var generator = self.generator
    var objective = next.objective()
    var theta = next.parameters
    var spent = self.spent
    var retrained = false
    var stepsTaken = 0
    var last = CertifiedNewtonStepper.Step(
      step: [], tight: 0, guo: 0, inexactness: 0, iterations: 0)
    var certified = spent
    var allowance = CertifiedNewtonStepper.floatingPointAllowance(objective, at: theta)

    if !rows.isEmpty {
      switch accounting {
      case .paper:
        let delta = NewtonRemoval.delta(next, rows: rows, at: theta)
        last = try stepper.step(objective, at: theta, rhs: delta)
        stepsTaken = 1
        let increment = charged(last) + allowance
        if spent + increment <= budget {
          theta.add(last.step)
          spent += increment
          certified = spent
        } else {
          retrained = true
        }
      case .exactStep:
        var candidate = theta
        repeat {
          let gradient = objective.gradient(at: candidate)
          last = try stepper.step(objective, at: candidate, rhs: gradient.scaled(by: -1))
          candidate.add(last.step)
          stepsTaken += 1
          allowance = CertifiedNewtonStepper.floatingPointAllowance(objective, at: candidate)
          certified = charged(last) + allowance
        } while certified > budget && stepsTaken < maximumSteps
        if certified <= budget {
          theta = candidate
          spent = certified
        } else {
          retrained = true
        }
      }
      if retrained {
        Self.retrainWithFreshPerturbation(
          &next, generator: &generator, sigma: privacy.sigma, trainer: trainer)
        objective = next.objective()
        theta = next.parameters
        stepper.factor = nil
        allowance = CertifiedNewtonStepper.floatingPointAllowance(objective, at: theta)
        certified = next.training.gradientNorm + allowance
        guard certified <= budget else {
          throw CertificationError.trainingResidualExceedsBudget(
            residual: certified, budget: budget)
        }
        spent = certified
      } else {
        next.parameters = theta
      }
    }
    let trueResidual = objective.gradientNorm(at: theta)
    let m = rows.count
    let worstCase =
      m == 0
      ? 0
      : ResidualBounds.worstCase(
        removed: m, of: before, regularization: state.regularization,
        gamma: state.model.curvatureLipschitzConstant, gradientBound: state.model.gradientNormBound)
    let certificate = RemovalCertificate(
      accounting: accounting, bound: bound, epsilon: privacy.epsilon, delta: privacy.delta,
      sigma: privacy.sigma, budget: budget, tightBound: last.tight, guoBound: last.guo,
      worstCaseBound: worstCase, solveInexactness: last.inexactness, certifiedResidual: certified,
      spent: spent, remaining: budget - spent, trueResidual: trueResidual,
      floatingPointAllowance: allowance, retrained: retrained, stepsTaken: stepsTaken,
      removedCount: m, retainedCount: before - m, headCount: 1)
    guard m > 0 else { return certificate }
    // Commit (nothing above mutated self).
    self.state = next
    self.stepper = stepper
    self.generator = generator
    self.spent = spent
    if retrained { self.retrainCount += 1 }
    self.certificates.append(certificate)
    return certificate
  }

  /// The charged remainder bound of a step plus its solve inexactness.
  func charged(_ step: CertifiedNewtonStepper.Step) -> Double {
    (bound == .guo ? step.guo : step.tight) + step.inexactness
  }
}

/// A certified model as it may be published: parameters **without** the secret perturbation
/// `b`, plus the latest certificate.
public struct PublishedModel<Model: TwiceDifferentiableModel>: Sendable {
  /// The model.
  public var model: Model
  /// `theta` (length `p`).
  public var parameters: [Double]
  /// `lambda`.
  public var regularization: Double
  /// Retained training rows.
  public var retainedCount: Int
  /// Removed training rows.
  public var removedCount: Int
  /// The certificate of the last removal, or `nil` before any.
  public var certificate: RemovalCertificate?
}
