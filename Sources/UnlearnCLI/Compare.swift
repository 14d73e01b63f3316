import ArgumentParser
import Foundation
import Unlearning

/// `unlearn compare`: every method side by side against retraining.
struct Compare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Compare unlearning methods against retraining on a scenario (default: the hospital).",
    discussion: """
      The goal of unlearning is a model indistinguishable from one retrained without the forgotten samples, not a model that is wrong on them. Every row is measured against that retrained reference.

      Examples:
        unlearn compare
        unlearn compare --model logistic --forget 20 --json out.json --svg out.svg
        unlearn compare --dataset fashion-mnist --classes 0,6 --forget 100
        unlearn compare --dataset fashion-mnist --classes all --forget-class 5
        unlearn compare --dataset csv:data.csv --label-column y --normalize-rows

      With no options: the hospital (400 synthetic patients), logistic regression and a 2-20-1 MLP, 80 patients forgotten.

      Columns: accuracies on test / retain / forget (in brackets: minus retrain's), rho = ||theta_u - theta_r|| / ||theta_o - theta_r|| (0 = retrain, 1 = doing nothing), the gradient residual ||grad L(theta_u; R)|| in sum form, mean KL(p_retrain || p_method) on test and forget, the forget score (below), the loss-threshold membership-inference AUC (forget vs test; retrain's value is the control, not 0.5), the median wall time of the unlearning step over --repeats runs with its min-max, and the speedup over retraining (ratio of the medians; in brackets min retrain / max method to max retrain / min method).

      Forget score (Docs/Math.md sections 8.1 and 8.4, the NeurIPS 2023 challenge's; 1 = indistinguishable from retraining): per method, N models trained on seeded random halves of the retained data plus the forget set and unlearned, against N retrained models on independent halves; per-example epsilons from logit-scaled confidences, 2^-b points in 0.5-wide buckets up to ceil(ln(N - 1)). Retrain's cell (marked *) is the floor: a second, independent group of N retrains against the reference group, the best a method can expect at this N. Rows that cannot be scored (oracle-tuned, SISA's ensemble, data-dependent damping, certified removal's secret b) say why in a note.

      With --seeds K > 1, a second table per model gives means with 95% t-intervals over the K seeds (mean +- t(0.975, K - 1) s / sqrt(K)), timings pooled over every run of every seed, and verdicts judged on the intervals. With one seed the second table gives each value with a 95% percentile-bootstrap interval over the evaluated examples (--bootstrap B resamples of the test, retain and forget examples; accuracy gaps paired with the reference; rho has none), and the verdicts are judged on those.

      Verdict rules (in this order): "reference" is the retrained model; "over-forgets": forget accuracy below retrain's by more than the tolerance (retrain's seed-to-seed spread, at least one forgotten sample) or test accuracy down more than 1 point; "worse than original": rho > 1.05 (networks: test and forget KL to retrain both above 1.05 times the original's); "no change": rho >= 0.95 (networks: both KLs at least 95% of the original's); "close to retrain": rho < 0.1 (networks: both KLs within twice the retrain-vs-retrain noise floor plus 1e-6 nats) with the test and retain gaps within max(tolerance, 1 point) and the forget gap within the tolerance; otherwise "partial". On intervals (t over seeds, or the bootstrap with one seed) a verdict is given only when its condition holds on the whole 95% interval of every quantity it reads (e.g. "close to retrain" needs the upper end of rho's interval below 0.1); otherwise the next rule is tried.

      Methods that cannot run on the data (certified removal without --normalize-rows) are skipped with a one-line reason; the table of the others is always printed.

      --standardize (CSV/LIBSVM): the original model trains on statistics fitted on all training rows; every retrain of the table (the reference; for networks the second-seed noise floor) trains on statistics refitted on the retained rows, as `remove --method retrain` does; every method starts from the original re-expressed on the refitted statistics (W' = W diag(s'/s), the shift into the bias, or dropped and reported when there is none), as `remove` does. So every row is judged against the retrain a user would get. Accuracies, KL, membership AUC and the forget score judge each model on its own statistics (all on the refitted ones; the forget score's models on random halves do not refit per half); rho and the gradient residual are computed in the refitted coordinates, with the original re-expressed. Certified removal is skipped (the statistics depend on every row). With --sisa-shards the statistics are fitted once on all training rows.

      Forgetting a whole class (--forget-class K): the retrained model never predicts K, so near-zero accuracy on the forgotten class is the target and is not called over-forgetting. The table adds per-class test accuracy, the share of class-K test images predicted as K, and the iterated Newton removal (several Newton steps on the retained objective; one step is shown next to it). Models with more than 2000 parameters train by L-BFGS and take Newton steps by conjugate gradient on Hessian-vector (networks: damped Gauss-Newton) products.
      """
  )

  @OptionGroup var data: DataOptions

  @Option(
    help:
      "logistic | softmax | mlp (comma-separated for several; default: logistic and mlp for binary data)."
  )
  var model: String?

  @Option(
    help:
      "Hidden widths of the MLP, comma-separated (default: 20 for binary data, 128 for multiclass Fashion-MNIST)."
  )
  var hidden: String?

  @Option(
    help:
      "Hidden activation of the MLP: tanh | relu | sigmoid (default: tanh for binary data, relu for multiclass Fashion-MNIST)."
  )
  var activation: String?

  @Option(
    help: ArgumentHelp(
      "Methods, comma-separated (default: all): \(Comparison.Method.allCases.map(\.rawValue).joined(separator: ", ")).",
      valueName: "list"))
  var methods: String = "all"

  @Option(help: "Forget this many random training samples (seeded).")
  var forget: Int?

  @Option(
    name: .customLong("forget-ids"),
    help: "Forget the sample ids listed in this file (one integer per line; # comments).")
  var forgetIDs: String?

  @Option(
    name: .customLong("forget-class"),
    help:
      "Forget every training sample of this class (Fashion-MNIST: the class number 0...9, which must be among --classes; other data: the label index)."
  )
  var forgetClass: Int?

  @Option(help: "Iterated Newton removal (--forget-class): maximum number of Newton steps.")
  var newtonSteps: Int = 10

  @Option(help: "MLP: L-BFGS iteration cap for training and retraining.")
  var networkIterations: Int = 5000

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "L2 strength lambda (per sample) of the linear models and the MLP, or auto: per model, train's rule (the grid value 1e-5, 1e-4, ..., 1 with the best accuracy on a seeded 20% of the training rows held out, the largest on a tie; with --seeds, chosen on the first seed's rows). Not with certified removal, which is then skipped.",
      valueName: "value|auto"))
  var lambda: LambdaChoice = .value(1e-3)

  @Option(
    name: .customLong("sisa-shards"),
    help: ArgumentHelp(
      "Instead of the methods table: the SISA shard sweep over these shard counts S (e.g. 1,2,4,8,16): each ensemble's test accuracy against one model trained on all the data, and the time to delete --forget random ids (default 1) against a full retrain.",
      valueName: "list"))
  var sisaShards: String?

  @Option(help: "SISA sweep: slices per shard R.")
  var sisaSlices: Int = 1

  @Option(help: "SISA sweep: timed requests per shard count (median and range).")
  var sisaRepeats: Int = 3

  @OptionGroup(title: "Certified removal") var privacyOptions: PrivacyOptions

  @Option(help: "Seed of every random choice (data, forget set, initialisation, noise).")
  var seed: UInt64 = 42

  @Option(
    help:
      "Repeat the whole comparison with seeds --seed, --seed + 1, ... (data split, forget set, initialisation) and report means with 95% t-intervals."
  )
  var seeds: Int = 1

  @Option(
    name: .customLong("forget-score-models"),
    help:
      "Models per group N of the forget-score column (0: no forget score). Costs about (3 + methods) x N trainings per model."
  )
  var forgetScoreModels: Int = 16

  @Option(
    help:
      "Runs of every unlearning step and of retraining; times are the median with min-max (a step slower than 5 s runs once)."
  )
  var repeats: Int = 3

  @Option(
    help:
      "With one seed: resamples B of the 95% bootstrap intervals over the evaluated examples (0: none; verdicts then read the point values)."
  )
  var bootstrap: Int = 1000

  @Option(help: "Write the full results as JSON to this file.")
  var json: String?

  @Option(help: "Write the table as CSV (raw units, one row per model and method) to this file.")
  var csv: String?

  @Option(
    help:
      "Write an SVG figure (accuracy gaps, KL, time; decision boundaries for 2-D data) to this file, and its plotted values as CSV beside it (figure.svg: figure.csv)."
  )
  var svg: String?

  func validate() throws {
    if [forget != nil, forgetIDs != nil, forgetClass != nil].filter({ $0 }).count > 1 {
      throw ValidationError("give only one of --forget, --forget-ids and --forget-class")
    }
    guard newtonSteps >= 1 else { throw ValidationError("--newton-steps must be at least 1") }
    guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
    guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    guard forgetScoreModels == 0 || forgetScoreModels >= 2 else {
      throw ValidationError("--forget-score-models must be 0 (off) or at least 2")
    }
    guard networkIterations >= 1 else {
      throw ValidationError("--network-iterations must be at least 1")
    }
    if case .value(let given) = lambda, !(given > 0 && given.isFinite) {
      throw ValidationError("--lambda must be positive")
    }
    let p = privacyOptions
    guard p.epsilon > 0, p.delta > 0, p.delta < 1 else {
      throw ValidationError("--epsilon must be > 0 and --delta in (0, 1)")
    }
    if let sigma = p.sigma, !(sigma > 0) { throw ValidationError("--sigma must be positive") }
    _ = try parsedMethods()
    _ = try parsedModels()
  }

  func parsedMethods() throws -> [Comparison.Method] {
    if methods == "all" { return Comparison.Method.allCases }
    let names = methods.split(separator: ",").filter {
      !$0.trimmingCharacters(in: .whitespaces).isEmpty
    }
    guard !names.isEmpty else {
      throw ValidationError(
        "--methods: give at least one of \(Comparison.Method.allCases.map(\.rawValue).joined(separator: ", "))"
      )
    }
    return try names.map { name in
      guard let m = Comparison.Method(rawValue: String(name).trimmingCharacters(in: .whitespaces))
      else {
        throw ValidationError(
          "unknown method '\(name)'; choose from \(Comparison.Method.allCases.map(\.rawValue).joined(separator: ", "))"
        )
      }
      return m
    }
  }

  /// Whether the data is multiclass Fashion-MNIST (the MLP default is then 128 ReLU units).
  var isMulticlassImages: Bool {
    data.dataset == "fashion-mnist" && selectedClasses.count > 2
  }

  /// The Fashion-MNIST classes `--classes` selects (`all` is 0...9).
  var selectedClasses: [Int] {
    data.classes == "all"
      ? Array(0...9)
      : data.classes.split(separator: ",").compactMap {
        Int($0.trimmingCharacters(in: .whitespaces))
      }
  }

  func parsedModels() throws -> [Comparison.ModelChoice]? {
    guard let model else { return nil }
    let activation = self.activation ?? (isMulticlassImages ? "relu" : "tanh")
    let hidden = self.hidden ?? (isMulticlassImages ? "128" : "20")
    guard let act = MultilayerPerceptron.Activation(rawValue: activation) else {
      throw ValidationError("unknown activation '\(activation)'")
    }
    let widths = try hidden.split(separator: ",").map { w -> Int in
      guard let v = Int(w), v > 0 else {
        throw ValidationError("--hidden: '\(w)' is not a positive integer")
      }
      return v
    }
    return try model.split(separator: ",").map { name in
      switch name.trimmingCharacters(in: .whitespaces) {
      case "logistic": return .logistic
      case "softmax": return .softmax
      case "mlp": return .mlp(hidden: widths, activation: act)
      default: throw ValidationError("unknown model '\(name)'; choose logistic, softmax or mlp")
      }
    }
  }

  /// The label index of `--forget-class K`: for Fashion-MNIST the position of class `K` in
  /// `--classes` (a class that is not selected is an error naming it); otherwise `K` itself
  /// (checked against the loaded data by the comparison).
  func forgottenLabel(_ k: Int) throws -> Int {
    guard data.dataset == "fashion-mnist" else { return k }
    let selected = selectedClasses
    guard (0...9).contains(k) else {
      throw CLIError("--forget-class \(k): Fashion-MNIST classes are 0...9")
    }
    guard let position = selected.firstIndex(of: k) else {
      throw CLIError(
        "--forget-class \(k) (\(Scenario.FashionMNIST.classNames[k])) is not among --classes \(data.classes)"
      )
    }
    return position
  }

  func scenario() throws -> Scenario { try data.scenario(seed: seed) }

  @OptionGroup var progressOptions: ProgressOptions

  /// Certified removal needs every row of norm at most 1. On CSV or LIBSVM data without
  /// `--normalize-rows` whose rows are longer, it is dropped from the methods and the one-line
  /// reason is returned (printed under the table); when it was the only method, that is an error.
  func skipCertifiedIfImpossible(_ configuration: inout Comparison.Configuration) throws
    -> [String]
  {
    guard configuration.methods.contains(.certified) else { return [] }
    switch configuration.scenario {
    case .csv(_, _, _, _, false, _, _), .libsvm(_, _, _, false): break
    default: return []
    }
    let (train, _) = try runReportingErrors { try configuration.scenario.load() }
    let norm = train.maximumRowNorm
    guard norm > 1 + 1e-12 else { return [] }
    let reason =
      "skipped certified removal: it needs rows of norm <= 1 (the largest here is \(ComparisonRendering.num(norm))); pass --normalize-rows"
    configuration.methods.removeAll { $0 == .certified }
    guard !configuration.methods.isEmpty else { throw CLIError(reason) }
    progressLine(reason)
    return [reason]
  }

  func run() throws {
    progressOptions.apply()
    let outputs =
      [json, csv, svg, svg.map(SVGFigure.dataPath(besides:))].compactMap { $0 }.filter {
        $0 != "-"
      }
    _ = try runReportingErrors { try SecureFile.checkOutputs(inputs: [], outputs: outputs) }
    var configuration = Comparison.Configuration()
    configuration.scenario = try scenario()
    configuration.models = try parsedModels()
    configuration.methods = try parsedMethods()
    if case .value(let given) = lambda {
      configuration.regularization = given
      configuration.networkRegularization = given
    }
    let p = privacyOptions
    configuration.epsilon = p.epsilon
    configuration.delta = p.delta
    configuration.sigma = p.sigma
    configuration.budget = p.budget ?? configuration.budget
    configuration.calibration = p.calibration
    configuration.accounting = p.accounting
    configuration.solver = p.solver.solver
    configuration.seed = seed
    configuration.seedCount = seeds
    configuration.forgetScoreModelCount = forgetScoreModels
    configuration.bootstrapResamples = bootstrap
    configuration.timingRepeats = repeats
    configuration.iteratedNewtonSteps = newtonSteps
    configuration.networkMaximumIterations = networkIterations
    if let forget { configuration.forget = .random(count: forget) }
    if let forgetIDs { configuration.forget = .ids(try readIDs(forgetIDs)) }
    if let forgetClass { configuration.forget = .wholeClass(try forgottenLabel(forgetClass)) }
    if data.dataset == "fashion-mnist" && data.trainLimit == nil && isMulticlassImages
      && (configuration.models ?? [.mlp(hidden: [], activation: .relu)]).contains(where: {
        if case .mlp = $0 { return true } else { return false }
      })
    {
      progressLine(
        "note: the MLP on all \(selectedClasses.count * 6000) training images takes a long time; --train-limit N subsamples it"
      )
    }

    let shardCounts = try parsedShardCounts()
    var skipped = [String]()
    if shardCounts == nil {
      // Refusals first: no lambda fits for a run that cannot start.
      skipped = try skipCertifiedForDataDependentChoices(&configuration)
      skipped += try skipCertifiedIfImpossible(&configuration)
    }
    if data.standardize {
      if shardCounts != nil {
        // The SISA sweep times deletions only: one set of statistics, fitted on all rows.
        configuration.scenario = .standardized(configuration.scenario)
      } else {
        configuration.standardizesFeatures = true
      }
    }
    let selections = try chooseLambdas(&configuration)
    if let shardCounts {
      return try runSISASweep(shardCounts, configuration: configuration)
    }
    let result = try runReportingErrors {
      try Comparison.run(configuration, progress: progressLine)
    }
    let header = compareHeader(configuration: configuration, selections: selections)
    for line in header { print(line) }
    print(ComparisonRendering.text(result))
    for line in skipped { print(line) }
    for summary in result.models {
      if let s = summary.standardization { print(StandardizationNote.compared(summary.model, s)) }
    }
    if let json {
      try runReportingErrors {
        try writeJSONAtomically(
          CompareOutput(
            result: result, lambda: lambdaReport(configuration, selections: selections),
            standardization: data.standardize ? CompareOutput.standardizationNote : nil,
            skipped: skipped), to: json)
      }
      progressLine("wrote \(json)")
    }
    if let csv {
      try runReportingErrors { try writeTextAtomically(ComparisonRendering.csv(result), to: csv) }
      progressLine("wrote \(csv)")
    }
    if let svg {
      try runReportingErrors { try ComparisonRendering.svg(result).write(to: svg) }
      progressLine("wrote \(svg) and its plotted data \(SVGFigure.dataPath(besides: svg))")
    }
  }
}

/// Reads sample ids, one integer per line (blank lines and `#` comments allowed; CRLF and a
/// byte-order mark accepted; `-` reads standard input).
package func readIDs(_ path: String) throws -> [SampleID] {
  let ids = try runReportingErrors { try SampleID.readList(path: path) }
  if ids.isEmpty { throw CLIError("\(path): no sample ids") }
  return ids
}

/// A one-line error for the command line (non-zero exit, no stack trace).
public struct CLIError: Error, CustomStringConvertible, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Runs `body`, turning library errors into one-line CLI errors.
@discardableResult
package func runReportingErrors<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as CustomStringConvertible & Error {
    throw CLIError(error.description)
  }
}

// MARK: - --lambda auto and --standardize

extension Compare {
  /// One model's `--lambda auto` outcome.
  struct LambdaChoiceReport: Encodable {
    /// The model the rule ran on (e.g. `logistic`).
    var model: String
    /// Which lambda of the comparison it sets: `linear` (logistic and softmax) or `network`.
    var sets: String
    var outcome: LambdaSelection.Outcome
  }

  /// The `lambda` entry of the JSON: the values used and how they were set.
  struct LambdaReport: Encodable {
    /// `given` (--lambda VALUE, or the default 1e-3) or `auto`.
    var rule: String
    /// lambda of the linear models and of the networks (per sample, sum form).
    var linear: Double
    var network: Double
    /// The rule's outcomes (empty unless `rule` is `auto`).
    var selections: [LambdaChoiceReport]
  }

  /// `--lambda auto` and `--standardize` make choices that depend on every training row, so
  /// certified removal (whose certificate covers only the model's own training) is dropped
  /// with a one-line reason; when it was the only method, that is an error.
  func skipCertifiedForDataDependentChoices(_ configuration: inout Comparison.Configuration)
    throws -> [String]
  {
    guard configuration.methods.contains(.certified) else { return [] }
    var reasons = [String]()
    if lambda == .auto {
      reasons.append(
        "skipped certified removal: --lambda auto chooses lambda on every training row, forgotten ones included, which the certificate does not cover; give --lambda VALUE"
      )
    }
    if data.standardize {
      reasons.append(
        "skipped certified removal: --standardize fits its statistics on every training row, forgotten ones included, which the certificate does not cover; use --normalize-rows"
      )
    }
    guard !reasons.isEmpty else { return [] }
    configuration.methods.removeAll { $0 == .certified }
    guard !configuration.methods.isEmpty else { throw CLIError(reasons[0]) }
    for reason in reasons { progressLine(reason) }
    return reasons
  }

  /// Applies `--lambda auto` (``LambdaSelection``, `train`'s rule) to every compared model on
  /// the first seed's training rows: the linear models' value sets
  /// `configuration.regularization` (the first linear model's, when several), the MLP's sets
  /// `networkRegularization`. Returns the outcomes; nothing when lambda was given.
  func chooseLambdas(_ configuration: inout Comparison.Configuration) throws
    -> [LambdaChoiceReport]
  {
    guard lambda == .auto else { return [] }
    var (train, _) = try runReportingErrors { try configuration.scenario.load() }
    if configuration.standardizesFeatures == true {
      // `train`'s rule: on the training rows standardised by their own statistics.
      train = try runReportingErrors {
        try Dataset.Standardization(fittedOn: train).apply(to: train)
      }
    }
    let k = train.classCount
    var reports = [LambdaChoiceReport]()
    var linearSet = false
    var networkSet = false
    for choice in configuration.resolvedModels(classCount: k) {
      let spec: ModelFile.Specification
      let isNetwork: Bool
      switch choice {
      case .logistic:
        guard k == 2 else { continue }  // the comparison reports the class mismatch
        spec = .logistic(featureCount: train.featureCount, fitsIntercept: false)
        isNetwork = false
      case .softmax:
        spec = .softmax(featureCount: train.featureCount, classCount: k)
        isNetwork = false
      case .mlp(let hidden, let activation):
        spec = .multilayerPerceptron(
          layerSizes: [train.featureCount] + hidden + [k == 2 ? 1 : k],
          hiddenActivation: activation)
        isNetwork = true
      }
      if (isNetwork && networkSet) || (!isNetwork && linearSet) { continue }
      let (trainer, _) = try EngineChoice.trainer(for: spec, seed: configuration.seed)
      progressLine(
        "lambda auto (\(choice)): \(LambdaSelection.grid.count) fits on 80% of the training rows")
      let outcome = try LambdaSelection.choose(
        spec: spec, train: train, trainer: trainer, seed: configuration.seed)
      progressLine(outcome.summary)
      if isNetwork {
        configuration.networkRegularization = outcome.chosen
        networkSet = true
      } else {
        configuration.regularization = outcome.chosen
        linearSet = true
      }
      reports.append(
        LambdaChoiceReport(
          model: "\(choice)", sets: isNetwork ? "network" : "linear", outcome: outcome))
    }
    return reports
  }

  /// The JSON's `lambda` entry.
  func lambdaReport(
    _ configuration: Comparison.Configuration, selections: [LambdaChoiceReport]
  ) -> LambdaReport {
    LambdaReport(
      rule: lambda == .auto ? "auto" : "given", linear: configuration.regularization,
      network: configuration.networkRegularization, selections: selections)
  }

  /// The lines printed above the table: the chosen lambdas (with `--lambda auto`) and the
  /// standardisation (with `--standardize`).
  func compareHeader(
    configuration: Comparison.Configuration, selections: [LambdaChoiceReport]
  ) -> [String] {
    var lines = selections.map { "\($0.model): \($0.outcome.summary)" }
    if data.standardize { lines.append(CompareOutput.standardizationNote) }
    return lines
  }
}

/// The JSON of `unlearn compare` (schema `unlearn.compare/4`): the comparison's result with,
/// at the top level, `lambda` (``Compare/LambdaReport``: the values used and, with
/// `--lambda auto`, each model's grid and validation accuracies), `standardization` (a
/// sentence, present with `--standardize`; each model's statistics and re-expression are in
/// `models[].standardization`) and `skipped` (one-line reasons for methods that did not run).
struct CompareOutput: Encodable {
  var result: Comparison.Result
  var lambda: Compare.LambdaReport
  var standardization: String?
  var skipped: [String]

  static let standardizationNote =
    "features standardised (mean 0, standard deviation 1; constant features centred, scale 1): the original on statistics fitted on all training rows; every retrain (the reference, the noise floor) on statistics refitted on the retained rows, as remove --method retrain does; every method from the original re-expressed on the refitted statistics, as remove does. Accuracies, KL, membership AUC and the forget score judge each model on its own statistics; rho and the gradient residual are in the refitted coordinates."

  private enum Keys: String, CodingKey { case lambda, standardization, skipped }

  func encode(to encoder: any Encoder) throws {
    try result.encode(to: encoder)
    var container = encoder.container(keyedBy: Keys.self)
    try container.encode(lambda, forKey: .lambda)
    try container.encodeIfPresent(standardization, forKey: .standardization)
    try container.encode(skipped, forKey: .skipped)
  }
}
