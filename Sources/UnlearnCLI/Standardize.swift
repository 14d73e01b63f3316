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
