import Foundation
import Testing
import Unlearning

/// The forget-score column, intervals over seeds, repeated timings and interval verdicts of
/// `Comparison` (the engine of `unlearn compare`).
@Suite("Comparison: forget score, seeds and timings")
struct ComparisonUncertaintyTests {
  /// Logistic regression on the hospital, three methods: cheap enough to repeat.
  static func configuration(
    seeds: Int = 1, forgetScoreModels: Int = 0, repeats: Int = 1, bootstrap: Int = 1000
  ) -> Comparison.Configuration {
    var c = Comparison.Configuration()
    c.models = [.logistic]
    c.methods = [.retrain, .naive, .gradientAscent, .newton]
    c.forget = .random(count: 20)
    c.seedCount = seeds
    c.forgetScoreModelCount = forgetScoreModels
    c.timingRepeats = repeats
    c.bootstrapResamples = bootstrap
    return c
  }

  @Test func floorRowIsTwoIndependentRetrainGroupsScoredByTheForgetScoreCode() throws {
    let n = 8
    let result = try Comparison.run(Self.configuration(forgetScoreModels: n))
    let column = try #require(result.models.first?.forgetScore)
    #expect(column.modelCount == n && !column.sharesSubsets)
    let retrainRow = try #require(result.rows.first { $0.method == "retrain" })
    #expect(retrainRow.forgetScore == column.floor)

    // The same experiment called directly: two groups of retrains on independent halves.
    let (train, test) = try Scenario.defaultHospital.load()
    let report = try ForgetScore.Experiment(
      model: LogisticRegression(featureCount: train.featureCount),
      trainer: Training.Newton(gradientTolerance: 1e-10), regularization: 1e-3, train: train,
      test: test, forget: result.forgottenIDs,
      methods: [Baselines.NaiveDeletion(), Baselines.GradientAscent(), NewtonRemoval()],
      modelCount: n,
      sharesSubsets: false, seed: 42
    ).run()
    let floor = report.noiseFloor
    // Independent groups: no model of the second group equals one of the reference group.
    for a in floor.unlearnedConfidences {
      for b in floor.retrainedConfidences {
        #expect(zip(a, b).contains { abs($0 - $1) > 1e-6 })
      }
    }
    // The floor recomputed from the confidences by the forget-score functions themselves.
    let epsilons = ForgetScore.epsilons(
      unlearned: floor.unlearnedConfidences, retrained: floor.retrainedConfidences
    ).map(\.epsilon)
    let direct = ForgetScore.forgetScore(epsilons: epsilons, modelCount: n)
    #expect(abs(direct - floor.forgetScore) < 1e-12)
    #expect(abs(column.floor - direct) < 1e-9)
    // And the methods' cells are the experiment's rows.
    for (name, row) in zip(["naive", "gradient-ascent", "newton"], report.rows) {
      let cell = try #require(result.rows.first { $0.method == name }?.forgetScore)
      #expect(abs(cell - row.forgetScore) < 1e-9, "\(name)")
    }
  }

  @Test func unscorableRowsSayWhyAndCarryNoNumber() throws {
    var c = Self.configuration(forgetScoreModels: 4)
    c.methods = [.retrain, .gradientAscent, .sisa]
    let result = try Comparison.run(c)
    for method in ["gradient-ascent-tuned", "sisa"] {
      let row = try #require(result.rows.first { $0.method == method })
      #expect(row.forgetScore == nil)
      #expect(row.notes.contains { $0.hasPrefix("forget score: not scored:") }, "\(method)")
    }
    #expect(result.rows.first { $0.method == "gradient-ascent" }?.forgetScore != nil)
  }

  @Test func intervalsAreTIntervalsOverTheSeeds() throws {
    // One seed without the bootstrap: no interval, the run's own verdicts.
    let one = try Comparison.run(Self.configuration(seeds: 1, bootstrap: 0))
    let three = try Comparison.run(Self.configuration(seeds: 3))
    #expect(three.schema == "unlearn.compare/4")
    #expect(three.seeds == [42, 43, 44])
    #expect(one.summary.count == one.rows.count)
    for row in one.summary {
      #expect(row.testAccuracy.lower == nil && row.testAccuracy.upper == nil)
      #expect(row.testAccuracy.method == .seeds && row.seedVerdicts.count == 1)
      let run = try #require(one.rows.first { $0.method == row.method })
      #expect(row.verdict == run.evaluation.verdict)
      #expect(row.relativeDistance.mean == run.evaluation.relativeDistance)
    }
    let t2 = 4.303
    for row in three.summary where row.method != "retrain" {
      // The first seed's values are the one-seed run's.
      let single = try #require(one.summary.first { $0.method == row.method })
      #expect(row.testKL.values.first == single.testKL.values.first)
      for interval in [row.testAccuracy, row.forgetAccuracy, row.relativeDistance, row.testKL] {
        #expect(interval.values.count == 3 && interval.method == .seeds)
        let mean = interval.values.reduce(0, +) / 3
        #expect(abs(interval.mean - mean) <= 1e-15 * Swift.max(1, abs(mean)))
        let s = (interval.values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
        let lower = try #require(interval.lower)
        let upper = try #require(interval.upper)
        #expect(lower <= mean && mean <= upper)
        #expect(abs((upper - lower) / 2 - t2 * s / 3.0.squareRoot()) <= 1e-12 * Swift.max(1, s))
      }
    }
    // Different seeds give different data: naive's rho is 1 on every seed (a zero-width
    // interval) while Newton's test KL varies.
    let naive = try #require(three.summary.first { $0.method == "naive" })
    #expect(naive.relativeDistance.lower == 1 && naive.relativeDistance.upper == 1)
    let newton = try #require(three.summary.first { $0.method == "newton" })
    #expect(Set(newton.testKL.values).count == 3)
  }

  @Test func tQuantilesMatchTheTable() {
    let known: [(Int, Double)] = [
      (1, 12.706), (2, 4.303), (9, 2.262), (30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980),
    ]
    for (df, t) in known {
      #expect(abs(Comparison.Interval.tQuantile975(degreesOfFreedom: df) - t) < 1.5e-3, "\(df)")
    }
    // The expansion agrees with the table where they meet.
    let z = 1.959_963_984_540_054
    let n = 30.0
    let expansion =
      z + (z * z * z + z) / (4 * n) + (5 * pow(z, 5) + 16 * pow(z, 3) + 3 * z) / (96 * n * n)
    #expect(abs(expansion - 2.042) < 2e-3)
  }

  @Test func verdictNeedsTheWholeInterval() {
    let thresholds = UnlearningEvaluation.Verdict.Thresholds(
      accuracyTolerance: 0.05, originalTestKL: 1e-3, originalForgetKL: 1e-3)
    func evidence(rho: ClosedRange<Double>, forgetGap: ClosedRange<Double> = 0...0)
      -> UnlearningEvaluation.Verdict.Evidence
    {
      UnlearningEvaluation.Verdict.Evidence(
        relativeDistance: rho, testAccuracyGap: 0...0, retainAccuracyGap: 0...0,
        forgetAccuracyGap: forgetGap, testKL: 1e-6...1e-6, forgetKL: 1e-6...1e-6)
    }
    // The point estimate passes "close to retrain"; the interval reaching past 0.1 does not.
    let rhos = [0.01, 0.02, 0.12]
    let interval = Comparison.Interval(values: rhos)
    #expect(interval.mean < 0.1)
    #expect(
      UnlearningEvaluation.Verdict.judge(
        evidence(rho: interval.mean...interval.mean), thresholds: thresholds)
        == .closeToRetrain)
    #expect(
      UnlearningEvaluation.Verdict.judge(evidence(rho: interval.range), thresholds: thresholds)
        == .partial)
    // Over-forgetting must hold on the whole interval too.
    #expect(
      UnlearningEvaluation.Verdict.judge(
        evidence(rho: 0.5...0.5, forgetGap: -0.08 ... -0.06), thresholds: thresholds)
        == .overForgets)
    #expect(
      UnlearningEvaluation.Verdict.judge(
        evidence(rho: 0.5...0.5, forgetGap: -0.08...0.01), thresholds: thresholds)
        == .partial)
    // "no change" needs rho >= 0.95 on the whole interval.
    #expect(
      UnlearningEvaluation.Verdict.judge(evidence(rho: 0.96...1.0), thresholds: thresholds)
        == .noChange)
    #expect(
      UnlearningEvaluation.Verdict.judge(evidence(rho: 0.9...1.0), thresholds: thresholds)
        == .partial)
    // An unknown (NaN) value satisfies no rule.
    let unknown = UnlearningEvaluation.Verdict.Evidence.range(.nan, .nan)
    #expect(unknown.lowerBound == -.infinity && unknown.upperBound == .infinity)
  }

  @Test func timingsAreMediansOfTheRepeatedRuns() throws {
    let result = try Comparison.run(Self.configuration(repeats: 3))
    let summary = try #require(result.models.first)
    let retrain = try #require(summary.retrainTiming)
    #expect(retrain.runs.count == 3 && summary.retrainSeconds == retrain.median)
    for row in result.rows {
      let timing = try #require(row.timing)
      #expect(timing.runs.count == 3)
      let sorted = timing.runs.sorted()
      #expect(timing.median == sorted[1] && row.evaluation.seconds == sorted[1])
      #expect(timing.minimum == sorted[0] && timing.maximum == sorted[2])
      let speedup = try #require(row.evaluation.speedup)
      let range = try #require(row.speedupRange)
      #expect(range[0] <= speedup * (1 + 1e-12) && speedup <= range[1] * (1 + 1e-12))
    }
    #expect(Comparison.Timing(runs: [4, 1, 3, 2]).median == 2.5)
  }

  @Test func resultRoundTripsThroughJSON() throws {
    let result = try Comparison.run(Self.configuration(seeds: 2, forgetScoreModels: 4, repeats: 2))
    let data = try JSONEncoder().encode(result)
    let decoded = try JSONDecoder().decode(Comparison.Result.self, from: data)
    #expect(decoded.schema == "unlearn.compare/4")
    #expect(decoded.seeds == result.seeds)
    #expect(decoded.summary == result.summary)
    #expect(decoded.models.first?.forgetScore == result.models.first?.forgetScore)
    #expect(decoded.rows.map(\.forgetScore) == result.rows.map(\.forgetScore))
    #expect(decoded.rows.map(\.timing) == result.rows.map(\.timing))
    let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    let summary = try #require(object["summary"] as? [[String: Any]])
    let naive = try #require(summary.first { $0["method"] as? String == "naive" })
    let score = try #require(naive["forgetScore"] as? [String: Any])
    #expect((score["values"] as? [Double])?.count == 2)
    #expect(score["lower"] is Double && score["upper"] is Double)
  }
}
