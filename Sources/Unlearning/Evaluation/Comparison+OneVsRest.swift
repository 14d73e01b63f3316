import Foundation

extension Comparison {
  /// Certified removal for multiclass data: one-vs-rest logistic heads, each with its own
  /// secret `b_k`, the per-head bounds summed into one budget (MATH.md section 2). Reported
  /// beside the softmax rows: a different model family, so it is summarised, not put in the
  /// table against the softmax retrain.
  public struct OneVsRestCertification: Sendable, Codable {
    public var heads: Int
    public var epsilon: Double
    public var delta: Double
    public var sigma: Double
    public var testAccuracyBefore: Double
    public var testAccuracyAfter: Double
    /// Class forgetting: the share of that class's test images predicted as that class.
    public var forgottenClassRecallBefore: Double?
    public var forgottenClassRecallAfter: Double?
    public var certificate: RemovalCertificate
    public var trainingSeconds: Double
    public var removalSeconds: Double
  }

  /// Trains a one-vs-rest certified remover on `train`, removes `ids` in one request and
  /// reports the certificate (a large removal is expected to exhaust the budget and retrain
  /// every head with a fresh `b_k`: that is reported, not hidden).
  public static func oneVsRestCertification(
    train: Dataset, test: Dataset, ids: [SampleID], forgottenClass: Int?, regularization: Double,
    privacy: PrivacyParameters, accounting: BudgetAccounting, seed: UInt64,
    progress: (String) -> Void = { _ in }
  ) throws -> OneVsRestCertification {
    progress("one-vs-rest certified removal: training \(train.classCount) perturbed logistic heads")
    let trainStart = DispatchTime.now().uptimeNanoseconds
    var remover = try OneVsRestCertifiedRemover(
      model: LogisticRegression(featureCount: train.featureCount), data: train,
      regularization: regularization,
      privacy: privacy, accounting: accounting, trainer: NewtonTrainer(gradientTolerance: 1e-10),
      seed: seed)
    let trainingSeconds = Double(DispatchTime.now().uptimeNanoseconds - trainStart) * 1e-9
    func accuracy(_ predictions: [Int]) -> Double {
      Metrics.accuracy(predictions: predictions, labels: test.labels)
    }
    func recall(_ predictions: [Int]) -> Double? {
      guard let k = forgottenClass else { return nil }
      let rows = test.labels.indices.filter { test.labels[$0] == k }
      guard !rows.isEmpty else { return nil }
      return Double(rows.filter { predictions[$0] == k }.count) / Double(rows.count)
    }
    let before = remover.predictions(features: test.features)
    progress("one-vs-rest certified removal: removing \(ids.count) samples in one request")
    let start = DispatchTime.now().uptimeNanoseconds
    let certificate = try remover.remove(ids)
    let removalSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    let after = remover.predictions(features: test.features)
    return OneVsRestCertification(
      heads: remover.classCount, epsilon: privacy.epsilon, delta: privacy.delta,
      sigma: privacy.sigma,
      testAccuracyBefore: accuracy(before), testAccuracyAfter: accuracy(after),
      forgottenClassRecallBefore: recall(before), forgottenClassRecallAfter: recall(after),
      certificate: certificate, trainingSeconds: trainingSeconds, removalSeconds: removalSeconds)
  }
}
