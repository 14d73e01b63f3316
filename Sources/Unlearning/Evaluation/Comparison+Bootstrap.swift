import Foundation

extension Comparison {
  /// Percentile-bootstrap intervals over the evaluated examples (Docs/Math.md 8.4): the
  /// uncertainty of one run's metrics when there are no seeds to vary.
  ///
  /// Resample `b` of a set of `n` examples draws `n` of them with replacement (seeded from
  /// ``seed``, the set's stream and `b`); its multiplicities form row `b` of a `B x n` count
  /// matrix `W`. A metric that is a mean over the set's examples, with per-example values `v`,
  /// has the resampled values `W v / n`: all metrics of a set come from one `dgemm`. The same
  /// `W` serves every method of a comparison, so gaps (`method - retrain`, per-example
  /// differences) are paired. The AUC resamples the forget set and the membership negatives
  /// independently and recomputes the Mann-Whitney statistic with the multiplicities as weights
  /// (``Metrics/WeightedAUC``). The interval is the `(1 - c)/2` and `(1 + c)/2` quantiles of the
  /// `B` resampled values (linear interpolation between order statistics), widened to contain
  /// the point estimate if it falls outside (possible for skewed statistics).
  public struct Bootstrap: Sendable, Equatable {
    /// `B`, the number of resamples (at least 2).
    public var resampleCount: Int
    /// The root of every resample.
    public var seed: UInt64
    /// The two-sided confidence `c` (default 0.95).
    public var confidence: Double

    /// - Precondition: `resampleCount >= 2`, `0 < confidence < 1`.
    public init(resampleCount: Int = 1000, seed: UInt64, confidence: Double = 0.95) {
      precondition(resampleCount >= 2, "Comparison.Bootstrap: need at least 2 resamples")
      precondition(confidence > 0 && confidence < 1, "Comparison.Bootstrap: confidence in (0, 1)")
      self.resampleCount = resampleCount
      self.seed = seed
      self.confidence = confidence
    }

    /// The `B x n` multiplicities of `n` examples (stream `stream` keeps independent sets
    /// apart): row `b` counts how often each example is drawn in resample `b`; rows sum to `n`.
    /// Cost `O(B n)` random draws and `8 B n` bytes.
    public func counts(size n: Int, stream: UInt64) -> Matrix {
      var w = Matrix(rows: resampleCount, columns: n)
      guard n > 0 else { return w }
      w.elements.withUnsafeMutableBufferPointer { p in
        for b in 0..<resampleCount {
          var g = SeededGenerator(
            seed: seed &+ stream &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(b) &* 0xD1B5_4A32_D192_ED03)
          for _ in 0..<n { p[b * n + RandomSampling.index(below: n, using: &g)] += 1 }
        }
      }
      return w
    }

    /// The resampled means of each column of values: `columns[k]` has the `n` per-example
    /// values of metric `k`; the result's `[k]` has its `B` resampled means (`W V / n`, one
    /// `dgemm`). - Precondition: every column has `counts.columns` values.
    public func resampledMeans(_ columns: [[Double]], counts: Matrix) -> [[Double]] {
      let n = counts.columns
      guard n > 0, !columns.isEmpty else {
        return columns.map { _ in [Double](repeating: .nan, count: counts.rows) }
      }
      precondition(columns.allSatisfy { $0.count == n }, "Bootstrap: column length differs from n")
      // V is n x c, row-major: column k of V is columns[k].
      let v = Matrix(rows: columns.count, columns: n, elements: columns.flatMap { $0 })
      let means = Matrix.product(counts, v, transposeB: true, alpha: 1 / Double(n))
      return (0..<columns.count).map { k in (0..<counts.rows).map { means[$0, k] } }
    }

    /// The percentile interval of `resampled` around `point` (see the type's description).
    /// NaN resamples are ignored; with none left the interval is the point.
    public func interval(point: Double, resampled: [Double]) -> Interval {
      let sorted = resampled.filter { !$0.isNaN }.sorted()
      guard !sorted.isEmpty, !point.isNaN else {
        return Interval(estimate: point, lower: point, upper: point, method: .bootstrap)
      }
      func quantile(_ q: Double) -> Double {
        let h = q * Double(sorted.count - 1)
        let i = Int(h.rounded(.down))
        let j = Swift.min(i + 1, sorted.count - 1)
        return sorted[i] + (h - Double(i)) * (sorted[j] - sorted[i])
      }
      let alpha = 1 - confidence
      return Interval(
        estimate: point, lower: Swift.min(quantile(alpha / 2), point),
        upper: Swift.max(quantile(1 - alpha / 2), point), method: .bootstrap)
    }

    /// The interval of a mean over one set of examples: `values` per example, `point` their
    /// mean (as reported), resampled with `counts`.
    public func meanInterval(_ values: [Double], counts: Matrix) -> Interval {
      let point = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
      return interval(point: point, resampled: resampledMeans([values], counts: counts)[0])
    }

    /// The interval of the loss-threshold AUC (positives: the forget set's scores `-loss`,
    /// negatives: the membership negatives'), resampling each side with its own counts.
    public func aucInterval(
      point: Double, forgetLosses: [Double], negativeLosses: [Double], forgetCounts: Matrix,
      negativeCounts: Matrix
    ) -> Interval {
      guard !forgetLosses.isEmpty, !negativeLosses.isEmpty else {
        return interval(point: point, resampled: [])
      }
      let auc = Metrics.WeightedAUC(
        positives: forgetLosses.map { -$0 }, negatives: negativeLosses.map { -$0 })
      let resampled = (0..<resampleCount).map { b in
        auc.auc(
          positiveWeights: { forgetCounts[b, $0] }, negativeWeights: { negativeCounts[b, $0] })
      }
      return interval(point: point, resampled: resampled)
    }

    /// The streams of the four resampled sets.
    enum Stream: UInt64 {
      case test = 1
      case retain = 2
      case forget = 3
      case negatives = 4
    }

    /// The count matrices of one comparison's sets, drawn once and shared by its rows.
    struct Resamples: Sendable {
      var bootstrap: Bootstrap
      var test: Matrix
      var retain: Matrix
      var forget: Matrix
      var negatives: Matrix

      init<Model>(_ bootstrap: Bootstrap, context: UnlearningEvaluation.Context<Model>) {
        self.bootstrap = bootstrap
        test = bootstrap.counts(size: context.test.count, stream: Stream.test.rawValue)
        retain = bootstrap.counts(size: context.retain.count, stream: Stream.retain.rawValue)
        forget = bootstrap.counts(size: context.forget.count, stream: Stream.forget.rawValue)
        negatives = bootstrap.counts(
          size: context.membershipNegatives.count, stream: Stream.negatives.rawValue)
      }

      /// Every interval of one row: the accuracies and their paired gaps, the KLs and the AUC.
      func intervals<Model>(
        _ e: UnlearningEvaluation, outputs o: UnlearningEvaluation.Context<Model>.Outputs,
        context: UnlearningEvaluation.Context<Model>
      ) -> BootstrapIntervals {
        let r = context.reference
        let testKL = Metrics.klDivergences(r.testProbabilities, o.testProbabilities)
        let forgetKL = Metrics.klDivergences(r.forgetProbabilities, o.forgetProbabilities)
        let t = bootstrap.resampledMeans(
          [o.testCorrect, o.testCorrect.subtracting(r.testCorrect), testKL], counts: test)
        let rt = bootstrap.resampledMeans(
          [o.retainCorrect, o.retainCorrect.subtracting(r.retainCorrect)], counts: retain)
        let f = bootstrap.resampledMeans(
          [o.forgetCorrect, o.forgetCorrect.subtracting(r.forgetCorrect), forgetKL],
          counts: forget)
        let b = bootstrap
        return BootstrapIntervals(
          testAccuracy: b.interval(point: e.testAccuracy, resampled: t[0]),
          retainAccuracy: b.interval(point: e.retainAccuracy, resampled: rt[0]),
          forgetAccuracy: b.interval(point: e.forgetAccuracy, resampled: f[0]),
          testAccuracyGap: b.interval(point: e.testAccuracyGap, resampled: t[1]),
          retainAccuracyGap: b.interval(point: e.retainAccuracyGap, resampled: rt[1]),
          forgetAccuracyGap: b.interval(point: e.forgetAccuracyGap, resampled: f[1]),
          testKL: b.interval(point: e.testKL, resampled: t[2]),
          forgetKL: b.interval(point: e.forgetKL, resampled: f[2]),
          membershipAUC: b.aucInterval(
            point: e.membershipAUC, forgetLosses: o.forgetLosses, negativeLosses: o.negativeLosses,
            forgetCounts: forget, negativeCounts: negatives),
          pointVerdict: e.verdict)
      }

      /// The forget score's interval over the forget examples: `F` is the mean of the examples'
      /// points (``ForgetScore/points(epsilon:modelCount:)``).
      func forgetScoreInterval(point: Double, epsilons: [Double], modelCount: Int) -> Interval? {
        guard epsilons.count == forget.columns else { return nil }
        let points = epsilons.map { ForgetScore.points(epsilon: $0, modelCount: modelCount) }
        return bootstrap.interval(
          point: point, resampled: bootstrap.resampledMeans([points], counts: forget)[0])
      }
    }
  }

  /// One row's 95% percentile-bootstrap intervals over the evaluated examples (one seed).
  public struct BootstrapIntervals: Sendable, Codable, Equatable {
    /// Accuracies (fractions) and their gaps to the reference (paired: the same resamples).
    public var testAccuracy: Interval
    public var retainAccuracy: Interval
    public var forgetAccuracy: Interval
    public var testAccuracyGap: Interval
    public var retainAccuracyGap: Interval
    public var forgetAccuracyGap: Interval
    /// Mean KL to the reference (nats).
    public var testKL: Interval
    public var forgetKL: Interval
    /// Loss-threshold membership-inference AUC.
    public var membershipAUC: Interval
    /// The challenge forget score over the forget examples (`nil`: not scored).
    public var forgetScore: Interval? = nil
    /// The verdict of the point estimates alone (the row's verdict is judged on the intervals).
    public var pointVerdict: UnlearningEvaluation.Verdict

    /// The intervals the verdict reads (`rho` is a parameter distance, not a mean over
    /// examples: its point).
    public func evidence(relativeDistance rho: Double) -> UnlearningEvaluation.Verdict.Evidence {
      UnlearningEvaluation.Verdict.Evidence(
        relativeDistance: UnlearningEvaluation.Verdict.Evidence.range(rho, rho),
        testAccuracyGap: testAccuracyGap.range, retainAccuracyGap: retainAccuracyGap.range,
        forgetAccuracyGap: forgetAccuracyGap.range, testKL: testKL.range, forgetKL: forgetKL.range)
    }
  }
}
