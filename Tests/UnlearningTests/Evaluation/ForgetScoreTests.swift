import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("Forget score (NeurIPS 2023 challenge)")
struct ForgetScoreTests {
  static let exhaustive = Metrics.ThresholdAttackEstimator(search: .exhaustive)
  static let grid = Metrics.ThresholdAttackEstimator(search: .challengeGrid)
  static let delta = 1e-5

  /// The attack bound written out: max of the two log ratios over the terms with a positive
  /// numerator, `nil` when the challenge drops the attack, `+inf` for perfect separation.
  static func bound(fpr: Double, fnr: Double) -> Double? {
    if fpr == 0 && fnr == 0 { return .infinity }
    if fpr == 0 || fnr == 0 { return nil }
    var terms: [Double] = []
    if 1 - delta - fpr > 0 { terms.append(log((1 - delta - fpr) / fnr)) }
    if 1 - delta - fnr > 0 { terms.append(log((1 - delta - fnr) / fpr)) }
    return terms.max().map { max($0, 0) }
  }

  /// Brute force over thresholds placed *between* the sorted pooled values (and outside
  /// them): every rule "x > t", "x < t", "t1 < x < t2", "x < t1 or x > t2", each predicting
  /// either group. Independent of the estimator's data-point enumeration.
  static func bruteForce(_ u: [Double], _ r: [Double], singleOnly: Bool = false) -> Double {
    let values = Array(Set(u + r)).sorted()
    var cuts = [values[0] - 1]
    for k in 1..<values.count { cuts.append(0.5 * (values[k - 1] + values[k])) }
    cuts.append(values[values.count - 1] + 1)
    var rules: [(Double) -> Bool] = []
    for t in cuts {
      rules.append { $0 > t }
      rules.append { $0 < t }
    }
    if !singleOnly {
      for (i, t1) in cuts.enumerated() {
        for t2 in cuts[(i + 1)...] {
          rules.append { $0 > t1 && $0 < t2 }
          rules.append { $0 < t1 || $0 > t2 }
        }
      }
    }
    var best = -Double.infinity
    var any = false
    for rule in rules {
      let inU = Double(u.filter(rule).count) / Double(u.count)
      let inR = Double(r.filter(rule).count) / Double(r.count)
      // Rule predicts "unlearned" inside, then "retrained" inside.
      for (fpr, fnr) in [(inR, 1 - inU), (inU, 1 - inR)] {
        if let e = bound(fpr: fpr, fnr: fnr) {
          any = true
          best = max(best, e)
        }
      }
    }
    return any ? min(max(best, 0), 50) : 0
  }

  // MARK: - Logit-scaled confidence

  @Test func binaryConfidenceIsTheSignedLogitAndMatchesTheChallengeFormula() {
    for z in [-30.0, -3.2, -0.1, 0, 0.7, 12.5] {
      #expect(abs(ForgetScore.LogitScaledConfidence.binary(logit: z, label: 1) - z) <= 1e-12)
      #expect(abs(ForgetScore.LogitScaledConfidence.binary(logit: z, label: 0) + z) <= 1e-12)
      // The challenge's formula on probabilities (accurate here: no underflow).
      let p1 = 1 / (1 + exp(-z))
      let reference = log(p1 + 1e-45) - log(1 - p1 + 1e-45)
      #expect(abs(ForgetScore.LogitScaledConfidence.binary(logit: z, label: 1) - reference) <= 1e-9)
    }
    // Far beyond the floor the value saturates at ln(1e45) = 103.6, as in the challenge.
    let saturated = ForgetScore.LogitScaledConfidence.binary(logit: 500, label: 1)
    #expect(abs(saturated - 45 * log(10)) <= 1e-9)
    #expect(
      abs(ForgetScore.LogitScaledConfidence.binary(logit: 500, label: 0) + 45 * log(10)) <= 1e-9)
    // Near the floor: log(1 + 1e-45) - log(e^-z / (1 + e^-z) + 1e-45), in closed form.
    let z = 100.0
    let expected = -log(1e-45 + exp(-z) / (1 + exp(-z)))
    #expect(abs(ForgetScore.LogitScaledConfidence.binary(logit: z, label: 1) - expected) <= 1e-9)
  }

  @Test func multiclassConfidenceMatchesLogSoftmaxByHand() {
    let logits = [1.0, -2.0, 0.5, 3.0]
    for y in 0..<4 {
      let e = logits.map { exp($0) }
      let total = e.reduce(0, +)
      let correct = e[y] / total
      let expected = log(correct) - log(1 - correct)
      #expect(
        abs(ForgetScore.LogitScaledConfidence.multiclass(logits: logits, label: y) - expected)
          <= 1e-12)
    }
    // Two classes: the multiclass formula is the binary logit l_1 - l_0.
    #expect(
      abs(ForgetScore.LogitScaledConfidence.multiclass(logits: [0.3, 2.3], label: 1) - 2.0) <= 1e-12
    )
    // Huge logits: no overflow, saturates at the floor.
    let big = ForgetScore.LogitScaledConfidence.multiclass(logits: [1000, 0, -5], label: 0)
    #expect(abs(big - 45 * log(10)) <= 1e-9)
  }

  @Test func modelConfidencesAgreeWithProbabilities() {
    let (train, _) = Scenario.Hospital.make(seed: 3)
    let model = LogisticRegression(featureCount: 2)
    let theta = [2.5, 6.0]
    let conf = ForgetScore.LogitScaledConfidence.of(
      model, parameters: theta, features: train.features, labels: train.labels)
    let p = model.probabilities(theta, features: train.features)
    for i in 0..<train.count {
      let y = train.labels[i]
      #expect(abs(conf[i] - log(p[i, y] / p[i, 1 - y])) <= 1e-9)
    }
  }

  // MARK: - Per-example epsilon

  @Test(arguments: [Metrics.ThresholdAttackEstimator.Search.exhaustive, .challengeGrid])
  func wellSeparatedGroupsGetTheCap(search: Metrics.ThresholdAttackEstimator.Search) {
    let u = [0.0, 0.5, 1.0, 1.5, 0.25, 1.25]
    let r = [10.0, 10.5, 11.0, 11.5, 10.75, 11.25]
    let e = Metrics.ThresholdAttackEstimator(search: search).estimate(unlearned: u, retrained: r)
    #expect(e.epsilon == 50)
    #expect(e.reason == .perfectSeparation)
    #expect(e.attack?.falsePositiveRate == 0 && e.attack?.falseNegativeRate == 0)
  }

  @Test(arguments: [Metrics.ThresholdAttackEstimator.Search.exhaustive, .challengeGrid])
  func identicalGroupsGiveZero(search: Metrics.ThresholdAttackEstimator.Search) {
    // Every rule has FPR + FNR = 1: both ratios are below 1, so the bound clips to 0.
    let u = [0.0, 0.3, 1.1, 2.0, 2.2, 3.7]
    let e = Metrics.ThresholdAttackEstimator(search: search).estimate(unlearned: u, retrained: u)
    #expect(e.epsilon == 0)
    #expect(e.reason == .attack)
  }

  @Test func sameDistributionScoresFarBelowAShiftedOne() {
    // Two independent samples of N(0, 1), N = 64, against N(0, 1) and N(3, 1): the attack's
    // epsilon reflects only sampling noise in the first case, and stays below the bucket limit
    // E = ceil(ln 63) = 5.
    var g = SeededGenerator(seed: 11)
    let u = (0..<64).map { _ in g.nextNormal() }
    let r = (0..<64).map { _ in g.nextNormal() }
    let shifted = r.map { $0 + 3 }
    for estimator in [Self.grid, Self.exhaustive] {
      let same = estimator.estimate(unlearned: u, retrained: r).epsilon
      let apart = estimator.estimate(unlearned: u, retrained: shifted).epsilon
      #expect(same < ForgetScore.maximumEpsilon(modelCount: 64))
      #expect(apart > same + 1)
    }
    #expect(
      Self.exhaustive.estimate(unlearned: u, retrained: r).epsilon
        >= Self.grid.estimate(unlearned: u, retrained: r).epsilon)
  }

  @Test func handComputedSingleThresholdCase() {
    // Pooled: 1u 2u 3u 3.5r 4u 5r 6r 7r. Best: "x >= 4 predicts retrained" (or its mirror
    // "x <= 3.5 predicts unlearned"): FPR = FNR = 1/4, eps = ln((1 - delta - 1/4) / (1/4)).
    let u = [1.0, 2, 3, 4]
    let r = [3.5, 5, 6, 7]
    let expected = log((0.75 - Self.delta) / 0.25)
    let e = Self.exhaustive.estimate(unlearned: u, retrained: r)
    #expect(abs(e.epsilon - expected) <= 1e-12)
    #expect(e.attack?.falsePositiveRate == 0.25 && e.attack?.falseNegativeRate == 0.25)
    let grid = Self.grid.estimate(unlearned: u, retrained: r)
    #expect(abs(grid.epsilon - expected) <= 1e-12)
  }

  @Test(arguments: [UInt64(1), 2, 3, 4, 5])
  func exhaustiveSearchEqualsBruteForceOverThresholds(seed: UInt64) {
    var g = SeededGenerator(seed: seed)
    let nu = 6 + Int(g.next() % 7)
    let nr = 6 + Int(g.next() % 7)
    // Rounded values give ties between and within groups.
    let u = (0..<nu).map { _ in (g.nextNormal() * 4).rounded() / 4 }
    let r = (0..<nr).map { _ in (g.nextNormal() * 4 + 1.5).rounded() / 4 }
    let e = Self.exhaustive.estimate(unlearned: u, retrained: r)
    guard e.reason != .peakier else { return }
    #expect(abs(e.epsilon - Self.bruteForce(u, r)) <= 1e-12)
  }

  @Test func bestSingleThresholdAttackAgreesWithBruteForce() {
    // Shifted groups: the best attack is a single threshold, found by brute force over the
    // single-threshold rules alone.
    var g = SeededGenerator(seed: 21)
    let u = (0..<40).map { _ in g.nextNormal() }
    let r = (0..<40).map { _ in g.nextNormal() + 1.2 }
    let single = Self.bruteForce(u, r, singleOnly: true)
    let e = Self.exhaustive.estimate(unlearned: u, retrained: r)
    #expect(e.epsilon >= single - 1e-12)
    #expect(abs(Self.bruteForce(u, r) - e.epsilon) <= 1e-12)
    // The grid's single thresholds are a subset of the single-threshold rules.
    #expect(Self.grid.estimate(unlearned: u, retrained: r).epsilon <= e.epsilon + 1e-12)
  }

  @Test(arguments: [Metrics.ThresholdAttackEstimator.Search.exhaustive, .challengeGrid])
  func concentratedGroupNeedsTwoThresholds(search: Metrics.ThresholdAttackEstimator.Search) {
    // Retrained values sit in the middle of the unlearned ones (one unlearned value among
    // them, one retrained value just below). Inside [4, 6] predicts "retrained":
    // FPR = 1/8 (u = 5.1), FNR = 1/8 (r = 3.5): eps = ln((1 - delta - 1/8) / (1/8)).
    let u = [0.0, 1, 2, 3, 5.1, 7, 8, 9]
    let r = [3.5, 4, 4.2, 4.5, 4.8, 5, 5.2, 6]
    let expected = log((7.0 / 8 - Self.delta) / (1.0 / 8))
    // No single threshold does as well (best: "x <= 3.5 predicts unlearned", ln 4).
    let single = Self.bruteForce(u, r, singleOnly: true)
    #expect(abs(single - log((0.5 - Self.delta) / 0.125)) <= 1e-12)
    let e = Metrics.ThresholdAttackEstimator(search: search).estimate(unlearned: u, retrained: r)
    #expect(abs(e.epsilon - expected) <= 1e-12)
    guard case .inside = e.attack?.region else {
      Issue.record("expected an interval attack, got \(String(describing: e.attack))")
      return
    }
    #expect(e.attack?.predicts == .retrained)
    #expect(e.attack?.falsePositiveRate == 0.125 && e.attack?.falseNegativeRate == 0.125)
  }

  @Test(arguments: [Metrics.ThresholdAttackEstimator.Search.exhaustive, .challengeGrid])
  func peakierGroupGetsTheCap(search: Metrics.ThresholdAttackEstimator.Search) {
    let estimator = Metrics.ThresholdAttackEstimator(search: search)
    // Spreads 1 and 0.009: ratio below 0.01, capped although the groups overlap.
    let u = [0.0, 0.25, 0.5, 0.75, 1.0]
    let peaky = [0.5, 0.503, 0.509, 0.506, 0.5045]
    let e = estimator.estimate(unlearned: u, retrained: peaky)
    #expect(e.epsilon == 50 && e.reason == .peakier)
    #expect(estimator.estimate(unlearned: peaky, retrained: u).reason == .peakier)
    // Spread 0.011: ratio above 0.01, scored by the attacks (overlapping: below the cap).
    let notPeaky = [0.5, 0.511, 0.505, 0.502, 0.508]
    let f = estimator.estimate(unlearned: u, retrained: notPeaky)
    #expect(f.reason != .peakier)
    #expect(f.epsilon < 50)
    // Two constant groups (0 / 0) are not caught by the rule: different constants separate.
    let g = estimator.estimate(unlearned: [1, 1, 1], retrained: [2, 2, 2])
    #expect(g.reason == .perfectSeparation && g.epsilon == 50)
  }

  @Test func attacksWithExactlyOneZeroRateAreDropped() {
    let e = Self.exhaustive
    #expect(e.epsilon(falsePositiveRate: 0, falseNegativeRate: 0.5) == nil)
    #expect(e.epsilon(falsePositiveRate: 0.5, falseNegativeRate: 0) == nil)
    #expect(e.epsilon(falsePositiveRate: 0, falseNegativeRate: 0) == 50)
    #expect(
      abs(
        (e.epsilon(falsePositiveRate: 0.1, falseNegativeRate: 0.3) ?? -1)
          - log((0.7 - Self.delta) / 0.1)) <= 1e-12)
    // u = {0, 1}, r = {0.5, 2}: "x >= 2 predicts retrained" has FPR = 0, FNR = 1/2 (an
    // infinite ratio if kept). Every rule with both rates positive has FPR + FNR >= 1, so
    // once the one-sided ones are dropped the epsilon is 0.
    let estimate = e.estimate(unlearned: [0, 1], retrained: [0.5, 2])
    #expect(estimate.epsilon == 0)
    #expect(estimate.reason == .attack)
    let grid = Self.grid.estimate(unlearned: [0, 1], retrained: [0.5, 2])
    #expect(grid.epsilon == 0)
  }

  // MARK: - Bucket scoring

  @Test func bucketLimitIsCeilLogOfNMinusOne() {
    #expect(ForgetScore.maximumEpsilon(modelCount: 512) == 7)  // ln 511 = 6.24
    #expect(ForgetScore.maximumEpsilon(modelCount: 16) == 3)  // ln 15 = 2.71
    #expect(ForgetScore.maximumEpsilon(modelCount: 8) == 2)  // ln 7 = 1.95
    #expect(ForgetScore.maximumEpsilon(modelCount: 2) == 0)  // ln 1 = 0: no bucket
  }

  @Test func forgetScoreMatchesAHandComputedValue() {
    // N = 16: E = 3, six buckets worth 1, 1/2, 1/4, 1/8, 1/16, 1/32; from 3 on: 0.
    let epsilons = [0, 0.49, 0.5, 1.2, 2.99, 3.0, 50]
    let points = [1, 1, 0.5, 0.25, 1.0 / 32, 0, 0]
    for (e, p) in zip(epsilons, points) {
      #expect(ForgetScore.points(epsilon: e, modelCount: 16) == p)
    }
    let expected = (1 + 1 + 0.5 + 0.25 + 1.0 / 32) / 7
    #expect(abs(ForgetScore.forgetScore(epsilons: epsilons, modelCount: 16) - expected) <= 1e-15)
    // N = 512: E = 7, fourteen buckets; 6.9 is in bucket 13.
    #expect(ForgetScore.points(epsilon: 6.9, modelCount: 512) == pow(0.5, 13))
    #expect(ForgetScore.points(epsilon: 7, modelCount: 512) == 0)
    #expect(ForgetScore.forgetScore(epsilons: [0.1, 0.2], modelCount: 2) == 0)
    // Final score: F times the two accuracy ratios.
    let final = ForgetScore.finalScore(
      forgetScore: 0.5, unlearnedRetainAccuracy: 0.9, retrainedRetainAccuracy: 0.95,
      unlearnedTestAccuracy: 0.8, retrainedTestAccuracy: 0.85)
    #expect(abs(final - 0.5 * (0.9 / 0.95) * (0.8 / 0.85)) <= 1e-15)
  }

  @Test func epsilonsFromTablesAreColumnwise() {
    // Models x examples: example 0 separates perfectly, example 1 does not at all.
    let unlearned = [[0.0, 1], [0.1, 2], [0.2, 3]]
    let retrained = [[5.0, 1], [5.1, 2], [5.2, 3]]
    let e = ForgetScore.epsilons(unlearned: unlearned, retrained: retrained)
    #expect(e.map(\.epsilon) == [50, 0])
  }

  // MARK: - The experiment

  @Test func naiveScoresBelowNewtonOnTheHospitalAndTheFloorIsReported() throws {
    let (train, test) = Scenario.Hospital.make(seed: 42)
    let forget = try ForgetScore.randomForgetSet(train, count: 20, seed: 7)
    let trainer = Training.Newton(gradientTolerance: 1e-10)
    let experiment = ForgetScore.Experiment(
      model: LogisticRegression(featureCount: 2), trainer: trainer, regularization: 1e-3,
      train: train, test: test, forget: forget,
      methods: [Baselines.NaiveDeletion(), NewtonRemoval(), Retrain(trainer: trainer)],
      modelCount: 16,
      seed: 3)
    let report = try experiment.run()
    #expect(report.rows.map(\.method) == ["naive", "newton", "retrain"])
    #expect(report.noiseFloor.method == "retrain-vs-retrain")
    #expect(report.maximumEpsilon == 3)
    let naive = report.rows[0]
    let newton = report.rows[1]
    #expect(naive.unlearnedConfidences.count == 16)
    #expect(naive.unlearnedConfidences.allSatisfy { $0.count == 20 })
    #expect(newton.forgetScore > naive.forgetScore + 0.2)
    // Paired design: retraining as the "method" reproduces the reference group (to the
    // trainer's tolerance), so no attack finds anything: F = 1.
    // Paired design: retraining as the "method" reproduces the reference group up to the
    // trainer's tolerance (it starts from zero, the reference from the original model).
    // Rounded to 1e-6, the two tables are equal and no attack finds anything: F = 1. (Unrounded,
    // the challenge's interval grid puts a threshold at the narrower group's minimum and can
    // split round-off differences there.)
    let exact = report.rows[2]
    let gap =
      zip(exact.unlearnedConfidences.joined(), exact.retrainedConfidences.joined()).map {
        abs($0 - $1)
      }.max() ?? 1
    #expect(gap < 1e-7)
    func rounded(_ t: [[Double]]) -> [[Double]] { t.map { $0.map { ($0 * 1e6).rounded() / 1e6 } } }
    let roundedEpsilons = ForgetScore.epsilons(
      unlearned: rounded(exact.unlearnedConfidences), retrained: rounded(exact.retrainedConfidences)
    )
    #expect(ForgetScore.forgetScore(epsilons: roundedEpsilons.map(\.epsilon), modelCount: 16) == 1)
    // The floor compares independent retrains: a score, and both groups are retrains.
    #expect(report.noiseFloor.forgetScore >= 0 && report.noiseFloor.forgetScore <= 1)
    #expect(report.noiseFloor.unlearnedConfidences != report.noiseFloor.retrainedConfidences)
    // The reported epsilons are the estimator's on the reported tables, and F their points.
    let again = ForgetScore.epsilons(
      unlearned: naive.unlearnedConfidences, retrained: naive.retrainedConfidences)
    #expect(again.map(\.epsilon) == naive.epsilons)
    #expect(ForgetScore.forgetScore(epsilons: naive.epsilons, modelCount: 16) == naive.forgetScore)
    // Reproducible from the seed.
    let second = try experiment.run()
    #expect(second.rows[1].unlearnedConfidences == newton.unlearnedConfidences)
    #expect(second.noiseFloor.epsilons == report.noiseFloor.epsilons)
  }

  @Test func independentHalvesScoreAnExactMethodLikeTheFloor() throws {
    // Unpaired design: retraining as the method is an independent set of retrains, drawn like
    // the control; both rows are noise-level scores of the same kind.
    let (train, test) = Scenario.Hospital.make(seed: 42)
    let forget = try ForgetScore.randomForgetSet(train, count: 10, seed: 7)
    let trainer = Training.Newton(gradientTolerance: 1e-10)
    let report = try ForgetScore.Experiment(
      model: LogisticRegression(featureCount: 2), trainer: trainer, regularization: 1e-3,
      train: train, test: test, forget: forget, methods: [Retrain(trainer: trainer)],
      modelCount: 16, sharesSubsets: false, seed: 5
    ).run()
    #expect(!report.sharesSubsets)
    #expect(report.rows[0].forgetScore < 1)
    #expect(report.rows[0].unlearnedConfidences != report.noiseFloor.unlearnedConfidences)
  }
}
