import ArgumentParser
import Foundation
import Unlearning

/// `unlearn evaluate`: the NeurIPS 2023 challenge's forget score of unlearning methods.
struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract:
      "Score unlearning methods with the NeurIPS 2023 challenge's forget score (N unlearned vs N retrained models).",
    discussion: """
      For each method, N model pairs are trained: pair j trains on a seeded random half H_j of the retained data plus the forget set, then the method forgets the forget set (the unlearned model); the retrained model of pair j trains on H_j alone (networks also share a per-pair initialisation seed). Every forget example's logit-scaled confidence log p(correct) - log sum p(wrong) under the N unlearned and the N retrained models gives a per-example epsilon: the best threshold attack (single threshold and interval rules, delta = 1e-5, capped at 50; the "peakier" rule caps an example whose groups' spreads differ more than 100-fold). Epsilons earn 2^-b points in 0.5-wide bucket b up to ceil(ln(N - 1)); the forget score F is their mean (1 = indistinguishable from retraining). Final score = F x (retain accuracy ratio) x (test accuracy ratio), the accuracies averaged over the N models.

      Paired design (default): the unlearned and the retrained model of pair j share H_j and the seeds, so the groups differ only in the algorithm and an exact method scores F = 1. The retrain-vs-retrain row scores the retrained models against an independent set of retrained models (fresh halves and seeds): the metric's own sampling noise at this N, the score of an exact method whose randomness is not shared. With --independent-halves the methods' models use their own halves too, and that row is the ceiling to expect.

      --thresholds challenge uses the challenge's threshold grid (100 per unit of confidence) and orientations; exhaustive tries every partition by one or two thresholds in both orientations (a superset: epsilons are at least as large, and so is the noise floor).

      Examples:
        unlearn evaluate --models 64
        unlearn evaluate --methods naive,newton --models 16 --json eval.json
        unlearn evaluate --dataset fashion-mnist --methods newton --models 512
        unlearn evaluate --model mlp --models 16 --methods naive,newton

      """
  )

  @OptionGroup var data: DataOptions

  @Option(help: "logistic | softmax | mlp.")
  var model: String = "logistic"

  @Option(help: "Hidden widths of the MLP, comma-separated.")
  var hidden: String = "20"

  @Option(help: "Hidden activation of the MLP: tanh | relu | sigmoid.")
  var activation: String = "tanh"

  @Option(help: "Methods, comma-separated: naive, gradient-ascent, neggrad-plus, newton.")
  var methods: String = "naive,gradient-ascent,neggrad-plus,newton"

  @Option(
    name: .customLong("models"),
    help: "Models per group N (default 512 for logistic/softmax, 16 for the MLP).")
  var modelCount: Int?

  @Option(help: "Forget this many random training samples (seeded).")
  var forget: Int = 20

  @Option(
    name: .customLong("forget-ids"),
    help: "Forget the sample ids listed in this file (one integer per line; # comments).")
  var forgetIDs: String?

  @Option(help: "Attack thresholds: challenge | exhaustive.")
  var thresholds: String = "challenge"

  @Option(help: "Fraction of the retained data each model pair trains on.")
  var retainFraction: Double = 0.5

  @Flag(
    help:
      "Train the methods' models on their own random halves and seeds instead of the retrained models' (unpaired design)."
  )
  var independentHalves = false

  @Option(help: "L2 strength lambda (per sample).")
  var lambda: Double = 1e-3

  @Option(help: "MLP: L-BFGS iteration cap for every training.")
  var networkIterations: Int = 5000

  @Option(help: "Model pairs trained at a time (default: the number of processors).")
  var parallel: Int?

  @Option(help: "Seed of every random choice (data, forget set, halves, initialisations).")
  var seed: UInt64 = 42

  @Option(help: "Write the confidences, epsilons and scores as JSON to this file.")
  var json: String?

  /// The methods this command can score.
  static let methodNames = ["naive", "gradient-ascent", "neggrad-plus", "newton"]

  func validate() throws {
    _ = try parsedMethods()
    guard ["logistic", "softmax", "mlp"].contains(model) else {
      throw ValidationError("unknown model '\(model)'; choose logistic, softmax or mlp")
    }
    if let modelCount, modelCount < 2 {
      throw ValidationError("--models must be at least 2")
    }
    guard forget >= 1 else { throw ValidationError("--forget must be at least 1") }
    guard ThresholdAttackEstimator.Search(cliName: thresholds) != nil else {
      throw ValidationError("--thresholds must be challenge or exhaustive")
    }
    guard retainFraction > 0, retainFraction <= 1 else {
      throw ValidationError("--retain-fraction must be in (0, 1]")
    }
    guard lambda > 0, lambda.isFinite else { throw ValidationError("--lambda must be positive") }
    guard networkIterations >= 1 else {
      throw ValidationError("--network-iterations must be at least 1")
    }
    if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
    _ = try hiddenWidths()
    guard Activation(rawValue: activation) != nil else {
      throw ValidationError("unknown activation '\(activation)'")
    }
  }

  func parsedMethods() throws -> [String] {
    let names = methods.split(separator: ",").map {
      String($0).trimmingCharacters(in: .whitespaces)
    }
    for name in names where !Self.methodNames.contains(name) {
      throw ValidationError(
        name == "retrain"
          ? "retrain is the reference of every row; choose from \(Self.methodNames.joined(separator: ", "))"
          : "unknown method '\(name)'; choose from \(Self.methodNames.joined(separator: ", "))")
    }
    guard !names.isEmpty else { throw ValidationError("--methods is empty") }
    guard Set(names).count == names.count else {
      throw ValidationError("--methods names a method twice")
    }
    return names
  }

  func hiddenWidths() throws -> [Int] {
    try hidden.split(separator: ",").map { w in
      guard let v = Int(w), v > 0 else {
        throw ValidationError("--hidden: '\(w)' is not a positive integer")
      }
      return v
    }
  }

  /// `N`: the option, or 512 for linear models and 16 for the MLP.
  var resolvedModelCount: Int { modelCount ?? (model == "mlp" ? 16 : 512) }

  @OptionGroup var progressOptions: ProgressOptions

  func run() throws {
    progressOptions.apply()
    let scenario = try data.scenario(seed: seed)
    let (train, test) = try runReportingErrors { try scenario.load() }
    let forgetSet: [SampleID] =
      if let forgetIDs {
        try readIDs(forgetIDs)
      } else {
        try runReportingErrors {
          try ForgetScore.randomForgetSet(train, count: forget, seed: seed &+ 0x5eed)
        }
      }
    let names = try parsedMethods()
    let search = ThresholdAttackEstimator.Search(cliName: thresholds) ?? .challengeGrid
    let n = resolvedModelCount
    let report: ForgetScoreReport
    let description: String
    switch model {
    case "logistic":
      guard train.classCount == 2 else {
        throw CLIError(
          "logistic regression needs 2 classes; the data has \(train.classCount) (use --model softmax)"
        )
      }
      let m = LogisticRegression(featureCount: train.featureCount)
      description = "logistic regression (p = \(m.parameterCount))"
      report = try experiment(
        m, trainer: NewtonTrainer(gradientTolerance: 1e-10), names: names, train: train,
        test: test, forget: forgetSet, n: n, search: search)
    case "softmax":
      let m = SoftmaxRegression(featureCount: train.featureCount, classCount: train.classCount)
      description = "softmax regression (p = \(m.parameterCount))"
      let trainer: any Trainer =
        m.parameterCount > Self.directSolveLimit
        ? LBFGSTrainer(memory: 20, gradientTolerance: 1e-9, maximumIterations: 20_000)
        : NewtonTrainer(gradientTolerance: 1e-10)
      report = try experiment(
        m, trainer: trainer, names: names, train: train, test: test, forget: forgetSet, n: n,
        search: search)
    default:
      let outputs = train.classCount == 2 ? 1 : train.classCount
      let sizes = [train.featureCount] + (try hiddenWidths()) + [outputs]
      let act = Activation(rawValue: activation) ?? .tanh
      let m = MultilayerPerceptron(layerSizes: sizes, hiddenActivation: act)
      description =
        "MLP \(sizes.map(String.init).joined(separator: "-")) \(act.rawValue) (p = \(m.parameterCount))"
      progressLine(
        "note: the MLP needs \(n) x (\(names.count + 3)) L-BFGS trainings (up to \(networkIterations) iterations each); the ETA below follows the first pairs"
      )
      report = try experiment(
        m,
        trainer: LBFGSTrainer(gradientTolerance: 1e-8, maximumIterations: networkIterations),
        names: names, train: train, test: test, forget: forgetSet, n: n, search: search)
    }
    print(
      Self.table(
        report, scenario: scenario.description, model: description, trainCount: train.count,
        testCount: test.count))
    if let json {
      let document = EvaluateDocument(
        report: report, scenario: scenario.description, model: description,
        regularization: lambda)
      try runReportingErrors { try Self.writeJSON(document, to: json) }
      progressLine("wrote \(json)")
    }
  }

  /// Models with more parameters than this solve Newton systems by CG (as `compare`).
  static let directSolveLimit = 2000

  func experiment<Model: TwiceDifferentiableModel>(
    _ model: Model, trainer: any Trainer, names: [String], train: Dataset, test: Dataset,
    forget: [SampleID], n: Int, search: ThresholdAttackEstimator.Search
  ) throws -> ForgetScoreReport {
    let unlearners = names.map { Self.unlearner($0, for: model) }
    let experiment = ForgetScoreExperiment(
      model: model, trainer: trainer, regularization: lambda, train: train, test: test,
      forget: forget, methods: unlearners, modelCount: n, retainFraction: retainFraction,
      sharesSubsets: !independentHalves, seed: seed,
      estimator: ThresholdAttackEstimator(search: search),
      parallelism: parallel ?? ProcessInfo.processInfo.activeProcessorCount)
    return try runReportingErrors { try experiment.run(progress: progressLine) }
  }

  /// The unlearner named `name`, configured for `model` as `compare` configures it.
  static func unlearner<Model: TwiceDifferentiableModel>(_ name: String, for model: Model)
    -> any Unlearner
  {
    let large = model.parameterCount > directSolveLimit
    switch name {
    case "naive": return NaiveDeletion()
    case "gradient-ascent": return GradientAscent()
    case "neggrad-plus": return NegGradPlus(beta: 0.9)
    default:
      if model.isConvex {
        return large
          ? NewtonRemoval(solver: .conjugateGradient(tolerance: 1e-10, maximumIterations: 2000))
          : NewtonRemoval()
      }
      return large
        ? NewtonRemoval(
          solver: .conjugateGradient(tolerance: 1e-6, maximumIterations: 200),
          curvature: .gaussNewton, steps: 3)
        : NewtonRemoval(curvature: .gaussNewton, steps: 3)
    }
  }

  /// The results table: one row per method, then the noise floor.
  static func table(
    _ report: ForgetScoreReport, scenario: String, model: String, trainCount: Int, testCount: Int
  ) -> String {
    let e = report.estimator
    var out = "Forget score (NeurIPS 2023 unlearning challenge)\n"
    out += "scenario: \(scenario), \(trainCount) train / \(testCount) test\n"
    out += "model: \(model)\n"
    out +=
      "N = \(report.modelCount) models per group, \(report.forgetIDs.count) forget examples, "
      + "each pair trains on \(format(report.retainFraction)) of the retained data, seed \(report.seed)\n"
    out +=
      "thresholds: \(e.search == .challengeGrid ? "challenge grid" : "exhaustive"), delta \(e.delta), cap \(format(e.cap)), "
      + "buckets of 0.5 up to E = ceil(ln(N - 1)) = \(format(report.maximumEpsilon))\n"
    out += String(format: "total time %.1f s\n\n", report.seconds)
    let header = [
      "method", "F", "final", "retain acc", "test acc", "forget acc", "median eps", "eps >= E",
      "s/model",
    ]
    var lines = [header]
    lines.append([
      "retrain (reference)", "", "", percent(report.retrained.retainAccuracy),
      percent(report.retrained.testAccuracy), percent(report.retrained.forgetAccuracy), "", "",
      String(format: "%.3g", report.retrained.meanSeconds),
    ])
    for row in report.rows + [report.noiseFloor] {
      let sorted = row.epsilons.sorted()
      let median =
        sorted.isEmpty
        ? 0
        : (sorted.count % 2 == 1
          ? sorted[sorted.count / 2]
          : 0.5 * (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]))
      let beyond = row.epsilons.filter { $0 >= report.maximumEpsilon }.count
      lines.append([
        row.method == ForgetScoreExperiment<LogisticRegression>.noiseFloorName
          ? "\(row.method) (noise floor)" : row.method,
        String(format: "%.4f", row.forgetScore), String(format: "%.4f", row.finalScore),
        percent(row.retainAccuracy), percent(row.testAccuracy), percent(row.forgetAccuracy),
        String(format: "%.2f", median), "\(beyond)/\(row.epsilons.count)",
        String(format: "%.3g", row.meanSeconds),
      ])
    }
    var widths = [Int](repeating: 0, count: header.count)
    for line in lines {
      for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    func render(_ line: [String]) -> String {
      line.enumerated().map { i, cell in
        i == 0
          ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
          : String(repeating: " ", count: widths[i] - cell.count) + cell
      }.joined(separator: "  ")
    }
    out += render(header) + "\n"
    out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
    for line in lines.dropFirst() { out += render(line) + "\n" }
    out +=
      report.sharesSubsets
      ? "paired design: method and retrained model j share their half and seeds (an exact method scores F = 1); the noise floor row uses independent halves\n"
      : "independent halves: the methods' models and the retrained models use independent halves and seeds\n"
    for note in report.notes { out += "note: \(note)\n" }
    return out
  }

  static func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

  static func format(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : String(format: "%.3g", x)
  }

  /// Pretty, key-sorted JSON written atomically; non-finite numbers as strings.
  static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}

extension ThresholdAttackEstimator.Search {
  /// `challenge` or `exhaustive`.
  init?(cliName: String) {
    switch cliName {
    case "challenge", "challengeGrid": self = .challengeGrid
    case "exhaustive": self = .exhaustive
    default: return nil
    }
  }
}

/// The JSON document of `unlearn evaluate` (schema `unlearn.evaluate/1`).
///
/// Confidence tables are models x forget examples, columns in the order of `forgetIDs`.
public struct EvaluateDocument: Codable, Sendable {
  /// `"unlearn.evaluate/1"`.
  public var schema: String
  /// The scenario in words.
  public var scenario: String
  /// The model in words.
  public var model: String
  /// `lambda`.
  public var regularization: Double
  /// `N`.
  public var modelCount: Int
  /// The root seed.
  public var seed: UInt64
  /// The fraction of the retained data each pair trained on.
  public var retainFraction: Double
  /// Whether the methods' model `j` shared the retrained model `j`'s half and seeds.
  public var pairedHalves: Bool
  /// `"challengeGrid"` or `"exhaustive"`.
  public var thresholdSearch: String
  /// `delta` of the attacks.
  public var delta: Double
  /// The epsilon cap.
  public var epsilonCap: Double
  /// `E = ceil(ln(N - 1))`.
  public var maximumEpsilon: Double
  /// The forget set (the columns of every confidence table).
  public var forgetIDs: [SampleID]
  /// Mean accuracies of the retrained reference models.
  public var retrained: Accuracies
  /// One entry per method, in the order asked.
  public var methods: [Method]
  /// Retrained models against an independent set of retrained models.
  public var noiseFloor: Method
  /// Wall-clock seconds.
  public var seconds: Double
  /// Notes (e.g. unconverged retrainings).
  public var notes: [String]

  /// Mean accuracies of a group of models.
  public struct Accuracies: Codable, Sendable {
    public var retainAccuracy: Double
    public var testAccuracy: Double
    public var forgetAccuracy: Double
  }

  /// One scored method.
  public struct Method: Codable, Sendable {
    public var method: String
    /// `N x m` confidences of the method's models.
    public var unlearnedConfidences: [[Double]]
    /// `N x m` confidences of the retrained models.
    public var retrainedConfidences: [[Double]]
    /// Per forget example.
    public var epsilons: [Double]
    /// Per forget example: `attack`, `perfectSeparation`, `peakier` or `noAttack`.
    public var epsilonReasons: [String]
    public var forgetScore: Double
    public var finalScore: Double
    public var unlearned: Accuracies
    /// Mean seconds of the method per model.
    public var meanSeconds: Double
  }

  init(report: ForgetScoreReport, scenario: String, model: String, regularization: Double) {
    func method(_ row: ForgetScoreRow) -> Method {
      Method(
        method: row.method, unlearnedConfidences: row.unlearnedConfidences,
        retrainedConfidences: row.retrainedConfidences, epsilons: row.epsilons,
        epsilonReasons: row.estimates.map(\.reason.rawValue), forgetScore: row.forgetScore,
        finalScore: row.finalScore,
        unlearned: Accuracies(
          retainAccuracy: row.retainAccuracy, testAccuracy: row.testAccuracy,
          forgetAccuracy: row.forgetAccuracy), meanSeconds: row.meanSeconds)
    }
    schema = "unlearn.evaluate/1"
    self.scenario = scenario
    self.model = model
    self.regularization = regularization
    modelCount = report.modelCount
    seed = report.seed
    retainFraction = report.retainFraction
    pairedHalves = report.sharesSubsets
    thresholdSearch = report.estimator.search.rawValue
    delta = report.estimator.delta
    epsilonCap = report.estimator.cap
    maximumEpsilon = report.maximumEpsilon
    forgetIDs = report.forgetIDs
    retrained = Accuracies(
      retainAccuracy: report.retrained.retainAccuracy, testAccuracy: report.retrained.testAccuracy,
      forgetAccuracy: report.retrained.forgetAccuracy)
    methods = report.rows.map(method)
    noiseFloor = method(report.noiseFloor)
    seconds = report.seconds
    notes = report.notes
  }
}
