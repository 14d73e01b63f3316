import ArgumentParser
import Foundation
import Unlearning

extension CertifiedRemoval.Accounting: ExpressibleByArgument {}
extension RemovalCertificate.Bound: ExpressibleByArgument {}
extension PrivacyParameters.Calibration: ExpressibleByArgument {}

/// `--model`: a model kind.
enum ModelKind: String, ExpressibleByArgument, CaseIterable {
  case logistic, softmax, mlp
}

/// `--solver` of certified training.
package enum SolverChoice: String, ExpressibleByArgument, CaseIterable {
  case downdatedFactor = "downdated-factor"
  case amortised
  case cholesky
  case cg

  package var solver: NewtonSolver {
    switch self {
    case .downdatedFactor: return .default
    case .amortised: return .downdatedFactor(.amortised)
    case .cholesky: return .cholesky
    case .cg: return .conjugateGradient
    }
  }
}

/// `remove --method`.
enum RemovalMethod: String, ExpressibleByArgument, CaseIterable {
  case newton, retrain, certified, sisa
}

/// `train --method`.
enum TrainingMethod: String, ExpressibleByArgument, CaseIterable {
  case single, sisa
}

/// `train --aggregation`.
enum AggregationChoice: String, ExpressibleByArgument, CaseIterable {
  case mean, vote

  var aggregation: SISA.Aggregation {
    self == .mean ? .averagedProbabilities : .majorityVote
  }
}

/// The certified-training options shared by `train`.
package struct PrivacyOptions: ParsableArguments {
  package init() {}

  @Option(parsing: .unconditional, help: "Certified: epsilon.")
  var epsilon: Double = 1

  @Option(parsing: .unconditional, help: "Certified: delta.")
  var delta: Double = 1e-4

  @Option(
    parsing: .unconditional,
    help: "Certified: noise sigma of b. Give --sigma or --budget, not both.")
  var sigma: Double?

  @Option(
    parsing: .unconditional,
    help: "Certified: gradient-residual budget eps' (sigma is calibrated from it; default 0.5).")
  var budget: Double?

  @Option(help: "Certified: budget accounting (exact-step | paper).")
  package var accounting: CertifiedRemoval.Accounting = .exactStep

  @Option(
    help:
      "Certified: Newton solver (downdated-factor | amortised: O(d^2) steps between exact ones, Docs/Math.md 6.10 | cholesky | cg)."
  )
  package var solver: SolverChoice = .downdatedFactor

  @Option(
    help:
      "Certified: how sigma and the budget relate (exact: the Gaussian privacy profile, valid for every epsilon; classic: Guo et al.'s formula, refused where it fails)."
  )
  var calibration: PrivacyParameters.Calibration = .exact

  package func validate() throws {
    if sigma != nil && budget != nil {
      throw ValidationError("give --sigma or --budget, not both")
    }
  }

  package func privacy() throws -> PrivacyParameters {
    try runReportingErrors {
      try sigma.map {
        try PrivacyParameters(epsilon: epsilon, delta: delta, sigma: $0, calibration: calibration)
      }
        ?? PrivacyParameters(
          epsilon: epsilon, delta: delta, budget: budget ?? 0.5, calibration: calibration)
    }
  }
}

// MARK: - train

/// `unlearn train`: train a model and save it as a versioned model file.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a model on a scenario and write it to a model file.",
    discussion: """
      Examples:
        unlearn train --out hospital.json
        unlearn train --certified --epsilon 1 --delta 1e-4 --sigma 1 --out cert.json
        unlearn train --dataset fashion-mnist --certified --sigma 10 --out fm.json
        unlearn train --dataset csv:data.csv --id-column pid --out data.json
        unlearn train --method sisa --shards 4 --slices 4 --out sisa.json

      The model file is the private state: the parameters, where the data came from and its fingerprint (checked by `remove`), and for certified models the secret perturbation b (drawn from the system's cryptographic generator) with the certification state. It is written with mode 0600. Publish `unlearn export --public` instead. With --certified, --model softmax trains one-vs-rest logistic heads.

      Engines: a dense p x p Hessian (Newton training, Cholesky solves) is built only for at most 5000 parameters and when three such matrices fit in half the free memory; otherwise training runs L-BFGS and Newton steps run conjugate gradient. The choice is printed. Training that does not converge is an error unless --allow-unconverged is given.

      SISA (--method sisa): the training ids are dealt by --seed to --shards shards of --slices slices; shard s trains slice by slice (each slice on the rows of all slices so far, warm-started), keeping a checkpoint after every slice. The file holds the layout and every checkpoint; `unlearn remove` retrains only the shards holding a forgotten id, from their last checkpoint before it. Predictions aggregate the shards (--aggregation); the file's parameters are the mean of the shards' (see Docs/Math.md).
      """
  )

  @OptionGroup var data: DataOptions

  @Option(help: "Model kind (logistic | softmax | mlp).")
  var model: ModelKind = .logistic

  @Option(help: "single: one model | sisa: an ensemble of --shards models (see below).")
  var method: TrainingMethod = .single

  @Option(help: "SISA: the number of shards S.")
  var shards: Int = 4

  @Option(help: "SISA: slices per shard R (one checkpoint after each).")
  var slices: Int = 4

  @Option(help: "SISA: how predictions combine the shards (mean: averaged probabilities | vote).")
  var aggregation: AggregationChoice = .mean

  @Option(help: "Hidden widths of the MLP, comma-separated.")
  var hidden: String = "20"

  @Option(help: "Hidden activation of the MLP: tanh | relu | sigmoid.")
  var activation: String = "tanh"

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "L2 strength lambda per sample (objective: sum of losses + lambda n / 2 ||theta||^2), or auto: the grid value 1e-5, 1e-4, ..., 1 with the best accuracy on a seeded 20% of the training rows held out (ties: the largest), fitted on the rest. Default: auto on CSV/LIBSVM data without --certified, else 1e-3. The value is stored in the model file and kept by every removal and retrain.",
      valueName: "value|auto"))
  var lambda: LambdaChoice?

  /// Whether `--lambda` means the rule: given as `auto`, or not given on CSV/LIBSVM data
  /// (certified training keeps the fixed default: see ``validate()``).
  var lambdaIsAuto: Bool {
    switch lambda {
    case .auto: return true
    case .value: return false
    case nil:
      return !certified && (data.dataset.hasPrefix("csv:") || data.dataset.hasPrefix("libsvm:"))
    }
  }

  @Flag(
    help: "Train for certified removal: loss perturbation b ~ N(0, sigma^2 I) (not for mlp).")
  var certified = false

  @Flag(
    help:
      "Logistic: fit an intercept (a bias on a constant-1 feature, the last parameter). Not with --certified, whose bound needs ||x|| <= 1: append a constant feature c to every row and scale rows to norm 1 instead (the weight on c acts as the intercept)."
  )
  var intercept = false

  @OptionGroup var privacyOptions: PrivacyOptions

  @Option(help: "Seed of the data split and initialisation (never of b).")
  var seed: UInt64 = 42

  @Option(help: "The model file to write (atomically, mode 0600).")
  var out: String

  @Flag(help: "Write the model file even when training did not converge (otherwise an error).")
  var allowUnconverged = false

  @Option(
    help:
      "Also write a JSON summary (schema unlearn.train/1: model, lambda and how it was chosen, standardisation, training) to this file (- for stdout)."
  )
  var json: String?

  func validate() throws {
    if case .value(let given) = lambda, !(given > 0 && given.isFinite) {
      throw ValidationError("--lambda must be positive")
    }
    if certified && lambda == .auto {
      throw ValidationError(
        "--lambda auto is not for --certified: a value chosen on the training rows depends on rows that may later be forgotten, which the certificate does not cover; give --lambda VALUE"
      )
    }
    if certified && data.standardize {
      throw ValidationError(
        "--standardize is not for --certified: its statistics are fitted on every training row, so a model on standardised features depends on forgotten rows through them, which the certificate does not cover; use --normalize-rows (per row, fitted on nothing)"
      )
    }
    if method == .sisa && data.standardize {
      throw ValidationError(
        "--standardize is not for --method sisa: statistics fitted on all rows would outlive a shard's retrain; standardise the file beforehand or train a single model"
      )
    }
    if intercept && (certified || model != .logistic) {
      throw ValidationError(
        "--intercept applies to --model logistic without --certified (certified models: add a constant feature, then --normalize-rows)"
      )
    }
    if certified && model == .mlp {
      throw ValidationError("--certified needs --model logistic or softmax (one-vs-rest)")
    }
    if method == .sisa {
      guard !certified else { throw ValidationError("--method sisa cannot be --certified") }
      guard shards >= 1, slices >= 1 else {
        throw ValidationError("--shards and --slices must be at least 1")
      }
    }
  }

  @OptionGroup var progressOptions: ProgressOptions

  func run() throws {
    progressOptions.apply()
    try runReportingErrors {
      try SecureFile.checkOutputs(
        inputs: [], outputs: [out] + [json].compactMap { $0 }.filter { $0 != "-" })
    }
    let scenario = try data.scenario(seed: seed)
    progressLine("loading \(scenario)")
    let (raw, _) = try runReportingErrors { try scenario.load() }
    var train = raw
    var standardization: Dataset.Standardization?
    if data.standardize {
      let statistics = try runReportingErrors { try Dataset.Standardization(fittedOn: raw) }
      train = try runReportingErrors { try statistics.apply(to: raw) }
      standardization = statistics
      progressLine(StandardizationNote.fitted(statistics))
    }
    let spec = try specification(for: train)
    progressLine("training \(spec) on \(train.count) samples")
    let (trainer, trainerLine) = try EngineChoice.trainer(for: spec, seed: seed)
    var lambda = 1e-3
    if case .value(let given) = self.lambda { lambda = given }
    var selection: LambdaSelection.Outcome?
    if lambdaIsAuto {
      progressLine(
        "lambda auto: \(LambdaSelection.grid.count) fits of \(spec) on 80% of the training rows")
      let outcome = try LambdaSelection.choose(
        spec: spec, train: train, trainer: trainer, seed: seed)
      progressLine(outcome.summary)
      lambda = outcome.chosen
      selection = outcome
    }
    if certified {
      let p = train.featureCount
      guard EngineChoice.denseFits(parameterCount: p) else {
        throw CLIError(
          "--certified keeps a dense \(p) x \(p) Hessian factor (\(EngineChoice.denseSize(parameterCount: p))), "
            + "more than this machine can hold (limit \(EngineChoice.denseParameterLimit) features); "
            + "reduce the features or train without --certified")
      }
      progressLine("trainer: Newton (dense \(p) x \(p) Hessian per head), \(p) features")
    } else {
      progressLine(trainerLine)
    }
    let file: ModelFile = try runReportingErrors {
      if certified {
        let privacy = try privacyOptions.privacy()
        let trainer = Training.Newton(gradientTolerance: 1e-10, seed: seed)
        let common = (privacy, privacyOptions.accounting, privacyOptions.solver.solver)
        if train.classCount == 2 && model == .logistic {
          let state = try TrainedModel.trainCertified(
            model: LogisticRegression(featureCount: train.featureCount), data: train,
            regularization: lambda, privacy: common.0, accounting: common.1, solver: common.2,
            trainer: trainer)
          return try ModelFile(state: state, scenario: scenario, trainingSeed: seed)
        }
        let heads = try OneVsRest(
          head: LogisticRegression(featureCount: train.featureCount),
          classCount: train.classCount)
        let state = try TrainedModel.trainCertified(
          model: heads, data: train, regularization: lambda, privacy: common.0,
          accounting: common.1, solver: common.2, trainer: trainer)
        return try ModelFile(state: state, scenario: scenario, trainingSeed: seed)
      }
      if method == .sisa {
        progressLine(
          "SISA: \(shards) shards x \(slices) slices, \(shards * slices) slice trainings")
        return try spec.accept(
          SISATrainVisitor(
            data: train, regularization: lambda, trainer: trainer, scenario: scenario, seed: seed,
            shards: shards, slices: slices, aggregation: aggregation.aggregation))
      }
      return try spec.accept(
        TrainVisitor(
          data: train, regularization: lambda, trainer: trainer, scenario: scenario, seed: seed,
          standardization: standardization, rawFingerprint: raw.fingerprint))
    }
    let t = file.training
    if !t.converged && !allowUnconverged {
      throw CLIError(
        "training (\(t.method)) did not converge in \(t.iterations) iterations; "
          + "check the data's scale (e.g. --normalize-rows) or pass --allow-unconverged to keep it")
    }
    if let json {
      try runReportingErrors {
        try writeJSONAtomically(
          TrainOutput(
            file: file, out: out,
            lambdaRule: lambdaIsAuto ? "auto" : self.lambda == nil ? "default" : "given",
            lambdaSelection: selection), to: json)
      }
    }
    try runReportingErrors { try StateStore.create(file, at: out) }
    print(
      "trained \(file.model): \(t.iterations) \(file.sisa == nil ? "iterations" : "slice trainings")\(t.converged ? "" : " - NOT converged"), \(ComparisonRendering.seconds(t.seconds))"
    )
    if let sisa = file.sisa {
      print(
        "SISA: \(sisa.layout.shardCount) shards x \(sisa.layout.sliceCount) slices, layout seed \(seed), aggregation \(aggregation.rawValue); parameters in the file: the mean of the shards'"
      )
    }
    print(
      "lambda \(ComparisonRendering.num(file.regularization))"
        + (lambdaIsAuto
          ? " (chosen by --lambda auto on a held-out 20% of the training rows; kept by every removal and retrain)"
          : ""))
    if let statistics = file.standardization {
      print(StandardizationNote.fitted(statistics))
    }
    if let c = file.certification {
      print(
        "certified: epsilon \(c.privacy.epsilon), delta \(c.privacy.delta), sigma \(ComparisonRendering.num(c.privacy.sigma)), budget \(ComparisonRendering.num(c.budget)), spent \(ComparisonRendering.num(c.spent)) (\(c.accounting.rawValue) accounting, \(c.solver.name) solver)"
      )
    }
    print(
      "wrote \(out) (private, mode 0600) and its deletion ledger \(StateStore(path: out).ledgerPath)"
    )
  }

  func specification(for train: Dataset) throws -> ModelFile.Specification {
    switch model {
    case .logistic:
      guard train.classCount == 2 else {
        throw CLIError(
          "logistic regression needs 2 classes; the data has \(train.classCount) (use --model softmax)"
        )
      }
      return .logistic(featureCount: train.featureCount, fitsIntercept: intercept)
    case .softmax:
      return .softmax(featureCount: train.featureCount, classCount: train.classCount)
    case .mlp:
      guard let act = MultilayerPerceptron.Activation(rawValue: activation) else {
        throw ValidationError("unknown activation '\(activation)'")
      }
      let widths = try hidden.split(separator: ",").map { w -> Int in
        guard let v = Int(w), v > 0 else {
          throw ValidationError("--hidden: '\(w)' is not a positive integer")
        }
        return v
      }
      return .multilayerPerceptron(
        layerSizes: [train.featureCount] + widths + [train.classCount == 2 ? 1 : train.classCount],
        hiddenActivation: act)
    }
  }
}

/// Trains any model and packs the result into a model file.
struct TrainVisitor: ModelVisitor {
  var data: Dataset
  var regularization: Double
  var trainer: any Trainer
  var scenario: Scenario
  var seed: UInt64
  /// The statistics `data` was standardised with, else `nil`.
  var standardization: Dataset.Standardization? = nil
  /// The fingerprint of the data as `scenario` loads it (before standardisation).
  var rawFingerprint: String? = nil

  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> ModelFile {
    let state = try TrainedModel.train(
      model: model, data: data, regularization: regularization, trainer: trainer)
    return try ModelFile(
      state: state, scenario: scenario, trainingSeed: seed, standardization: standardization,
      dataFingerprint: standardization == nil ? nil : rawFingerprint)
  }
}

/// Trains a SISA ensemble and packs it into a model file (version 3).
struct SISATrainVisitor: ModelVisitor {
  var data: Dataset
  var regularization: Double
  var trainer: any Trainer
  var scenario: Scenario
  var seed: UInt64
  var shards: Int
  var slices: Int
  var aggregation: SISA.Aggregation

  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> ModelFile {
    guard let settings = Training.Settings(trainer) else {
      throw CLIError("SISA cannot store the trainer \(type(of: trainer))")
    }
    let start = DispatchTime.now().uptimeNanoseconds
    let ensemble = try SISA.Ensemble.train(
      model: model, data: data, shardCount: shards, sliceCount: slices, layoutSeed: seed,
      regularization: regularization, trainer: settings, initializationSeed: seed,
      aggregation: aggregation)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    for line in ensemble.unconvergedSlices { progressLine("not converged: \(line)") }
    return try ModelFile(
      ensemble: ensemble, scenario: scenario, layoutSeed: seed,
      training: ModelFile.TrainingSummary(
        method: "sisa (\(shards) x \(slices) slice trainings)",
        iterations: shards * slices, converged: ensemble.unconvergedSlices.isEmpty,
        seconds: seconds))
  }
}

// MARK: - remove

/// `unlearn remove`: forget samples from a saved model and write the updated model file.
struct Remove: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Forget samples from a saved model; write the new model file and a report.",
    usage: "unlearn remove --model-file <f> --forget-ids <f> --out <f> [<options>]",
    discussion: """
      Examples:
        unlearn remove --model-file h.json --forget-ids ids.txt --out h2.json
        unlearn remove --model-file c.json --forget-ids ids --out c.json --json r
        unlearn remove --model-file d.json --forget-ids - --out d.json --data new.csv

      The data is loaded again from the scenario recorded in the model file (its path is stored absolute; --data names a new location) and must have the recorded fingerprint. SISA model files (`train --method sisa`) run --method sisa: only the shards holding a forgotten id are retrained, from their last checkpoint before it, and every later checkpoint is replaced. Ids are sample ids: row numbers, or the values of the CSV's --id-column. Certified models run certified removal with the solver stored in the file and keep their budget across calls. Models trained with --standardize: every method refits the standardization on the retained rows (the forgotten rows leave the statistics) and re-expresses the parameters on it before it runs (W' = W diag(s'/s); the shift W diag(1/s)(mu' - mu) goes into the bias, or, without one, is dropped and corrected by the method's step), so newton steps towards exactly the retrain on refitted statistics; the JSON's `standardization` says how. The report is written before the model file, so a failed report never leaves a committed removal behind.
      """
  )

  @Option(name: .customLong("model-file"), help: "The model file to remove from.")
  var modelFile: String

  @Option(
    name: .customLong("forget-ids"),
    help: "File of sample ids to forget (one integer per line; # comments; - for stdin).")
  var forgetIDs: String

  @Option(
    help:
      "newton | retrain | certified | sisa (default: certified for certified models, sisa for SISA files)."
  )
  var method: RemovalMethod?

  @Option(help: "The updated model file to write (atomically; may equal --model-file).")
  var out: String

  @Option(help: "Write the removal report (and certificate) as JSON to this file (- for stdout).")
  var json: String?

  @Option(help: "Seconds to wait for another request holding the model file's lock.")
  var lockTimeout: Double = 60

  @Option(
    help: ArgumentHelp(
      "The data file, when it has moved since training (CSV and LIBSVM; its fingerprint is still checked). The new model file records this path.",
      valueName: "path"))
  var data: String?

  @OptionGroup var progressOptions: ProgressOptions

  func run() throws {
    progressOptions.apply()
    let inputs = [modelFile == out ? nil : modelFile, forgetIDs == "-" ? nil : forgetIDs]
    try runReportingErrors {
      try SecureFile.checkOutputs(
        inputs: inputs.compactMap { $0 }, outputs: [out, json].compactMap { $0 })
    }
    let ids = try readIDs(forgetIDs)
    let store = StateStore(path: modelFile)
    let report = try runReportingErrors {
      try store.update(writingTo: out, timeout: lockTimeout) { file in
        try self.apply(ids, to: file)
      }
    }
    if report.method == "sisa" {
      print(
        "removed \(report.forgottenCount) samples by sisa in \(ComparisonRendering.seconds(report.seconds)): \(report.notes.first ?? "nothing retrained")"
      )
    } else {
      print(
        "removed \(report.forgottenCount) samples by \(report.method) in \(ComparisonRendering.seconds(report.seconds)); gradient residual \(ComparisonRendering.num(report.gradientResidualNorm)) (sum form, retained data)"
      )
    }
    if let c = report.certificate { print("certificate: \(c)") }
    for note in report.notes where note.contains("standardization") { print(note) }
    print("wrote \(out) and appended to \(StateStore(path: out).ledgerPath)")
  }

  /// The request itself, run under the state's lock: load the data, remove, write the report
  /// (before anything is committed).
  func apply(_ ids: [SampleID], to file: ModelFile) throws -> (StateStore.Update, RemovalReport) {
    let loadStart = DispatchTime.now().uptimeNanoseconds
    let scenario = try scenario(of: file, data: data)
    progressLine("loading \(scenario)")
    let (train, _) = try loadRecordedData(scenario)
    let chosen =
      method ?? (file.certification != nil ? .certified : file.sisa != nil ? .sisa : .newton)
    if file.sisa != nil && chosen != .sisa {
      throw CLIError(
        "\(modelFile) is a SISA ensemble: use --method sisa (other methods would not update its shards)"
      )
    }
    if file.sisa == nil && chosen == .sisa {
      throw CLIError("\(modelFile): not a SISA model file (train it with --method sisa)")
    }
    if file.certification != nil && chosen != .certified {
      throw CLIError(
        "\(modelFile) is a certified model: use --method certified (other methods would void its certificate)"
      )
    }
    if file.certification == nil && chosen == .certified {
      throw CLIError("\(modelFile): not a certified model (train it with --certified)")
    }
    var located = file
    located.scenario = scenario
    var standardizationUse: RemoveOutput.StandardizationUse?
    if let stored = file.standardization {
      // Every method sees only the retained rows' statistics: refit them, and re-express the
      // parameters on them so the method starts from the same model in the new coordinates.
      guard train.fingerprint == file.dataFingerprint else {
        throw CLIError(
          ModelFileError.dataMismatch(
            path: modelFile, expected: file.dataFingerprint, found: train.fingerprint
          ).description)
      }
      // The method's own message for an unknown id (the refit would name it differently).
      if let unknown = ids.first(where: { train.rowIndex(of: $0) == nil }) {
        throw CLIError(UnlearningError.unknownID(unknown).description)
      }
      let refitted = try runReportingErrors {
        try Dataset.Standardization(
          fittedOn: train, excluding: Array(Set(file.removedIDs + ids)))
      }
      let reexpression = try runReportingErrors {
        try file.model.reexpressing(file.parameters, from: stored, to: refitted)
      }
      located.standardization = refitted
      located.parameters = reexpression.parameters
      let use = RemoveOutput.StandardizationUse(
        statistics: refitted, previousRowCount: stored.rowCount, method: chosen.rawValue,
        reexpression: reexpression)
      standardizationUse = use
      progressLine(use.note)
    }
    if chosen == .sisa {
      let removal = try located.removingFromSISA(ids: ids, data: train, path: modelFile)
      progressLine(removal.report.notes.first ?? "nothing retrained")
      if let json {
        try writeJSONAtomically(
          RemoveOutput(
            schema: "unlearn.remove/1", report: removal.report,
            loadSeconds: Double(DispatchTime.now().uptimeNanoseconds - loadStart) * 1e-9
              - removal.report.seconds, prepareSeconds: 0), to: json)
      }
      return (
        StateStore.Update(file: removal.file, ids: ids, method: "sisa", certificate: nil),
        removal.report
      )
    }
    var (updated, report, prepareSeconds) = try located.withState(
      data: train, path: modelFile, RemoveVisitor(file: located, ids: ids, method: chosen))
    if let standardizationUse { report.notes.append(standardizationUse.note) }
    let loadSeconds =
      Double(DispatchTime.now().uptimeNanoseconds - loadStart) * 1e-9 - report.seconds
    if let json {
      try writeJSONAtomically(
        RemoveOutput(
          schema: "unlearn.remove/1", report: report, loadSeconds: loadSeconds,
          prepareSeconds: prepareSeconds,
          standardization: standardizationUse), to: json)
    }
    return (
      StateStore.Update(
        file: updated, ids: ids, method: report.method, certificate: report.certificate),
      report
    )
  }
}

/// The JSON report of `remove`.
struct RemoveOutput: Encodable {
  var schema: String
  var report: RemovalReport
  /// Seconds to read the file and data and rebuild the state, caches included.
  var loadSeconds: Double
  /// Seconds of ``TrainedModel/prepareForRemoval()`` within the load.
  var prepareSeconds: Double
  /// For a model on standardised features: the statistics the new model uses (refitted on
  /// the retained rows by every method) and how the parameters were re-expressed on them.
  var standardization: StandardizationUse? = nil

  /// How a removal treated the stored standardisation: refitted on the retained rows, with
  /// the parameters re-expressed on the refitted statistics before the method ran
  /// (`W' = W diag(s' / s)`, `b' = b + W D^{-1} (mu' - mu)`).
  struct StandardizationUse: Encodable {
    /// The refitted statistics (the new model file's).
    var statistics: Dataset.Standardization
    /// Always `true`: every method refits (the forgotten rows leave the statistics).
    var refitted = true
    /// Rows of the statistics before the removal.
    var previousRowCount: Int
    /// `exact` (a bias absorbed the shift: the re-expressed model predicts what the stored
    /// one did) or `shift-dropped` (no bias: the weights were rescaled and the constant shift
    /// of each linear predictor dropped; the method's step corrects it).
    var reexpression: String
    /// The dropped constant of each output's linear predictor (`shift-dropped` only).
    var droppedShifts: [Double]?
    /// `max_k ||W_k|| ||D^{-1} (mu' - mu)||`, the bound on every dropped shift.
    var droppedShiftBound: Double?
    var note: String

    init(
      statistics: Dataset.Standardization, previousRowCount: Int, method: String,
      reexpression: ModelFile.Specification.Reexpression
    ) {
      self.statistics = statistics
      self.previousRowCount = previousRowCount
      self.reexpression = reexpression.isExact ? "exact" : "shift-dropped"
      if !reexpression.isExact {
        droppedShifts = reexpression.droppedShifts
        droppedShiftBound = reexpression.droppedShiftBound
      }
      note = StandardizationNote.refitted(
        statistics, previousRowCount: previousRowCount, method: method,
        reexpression: reexpression)
    }
  }
}

/// Runs the chosen method on the rebuilt state.
struct RemoveVisitor: StateVisitor {
  var file: ModelFile
  var ids: [SampleID]
  var method: RemovalMethod

  func visit<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) throws -> (
    ModelFile, RemovalReport, Double
  ) {
    // Certified removal splits its pass over the rows across the cores itself, with
    // single-threaded kernels. Threaded BLAS calls just before it (the factorisation) leave
    // OpenBLAS's worker threads spinning on the other core for a while, which slows the pass
    // by about half; so the whole request runs with OpenBLAS on one thread.
    guard method != .certified else {
      return try BLASInfo.withThreadCount(1) { try serve(state) }
    }
    return try serve(state)
  }

  private func serve<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) throws -> (
    ModelFile, RemovalReport, Double
  ) {
    var prepared = state
    let start = DispatchTime.now().uptimeNanoseconds
    try prepared.prepareForRemoval()
    let prepareSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    let (trainer, trainerLine) = try EngineChoice.trainer(
      for: file.model, seed: file.trainingSeed ?? 0)
    // The library's preference (conjugate gradient for larger networks), and conjugate
    // gradient whenever a dense Hessian would not fit.
    let solver =
      EngineChoice.denseFits(parameterCount: file.model.parameterCount)
      ? NewtonSolver.preferred(for: state.model)
      : EngineChoice.newtonSolver(parameterCount: file.model.parameterCount)
    let unlearner: any Unlearner =
      switch method {
      case .certified: CertifiedRemoval()
      // SISA files never get here (`Remove.apply` handles them first).
      case .retrain, .sisa: Retrain(trainer: trainer, seed: file.trainingSeed ?? 0)
      case .newton:
        state.model.isConvex
          ? NewtonRemoval(solver: solver)
          : NewtonRemoval(solver: solver, curvature: .gaussNewton, steps: 3)
      }
    switch method {
    case .retrain: progressLine(trainerLine)
    case .newton:
      if !EngineChoice.denseFits(parameterCount: file.model.parameterCount) {
        progressLine(
          "Newton step by conjugate gradient (a dense Hessian would need \(EngineChoice.denseSize(parameterCount: file.model.parameterCount)))"
        )
      }
    case .certified, .sisa: break
    }
    let result = try unlearner.unlearn(prepared, forgetting: ids)
    let updated = try ModelFile(
      state: result.state, scenario: file.scenario, trainingSeed: file.trainingSeed,
      removalOrder: file.removedIDs + ids, standardization: file.standardization,
      dataFingerprint: file.standardization == nil ? nil : file.dataFingerprint)
    return (updated, result.report, prepareSeconds)
  }
}

// MARK: - export

/// `unlearn export --public`: the public release of a model file.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the public release of a model file: a whitelist that is safe to publish.",
    discussion: """
      Example:
        unlearn export --public --model-file certified.json --out public.json

      The release holds the model kind and shape, the current parameters, lambda, the feature standardisation of a model trained with --standardize (part of the model: its parameters act on standardised features; refused unless fitted on exactly the retained rows), and for certified models epsilon, delta, sigma and the budget. Nothing else: no b, no removed ids, no budget spent, no certificates, no data path, seed or fingerprint.
      """)

  @Option(name: .customLong("model-file"), help: "The model file to export.")
  var modelFile: String

  @Flag(name: .customLong("public"), help: "Write the public release (required).")
  var isPublic = false

  @Option(help: "The file to write (atomically).")
  var out: String

  func validate() throws {
    guard isPublic else {
      throw ValidationError("pass --public: export only writes public releases")
    }
  }

  func run() throws {
    try runReportingErrors { try SecureFile.checkOutputs(inputs: [modelFile], outputs: [out]) }
    let file = try runReportingErrors { try ModelFile.read(from: modelFile) }
    if file.sisa != nil {
      throw CLIError(
        "\(modelFile) is a SISA ensemble: a public release holds one parameter vector, and the mean of the shards' is not the model that predicts"
      )
    }
    if let s = file.standardization, file.standardizationFitsRetainedRows != true {
      let why =
        file.trainingRowCount.map {
          "its standardization was fitted on \(s.rowCount) rows but the model retains \($0 - file.removedIDs.count)"
        }
        ?? "it was written before removals refitted the standardization, so its statistics may include the \(file.removedIDs.count) forgotten rows"
      throw CLIError(
        "\(modelFile): \(why); refusing to publish them: run `unlearn remove` on it with this build (every removal refits the statistics on the retained rows) or train again, then export"
      )
    }
    let release = try runReportingErrors { try PublicRelease(file) }
    try runReportingErrors { try release.write(to: out) }
    print("wrote \(out) (public release: \(release.model))")
  }
}

/// Reads a model file and loads the data it was trained on (from the scenario it records),
/// refusing data whose fingerprint differs from the recorded one.
func loadModelAndData(_ path: String, data: String? = nil) throws -> (
  file: ModelFile, train: Dataset, test: Dataset
) {
  let file = try runReportingErrors { try ModelFile.read(from: path) }
  if file.sisa != nil {
    throw CLIError(
      "\(path) is a SISA ensemble: influence needs one model (train without --method sisa)")
  }
  let scenario = try scenario(of: file, data: data)
  progressLine("loading \(scenario)")
  let (train, test) = try loadRecordedData(scenario)
  guard train.fingerprint == file.dataFingerprint else {
    throw CLIError(
      ModelFileError.dataMismatch(
        path: path, expected: file.dataFingerprint, found: train.fingerprint
      ).description)
  }
  try runReportingErrors { try file.checkFits(train) }
  guard let statistics = file.standardization else { return (file, train, test) }
  return try runReportingErrors {
    (file, try statistics.apply(to: train), try statistics.apply(to: test))
  }
}

// MARK: - audit

/// `unlearn audit`: verify a private state against its deletion ledger and its certificate.
struct Audit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Verify a model file against its deletion ledger and recompute its certificate.",
    usage: "unlearn audit --model-file <file> [--repair] [--data <path>] [<options>]",
    discussion: """
      Example:
        unlearn audit --model-file certified.json

      Checks: the ledger's hash chain; that the state is the ledger's last recorded state; that the removed ids are the union of the entries; and for certified models that b is consistent with sigma and that the true gradient residual, recomputed from the training data with b, is at most the certificate, which is at most the budget. The first failing entry and field are named. --repair removes stray temporary files and completes or rolls back an interrupted request; it never changes the state file.
      """)

  @Option(name: .customLong("model-file"), help: "The private model file to audit.")
  var modelFile: String

  @Flag(help: "Repair what an interrupted request left behind, then audit again.")
  var repair = false

  @Flag(help: "Skip loading the training data (no residual recomputation).")
  var skipData = false

  @Option(
    help: ArgumentHelp(
      "The data file, when it has moved since training (CSV and LIBSVM; its fingerprint is still checked).",
      valueName: "path"))
  var data: String?

  @OptionGroup var progressOptions: ProgressOptions

  func run() throws {
    progressOptions.apply()
    let store = StateStore(path: modelFile)
    if repair {
      let done = try runReportingErrors { try store.repair() }
      for action in done { print("repaired: \(action.rawValue)") }
      if done.isEmpty { print("nothing to repair") }
    }
    var data: Dataset?
    if skipData && self.data != nil { throw CLIError("give --data or --skip-data, not both") }
    if !skipData, let file = try? ModelFile.read(from: modelFile) {
      let scenario = try scenario(of: file, data: self.data)
      progressLine("loading \(scenario)")
      do {
        data = try scenario.load().train
      } catch {
        if self.data != nil { throw CLIError(error.description) }
        progressLine("cannot load the training data (\(error)); pass --data PATH if it moved")
      }
    }
    let audit = store.audit(data: data)
    for finding in audit.findings { print(finding) }
    if !audit.repairs.isEmpty {
      print("repairable with --repair: \(audit.repairs.map(\.rawValue).joined(separator: "; "))")
    }
    if let first = audit.findings.first(where: { !$0.passed }) {
      throw CLIError("\(modelFile): audit failed: \(first.check): \(first.detail)")
    }
    print("audit passed")
  }
}
