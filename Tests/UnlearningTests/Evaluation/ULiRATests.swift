import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("U-LiRA (per-example likelihood-ratio attacks)")
struct ULiRATests {
  /// Brute force: every threshold at a data value or below all, rule "score > t"; the largest
  /// TPR whose FPR is at most alpha.
  static func bruteForceTPR(_ positives: [Double], _ negatives: [Double], alpha: Double) -> Double {
    var best = 0.0
    for t in (positives + negatives + [-Double.infinity]) {
      let fpr = Double(negatives.filter { $0 > t }.count) / Double(negatives.count)
      guard fpr <= alpha + 1e-12 else { continue }
      best = max(best, Double(positives.filter { $0 > t }.count) / Double(positives.count))
    }
    return best
  }

  @Test func truePositiveRateAtLowFalsePositiveRateMatchesBruteForce() {
    var g = SeededGenerator(seed: 3)
    for trial in 0..<20 {
      let m = 50 + trial * 7
      let positives = (0..<m).map { _ in g.nextUniform() + 0.3 }
      // Ties on purpose: negatives on a coarse grid, one duplicated into the positives.
      var negatives = (0..<(400 + 13 * trial)).map { _ in (g.nextUniform() * 20).rounded() / 20 }
      negatives.append(positives[0])
      for alpha in [0.0, 0.001, 0.01, 0.1, 0.5, 1] {
        #expect(
          ULiRA.truePositiveRate(
            positives: positives, negatives: negatives, atFalsePositiveRate: alpha)
            == Self.bruteForceTPR(positives, negatives, alpha: alpha))
      }
    }
  }

  @Test func scoresAreTheGaussianLogLikelihoodRatioWrittenOut() throws {
    // 8 models, 1 example; the shadows hold two members and three non-members.
    let member: [[Double]] = [[1.0], [9], [3.0], [9], [9], [2.5], [9], [0.2]]
    let nonMember: [[Double]] = [[9], [0.1], [9], [-0.4], [0.5], [9], [-1.0], [9]]
    let membership = [true, false, true, false, false, true, false, true].map { [$0] }
    let isShadow = (0..<8).map { $0 % 2 == 0 || $0 == 3 }
    // Shadows: 0 (in, 1.0), 2 (in, 3.0), 3 (out, -0.4), 4 (out, 0.5), 6 (out, -1.0).
    let inMean = 2.0
    let inSD = (2.0).squareRoot()  // values 1, 3: variance 2
    let outValues = [-0.4, 0.5, -1.0]
    let outMean = outValues.reduce(0, +) / 3
    let outSD = (outValues.reduce(0) { $0 + ($1 - outMean) * ($1 - outMean) } / 2).squareRoot()
    func logN(_ x: Double, _ m: Double, _ s: Double) -> Double {
      -0.5 * ((x - m) / s) * ((x - m) / s) - log(s) - 0.5 * log(2 * Double.pi)
    }
    let result = ULiRA.scores(
      member: member, nonMember: nonMember, membership: membership, isShadow: isShadow)
    #expect(result.count == 1)
    // Targets: 1 (out, 0.1), 5 (in, 2.5), 7 (in, 0.2).
    let expectedMembers = [2.5, 0.2].map { logN($0, inMean, inSD) - logN($0, outMean, outSD) }
    let expectedNon = [0.1].map { logN($0, inMean, inSD) - logN($0, outMean, outSD) }
    #expect(zip(result[0].members, expectedMembers).allSatisfy { abs($0 - $1) <= 1e-12 })
    #expect(zip(result[0].nonMembers, expectedNon).allSatisfy { abs($0 - $1) <= 1e-12 })
    #expect(result[0].members.count == 2 && result[0].nonMembers.count == 1)
  }

  /// Members N(1, 1), non-members N(0, 1): the likelihood ratio is monotone in the value, so
  /// the attack's AUC is P(X_in > X_out) = Phi(1 / sqrt 2) = 0.76025.
  @Test func attackOnShiftedGaussiansReachesTheClosedFormAUC() throws {
    var g = SeededGenerator(seed: 11)
    let models = 4000
    let examples = 3
    let membership = (0..<models).map { i in (0..<examples).map { (i / 2 + $0) % 2 == 0 } }
    let member = (0..<models).map { _ in g.normalVector(count: examples).map { $0 + 1 } }
    let nonMember = (0..<models).map { _ in g.normalVector(count: examples) }
    let summary = try #require(
      ULiRA.attack(
        member: member, nonMember: nonMember, membership: membership,
        isShadow: (0..<models).map { $0 % 2 == 0 }))
    #expect(abs(summary.auc - 0.760_250) < 0.015)
    #expect(summary.examples == examples)
    #expect(summary.positives + summary.negatives == examples * models / 2)
    // Equal distributions: chance.
    let null = try #require(
      ULiRA.attack(
        member: nonMember, nonMember: nonMember, membership: membership,
        isShadow: (0..<models).map { $0 % 2 == 0 }))
    #expect(abs(null.auc - 0.5) < 0.02)
  }

  /// d > n: the original models memorise their halves, so plain LiRA on the forget set is
  /// strong; naive deletion keeps it exactly, Newton removal (exact to second order on a
  /// convex model) brings it to the retrain row, and a retrain as a method equals that row.
  @Test func experimentSeparatesNaiveFromNewtonOnAnOverfittedModel() throws {
    let problem = SyntheticProblems.binary(count: 90, features: 60, seed: 5, scale: 8)
    let all = try Dataset(
      features: problem.features, labels: problem.targets.map { Int($0) }, name: "synthetic")
    let train = all.rows(at: Array(0..<70))
    let test = all.rows(at: Array(70..<90))
    let forget = Array(train.ids.prefix(12))
    let experiment = ULiRA.Experiment(
      model: LogisticRegression(featureCount: 60),
      trainer: Training.Newton(gradientTolerance: 1e-10),
      regularization: 1e-3, train: train, test: test, forget: forget,
      methods: [Baselines.NaiveDeletion(), NewtonRemoval(), Retrain()], modelCount: 40,
      retainedTargetCount: 12, seed: 9, parallelism: 2)
    let report = try experiment.run()
    #expect(
      report.rows.map(\.method) == [
        "original (no unlearning)", "naive", "newton", "retrain", "retrain (noise floor)",
      ])
    let auc = report.rows.map { $0.forget?.auc ?? .nan }
    #expect(auc[0] > 0.75)  // memorised
    #expect(auc[1] == auc[0])  // naive deletion changes nothing
    #expect(abs(auc[3] - auc[4]) < 0.02)  // an actual retrain is the floor
    #expect(abs(auc[2] - auc[4]) < 0.1)  // Newton is close to it
    #expect(auc[2] < auc[0] - 0.15)
    #expect(abs(auc[4] - 0.5) < 0.15)
    // The retained examples: the original row's change is 0 by definition; naive's too.
    #expect(report.rows[0].retainedAUCChange == 0)
    #expect(report.rows[1].retainedAUCChange == 0)
    #expect(report.rows.allSatisfy { $0.retained != nil })
    // Deterministic from the seed (parallelism does not matter).
    var serial = experiment
    serial.parallelism = 1
    let again = try serial.run()
    #expect(again.rows.map(\.forget) == report.rows.map(\.forget))
  }

  @Test func rejectsBadConfigurations() {
    let (train, test) = Scenario.Hospital.make(seed: 1)
    let model = LogisticRegression(featureCount: train.featureCount)
    func run(models: Int = 16, forget: [SampleID]) throws {
      _ = try ULiRA.Experiment(
        model: model, trainer: Training.Newton(), regularization: 1e-3, train: train, test: test,
        forget: forget, methods: [Baselines.NaiveDeletion()], modelCount: models
      ).run()
    }
    #expect(throws: UnlearningError.self) { try run(models: 4, forget: [train.ids[0]]) }
    #expect(throws: UnlearningError.self) { try run(forget: []) }
    #expect(throws: UnlearningError.self) { try run(forget: [train.ids[0], train.ids[0]]) }
    #expect(throws: UnlearningError.self) { try run(forget: [987_654]) }
  }
}
