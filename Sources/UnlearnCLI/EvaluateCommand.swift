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

      --ulira also runs per-example U-LiRA (Docs/Math.md section 8.2): M models on random halves of the training data (half of them the attacker's shadows), each unlearned by every method and retrained without the forget set; a Gaussian likelihood-ratio test per forget example tells "trained on, then unlearned" from "never trained on". It reports the AUC and the true-positive rate at 1% and 0.1% false positives per method, with the original models (no unlearning) and the retrains (the noise floor) as rows, and the change in exposure of 20 retained examples.

      --audit-certificate audits certified removal (Docs/Math.md section 8.3; logistic model, rows of norm at most 1, no intercept): K models trained with independent secret b and certified-removed, K trained on the retained data with independent b; a threshold attack on -grad L(theta; retained) chosen on half of them and counted on the other half gives a 95% Clopper-Pearson lower bound on the empirical epsilon, printed next to the certified epsilon. If the bound exceeds it, the certificate is contradicted and the command says so and exits non-zero. b comes from the system's generator unless --audit-seed is given (reproducible, NOT private).

      Examples:
        unlearn evaluate --models 64
        unlearn evaluate --methods naive,newton --models 16 --json eval.json
        unlearn evaluate --dataset fashion-mnist --methods newton --models 512
        unlearn evaluate --model mlp --models 16 --methods naive,newton
        unlearn evaluate --models 64 --ulira --shadow-models 64
        unlearn evaluate --methods newton --audit-certificate --audit-models 200

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

  @Flag(help: "Also run per-example U-LiRA with shadow models.")
  var ulira = false

  @Option(help: "U-LiRA: models M (half shadows, half targets).")
  var shadowModels: Int = 64

  @Flag(help: "Also audit certified removal: empirical epsilon (95% lower bound) vs certified.")
  var auditCertificate = false

  @Option(help: "Certificate audit: models per side K (half select the attack, half measure it).")
  var auditModels: Int = 200

  @Option(
    help:
      "Certificate audit: draw every b from this seed (reproducible, NOT private; default: the system's generator)."
  )
  var auditSeed: UInt64?

  @OptionGroup var privacy: PrivacyOptions

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
    guard Metrics.ThresholdAttackEstimator.Search(cliName: thresholds) != nil else {
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
    guard shadowModels >= 8 else { throw ValidationError("--shadow-models must be at least 8") }
    guard auditModels >= 8 else { throw ValidationError("--audit-models must be at least 8") }
    if auditCertificate && model != "logistic" {
      throw ValidationError("--audit-certificate needs --model logistic")
    }
    _ = try hiddenWidths()
    guard MultilayerPerceptron.Activation(rawValue: activation) != nil else {
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
    if data.standardize {
      throw CLIError(
        "--standardize is for train and compare: evaluate's models on random halves would each need statistics refitted on their own rows; standardise the file beforehand"
      )
    }
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
    let search = Metrics.ThresholdAttackEstimator.Search(cliName: thresholds) ?? .challengeGrid
    let n = resolvedModelCount
    var report: ForgetScore.Report
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
        m, trainer: Training.Newton(gradientTolerance: 1e-10), names: names, train: train,
        test: test, forget: forgetSet, n: n, search: search)
    case "softmax":
      let m = SoftmaxRegression(featureCount: train.featureCount, classCount: train.classCount)
      description = "softmax regression (p = \(m.parameterCount))"
      let trainer: any Trainer =
        m.parameterCount > Self.directSolveLimit
        ? Training.LBFGS(memory: 20, gradientTolerance: 1e-9, maximumIterations: 20_000)
        : Training.Newton(gradientTolerance: 1e-10)
      report = try experiment(
        m, trainer: trainer, names: names, train: train, test: test, forget: forgetSet, n: n,
        search: search)
    default:
      let outputs = train.classCount == 2 ? 1 : train.classCount
      let sizes = [train.featureCount] + (try hiddenWidths()) + [outputs]
      let act = MultilayerPerceptron.Activation(rawValue: activation) ?? .tanh
      let m = MultilayerPerceptron(layerSizes: sizes, hiddenActivation: act)
      description =
        "MLP \(sizes.map(String.init).joined(separator: "-")) \(act.rawValue) (p = \(m.parameterCount))"
      progressLine(
        "note: the MLP needs \(n) x (\(names.count + 3)) L-BFGS trainings (up to \(networkIterations) iterations each); the ETA below follows the first pairs"
      )
      report = try experiment(
        m,
        trainer: Training.LBFGS(gradientTolerance: 1e-8, maximumIterations: networkIterations),
        names: names, train: train, test: test, forget: forgetSet, n: n, search: search)
    }
    // Rows carry the option spelling (e.g. neggrad-plus), not the library's display names.
    for k in report.rows.indices where k < names.count { report.rows[k].method = names[k] }
    print(
      Self.table(
        report, scenario: scenario.description, model: description, trainCount: train.count,
        testCount: test.count))
    var uliraReport: ULiRA.Report?
    if ulira {
      uliraReport = try runULiRA(names: names, train: train, test: test, forget: forgetSet)
      if let uliraReport { print(Self.uliraTable(uliraReport)) }
    }
    var audit: RemovalCertificate.AuditReport?
    if auditCertificate {
      let privacy = try privacy.privacy()
      let audited = try runReportingErrors {
        try CertificateAudit(
          model: LogisticRegression(featureCount: train.featureCount), train: train, test: test,
          regularization: lambda, privacy: privacy, forget: forgetSet, trialCount: auditModels,
          perturbationSeed: auditSeed,
          parallelism: parallel ?? ProcessInfo.processInfo.activeProcessorCount
        ).run(progress: progressLine)
      }
      audit = audited
      print(Self.auditTable(audited))
    }
    if let json {
      var document = EvaluateDocument(
        report: report, scenario: scenario.description, model: description,
        regularization: lambda)
      document.ulira = uliraReport
      document.certificateAudit = audit
      try runReportingErrors { try Self.writeJSON(document, to: json) }
      progressLine("wrote \(json)")
    }
    if let audit, audit.isContradicted {
      throw CLIError(audit.verdict)
    }
  }

  /// U-LiRA with the same model, methods and forget set.
  func runULiRA(names: [String], train: Dataset, test: Dataset, forget: [SampleID]) throws
    -> ULiRA.Report
  {
    func run<Model: TwiceDifferentiableModel>(_ m: Model, trainer: any Trainer) throws
      -> ULiRA.Report
    {
      var report = try runReportingErrors {
        try ULiRA.Experiment(
          model: m, trainer: trainer, regularization: lambda, train: train, test: test,
          forget: forget, methods: names.map { Self.unlearner($0, for: m) },
          modelCount: shadowModels, seed: seed,
          parallelism: parallel ?? ProcessInfo.processInfo.activeProcessorCount
        ).run(progress: progressLine)
      }
      for k in names.indices where k + 1 < report.rows.count {
        report.rows[k + 1].method = names[k]
      }
      return report
    }
    switch model {
    case "logistic":
      return try run(
        LogisticRegression(featureCount: train.featureCount),
        trainer: Training.Newton(gradientTolerance: 1e-10))
    case "softmax":
      let m = SoftmaxRegression(featureCount: train.featureCount, classCount: train.classCount)
      let trainer: any Trainer =
        m.parameterCount > Self.directSolveLimit
        ? Training.LBFGS(memory: 20, gradientTolerance: 1e-9, maximumIterations: 20_000)
        : Training.Newton(gradientTolerance: 1e-10)
      return try run(m, trainer: trainer)
    default:
      let outputs = train.classCount == 2 ? 1 : train.classCount
      let sizes = [train.featureCount] + (try hiddenWidths()) + [outputs]
      let m = MultilayerPerceptron(
        layerSizes: sizes,
        hiddenActivation: MultilayerPerceptron.Activation(rawValue: activation) ?? .tanh)
      return try run(
        m, trainer: Training.LBFGS(gradientTolerance: 1e-8, maximumIterations: networkIterations))
    }
  }

  /// The U-LiRA table: one row per family of models.
  static func uliraTable(_ report: ULiRA.Report) -> String {
    func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "-" }
    var out = "U-LiRA (per-example Gaussian likelihood-ratio attack)\n"
    out +=
      "M = \(report.modelCount) models on random halves (\(report.shadowCount) shadows), "
      + "\(report.forgetIDs.count) forget and \(report.retainedTargetIDs.count) retained targets, seed \(report.seed)\n"
    var rows = [
      ["family", "AUC", "TPR@1%FPR", "TPR@0.1%FPR", "retained AUC", "retained change", "test acc"]
    ]
    for row in report.rows {
      rows.append([
        row.method, f(row.forget?.auc), f(row.forget?.truePositiveRateAtOnePercent),
        f(row.forget?.truePositiveRateAtTenthPercent), f(row.retained?.auc),
        row.retainedAUCChange.map { String(format: "%+.3f", $0) } ?? "-", percent(row.testAccuracy),
      ])
    }
    out += renderTable(rows)
    if let negatives = report.rows.first?.forget?.negatives {
      out +=
        "AUC 0.5 = chance; the retrain row is the noise floor. \(negatives) non-member scores: the 0.1% point allows \(Int(0.001 * Double(negatives))) false positives.\n"
    }
    out += String(format: "U-LiRA time %.1f s\n", report.seconds)
    return out
  }

  /// The certificate audit as a few lines.
  static func auditTable(_ r: RemovalCertificate.AuditReport) -> String {
    let a = r.attack
    func f(_ x: Double?) -> String {
      x.map { $0.isFinite ? String(format: "%.3g", $0) : "inf" } ?? "-"
    }
    var out = "Certificate audit (empirical epsilon of certified removal)\n"
    out +=
      "\(r.trialCount) removals and \(r.trialCount) reference trainings, each with its own b (\(r.perturbationIsPrivate ? "system generator" : "seeded, NOT private")); sigma \(f(r.sigma)), delta \(f(r.delta))\n"
    out +=
      "attack on the evaluation half: FP \(a.falsePositives)/\(a.evaluationNegatives), FN \(a.falseNegatives)/\(a.evaluationPositives), "
      + "Clopper-Pearson upper ends FPR \(f(a.falsePositiveRateUpper)), FNR \(f(a.falseNegativeRateUpper))\n"
    out +=
      "certified epsilon \(f(r.certifiedEpsilon)) (tightest supported by the removals' residuals: \(f(r.tightestCertifiedEpsilon))); "
      + "empirical epsilon: point \(f(a.pointEpsilon)), \(String(format: "%.0f%%", 100 * r.confidence)) lower bound \(f(a.epsilonLowerBound))\n"
    out +=
      "removals that retrained (budget exceeded): \(r.retrainedRemovals)/\(r.trialCount); test accuracy \(percent(r.removalTestAccuracy)) (reference \(percent(r.referenceTestAccuracy)))\n"
    out += (r.isContradicted ? "!!! " : "") + r.verdict + "\n"
    out += String(format: "audit time %.1f s\n", r.seconds)
    return out
  }

  /// Models with more parameters than this solve Newton systems by CG (as `compare`).
  static let directSolveLimit = 2000

  func experiment<Model: TwiceDifferentiableModel>(
    _ model: Model, trainer: any Trainer, names: [String], train: Dataset, test: Dataset,
    forget: [SampleID], n: Int, search: Metrics.ThresholdAttackEstimator.Search
  ) throws -> ForgetScore.Report {
    let unlearners = names.map { Self.unlearner($0, for: model) }
    let experiment = ForgetScore.Experiment(
      model: model, trainer: trainer, regularization: lambda, train: train, test: test,
      forget: forget, methods: unlearners, modelCount: n, retainFraction: retainFraction,
      sharesSubsets: !independentHalves, seed: seed,
      estimator: Metrics.ThresholdAttackEstimator(search: search),
      parallelism: parallel ?? ProcessInfo.processInfo.activeProcessorCount)
    return try runReportingErrors { try experiment.run(progress: progressLine) }
  }

  /// The unlearner named `name`, configured for `model` as `compare` configures it.
  static func unlearner<Model: TwiceDifferentiableModel>(_ name: String, for model: Model)
    -> any Unlearner
  {
    let large = model.parameterCount > directSolveLimit
    switch name {
    case "naive": return Baselines.NaiveDeletion()
    case "gradient-ascent": return Baselines.GradientAscent()
    case "neggrad-plus": return Baselines.NegGradPlus(beta: 0.9)
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
    _ report: ForgetScore.Report, scenario: String, model: String, trainCount: Int, testCount: Int
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
        row.method == ForgetScore.Experiment<LogisticRegression>.noiseFloorName
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

extension Metrics.ThresholdAttackEstimator.Search {
  /// `challenge` or `exhaustive`.
  init?(cliName: String) {
    switch cliName {
    case "challenge", "challengeGrid": self = .challengeGrid
    case "exhaustive": self = .exhaustive
    default: return nil
    }
  }
}

/// The JSON document of `unlearn evaluate` (schema `unlearn.evaluate/2`: version 1 plus the
/// optional `ulira` and `certificateAudit` objects; method names are the option spellings).
///
/// Confidence tables are models x forget examples, columns in the order of `forgetIDs`.
public struct EvaluateDocument: Codable, Sendable {
  /// `"unlearn.evaluate/2"`.
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
  /// U-LiRA (with `--ulira`), else absent.
  public var ulira: ULiRA.Report?
  /// The certificate audit (with `--audit-certificate`), else absent.
  public var certificateAudit: RemovalCertificate.AuditReport?

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

  init(report: ForgetScore.Report, scenario: String, model: String, regularization: Double) {
    func method(_ row: ForgetScore.Report.Row) -> Method {
      Method(
        method: row.method, unlearnedConfidences: row.unlearnedConfidences,
        retrainedConfidences: row.retrainedConfidences, epsilons: row.epsilons,
        epsilonReasons: row.estimates.map(\.reason.rawValue), forgetScore: row.forgetScore,
        finalScore: row.finalScore,
        unlearned: Accuracies(
          retainAccuracy: row.retainAccuracy, testAccuracy: row.testAccuracy,
          forgetAccuracy: row.forgetAccuracy), meanSeconds: row.meanSeconds)
    }
    schema = "unlearn.evaluate/2"
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
