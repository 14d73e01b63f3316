import Foundation
import Unlearning

extension ComparisonRendering {
  /// The comparison table as CSV, one row per model and method, in raw units: accuracies and
  /// their gaps to the reference as fractions, `rho`, the gradient residual (sum form), the
  /// mean KLs in nats, the membership-inference AUC, seconds, the speedup and the verdict.
  static func csv(_ r: Comparison.Result) -> String {
    var lines = [
      [
        "model", "method", "reference", "test_accuracy", "retain_accuracy", "forget_accuracy",
        "test_gap", "retain_gap", "forget_gap", "rho", "gradient_residual", "kl_test",
        "kl_forget", "mia_auc", "seconds", "speedup", "verdict",
      ]
    ]
    for row in r.rows {
      let e = row.evaluation
      lines.append([
        row.model, row.method, row.reference, String(e.testAccuracy), String(e.retainAccuracy),
        String(e.forgetAccuracy), String(e.testAccuracyGap), String(e.retainAccuracyGap),
        String(e.forgetAccuracyGap), String(e.relativeDistance), String(e.gradientResidualNorm),
        String(e.testKL), String(e.forgetKL), String(e.membershipAUC),
        e.seconds.map { String($0) } ?? "", e.speedup.map { String($0) } ?? "",
        e.verdict.rawValue,
      ])
    }
    return renderCSV(lines)
  }
}
