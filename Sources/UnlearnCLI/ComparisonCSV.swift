import Foundation
import Unlearning

extension ComparisonRendering {
  /// The comparison table as CSV, one row per model and method, in raw units: accuracies and
  /// their gaps to the reference as fractions, `rho`, the gradient residual (sum form, first
  /// seed), the mean KLs in nats, the forget score, the membership-inference AUC, seconds
  /// (median, min, max), the speedup (ratio of medians, min, max) and the verdict. Each metric
  /// is the mean over the seeds with `_lo` / `_hi` columns for its 95% t-interval (empty with
  /// one seed); `seeds` counts the seeds the row ran with.
  static func csv(_ r: Comparison.Result) -> String {
    let metrics = [
      "test_accuracy", "retain_accuracy", "forget_accuracy", "test_gap", "retain_gap",
      "forget_gap", "rho", "kl_test", "kl_forget", "forget_score", "mia_auc",
    ]
    var header = ["model", "method", "reference"]
    for m in metrics { header += [m, m + "_lo", m + "_hi"] }
    header += [
      "gradient_residual", "seconds", "seconds_min", "seconds_max", "speedup", "speedup_min",
      "speedup_max", "verdict", "seeds",
    ]
    var lines = [header]
    func cells(_ i: Comparison.Interval?) -> [String] {
      guard let i else { return ["", "", ""] }
      return [String(i.mean), i.lower.map { String($0) } ?? "", i.upper.map { String($0) } ?? ""]
    }
    for s in r.summary {
      let first = r.rows.first { $0.model == s.model && $0.method == s.method }
      var line = [s.model, s.method, s.reference]
      for i in [
        s.testAccuracy, s.retainAccuracy, s.forgetAccuracy, s.testAccuracyGap,
        s.retainAccuracyGap, s.forgetAccuracyGap, s.relativeDistance, s.testKL, s.forgetKL,
        s.forgetScore, s.membershipAUC,
      ] {
        line += cells(i)
      }
      line += [
        first.map { String($0.evaluation.gradientResidualNorm) } ?? "",
        s.seconds.map { String($0.median) } ?? "", s.seconds.map { String($0.minimum) } ?? "",
        s.seconds.map { String($0.maximum) } ?? "", s.speedup.map { String($0) } ?? "",
        s.speedupRange.map { String($0[0]) } ?? "", s.speedupRange.map { String($0[1]) } ?? "",
        s.verdict.rawValue, String(s.seeds.count),
      ]
      lines.append(line)
    }
    return renderCSV(lines)
  }
}
