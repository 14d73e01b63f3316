import Foundation
import Testing
import Unlearning

/// The one-seed bootstrap of `Comparison`: intervals over the evaluated examples, checked
/// against closed forms (the binomial), a direct recomputation of resamples, an expanded-sample
/// AUC, and the verdict rules on the intervals.
@Suite("Comparison: bootstrap intervals over the examples")
struct ComparisonBootstrapTests {
  @Test func countMatricesAreResamplesAndTheProductIsTheirMeans() {
    let bootstrap = Comparison.Bootstrap(resampleCount: 50, seed: 9)
    let n = 37
    let w = bootstrap.counts(size: n, stream: 3)
    #expect(w.rows == 50 && w.columns == n)
    for b in 0..<w.rows {
      let row = (0..<n).map { w[b, $0] }
      #expect(row.reduce(0, +) == Double(n))
      #expect(row.allSatisfy { $0 >= 0 && $0 == $0.rounded() })
    }
    // Resamples differ from each other and between streams, and repeat under the seed.
    #expect((0..<n).contains { w[0, $0] != w[1, $0] })
    #expect(bootstrap.counts(size: n, stream: 4) != w)
    #expect(bootstrap.counts(size: n, stream: 3) == w)
    // W v / n by dgemm against the weighted sums written out.
    let v = (0..<n).map { sin(Double($0)) }
    let u = (0..<n).map { Double($0 % 3) }
    let means = bootstrap.resampledMeans([v, u], counts: w)
    for b in 0..<w.rows {
      let direct = (0..<n).reduce(0) { $0 + w[b, $1] * v[$1] } / Double(n)
      let direct2 = (0..<n).reduce(0) { $0 + w[b, $1] * u[$1] } / Double(n)
      #expect(abs(means[0][b] - direct) < 1e-14)
      #expect(abs(means[1][b] - direct2) < 1e-14)
    }
  }

  @Test func accuracyIntervalMatchesTheBinomialNormalApproximation() throws {
    // Accuracy 0.8 on n = 400 examples: the sampling distribution is Binomial(400, 0.8) / 400,
    // so the 95% interval is about 0.8 +- 1.96 sqrt(0.8 * 0.2 / 400) = 0.8 +- 0.0392.
    for (n, a) in [(400, 0.8), (1000, 0.95)] {
      let ones = Int((Double(n) * a).rounded())
      let values = (0..<n).map { $0 < ones ? 1.0 : 0.0 }
      let bootstrap = Comparison.Bootstrap(resampleCount: 4000, seed: 11)
      let interval = bootstrap.meanInterval(values, counts: bootstrap.counts(size: n, stream: 1))
      let lower = try #require(interval.lower)
      let upper = try #require(interval.upper)
      let half = 1.959_963_984_540_054 * (a * (1 - a) / Double(n)).squareRoot()
      #expect(interval.mean == a && interval.method == .bootstrap)
      #expect(lower <= a && a <= upper)
      // Width within 10% of the normal approximation (Monte Carlo error of B = 4000 quantiles
      // and the 1/n steps of the accuracy are both below that).
      #expect(abs((upper - lower) - 2 * half) <= 0.1 * 2 * half, "n \(n): \(lower)...\(upper)")
      // Roughly centred: each end within 25% of the half-width of the symmetric interval.
      #expect(abs((a - lower) - half) <= 0.25 * half && abs((upper - a) - half) <= 0.25 * half)
    }
    // A constant metric has a zero-width interval.
    let b = Comparison.Bootstrap(resampleCount: 100, seed: 1)
    let constant = b.meanInterval([1, 1, 1, 1], counts: b.counts(size: 4, stream: 1))
    #expect(constant.lower == 1 && constant.upper == 1)
  }

  @Test func intervalAlwaysContainsThePointEstimate() {
    let b = Comparison.Bootstrap(resampleCount: 10, seed: 1)
    // Resamples all above the reported value (a skewed statistic): widened down to it.
    let i = b.interval(point: 0.1, resampled: [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.4])
    #expect(i.lower == 0.1 && i.upper! < 1.4 && i.upper! > 1.3)
    // NaN resamples are dropped; none left: the point.
    let nan = b.interval(point: 0.3, resampled: [.nan, .nan])
    #expect(nan.lower == 0.3 && nan.upper == 0.3)
  }

  @Test func weightedAUCIsTheAUCOfTheExpandedSample() {
    let positives = [0.3, 1.2, 1.2, -0.4, 2.0, 0.7]
    let negatives = [0.1, 1.2, -1.0, 0.7, 0.5]
    let auc = Metrics.WeightedAUC(positives: positives, negatives: negatives)
    let unit = auc.auc(positiveWeights: { _ in 1 }, negativeWeights: { _ in 1 })
    #expect(abs(unit - Metrics.rocAUC(positives: positives, negatives: negatives)) < 1e-15)
    // Integer weights = duplicated samples (ties with duplicates included).
    let w: [Double] = [2, 0, 1, 3, 1, 1]
    let v: [Double] = [1, 2, 0, 1, 3]
    func expand(_ x: [Double], _ k: [Double]) -> [Double] {
      zip(x, k).flatMap { Array(repeating: $0.0, count: Int($0.1)) }
    }
    let weighted = auc.auc(positiveWeights: { w[$0] }, negativeWeights: { v[$0] })
    let expanded = Metrics.rocAUC(positives: expand(positives, w), negatives: expand(negatives, v))
    #expect(abs(weighted - expanded) < 1e-15)
    #expect(auc.auc(positiveWeights: { _ in 0 }, negativeWeights: { _ in 1 }).isNaN)
  }

  /// Logistic on the hospital with a few methods: cheap.
  static func configuration(bootstrap: Int = 1000, seed: UInt64 = 42) -> Comparison.Configuration {
    var c = Comparison.Configuration()
    c.models = [.logistic]
    c.methods = [.retrain, .naive, .gradientAscent, .newton]
    c.forget = .random(count: 20)
    c.bootstrapResamples = bootstrap
    c.seed = seed
    return c
  }

  @Test func oneSeedRowsCarryBootstrapIntervalsAndVerdictsReadThem() throws {
    let result = try Comparison.run(Self.configuration())
    #expect(result.schema == "unlearn.compare/4")
    let off = try Comparison.run(Self.configuration(bootstrap: 0))
    for row in result.rows {
      let b = try #require(row.bootstrap, "\(row.method)")
      let e = row.evaluation
      let pairs: [(Comparison.Interval, Double)] = [
        (b.testAccuracy, e.testAccuracy), (b.retainAccuracy, e.retainAccuracy),
        (b.forgetAccuracy, e.forgetAccuracy), (b.testAccuracyGap, e.testAccuracyGap),
        (b.retainAccuracyGap, e.retainAccuracyGap), (b.forgetAccuracyGap, e.forgetAccuracyGap),
        (b.testKL, e.testKL), (b.forgetKL, e.forgetKL), (b.membershipAUC, e.membershipAUC),
      ]
      for (interval, point) in pairs {
        #expect(interval.mean == point && interval.method == .bootstrap)
        let lower = try #require(interval.lower)
        let upper = try #require(interval.upper)
        #expect(lower <= point && point <= upper, "\(row.method): \(lower) \(point) \(upper)")
      }
      // The summary of one seed shows these intervals.
      let summary = try #require(result.summary.first { $0.method == row.method })
      #expect(summary.testAccuracy == b.testAccuracy && summary.membershipAUC == b.membershipAUC)
      #expect(summary.verdict == e.verdict && summary.seedVerdicts == [e.verdict])
      // Verdicts: the rules on the intervals; the point verdict is the run without bootstrap.
      let plain = try #require(off.rows.first { $0.method == row.method })
      #expect(plain.bootstrap == nil && b.pointVerdict == plain.evaluation.verdict)
      if row.method != "retrain" {
        let t = try #require(e.thresholds)
        #expect(
          e.verdict
            == UnlearningEvaluation.Verdict.judge(
              b.evidence(relativeDistance: e.relativeDistance), thresholds: t))
      }
    }
    // The reference against itself: paired gaps and KLs are exactly zero on every resample.
    let retrain = try #require(result.rows.first { $0.method == "retrain" }?.bootstrap)
    for interval in [retrain.testAccuracyGap, retrain.forgetAccuracyGap, retrain.testKL] {
      #expect(interval.lower == 0 && interval.upper == 0)
    }
    // The accuracy interval on the test set is about the binomial one (n = 100).
    let test = retrain.testAccuracy
    let a = test.mean
    let half = 1.96 * (a * (1 - a) / Double(result.testCount)).squareRoot()
    #expect(abs((test.upper! - test.lower!) - 2 * half) <= 0.25 * 2 * half)
    // Determinism: the same configuration gives the same intervals.
    let again = try Comparison.run(Self.configuration())
    #expect(again.rows.map(\.bootstrap) == result.rows.map(\.bootstrap))
  }

  @Test func forgetScoreIntervalResamplesTheExamplesPoints() throws {
    var c = Self.configuration()
    c.forgetScoreModelCount = 4
    let result = try Comparison.run(c)
    for row in result.rows where row.forgetScore != nil {
      let score = try #require(row.forgetScore)
      let interval = try #require(row.bootstrap?.forgetScore, "\(row.method)")
      #expect(interval.mean == score)
      #expect(interval.lower! <= score && score <= interval.upper!)
      #expect(interval.lower! >= 0 && interval.upper! <= 1)
      let final = try #require(row.finalScore)
      let ra = try #require(row.retainAccuracyRatio)
      let ta = try #require(row.testAccuracyRatio)
      #expect(abs(final - score * ra * ta) <= 1e-12)
    }
  }

  @Test func badResampleCountIsATypedError() {
    #expect(throws: Comparison.ComparisonError.self) {
      try Comparison.run(Self.configuration(bootstrap: 1))
    }
  }
}
