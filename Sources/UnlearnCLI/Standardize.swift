import Foundation
import Unlearning

/// The one-line descriptions of `--standardize` that `train`, `remove` and `compare` print
/// (and put in their JSON).
enum StandardizationNote {
  /// Statistics just fitted: "standardised 12 features on 320 training rows (...)".
  static func fitted(_ statistics: Dataset.Standardization) -> String {
    let constant = statistics.scales.filter { $0 == 1 }.count
    return
      "standardised \(statistics.featureCount) features with statistics fitted on \(statistics.rowCount) training rows (mean 0, standard deviation 1; \(constant) with scale 1, constant features only centred)"
  }

  /// A retrain's note: the statistics were refitted on the retained rows.
  static func refitted(_ statistics: Dataset.Standardization) -> String {
    "standardization refitted on the \(statistics.rowCount) retained rows before retraining (stored in the new model file)"
  }

  /// An approximate removal's note: the stored statistics were kept.
  static func kept(_ statistics: Dataset.Standardization, method: String) -> String {
    "\(method) kept the stored standardization (fitted on \(statistics.rowCount) rows, which may include the forgotten ones); remove --method retrain refits it on the retained rows"
  }
}

/// The JSON of `unlearn train --json` (schema `unlearn.train/1`).
struct TrainOutput: Encodable {
  var schema = "unlearn.train/1"
  /// The model file written.
  var out: String
  /// The architecture.
  var model: ModelFile.Specification
  /// The model kind in words.
  var modelDescription: String
  /// lambda as trained (sum form per sample: the regulariser is `(lambda / 2) n ||theta||^2`).
  var lambda: Double
  /// How lambda was set: `given` (--lambda VALUE), `auto` (the rule) or `default` (1e-3).
  var lambdaRule: String
  /// The rule's grid, validation accuracies and sizes when `lambdaRule` is `auto`.
  var lambdaSelection: LambdaSelection.Outcome?
  /// The stored standardisation, when trained with `--standardize`.
  var standardization: Dataset.Standardization?
  /// The training summary stored in the file.
  var training: ModelFile.TrainingSummary
  /// Whether the model is certified (then `privacy` is set).
  var certified: Bool
  var privacy: PrivacyParameters?
  /// The data the file records, and its fingerprint (before standardisation).
  var scenario: String
  var dataFingerprint: String

  init(file: ModelFile, out: String, lambdaRule: String, lambdaSelection: LambdaSelection.Outcome?)
  {
    self.out = out
    model = file.model
    modelDescription = "\(file.model)"
    lambda = file.regularization
    self.lambdaRule = lambdaRule
    self.lambdaSelection = lambdaSelection
    standardization = file.standardization
    training = file.training
    certified = file.certification != nil
    privacy = file.certification?.privacy
    scenario = "\(file.scenario)"
    dataFingerprint = file.dataFingerprint
  }
}

// MARK: - compare --standardize: the refitted retrain beside the table's reference

/// What the table's fixed-statistics retrain reference stands for: the retrain with the
/// statistics refitted on the retained rows, as `remove --method retrain` does it.
struct RefittedRetrainCheck: Encodable {
  /// The model (`logistic` or `softmax`; networks are not checked).
  var model: String
  /// Rows the statistics were refitted on (the retained training rows).
  var retainedCount: Int
  /// Test accuracy (in `[0, 1]`) of the retrain on fixed statistics (the table's reference)
  /// and on refitted statistics.
  var fixedTestAccuracy: Double
  var refittedTestAccuracy: Double
  /// Share of test rows on which the two retrains predict the same class.
  var testAgreement: Double

  /// One line under the table.
  var line: String {
    func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
    return
      "\(model): retrain with the standardization refitted on the \(retainedCount) retained rows: test accuracy \(percent(refittedTestAccuracy)) (the table's fixed-statistics reference: \(percent(fixedTestAccuracy))); the two agree on \(percent(testAgreement)) of the test rows"
  }
}

extension Compare {
  /// With `--standardize`, for each linear model: retrains on the retained rows once with the
  /// table's statistics (fitted on all training rows) and once with statistics refitted on
  /// the retained rows, and compares their test predictions. Two trainings per model (the
  /// comparison's own trainer, Newton to `1e-10 n`).
  func refittedRetrainChecks(
    _ result: Comparison.Result, configuration: Comparison.Configuration
  ) throws -> [RefittedRetrainCheck] {
    guard case .standardized(let inner) = configuration.scenario else { return [] }
    let (raw, rawTest) = try runReportingErrors { try inner.load() }
    let retained = try runReportingErrors { try raw.removing(ids: result.forgottenIDs) }
    let fixed = try runReportingErrors { try Dataset.Standardization(fittedOn: raw) }
    let refitted = try runReportingErrors { try Dataset.Standardization(fittedOn: retained) }
    var checks = [RefittedRetrainCheck]()
    for choice in configuration.resolvedModels(classCount: raw.classCount) {
      let spec: ModelFile.Specification
      switch choice {
      case .logistic where raw.classCount == 2:
        spec = .logistic(featureCount: raw.featureCount, fitsIntercept: false)
      case .softmax:
        spec = .softmax(featureCount: raw.featureCount, classCount: raw.classCount)
      default: continue
      }
      let visitor = try runReportingErrors {
        RefitVisitor(
          fixedTrain: try fixed.apply(to: retained), fixedTest: try fixed.apply(to: rawTest),
          refittedTrain: try refitted.apply(to: retained),
          refittedTest: try refitted.apply(to: rawTest),
          regularization: configuration.regularization)
      }
      let (fixedAccuracy, refittedAccuracy, agreement) = try runReportingErrors {
        try spec.accept(visitor)
      }
      checks.append(
        RefittedRetrainCheck(
          model: "\(choice)", retainedCount: retained.count, fixedTestAccuracy: fixedAccuracy,
          refittedTestAccuracy: refittedAccuracy, testAgreement: agreement))
    }
    return checks
  }
}

/// Trains one model on each standardisation and compares their test predictions.
private struct RefitVisitor: ModelVisitor {
  var fixedTrain: Dataset
  var fixedTest: Dataset
  var refittedTrain: Dataset
  var refittedTest: Dataset
  var regularization: Double

  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> (Double, Double, Double) {
    let trainer = Training.Newton(gradientTolerance: 1e-10)
    let a = try TrainedModel.train(
      model: model, data: fixedTrain, regularization: regularization, trainer: trainer)
    let b = try TrainedModel.train(
      model: model, data: refittedTrain, regularization: regularization, trainer: trainer)
    let pa = a.predictions(fixedTest.features)
    let pb = b.predictions(refittedTest.features)
    let same = zip(pa, pb).filter { $0.0 == $0.1 }.count
    return (
      a.accuracy(on: fixedTest), b.accuracy(on: refittedTest),
      pa.isEmpty ? 1 : Double(same) / Double(pa.count)
    )
  }
}
