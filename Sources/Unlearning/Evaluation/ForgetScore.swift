import RealModule

/// The forget score of the NeurIPS 2023 machine-unlearning challenge (Triantafillou et al.
/// 2024, "Are we making progress in unlearning?"), as pure functions of the confidences.
///
/// Checked against the challenge's published evaluation code (`metric.py` and `main.py` of the
/// DeepMind `unlearning_evaluation` repository):
///
/// 1. For every forget example, its logit-scaled confidence (``ForgetScore/LogitScaledConfidence``) under
///    `N` unlearned and `N` retrained models gives a per-example epsilon
///    (``Metrics/ThresholdAttackEstimator``).
/// 2. Each epsilon earns points by 0.5-wide buckets: bucket `b = floor(eps / 0.5)` (so `[0,
///    0.5)` is bucket 0) is worth `2^-b`, for the buckets that end at or below
///    `E = ceil(ln(N - 1))` (``maximumEpsilon(modelCount:)``; `2E` buckets); an epsilon at or
///    beyond `E` earns 0. `N` is the number of unlearned models.
/// 3. The forget score `F` is the mean of the points over the forget examples, in `[0, 1]`
///    (1: no attack tells the unlearned models from retrained ones).
/// 4. The final score is `F * (RA_u / RA_r) * (TA_u / TA_r)`, with `RA` and `TA` the retain and
///    test accuracies averaged over the `N` models of each group.
public enum ForgetScore {
  /// The width of an epsilon bucket, 0.5.
  public static let bucketWidth = 0.5

  /// `E = ceil(ln(N - 1))`: the challenge's estimate of the largest epsilon `N` samples per
  /// group can resolve (`N = 512` gives 7, `N = 16` gives 3). - Precondition: `N >= 2`.
  public static func maximumEpsilon(modelCount: Int) -> Double {
    precondition(modelCount >= 2, "ForgetScore: need at least 2 models per group")
    return Double.log(Double(modelCount - 1)).rounded(.up)
  }

  /// The points of one epsilon: `2^-floor(eps / 0.5)` if `eps < E`, else 0
  /// (`E` = ``maximumEpsilon(modelCount:)``).
  public static func points(epsilon: Double, modelCount: Int) -> Double {
    let limit = maximumEpsilon(modelCount: modelCount)
    var start = 0.0
    var value = 1.0
    // The challenge's loop: buckets [start, start + 0.5) while start + 0.5 <= E.
    while start + bucketWidth <= limit {
      if epsilon < start + bucketWidth { return value }
      value /= 2
      start += bucketWidth
    }
    return 0
  }

  /// `F`: the mean points of the per-example epsilons (0 for no example).
  public static func forgetScore(epsilons: [Double], modelCount: Int) -> Double {
    if epsilons.isEmpty { return 0 }
    return epsilons.reduce(0) { $0 + points(epsilon: $1, modelCount: modelCount) }
      / Double(epsilons.count)
  }

  /// The per-example epsilons from the confidence tables.
  ///
  /// - Parameters:
  ///   - unlearned: `N_u x m` (models x forget examples): `unlearned[i][j]` is example `j`'s
  ///     confidence under unlearned model `i`.
  ///   - retrained: `N_r x m`, the same for the retrained models.
  ///   - estimator: the attack search (default: the challenge's constants and grid).
  /// - Returns: `m` estimates, one per example. Cost: `m` estimator calls.
  public static func epsilons(
    unlearned: [[Double]], retrained: [[Double]],
    estimator: Metrics.ThresholdAttackEstimator = Metrics.ThresholdAttackEstimator()
  ) -> [Metrics.ThresholdAttackEstimator.Estimate] {
    precondition(!unlearned.isEmpty && !retrained.isEmpty, "ForgetScore: empty confidence table")
    let m = unlearned[0].count
    precondition(
      (unlearned + retrained).allSatisfy { $0.count == m },
      "ForgetScore: every model needs one confidence per forget example")
    return (0..<m).map { j in
      estimator.estimate(unlearned: unlearned.map { $0[j] }, retrained: retrained.map { $0[j] })
    }
  }

  /// The final score `F * (RA_u / RA_r) * (TA_u / TA_r)` (a ratio with a zero denominator
  /// counts as 1 if its numerator is also 0, else as `+inf`).
  public static func finalScore(
    forgetScore f: Double, unlearnedRetainAccuracy: Double, retrainedRetainAccuracy: Double,
    unlearnedTestAccuracy: Double, retrainedTestAccuracy: Double
  ) -> Double {
    func ratio(_ a: Double, _ b: Double) -> Double { b == 0 ? (a == 0 ? 1 : .infinity) : a / b }
    return f * ratio(unlearnedRetainAccuracy, retrainedRetainAccuracy)
      * ratio(unlearnedTestAccuracy, retrainedTestAccuracy)
  }

  /// `count` distinct training ids drawn uniformly (partial Fisher-Yates on a
  /// `SeededGenerator` seeded with `seed`), in row order.
  ///
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` unless `1 <= count < train.count`.
  public static func randomForgetSet(_ train: Dataset, count: Int, seed: UInt64) throws
    -> [SampleID]
  {
    guard count >= 1, count < train.count else {
      throw UnlearningError.invalidArgument(
        "forget count \(count) must be between 1 and \(train.count - 1) (the training set has \(train.count) samples)"
      )
    }
    var generator = SeededGenerator(seed: seed)
    return RandomSampling.indices(choosing: count, from: train.count, using: &generator).sorted()
      .map {
        train.ids[$0]
      }
  }
}
