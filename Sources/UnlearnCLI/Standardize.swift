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

  /// `compare`'s line under the table for one model.
  static func compared(_ model: String, _ s: Comparison.StandardizationSummary) -> String {
    let how =
      s.reexpression == "exact"
      ? "exactly (the bias absorbed the shift)"
      : "with a constant logit shift of at most \(ComparisonRendering.num(s.droppedShifts?.map(abs).max() ?? 0)) dropped (no bias; the methods' steps correct it)"
    return
      "\(model): original trained on statistics of \(s.fitted.rowCount) rows, re-expressed \(how) on the statistics refitted on the \(s.refitted.rowCount) retained rows, which every retrain and method of the table uses"
  }

  /// A removal's note: the statistics were refitted on the retained rows and the parameters
  /// re-expressed on them before the method ran.
  static func refitted(
    _ statistics: Dataset.Standardization, previousRowCount: Int, method: String,
    reexpression: ModelFile.Specification.Reexpression
  ) -> String {
    let how: String
    if method == "retrain" {
      how = "the retrain trains on them"
    } else if reexpression.isExact {
      how = "parameters re-expressed on them exactly (the bias absorbed the shift) before \(method)"
    } else {
      let largest = reexpression.droppedShifts.map(abs).max() ?? 0
      how =
        "parameters re-expressed on them before \(method) (weights rescaled; no bias, so a constant logit shift of at most \(ComparisonRendering.num(largest)) was dropped, which \(method) corrects)"
    }
    return
      "standardization refitted on the \(statistics.rowCount) retained rows (was \(previousRowCount)), so it holds nothing of the forgotten rows; \(how)"
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
