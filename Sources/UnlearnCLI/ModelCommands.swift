import ArgumentParser
import Foundation
import Unlearning

// MARK: - train

/// `unlearn train`: train a model and save it as a versioned model file.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a model on a scenario and write it to a model file.",
    discussion: """
      Examples:
        unlearn train --out hospital.json
        unlearn train --certified --epsilon 1 --delta 1e-4 --sigma 1 --out certified.json
        unlearn train --dataset fashion-mnist --classes 0,6 --lambda 1e-3 --certified --sigma 10 --out fm.json

      The model file records the architecture, lambda, the parameters, the training summary,
      where the data came from and its fingerprint (checked by `remove`), and for certified
      models the secret perturbation b: keep that file private and publish `unlearn export
      --public`.
      """
  )

  @OptionGroup var data: DataOptions

  @Option(help: "logistic | softmax | mlp")
  var model: String = "logistic"

  @Option(help: "Hidden widths of the MLP, comma-separated.")
  var hidden: String = "20"

  @Option(help: "Hidden activation of the MLP: tanh | relu | sigmoid.")
  var activation: String = "tanh"

  @Option(
    help:
      "L2 strength lambda (per sample; the objective is sum of losses + lambda n / 2 ||theta||^2).")
  var lambda: Double = 1e-3

  @Flag(
    help:
      "Train for certified removal (binary logistic only): loss perturbation b ~ N(0, sigma^2 I).")
  var certified = false

  @Option(help: "Certified: epsilon.")
  var epsilon: Double = 1

  @Option(help: "Certified: delta.")
  var delta: Double = 1e-4

  @Option(help: "Certified: sigma (default: calibrated from --budget).")
  var sigma: Double?

  @Option(help: "Certified: gradient-residual budget eps' (used when --sigma is not given).")
  var budget: Double = 0.5

  @Option(help: "Certified: budget accounting, exact-step | paper.")
  var accounting: String = "exact-step"

  @Option(help: "Seed of every random choice.")
  var seed: UInt64 = 42

  @Option(help: "The model file to write (atomically).")
  var out: String

  func validate() throws {
    guard lambda > 0, lambda.isFinite else { throw ValidationError("--lambda must be positive") }
    guard ["logistic", "softmax", "mlp"].contains(model) else {
      throw ValidationError("unknown --model '\(model)'")
    }
    if certified && model != "logistic" {
      throw ValidationError("--certified needs --model logistic")
    }
    guard BudgetAccounting(cliName: accounting) != nil else {
      throw ValidationError("--accounting must be exact-step or paper")
    }
  }

  func run() throws {
    let scenario = try data.scenario(seed: seed)
    progressLine("loading \(scenario)")
    let (train, _) = try runReportingErrors { try scenario.load() }
    let spec = try specification(for: train)
    progressLine("training \(spec) on \(train.count) samples")
    var file: ModelFile
    if certified {
      let privacy = try runReportingErrors {
        try sigma.map { try PrivacyParameters(epsilon: epsilon, delta: delta, sigma: $0) }
          ?? PrivacyParameters(epsilon: epsilon, delta: delta, budget: budget)
      }
      let remover = try runReportingErrors {
        try CertifiedRemover(
          model: LogisticRegression(featureCount: train.featureCount), data: train,
          regularization: lambda,
          privacy: privacy, accounting: BudgetAccounting(cliName: accounting) ?? .exactStep,
          trainer: NewtonTrainer(gradientTolerance: 1e-10, seed: seed), seed: seed)
      }
      file = ModelFile(remover: remover, scenario: scenario, dataFingerprint: train.fingerprint)
    } else {
      let state = try runReportingErrors {
        try spec.accept(
          TrainVisitor(
            data: train, regularization: lambda, trainer: spec.defaultTrainer(seed: seed)))
      }
      file = state
      file.trainingSeed = seed
      file.scenario = scenario
      file.dataFingerprint = train.fingerprint
    }
    try runReportingErrors { try file.write(to: out) }
    let t = file.training
    print(
      "trained \(spec): \(t.iterations) iterations, gradient norm \(ComparisonRendering.num(t.gradientNorm)) (sum form)\(t.converged ? "" : " - NOT converged"), \(ComparisonRendering.seconds(t.seconds))"
    )
    if let c = file.certification {
      print(
        "certified: epsilon \(c.privacy.epsilon), delta \(c.privacy.delta), sigma \(ComparisonRendering.num(c.privacy.sigma)), budget \(ComparisonRendering.num(c.privacy.budget)), spent \(ComparisonRendering.num(c.spent)) (\(c.accounting) accounting)"
      )
    }
    print("wrote \(out)")
  }

  func specification(for train: Dataset) throws -> ModelSpecification {
    switch model {
    case "logistic":
      guard train.classCount == 2 else {
        throw CLIError(
          "logistic regression needs 2 classes; the data has \(train.classCount) (use --model softmax)"
        )
      }
      return .logistic(featureCount: train.featureCount, fitsIntercept: false)
    case "softmax": return .softmax(featureCount: train.featureCount, classCount: train.classCount)
    default:
      guard let act = Activation(rawValue: activation) else {
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

/// Trains any model and packs the result into a model file (scenario filled in by the caller).
struct TrainVisitor: ModelVisitor {
  var data: Dataset
  var regularization: Double
  var trainer: any Trainer

  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> ModelFile {
    let state = try TrainedModel.train(
      model: model, data: data, regularization: regularization, trainer: trainer)
    return ModelFile(
      model: try ModelSpecification(model), regularization: regularization,
      parameters: state.parameters,
      training: state.training, scenario: .hospital(seed: 0), dataFingerprint: data.fingerprint)
  }
}

// MARK: - remove

/// `unlearn remove`: forget samples from a saved model and write the updated model file.
struct Remove: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Forget samples from a saved model; write the new model file and a report.",
    discussion: """
      Examples:
        unlearn remove --model hospital.json --forget-ids ids.txt --out hospital-2.json
        unlearn remove --model certified.json --forget-ids ids.txt --out certified-2.json --json certificate.json

      The data the model was trained on is loaded again from the scenario recorded in the
      model file and must have the recorded fingerprint. Certified models keep their budget
      across calls (spent, retrains, the next fresh b).
      """
  )

  @Option(help: "The model file to remove from.")
  var model: String

  @Option(
    name: .customLong("forget-ids"),
    help: "File of sample ids to forget (one integer per line; # comments).")
  var forgetIDs: String

  @Option(
    help: "newton | retrain | certified (default: certified for certified models, else newton).")
  var method: String?

  @Option(help: "The updated model file to write (atomically; may equal --model).")
  var out: String

  @Option(help: "Write the removal report (and certificate) as JSON to this file.")
  var json: String?

  func run() throws {
    let ids = try readIDs(forgetIDs)
    let (file, train, _) = try loadModelAndData(model)
    let chosen = method ?? (file.certification != nil ? "certified" : "newton")
    let (updated, report) = try runReportingErrors { () throws -> (ModelFile, RemovalReport) in
      switch chosen {
      case "certified":
        guard file.certification != nil else {
          throw CLIError("\(model): not a certified model (train it with --certified)")
        }
        return try CertifiedRemoval.remove(ids, from: file, data: train)
      case "newton", "retrain":
        if file.certification != nil {
          throw CLIError(
            "\(model) is a certified model: use --method certified (other methods would void its certificate)"
          )
        }
        return try file.model.accept(
          RemoveVisitor(file: file, data: train, ids: ids, method: chosen))
      default:
        throw CLIError("unknown --method '\(chosen)'; use newton, retrain or certified")
      }
    }
    try runReportingErrors { try updated.write(to: out) }
    if let json { try runReportingErrors { try writeJSONAtomically(report, to: json) } }
    print(
      "removed \(report.forgottenCount) samples by \(report.method) in \(ComparisonRendering.seconds(report.seconds)); gradient residual \(ComparisonRendering.num(report.gradientResidualNorm)) (sum form, retained data)"
    )
    if let c = report.certificate {
      print(
        "certificate: certified residual \(ComparisonRendering.num(c.certifiedResidual)) <= budget \(ComparisonRendering.num(c.budget)): \(c.isCertified ? "certified" : "NOT certified"); spent \(ComparisonRendering.num(c.spent)), remaining \(ComparisonRendering.num(c.remaining)); true residual \(ComparisonRendering.num(c.trueResidual))\(c.retrained ? "; the budget ran out: retrained with a fresh b" : "")"
      )
    }
    print("wrote \(out)")
  }
}

/// Applies Newton removal or a retrain to any saved model.
struct RemoveVisitor: ModelVisitor {
  var file: ModelFile
  var data: Dataset
  var ids: [SampleID]
  var method: String

  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> (ModelFile, RemovalReport) {
    let state = TrainedModel(
      model: model, parameters: file.parameters, data: data, removedIDs: Set(file.removedIDs),
      regularization: file.regularization, training: file.training)
    let trainer = file.model.defaultTrainer(seed: file.trainingSeed ?? 0)
    let retrain = Retrain(trainer: trainer)
    let unlearner: any Unlearner =
      method == "retrain"
      ? retrain
      : (model.isConvex ? NewtonRemoval() : NewtonRemoval(curvature: .gaussNewton, steps: 3))
    let result = try unlearner.unlearn(state, forgetting: ids)
    var updated = file
    updated.parameters = result.state.parameters
    updated.removedIDs += ids
    if method == "retrain" { updated.training = result.state.training }
    return (updated, result.report)
  }
}

// MARK: - export

/// `unlearn export --public`: a copy of a model file without the secret perturbation.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a copy of a model file that is safe to publish (without the secret b).",
    discussion: "Example:\n  unlearn export --public --model certified.json --out public.json")

  @Option(help: "The model file to export.")
  var model: String

  @Flag(
    name: .customLong("public"),
    help: "Drop the secret loss perturbation b (required: the only export there is).")
  var isPublic = false

  @Option(help: "The file to write (atomically).")
  var out: String

  func validate() throws {
    guard isPublic else { throw ValidationError("pass --public: export only writes public copies") }
  }

  func run() throws {
    let file = try runReportingErrors { try ModelFile.read(from: model) }
    try runReportingErrors { try file.publicCopy().write(to: out) }
    print(
      "wrote \(out) (\(file.certification == nil ? "no secret to drop" : "secret perturbation b removed"))"
    )
  }
}

extension ModelSpecification {
  /// The specification of a model value.
  init<Model: TwiceDifferentiableModel>(_ model: Model) throws {
    switch model {
    case let m as LogisticRegression:
      self = .logistic(featureCount: m.featureCount, fitsIntercept: m.fitsIntercept)
    case let m as SoftmaxRegression:
      self = .softmax(featureCount: m.featureCount, classCount: m.outputClassCount)
    case let m as MultilayerPerceptron:
      self = .multilayerPerceptron(layerSizes: m.layerSizes, hiddenActivation: m.hiddenActivation)
    case let m as RidgeRegression:
      self = .ridge(featureCount: m.featureCount, fitsIntercept: m.fitsIntercept)
    default: throw CLIError("cannot store a \(Model.self) in a model file")
    }
  }
}

/// Certified removal from a model file.
enum CertifiedRemoval {
  static func remove(_ ids: [SampleID], from file: ModelFile, data: Dataset) throws -> (
    ModelFile, RemovalReport
  ) {
    var remover = try file.certifiedRemover(data: data)
    let start = DispatchTime.now().uptimeNanoseconds
    let certificate = try remover.remove(ids)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    var updated = ModelFile(
      remover: remover, scenario: file.scenario, dataFingerprint: file.dataFingerprint)
    updated.removedIDs = file.removedIDs + ids
    let report = RemovalReport(
      method: "certified", forgottenCount: ids.count, seconds: seconds,
      gradientResidualNorm: certificate.trueResidual,
      trainingResidualNorm: file.training.gradientNorm, certificate: certificate)
    return (updated, report)
  }
}

/// Reads a model file and loads the data it was trained on (from the scenario it records),
/// refusing data whose fingerprint differs from the recorded one.
func loadModelAndData(_ path: String) throws -> (file: ModelFile, train: Dataset, test: Dataset) {
  let file = try runReportingErrors { try ModelFile.read(from: path) }
  progressLine("loading \(file.scenario)")
  let (train, test) = try runReportingErrors { try file.scenario.load() }
  guard train.fingerprint == file.dataFingerprint else {
    throw CLIError(
      ModelFileError.dataMismatch(
        path: path, expected: file.dataFingerprint, found: train.fingerprint
      ).description)
  }
  return (file, train, test)
}
