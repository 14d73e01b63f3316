import Foundation

/// Runs every unlearning method on a scenario against the retrained reference and reports
/// the metrics of Docs/Math.md section 8: the engine behind `unlearn compare`.
///
/// For each model: train the original on the full training set, retrain on the retained set
/// (the reference; for networks also from a second seed, the noise floor), then run each
/// method from the original and evaluate it against the reference. Certified removal trains
/// its own perturbed model (secret `b`): its rows form their own group, judged against a
/// visible "retrain (same b)" row, with the gaps to the plain retrain recorded as well.
public enum Comparison {
  /// A model family to compare on.
  public enum ModelChoice: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Binary L2 logistic regression (no intercept).
    case logistic
    /// Softmax regression over all classes.
    case softmax
    /// An MLP with the given hidden widths and activation (sigmoid output for 2 classes).
    case mlp(hidden: [Int], activation: MultilayerPerceptron.Activation)

    public var description: String {
      switch self {
      case .logistic: return "logistic"
      case .softmax: return "softmax"
      case .mlp(let hidden, let a):
        return "mlp " + hidden.map(String.init).joined(separator: "-") + " " + a.rawValue
      }
    }
  }

  /// The methods `compare` can run.
  public enum Method: String, Sendable, Codable, CaseIterable {
    case retrain
    case naive
    case gradientAscent = "gradient-ascent"
    case negGradPlus = "neggrad-plus"
    case newton
    case certified
    case finetune
    case scrub
    case fisher
    case sisa
  }

  /// Which training samples to forget.
  public enum ForgetRequest: Sendable, Codable, Equatable {
    /// `count` ids drawn uniformly (seeded) from the training set.
    case random(count: Int)
    /// These ids.
    case ids([SampleID])
    /// Every training sample whose label is this class index (`0 ..< classCount` of the
    /// loaded data; for Fashion-MNIST the position in the selected classes). The retrained
    /// model never predicts the class, so near-zero accuracy on it is the target here.
    case wholeClass(Int)

    /// The forgotten class label of a ``wholeClass(_:)`` request, else `nil`.
    public var forgottenClass: Int? {
      if case .wholeClass(let k) = self { return k }
      return nil
    }
  }

  /// Everything `compare` needs; defaults reproduce `unlearn compare` with no arguments except
  /// ``forgetScoreModelCount`` (CLI: 16), ``timingRepeats`` (CLI: 3) and
  /// ``bootstrapResamples`` (CLI: 1000).
  public struct Configuration: Sendable, Codable, Equatable {
    public var scenario: Scenario = .defaultHospital
    public var models: [ModelChoice]? = nil
    public var methods: [Method] = Method.allCases
    public var forget: ForgetRequest = .random(count: 80)
    /// lambda of the linear models (per sample; sum form `(lambda/2) n ||theta||^2`).
    public var regularization: Double = 1e-3
    /// lambda of the networks (all weights and biases).
    public var networkRegularization: Double = 1e-3
    /// Certified removal's privacy parameters.
    public var epsilon: Double = 1
    public var delta: Double = 1e-4
    /// `nil`: calibrated from `budget` (sigma = c(delta) * budget / epsilon).
    public var sigma: Double? = nil
    public var budget: Double = 0.5
    /// How sigma and the budget relate (default: the exact Gaussian privacy profile).
    public var calibration: PrivacyParameters.Calibration = .exact
    /// Certified removal's Newton solver (default: the downdated factor).
    public var solver: NewtonSolver = .default
    public var accounting: CertifiedRemoval.Accounting = .exactStep
    /// Where certified removal's secret `b` comes from (default: the system's cryptographic
    /// generator; notebooks that must print identical text pass the seeded, non-private source).
    public var perturbation: CertifiedRemoval.PerturbationSource = .system
    /// Gradient ascent's settings (by default those of the naive hospital demo this project started from: lr 0.1, x0.7, 145 epochs).
    public var ascentLearningRate: Double = 0.1
    public var ascentMultiplier: Double = 0.7
    public var ascentEpochs: Int = 145
    /// NegGrad+'s weight on the retained loss.
    public var negGradBeta: Double = 0.9
    /// Iterated Newton removal (class forgetting): at most this many steps.
    public var iteratedNewtonSteps: Int = 10
    /// Iterated Newton removal stops at `||grad L(theta; R)|| <= newtonResidualTolerance * n_R`
    /// (sum form; the same relative scale as the trainers' tolerances).
    public var newtonResidualTolerance: Double = 1e-9
    /// Networks, iterated Newton removal: the Levenberg-Marquardt damping per retained sample
    /// (`mu = networkDamping * n_R` is added to the Gauss-Newton matrix).
    public var networkDamping: Double = 1e-2
    /// Networks: L-BFGS iteration cap for training and retraining.
    public var networkMaximumIterations: Int = 5000
    public var seed: UInt64 = 42
    /// `N`, the models per group of the forget-score column (0 or 1: no forget score). Each
    /// model family then trains `N` originals on seeded random halves of the retained data plus
    /// the forget set, runs every scorable method on each, and trains `2N` retrains (the
    /// reference group and the floor's second group): about `(3 + methods) N` trainings' worth.
    /// Default 0 here (the library's comparison stays as cheap as before); `unlearn compare`
    /// uses 16.
    public var forgetScoreModelCount: Int = 0
    /// Runs of every unlearning step and of retraining; tables show the median and min-max.
    /// Default 1 here; `unlearn compare` uses 3.
    public var timingRepeats: Int = 1
    /// A step whose first run took longer than this (seconds) is not repeated.
    public var repeatLimitSeconds: Double = 5
    /// `K`: the comparison runs with seeds `seed, seed + 1, ..., seed + K - 1` (data split,
    /// forget set, initialisations) and ``Result/summary`` gives 95% t-intervals over them.
    public var seedCount: Int = 1
    /// `B`, the resamples of the percentile-bootstrap intervals over the evaluated examples
    /// (``Comparison/Bootstrap``, seeded from ``seed``): every row's accuracies, gaps, KLs, AUC
    /// and forget score get a 95% interval and the verdict is judged on them (Docs/Math.md
    /// 8.4). 0 turns it off (verdicts on the point estimates). Over several seeds the summary
    /// uses the t-intervals over seeds instead. Default 0 here (the library's comparison stays
    /// as cheap as before); `unlearn compare` uses 1000.
    public var bootstrapResamples: Int = 0
    /// Per-feature standardisation of the loaded features (``Dataset/Standardization``, CLI
    /// `--standardize`), refitted the way a user's retrain refits it. `nil` or `false` (the
    /// default): none.
    ///
    /// `true`: the original model trains on features standardised by statistics of all
    /// training rows; every retrain of the table (the reference, the networks' second-seed
    /// noise floor) trains on statistics refitted on the retained rows; and every approximate
    /// method starts from the original re-expressed on the refitted statistics
    /// (``ModelFile/Specification/reexpressing(_:from:to:)``), as `unlearn remove` does, so
    /// each row is judged against the retrain a user would get. Every row's model then acts
    /// on the refitted statistics: predictions-based columns (accuracies, KL, membership
    /// AUC, forget score) compare each model on its own statistics; parameter-space columns
    /// (rho, the gradient residual) are computed in the refitted coordinates, where the
    /// original enters re-expressed (exactly for models with a bias; without one its logits
    /// lose the constant ``StandardizationSummary/droppedShifts``). The forget score's
    /// models on random halves also use the refitted statistics (they do not refit per
    /// half). Cost: two `O(n d)` fits and copies of the data. Refused (``ComparisonError``)
    /// with certified removal (the statistics depend on every row, which the certificate
    /// does not cover) and with a ``Scenario/standardized(_:)`` scenario (fixed statistics).
    public var standardizesFeatures: Bool? = nil

    public init() {}

    /// The bootstrap's resamples of `context`'s sets (`nil` when the bootstrap is off).
    func resamples<Model>(_ context: UnlearningEvaluation.Context<Model>) -> Bootstrap.Resamples? {
      bootstrapResamples >= 2
        ? Bootstrap.Resamples(
          Bootstrap(resampleCount: bootstrapResamples, seed: seed &+ 0xB007_5742), context: context)
        : nil
    }

    /// `(epsilon, delta, sigma)`, with sigma calibrated from `budget` when not given.
    public func privacyParameters() throws -> PrivacyParameters {
      if let sigma {
        return try PrivacyParameters(
          epsilon: epsilon, delta: delta, sigma: sigma, calibration: calibration)
      }
      return try PrivacyParameters(
        epsilon: epsilon, delta: delta, budget: budget, calibration: calibration)
    }

    /// The models compared when none are named: logistic and the hospital demo's 2-20-1 MLP for binary
    /// data, softmax and an MLP for multiclass data.
    public func resolvedModels(classCount: Int) -> [ModelChoice] {
      models
        ?? (classCount == 2
          ? [.logistic, .mlp(hidden: [20], activation: .tanh)]
          : [.softmax, .mlp(hidden: [128], activation: .relu)])
    }
  }

  /// One (model, method) row.
  public struct Row: Sendable, Codable {
    public var model: String
    public var specification: ModelFile.Specification
    public var method: String
    /// The settings the method ran with, in words.
    public var settings: String
    public var evaluation: UnlearningEvaluation
    public var report: RemovalReport?
    /// The parameters the method produced (for plots and patient tables).
    public var parameters: [Double]
    public var notes: [String]
    /// The row this one is judged against: `"retrain"`, or `"retrain (same b)"` for certified
    /// removal, whose model carries its own secret `b`.
    public var reference: String = "retrain"
    /// Rows judged against another reference: accuracy gaps (test, retain, forget; fractions)
    /// to the plain `"retrain"` row of the comparison as well, so both are visible.
    public var accuracyGapsToRetrain: [Double]? = nil
    /// The challenge forget score `F` in `[0, 1]` of this method with
    /// ``Configuration/forgetScoreModelCount`` models per group (the retrain row: the floor, a
    /// second independent retrain group against the reference group); `nil` when not scored
    /// (the reason is among ``notes``) or the score is off.
    public var forgetScore: Double? = nil
    /// The runs of the unlearning step behind `evaluation.seconds` (their median).
    public var timing: Timing? = nil
    /// The speedup's spread: `[min retrain / max method, max retrain / min method]` over the
    /// timed runs (`evaluation.speedup` is the ratio of the medians).
    public var speedupRange: [Double]? = nil
    /// The challenge's final score `F x (RA_u / RA_r) x (TA_u / TA_r)` of the forget-score
    /// experiment (the retrain row: the floor's), and its two accuracy ratios (mean accuracy of
    /// the method's `N` models over the reference group's); `nil` when not scored.
    public var finalScore: Double? = nil
    public var retainAccuracyRatio: Double? = nil
    public var testAccuracyRatio: Double? = nil
    /// 95% percentile-bootstrap intervals over the evaluated examples
    /// (``Configuration/bootstrapResamples``); `evaluation.verdict` is judged on them. `nil`
    /// when the bootstrap is off.
    public var bootstrap: BootstrapIntervals? = nil
  }

  /// Per-model facts shared by its rows.
  public struct ModelSummary: Sendable, Codable {
    public var model: String
    public var specification: ModelFile.Specification
    public var regularization: Double
    public var originalTraining: Training.Result
    public var retrainSeconds: Double
    /// Networks: `||theta_r - theta_r'||` between retrains from two seeds (the noise floor).
    public var retrainNoiseFloorDistance: Double?
    public var retrainNoiseFloorTestKL: Double?
    public var originalParameters: [Double]
    public var retrainedParameters: [Double]
    /// The timed runs of retraining (`retrainSeconds` is their median).
    public var retrainTiming: Timing? = nil
    /// The forget-score experiment behind the rows' `forgetScore`, or `nil` when it did not run.
    public var forgetScore: ForgetScoreColumn? = nil
    /// Why the forget score was not computed for this model, if it was asked for and was not.
    public var forgetScoreNote: String? = nil
    /// With ``Configuration/standardizesFeatures``: the two sets of statistics and how the
    /// original was re-expressed; else `nil`. ``originalParameters`` are then the
    /// re-expressed ones (the refitted coordinates).
    public var standardization: StandardizationSummary? = nil
  }

  /// How a comparison with ``Configuration/standardizesFeatures`` standardised one model.
  public struct StandardizationSummary: Sendable, Codable, Equatable {
    /// The original's statistics, fitted on all training rows.
    public var fitted: Dataset.Standardization
    /// The statistics refitted on the retained rows: every retrain trains on them, every
    /// method starts from the original re-expressed on them, every row is evaluated on them.
    public var refitted: Dataset.Standardization
    /// `"exact"` (a bias absorbed the shift) or `"shift-dropped"` (no bias: the weights were
    /// rescaled and each linear predictor lost the constant in ``droppedShifts``).
    public var reexpression: String
    /// The dropped constants (`shift-dropped` only), one per output of the first layer.
    public var droppedShifts: [Double]?
    /// `max_k ||W_k|| ||D^{-1} (mu' - mu)||`, their bound (`shift-dropped` only).
    public var droppedShiftBound: Double?
    /// The coordinates of rho and the gradient residual: `"refitted"`.
    public var parameterCoordinates = "refitted"
  }

  /// The standardisation of one comparison run (``Configuration/standardizesFeatures``).
  struct Standardizing {
    var fitted: Dataset.Standardization
    var refitted: Dataset.Standardization
    /// The training rows standardised by ``fitted`` (the original trains on them).
    var originalTrain: Dataset
  }

  /// Models with more parameters than this train by L-BFGS and take Newton steps by CG on
  /// Hessian-vector products instead of forming the dense `p x p` Hessian (softmax on
  /// 784 pixels x 10 classes has `p = 7840`: a 490 MB Hessian and `O(K^2 n d^2)` flops).
  public static let directSolveLimit = 2000

  /// The whole comparison.
  public struct Result: Sendable, Codable {
    /// `"unlearn.compare/4"`: the version of this JSON shape (3 added the forget score,
    /// timings over repeated runs, and intervals over seeds; 4 the bootstrap intervals of one
    /// seed, each interval's `method`, the final score and its ratios, and the per-seed verdicts).
    public var schema = "unlearn.compare/4"
    public var configuration: Configuration
    public var scenario: String
    public var trainCount: Int
    public var testCount: Int
    public var classNames: [String]
    public var forgottenIDs: [SampleID]
    public var models: [ModelSummary]
    public var rows: [Row]
    /// Certified removal with the forget set arriving one sample per request, under the
    /// paper and exact-step accountings (same epsilon, delta, sigma); `nil` when certified
    /// removal was not run.
    public var sequentialCertification: [SequentialCertification]?
    /// The seeds of the comparison (the first one's run fills the fields above).
    public var seeds: [UInt64] = []
    /// One row per (model, method) over all seeds: means, 95% t-intervals (more than one
    /// seed), pooled timings and the verdict judged on the intervals.
    public var summary: [SummaryRow] = []
  }

  /// Errors of the comparison set-up (bad requests), one line each.
  public enum ComparisonError: Error, CustomStringConvertible, Equatable {
    case invalidRequest(String)
    public var description: String {
      switch self {
      case .invalidRequest(let s): return s
      }
    }
  }

  /// Runs the comparison.
  ///
  /// - Parameters:
  ///   - configuration: the data, models, forget set and methods to compare.
  ///   - progress: receives one line per stage (training, retraining, each method); the CLI
  ///     prints them on stderr.
  /// - Throws: `DataError` from loading, ``ComparisonError`` for bad requests (unknown or
  ///   duplicate forget ids, a forget count out of range, a model that does not fit the data),
  ///   `UnlearningError` from the methods.
  public static func run(_ configuration: Configuration, progress: (String) -> Void = { _ in })
    throws -> Result
  {
    guard configuration.seedCount >= 1 else {
      throw ComparisonError.invalidRequest("the seed count must be at least 1")
    }
    guard configuration.timingRepeats >= 1 else {
      throw ComparisonError.invalidRequest("the timing repeats must be at least 1")
    }
    guard configuration.forgetScoreModelCount >= 0 else {
      throw ComparisonError.invalidRequest("the forget score's model count must be >= 0")
    }
    guard configuration.bootstrapResamples == 0 || configuration.bootstrapResamples >= 2 else {
      throw ComparisonError.invalidRequest("the bootstrap needs 0 (off) or at least 2 resamples")
    }
    var runs = [Result]()
    for k in 0..<configuration.seedCount {
      var c = configuration
      if k > 0 {
        c.seed = configuration.seed &+ UInt64(k)
        c.scenario = reseeded(configuration.scenario, offset: UInt64(k))
        progress("seed \(k + 1) of \(configuration.seedCount): \(c.seed)")
      }
      runs.append(try runOnce(c, progress: progress))
    }
    var result = runs[0]
    result.configuration = configuration
    result.seeds = runs.map(\.configuration.seed)
    result.summary = summarize(runs)
    return result
  }

  /// One comparison with one seed.
  static func runOnce(_ configuration: Configuration, progress: (String) -> Void) throws -> Result {
    progress("loading \(configuration.scenario)")
    var (train, test) = try configuration.scenario.load()
    let forgetIDs = try resolveForget(configuration.forget, train: train, seed: configuration.seed)
    var standardizing: Standardizing?
    if configuration.standardizesFeatures == true {
      if case .standardized = configuration.scenario {
        throw ComparisonError.invalidRequest(
          "standardizesFeatures with a standardized scenario would standardise twice; pass the scenario itself"
        )
      }
      guard !configuration.methods.contains(.certified) else {
        throw ComparisonError.invalidRequest(
          "certified removal cannot run on standardised features: the statistics depend on every training row, which the certificate does not cover"
        )
      }
      let fitted = try Dataset.Standardization(fittedOn: train)
      let refitted = try Dataset.Standardization(fittedOn: train, excluding: forgetIDs)
      progress(
        "standardising: the original on statistics of \(fitted.rowCount) rows, every retrain and method on statistics refitted on the \(refitted.rowCount) retained rows"
      )
      standardizing = Standardizing(
        fitted: fitted, refitted: refitted, originalTrain: try fitted.apply(to: train))
      train = try refitted.apply(to: train)
      test = try refitted.apply(to: test)
    }
    let models = configuration.resolvedModels(classCount: train.classCount)
    var rows = [Row]()
    var summaries = [ModelSummary]()
    var sequential: [SequentialCertification]?
    for choice in models {
      switch choice {
      case .logistic:
        guard train.classCount == 2 else {
          throw ComparisonError.invalidRequest(
            "logistic regression needs 2 classes; the data has \(train.classCount) (use --model softmax)"
          )
        }
        let model = LogisticRegression(featureCount: train.featureCount)
        let trainer = Training.Newton(gradientTolerance: 1e-10)
        let (summary, modelRows) = try runModel(
          model, name: "logistic",
          specification: .logistic(featureCount: train.featureCount, fitsIntercept: false),
          trainer: trainer, secondTrainer: nil, regularization: configuration.regularization,
          train: train, test: test, forgetIDs: forgetIDs, standardizing: standardizing,
          configuration: configuration, progress: progress)
        summaries.append(summary)
        rows += modelRows
        if configuration.methods.contains(.certified) {
          let (certifiedSummary, certifiedRows) = try runCertified(
            model, name: "certified logistic",
            specification: .logistic(featureCount: train.featureCount, fitsIntercept: false),
            train: train, test: test, forgetIDs: forgetIDs, publicRetrain: modelRows.first,
            configuration: configuration, progress: progress)
          summaries.append(certifiedSummary)
          rows += certifiedRows
          sequential = try sequentialCertification(
            train: train, ids: forgetIDs, regularization: configuration.regularization,
            privacy: try configuration.privacyParameters(),
            perturbation: configuration.perturbation, progress: progress)
        }
      case .softmax:
        let model = SoftmaxRegression(
          featureCount: train.featureCount, classCount: train.classCount)
        // Large p: L-BFGS (gradient passes only) instead of Newton on the dense Hessian.
        let trainer: any Trainer =
          model.parameterCount > directSolveLimit
          ? Training.LBFGS(memory: 20, gradientTolerance: 1e-9, maximumIterations: 20_000)
          : Training.Newton(gradientTolerance: 1e-10)
        let (summary, modelRows) = try runModel(
          model, name: "softmax",
          specification: .softmax(featureCount: train.featureCount, classCount: train.classCount),
          trainer: trainer, secondTrainer: nil, regularization: configuration.regularization,
          train: train, test: test, forgetIDs: forgetIDs, standardizing: standardizing,
          configuration: configuration, progress: progress)
        summaries.append(summary)
        rows += modelRows
        if configuration.methods.contains(.certified) {
          let heads = try OneVsRest(
            head: LogisticRegression(featureCount: train.featureCount),
            classCount: train.classCount)
          let (certifiedSummary, certifiedRows) = try runCertified(
            heads, name: "certified one-vs-rest",
            specification: .oneVsRest(
              featureCount: train.featureCount, classCount: train.classCount),
            train: train, test: test, forgetIDs: forgetIDs, publicRetrain: modelRows.first,
            configuration: configuration, progress: progress)
          summaries.append(certifiedSummary)
          rows += certifiedRows
        }
      case .mlp(let hidden, let activation):
        let outputs = train.classCount == 2 ? 1 : train.classCount
        let sizes = [train.featureCount] + hidden + [outputs]
        let model = MultilayerPerceptron(layerSizes: sizes, hiddenActivation: activation)
        let cap = configuration.networkMaximumIterations
        let trainer = Training.LBFGS(
          gradientTolerance: 1e-8, maximumIterations: cap, seed: configuration.seed)
        let second = Training.LBFGS(
          gradientTolerance: 1e-8, maximumIterations: cap, seed: configuration.seed &+ 1)
        let (summary, modelRows) = try runModel(
          model, name: choice.description,
          specification: .multilayerPerceptron(layerSizes: sizes, hiddenActivation: activation),
          trainer: trainer, secondTrainer: second,
          regularization: configuration.networkRegularization,
          train: train, test: test, forgetIDs: forgetIDs, standardizing: standardizing,
          configuration: configuration, progress: progress)
        summaries.append(summary)
        rows += modelRows
      }
    }
    return Result(
      configuration: configuration, scenario: configuration.scenario.description,
      trainCount: train.count,
      testCount: test.count, classNames: train.classNames, forgottenIDs: forgetIDs,
      models: summaries, rows: rows, sequentialCertification: sequential)
  }

  /// The forget ids of a request, validated against the training set.
  public static func resolveForget(_ request: ForgetRequest, train: Dataset, seed: UInt64) throws
    -> [SampleID]
  {
    switch request {
    case .random(let count):
      guard count >= 1, count < train.count else {
        throw ComparisonError.invalidRequest(
          "--forget \(count): must be between 1 and \(train.count - 1) (the training set has \(train.count) samples)"
        )
      }
      var generator = SeededGenerator(seed: seed &+ 0x5eed)
      var order = Array(0..<train.count)
      for i in 0..<count {
        let j = i + Int(generator.next() % UInt64(train.count - i))
        order.swapAt(i, j)
      }
      return order.prefix(count).sorted().map { train.ids[$0] }
    case .ids(let ids):
      guard !ids.isEmpty else { throw ComparisonError.invalidRequest("the forget list is empty") }
      var seen = Set<SampleID>()
      for id in ids {
        guard train.rowIndex(of: id) != nil else {
          throw ComparisonError.invalidRequest("forget id \(id) is not in the training set")
        }
        guard seen.insert(id).inserted else {
          throw ComparisonError.invalidRequest("forget id \(id) is listed twice")
        }
      }
      guard ids.count < train.count else {
        throw ComparisonError.invalidRequest("cannot forget every training sample")
      }
      return ids
    case .wholeClass(let k):
      let names = train.classNames.enumerated().map { "\($0.offset) = \($0.element)" }.joined(
        separator: ", ")
      guard k >= 0, k < train.classCount else {
        throw ComparisonError.invalidRequest(
          "forget class \(k) is not a class of the data (classes: \(names))")
      }
      let ids = zip(train.ids, train.labels).filter { $0.1 == k }.map(\.0)
      guard !ids.isEmpty else {
        throw ComparisonError.invalidRequest(
          "forget class \(k) (\(train.classNames[k])) has no training samples")
      }
      guard ids.count < train.count else {
        throw ComparisonError.invalidRequest(
          "forget class \(k) (\(train.classNames[k])) is the whole training set")
      }
      return ids
    }
  }

  static func runModel<Model: TwiceDifferentiableModel>(
    _ model: Model, name: String, specification: ModelFile.Specification, trainer: any Trainer,
    secondTrainer: (any Trainer)?, regularization: Double, train: Dataset, test: Dataset,
    forgetIDs: [SampleID], standardizing: Standardizing? = nil, configuration: Configuration,
    progress: (String) -> Void
  ) throws -> (ModelSummary, [Row]) {
    progress("\(name): training the original model on \(train.count) samples")
    let original: TrainedModel<Model>
    var standardizationSummary: StandardizationSummary?
    if let standardizing {
      // Trained on all rows' statistics, then re-expressed on the retained rows' (`train`),
      // where every retrain and method of this model lives.
      let trained = try TrainedModel.train(
        model: model, data: standardizing.originalTrain, regularization: regularization,
        trainer: trainer)
      let r = try specification.reexpressing(
        trained.parameters, from: standardizing.fitted, to: standardizing.refitted)
      original = TrainedModel(
        model: model, parameters: r.parameters, data: train, removedIDs: [],
        regularization: regularization, perturbation: nil, training: trained.training,
        certification: nil)
      standardizationSummary = StandardizationSummary(
        fitted: standardizing.fitted, refitted: standardizing.refitted,
        reexpression: r.isExact ? "exact" : "shift-dropped",
        droppedShifts: r.isExact ? nil : r.droppedShifts,
        droppedShiftBound: r.isExact ? nil : r.droppedShiftBound)
    } else {
      original = try TrainedModel.train(
        model: model, data: train, regularization: regularization, trainer: trainer)
    }
    progress("\(name): retraining without the \(forgetIDs.count) forgotten samples (the reference)")
    let retrain = try Retrain(trainer: trainer, seed: trainerSeed(trainer)).unlearn(
      original, forgetting: forgetIDs)
    var secondParameters: [Double]?
    if let secondTrainer {
      progress("\(name): retraining from a second seed (noise floor)")
      secondParameters = try Retrain(trainer: secondTrainer, seed: trainerSeed(secondTrainer))
        .unlearn(original, forgetting: forgetIDs).state.parameters
    }
    let context = UnlearningEvaluation.Context(
      model: model, retainedObjective: retrain.state.objective(),
      retain: try train.removing(ids: forgetIDs),
      forget: try train.subset(ids: forgetIDs), test: test, originalParameters: original.parameters,
      retrainedParameters: retrain.state.parameters, secondRetrainParameters: secondParameters,
      membershipSeed: configuration.seed, forgottenClass: configuration.forget.forgottenClass)
    let resamples = configuration.resamples(context)
    // Retraining is timed like every method: the median of repeated runs.
    let retrainTiming = try Timing.measure(
      first: retrain.report.seconds, repeats: configuration.timingRepeats,
      limit: configuration.repeatLimitSeconds
    ) {
      try Retrain(trainer: trainer, seed: trainerSeed(trainer)).unlearn(
        original, forgetting: forgetIDs
      ).report.seconds
    }
    let retrainSeconds = retrainTiming.median
    var rows = [Row]()
    /// Methods the forget score re-runs on its model pairs (row name, unlearner).
    var scored: [(String, any Unlearner)] = []
    func record(
      _ method: String, _ settings: String, _ result: UnlearningResult<Model>, timing: Timing,
      reference: Bool = false, notes: [String] = []
    ) {
      let (evaluation, intervals) = evaluated(
        context: context, resamples: resamples, method: method,
        parameters: result.state.parameters,
        outputs: context.outputs(parameters: result.state.parameters), seconds: timing.median,
        retrainSeconds: retrainSeconds, isReference: reference)
      var row = Row(
        model: name, specification: specification, method: method, settings: settings,
        evaluation: evaluation,
        report: result.report, parameters: result.state.parameters,
        notes: notes + result.report.notes)
      row.bootstrap = intervals
      row.timing = timing
      row.speedupRange = [
        retrainTiming.minimum / Swift.max(timing.maximum, 1e-9),
        retrainTiming.maximum / Swift.max(timing.minimum, 1e-9),
      ]
      rows.append(row)
    }
    /// Runs `unlearner` from the original (repeated for the timing) and records its row; the
    /// forget score scores it too unless `unscored` gives the reason it cannot.
    func add(
      _ method: String, _ settings: String, _ unlearner: any Unlearner, notes: [String] = [],
      unscored: String? = nil
    ) throws {
      let result = try unlearner.unlearn(original, forgetting: forgetIDs)
      let timing = try Timing.measure(
        first: result.report.seconds, repeats: configuration.timingRepeats,
        limit: configuration.repeatLimitSeconds
      ) { try unlearner.unlearn(original, forgetting: forgetIDs).report.seconds }
      var notes = notes
      if let unscored {
        notes.append("forget score: not scored: \(unscored)")
      } else {
        scored.append((method, unlearner))
      }
      record(method, settings, result, timing: timing, notes: notes)
    }
    let methods = configuration.methods
    if methods.contains(.retrain) {
      record(
        "retrain",
        "\(retrain.report.details["iterations"].map { "\(Int($0)) iterations" } ?? "from scratch")",
        retrain, timing: retrainTiming, reference: true)
    }
    if methods.contains(.naive) {
      progress("\(name): naive deletion")
      try add(
        "naive", "keep the parameters", Baselines.NaiveDeletion()
      )
    }
    if methods.contains(.gradientAscent) {
      progress("\(name): gradient ascent (seed settings)")
      let seedAscent = Baselines.GradientAscent(
        learningRate: configuration.ascentLearningRate, multiplier: configuration.ascentMultiplier,
        epochs: configuration.ascentEpochs)
      try add(
        "gradient-ascent",
        "lr \(configuration.ascentLearningRate), x\(configuration.ascentMultiplier), \(configuration.ascentEpochs) epochs",
        seedAscent)
      // The tuned variant picks the epoch count closest to retrain in predictions. It needs the
      // retrained model, which a real deployment does not have: it shows the best case.
      progress("\(name): gradient ascent (oracle-tuned epochs)")
      var best: (Int, Double, UnlearningResult<Model>)?
      for epochs in [1, 2, 5, 10, 20, 40, 80] {
        let result = try Baselines.GradientAscent(
          learningRate: configuration.ascentLearningRate,
          multiplier: configuration.ascentMultiplier, epochs: epochs
        ).unlearn(original, forgetting: forgetIDs)
        let e = context.evaluate(method: "", parameters: result.state.parameters)
        let score = e.testKL + e.forgetKL
        if score < (best?.1 ?? .infinity) { best = (epochs, score, result) }
      }
      if let (epochs, _, _) = best {
        try add(
          "gradient-ascent-tuned", "\(epochs) epochs (oracle-tuned on retrain KL)",
          Baselines.GradientAscent(
            learningRate: configuration.ascentLearningRate,
            multiplier: configuration.ascentMultiplier, epochs: epochs),
          notes: ["epochs chosen with the retrained model as oracle: not available in practice"],
          unscored: "its epochs are tuned with this run's retrained model as an oracle")
      }
    }
    if methods.contains(.negGradPlus) {
      progress("\(name): NegGrad+")
      try add(
        "neggrad-plus", "beta \(configuration.negGradBeta), lr 0.1, 100 epochs",
        Baselines.NegGradPlus(beta: configuration.negGradBeta))
    }
    if methods.contains(.finetune) {
      progress("\(name): fine-tuning on the retained data")
      try add(
        "finetune", "5 epochs of SGD with momentum 0.9 on R, lr 1e-3, cosine schedule, batch 64",
        Baselines.FineTune(seed: configuration.seed))
    }
    if methods.contains(.scrub) {
      progress("\(name): Baselines.SCRUB")
      try add(
        "scrub",
        "3 epochs (2 max-steps), lr 5e-4, T 4, gamma 0.99, alpha 0.001 (authors' defaults)",
        Baselines.SCRUB(seed: configuration.seed))
    }
    if methods.contains(.fisher) {
      progress("\(name): Fisher forgetting")
      try add(
        "fisher", "noise N(0, alpha / F_jj), alpha 1e-6, 1/F capped at 1e3, empirical Fisher of R",
        Baselines.FisherForgetting(seed: configuration.seed))
    }
    if methods.contains(.sisa) && !model.isConvex && configuration.forget.forgottenClass == nil {
      // The mean of independently trained networks' parameters is meaningless, and the
      // parameter-based displays (boundaries, per-sample tables) cannot show an ensemble.
      progress("\(name): SISA skipped (a network ensemble is compared under --forget-class only)")
    }
    if methods.contains(.sisa) && !model.isConvex && configuration.forget.forgottenClass != nil {
      rows.append(
        try sisaEnsembleRow(
          model, name: name, specification: specification, original: original,
          trainer: trainer, forgetIDs: forgetIDs, context: context, resamples: resamples,
          retrainSeconds: retrainSeconds, configuration: configuration, progress: progress))
    }
    if methods.contains(.sisa) && model.isConvex {
      progress("\(name): SISA (4 shards x 4 slices)")
      let sisa = SISA(
        shardCount: 4, sliceCount: 4, seed: configuration.seed,
        initializationSeed: configuration.seed,
        trainer: Training.Settings(trainer) ?? .newton(Training.Newton(gradientTolerance: 1e-10)))
      let ensemble = try sisa.ensemble(for: original)
      let (after, sisaReport) = try ensemble.removing(ids: forgetIDs)
      let sisaTiming = try Timing.measure(
        first: sisaReport.seconds, repeats: configuration.timingRepeats,
        limit: configuration.repeatLimitSeconds
      ) { try ensemble.removing(ids: forgetIDs).1.seconds }
      var next = original
      next.parameters = after.averagedParameters
      for id in forgetIDs { next.removedIDs.insert(id) }
      let result = UnlearningResult(
        state: next,
        report: RemovalReport(
          method: "sisa", forgottenCount: forgetIDs.count, seconds: sisaReport.seconds,
          gradientResidualNorm: next.gradientResidualNorm(),
          trainingResidualNorm: original.gradientResidualNorm(),
          details: [
            "shards retrained": Double(sisaReport.shardsRetrained.count),
            "slices replayed": Double(sisaReport.slicesReplayed),
          ]))
      let retain = try train.removing(ids: forgetIDs)
      let forget = try train.subset(ids: forgetIDs)
      record(
        "sisa",
        "S 4, R 4; exact unlearning of the ensemble; its metrics are of the mean of the shard parameters",
        result, timing: sisaTiming,
        notes: [
          "forget score: not scored: SISA trains its own shard ensemble, not one model the score's pairs can start from",
          String(
            format:
              "the ensemble itself (probabilities averaged over shards): test %.1f%%, retain %.1f%%, forget %.1f%%; %d of 4 shards retrained",
            100 * after.accuracy(on: test), 100 * after.accuracy(on: retain),
            100 * after.accuracy(on: forget), sisaReport.shardsRetrained.count),
        ])
    }
    if methods.contains(.newton) {
      // Dense curvature while forming it is cheaper than CG (NewtonSolver.preferred(for:)).
      let large = NewtonSolver.preferred(for: model) != .cholesky
      let retainedCount = Double(train.count - forgetIDs.count)
      if let k = configuration.forget.forgottenClass {
        // A whole class is a large removal: one Newton step is shown next to the iterated one.
        let steps = configuration.iteratedNewtonSteps
        let tolerance = configuration.newtonResidualTolerance * retainedCount
        let tolText = "||grad|| <= \(formatShort(configuration.newtonResidualTolerance)) n_R"
        let solver: NewtonSolver
        let curvature: NewtonRemoval.Curvature
        let how: String
        if model.isConvex {
          solver = large ? .conjugateGradient(tolerance: 1e-10, maximumIterations: 2000) : .cholesky
          curvature = .exact
          how = large ? "exact Hessian-vector products, CG" : "exact Hessian, Cholesky"
        } else {
          let mu = configuration.networkDamping * retainedCount
          solver = large ? .conjugateGradient(tolerance: 1e-6, maximumIterations: 200) : .cholesky
          curvature = .dampedGaussNewton(mu)
          how =
            "Gauss-Newton + \(formatShort(mu)) I"
            + (large ? ", CG on Gauss-Newton products" : ", Cholesky")
        }
        progress("\(name): Newton removal of class \(k), one step (\(how))")
        try add(
          "newton-1step", "1 step, \(how)",
          NewtonRemoval(solver: solver, curvature: curvature))
        progress("\(name): iterated Newton removal of class \(k) (up to \(steps) steps, \(how))")
        var iterated = NewtonRemoval(
          solver: solver, curvature: curvature, steps: steps, residualTolerance: tolerance,
          stepControl: .objectiveDecrease, inexactSteps: large)
        var stopText = "until \(tolText)"
        if large && model.isConvex {
          // Gradient passes over X dominate: sub-sampled curvature, stopped on the provable
          // distance to the retained optimum (Docs/Math.md 3.7).
          iterated.curvatureSampleRows = 2000
          iterated.relativeDistanceTolerance = 1e-4
          iterated.steps = Swift.max(steps, 30)
          stopText =
            "until \(tolText) or the retained optimum is provably within 1e-4 of the distance travelled; curvature products on 2000 sampled rows"
        }
        try add(
          "newton-iterated",
          "up to \(iterated.steps) steps \(stopText), backtracking line search, \(how)\(large ? " (Eisenstat-Walker inexact solves)" : "")",
          iterated)
      } else if model.isConvex {
        progress("\(name): Newton removal")
        if large {
          try add(
            "newton", "1 step, exact Hessian-vector products, CG",
            NewtonRemoval(solver: .conjugateGradient(tolerance: 1e-10, maximumIterations: 2000)))
        } else {
          try add(
            "newton", "1 step, exact Hessian, Cholesky",
            NewtonRemoval())
        }
      } else {
        progress("\(name): Newton removal (Gauss-Newton)")
        if large {
          try add(
            "newton", "Gauss-Newton, 3 steps, CG",
            NewtonRemoval(
              solver: NewtonSolver.preferred(for: model), curvature: .gaussNewton, steps: 3
            ))
        } else {
          try add(
            "newton", "Gauss-Newton, 3 steps",
            NewtonRemoval(curvature: .gaussNewton, steps: 3))
        }
        if !large {
          // Damping just large enough to make the retained Hessian positive definite.
          let objective = original.objective().with(weights: try train.weights(removing: forgetIDs))
          let smallest = try SymmetricEigen.smallestEigenvalue(
            of: objective.hessian(at: original.parameters))
          let damping =
            smallest > 0 ? 0 : 1.1 * (-smallest) + regularization * objective.effectiveCount
          progress("\(name): Newton removal (exact Hessian, damping \(formatShort(damping)))")
          try add(
            "newton-damped",
            "exact Hessian + \(formatShort(damping)) I (smallest eigenvalue \(formatShort(smallest))), 3 steps",
            NewtonRemoval(curvature: .damped(damping), steps: 3),
            unscored:
              "its damping comes from this run's Hessian spectrum, not a fixed rule the score's model pairs can repeat"
          )
        }
      }
    }
    var summary = ModelSummary(
      model: name, specification: specification, regularization: regularization,
      originalTraining: original.training,
      retrainSeconds: retrainSeconds,
      retrainNoiseFloorDistance: secondParameters.map {
        $0.subtracting(retrain.state.parameters).norm()
      },
      retrainNoiseFloorTestKL: context.noiseFloorTestKL, originalParameters: original.parameters,
      retrainedParameters: retrain.state.parameters)
    summary.retrainTiming = retrainTiming
    summary.standardization = standardizationSummary
    let n = configuration.forgetScoreModelCount
    if n >= 2 && configuration.forget.forgottenClass != nil {
      summary.forgetScoreNote =
        "forget score: not computed when a whole class is forgotten (the challenge's score is defined for random forget sets)"
    } else if n >= 2 {
      progress(
        "\(name): forget score, \(n) models per group: \(scored.count) method\(scored.count == 1 ? "" : "s") + a second retrain group (the floor) against \(n) retrains"
      )
      let experiment = ForgetScore.Experiment(
        model: model, trainer: trainer, regularization: regularization, train: train, test: test,
        forget: forgetIDs, methods: scored.map(\.1), modelCount: n, sharesSubsets: false,
        seed: configuration.seed)
      let report = try experiment.run()
      func fill(_ i: Int, _ scoreRow: ForgetScore.Report.Row) {
        rows[i].forgetScore = scoreRow.forgetScore
        rows[i].finalScore = scoreRow.finalScore
        rows[i].retainAccuracyRatio =
          scoreRow.retainAccuracy / Swift.max(report.retrained.retainAccuracy, 1e-300)
        rows[i].testAccuracyRatio =
          scoreRow.testAccuracy / Swift.max(report.retrained.testAccuracy, 1e-300)
        rows[i].bootstrap?.forgetScore = resamples?.forgetScoreInterval(
          point: scoreRow.forgetScore, epsilons: scoreRow.epsilons, modelCount: n)
      }
      for (k, (method, _)) in scored.enumerated() {
        if let i = rows.firstIndex(where: { $0.method == method }) { fill(i, report.rows[k]) }
      }
      if let i = rows.firstIndex(where: { $0.method == "retrain" }) { fill(i, report.noiseFloor) }
      summary.forgetScore = ForgetScoreColumn(report)
      progress("\(name): forget score done in \(formatShort(report.seconds)) s")
    }
    return (summary, rows)
  }

  /// Certified removal as ordinary rows of its own model family: the certified model carries
  /// a secret `b`, so its reference is a retrain with the same `b` ("retrain (same b)", a
  /// visible row); the accuracy gaps to the plain retrain are recorded too.
  static func runCertified<M: CertifiableModel>(
    _ model: M, name: String, specification: ModelFile.Specification, train: Dataset, test: Dataset,
    forgetIDs: [SampleID], publicRetrain: Row?, configuration: Configuration,
    progress: (String) -> Void
  ) throws -> (ModelSummary, [Row]) {
    let privacy = try configuration.privacyParameters()
    progress(
      "\(name): training with a secret loss perturbation b (sigma \(formatShort(privacy.sigma)))")
    let trainer = Training.Newton(gradientTolerance: 1e-10)
    let original = try TrainedModel.trainCertified(
      model: model, data: train, regularization: configuration.regularization, privacy: privacy,
      accounting: configuration.accounting, solver: configuration.solver, trainer: trainer,
      perturbation: configuration.perturbation)
    progress("\(name): retraining with the same b (the certified model's reference)")
    let retrain = try Retrain(trainer: trainer).unlearn(original, forgetting: forgetIDs)
    let retrainTiming = try Timing.measure(
      first: retrain.report.seconds, repeats: configuration.timingRepeats,
      limit: configuration.repeatLimitSeconds
    ) { try Retrain(trainer: trainer).unlearn(original, forgetting: forgetIDs).report.seconds }
    progress("\(name): certified removal")
    let certified = try CertifiedRemoval(trainer: trainer).unlearn(original, forgetting: forgetIDs)
    let certifiedTiming = try Timing.measure(
      first: certified.report.seconds, repeats: configuration.timingRepeats,
      limit: configuration.repeatLimitSeconds
    ) {
      try CertifiedRemoval(trainer: trainer).unlearn(original, forgetting: forgetIDs).report.seconds
    }
    let context = UnlearningEvaluation.Context(
      model: model, retainedObjective: retrain.state.objective(),
      retain: try train.removing(ids: forgetIDs),
      forget: try train.subset(ids: forgetIDs), test: test, originalParameters: original.parameters,
      retrainedParameters: retrain.state.parameters, membershipSeed: configuration.seed,
      forgottenClass: configuration.forget.forgottenClass)
    let resamples = configuration.resamples(context)
    let reference = "retrain (same b)"
    func row(
      _ method: String, _ result: UnlearningResult<M>, timing: Timing, settings: String,
      isReference: Bool
    )
      -> Row
    {
      let (evaluation, intervals) = evaluated(
        context: context, resamples: resamples, method: method,
        parameters: result.state.parameters,
        outputs: context.outputs(parameters: result.state.parameters), seconds: timing.median,
        retrainSeconds: retrainTiming.median, isReference: isReference)
      let gaps = publicRetrain.map { p in
        [
          evaluation.testAccuracy - p.evaluation.testAccuracy,
          evaluation.retainAccuracy - p.evaluation.retainAccuracy,
          evaluation.forgetAccuracy - p.evaluation.forgetAccuracy,
        ]
      }
      var row = Row(
        model: name, specification: specification, method: method, settings: settings,
        evaluation: evaluation, report: result.report, parameters: result.state.parameters,
        notes: result.report.notes, reference: isReference ? "retrain" : reference,
        accuracyGapsToRetrain: gaps)
      row.bootstrap = intervals
      row.timing = timing
      row.speedupRange = [
        retrainTiming.minimum / Swift.max(timing.maximum, 1e-9),
        retrainTiming.maximum / Swift.max(timing.minimum, 1e-9),
      ]
      if configuration.forgetScoreModelCount >= 2 && !isReference {
        row.notes.append(
          "forget score: not scored: each certified model carries its own secret b, so its group would differ from the retrained group in b, not only in the algorithm"
        )
      }
      return row
    }
    let accounting = configuration.accounting.rawValue
    let rows = [
      row(
        reference, retrain, timing: retrainTiming,
        settings: "retrained from scratch with the certified model's secret b",
        isReference: true),
      row(
        "certified", certified, timing: certifiedTiming,
        settings:
          "eps \(formatShort(privacy.epsilon)), delta \(formatShort(privacy.delta)), sigma \(formatShort(privacy.sigma)), \(accounting) accounting, solver \(original.certification?.solver.name ?? "-")",
        isReference: false),
    ]
    var summary = ModelSummary(
      model: name, specification: specification, regularization: configuration.regularization,
      originalTraining: original.training, retrainSeconds: retrainTiming.median,
      originalParameters: original.parameters, retrainedParameters: retrain.state.parameters)
    summary.retrainTiming = retrainTiming
    return (summary, rows)
  }

  /// The evaluation of one row and its bootstrap intervals (with `resamples`), the verdict then
  /// judged on the intervals (the reference keeps `reference`).
  static func evaluated<Model>(
    context: UnlearningEvaluation.Context<Model>, resamples: Bootstrap.Resamples?, method: String,
    parameters: [Double], outputs: UnlearningEvaluation.Context<Model>.Outputs, seconds: Double?,
    retrainSeconds: Double?, isReference: Bool
  ) -> (UnlearningEvaluation, BootstrapIntervals?) {
    var evaluation = context.evaluation(
      method: method, parameters: parameters, outputs: outputs, seconds: seconds,
      retrainSeconds: retrainSeconds, isReference: isReference)
    guard let resamples else { return (evaluation, nil) }
    let intervals = resamples.intervals(evaluation, outputs: outputs, context: context)
    if !isReference {
      evaluation.verdict = UnlearningEvaluation.Verdict.judge(
        intervals.evidence(relativeDistance: evaluation.relativeDistance),
        thresholds: context.thresholds)
    }
    return (evaluation, intervals)
  }

  static func trainerSeed(_ trainer: any Trainer) -> UInt64 {
    (trainer as? Training.LBFGS)?.seed ?? (trainer as? Training.Newton)?.seed ?? 0
  }

  static func formatShort(_ x: Double) -> String {
    if x == 0 { return "0" }
    if abs(x) >= 0.01 && abs(x) < 1e4 { return String(format: "%.3g", x) }
    return String(format: "%.1e", x)
  }
}
