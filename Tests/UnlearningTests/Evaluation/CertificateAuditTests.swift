import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("Empirical audit of certified removal")
struct CertificateAuditTests {
  @Test func clopperPearsonMatchesReferenceValuesAndClosedForms() {
    // scipy.stats.beta.ppf(0.025, 3, 8), beta.ppf(0.975, 4, 7) (R: binom.test(3, 10)).
    let i = ClopperPearson.interval(successes: 3, trials: 10, confidence: 0.95)
    #expect(abs(i.lower - 0.066_739_511_2) < 1e-9)
    #expect(abs(i.upper - 0.652_452_850_1) < 1e-9)
    // scipy.stats.beta.ppf(0.025, 50, 951), beta.ppf(0.975, 51, 950).
    let j = ClopperPearson.interval(successes: 50, trials: 1000, confidence: 0.95)
    #expect(abs(j.lower - 0.037_335_397_6) < 1e-9)
    #expect(abs(j.upper - 0.065_390_487_9) < 1e-9)
    for n in [1, 7, 100, 5000] {
      let zero = ClopperPearson.interval(successes: 0, trials: n, confidence: 0.9)
      #expect(zero.lower == 0)
      #expect(abs(zero.upper - (1 - pow(0.05, 1 / Double(n)))) < 1e-12)
      let all = ClopperPearson.interval(successes: n, trials: n, confidence: 0.9)
      #expect(all.upper == 1)
      #expect(abs(all.lower - pow(0.05, 1 / Double(n))) < 1e-12)
    }
    // Symmetry: k out of n for p is n - k out of n for 1 - p.
    let a = ClopperPearson.interval(successes: 17, trials: 60, confidence: 0.99)
    let b = ClopperPearson.interval(successes: 43, trials: 60, confidence: 0.99)
    #expect(abs(a.lower - (1 - b.upper)) < 1e-12 && abs(a.upper - (1 - b.lower)) < 1e-12)
  }

  @Test func empiricalEpsilonBoundWrittenOut() {
    let delta = 1e-5
    #expect(
      EmpiricalEpsilon.bound(falsePositiveRate: 0.5, falseNegativeRate: 0.5, delta: delta) == 0)
    let e = EmpiricalEpsilon.bound(falsePositiveRate: 0.01, falseNegativeRate: 0.2, delta: delta)
    #expect(abs(e - log((1 - delta - 0.2) / 0.01)) < 1e-14)
    #expect(
      EmpiricalEpsilon.bound(falsePositiveRate: 0, falseNegativeRate: 0.3, delta: delta)
        == .infinity)
    // Upper ends can only lower the bound.
    let lower = EmpiricalEpsilon.lowerConfidenceBound(
      falsePositives: 1, negatives: 100, falseNegatives: 20, positives: 100, delta: delta,
      confidence: 0.95)
    #expect(
      lower < EmpiricalEpsilon.bound(falsePositiveRate: 0.01, falseNegativeRate: 0.2, delta: delta))
    #expect(lower > 0)
  }

  static func hospital() -> (train: Dataset, test: Dataset, forget: [SampleID]) {
    let (train, test) = Scenario.Hospital.make(seed: 42)
    return (train, test, Array(train.ids.prefix(20)))
  }

  /// Sound settings (`compare`'s delta 1e-4 and budget 0.5, so sigma follows epsilon): the lower
  /// bound does not exceed the certified epsilon. With 30 models per side the largest bound the
  /// audit can report is 2.03 (perfect separation), above every epsilon tried, so the test can
  /// fail.
  @Test(arguments: [0.5, 1.0, 1.5])
  func soundCertificateIsNotContradicted(epsilon: Double) throws {
    let (train, test, forget) = Self.hospital()
    let privacy = try PrivacyParameters(epsilon: epsilon, delta: 1e-4, budget: 0.5)
    let report = try CertificateAudit(
      model: LogisticRegression(featureCount: train.featureCount), train: train, test: test,
      regularization: 1e-3, privacy: privacy, forget: forget, trialCount: 60,
      perturbationSeed: 7, parallelism: 2
    ).run()
    #expect(!report.isContradicted)
    #expect(report.empiricalEpsilonLowerBound <= privacy.epsilon)
    #expect(!report.verdict.hasPrefix("CERTIFICATE CONTRADICTED"))
    #expect(report.attack.evaluationPositives == 30 && report.attack.evaluationNegatives == 30)
    let tightest = try #require(report.tightestCertifiedEpsilon)
    #expect(tightest <= privacy.epsilon * (1 + 1e-9))
  }

  /// Broken settings: almost no noise (sigma 1e-6) at a claimed epsilon of 1. Releasing the
  /// trained parameters as if the rows were removed leaves their loss gradient as the residual,
  /// about a million sigmas; one Newton step without the budget check leaves its Taylor
  /// remainder, still many sigmas. Both separate perfectly and the audit must flag them.
  /// Certified removal at the same sigma takes further steps (or retrains) until its certified
  /// residual fits the budget, and is consistent.
  @Test func detectsNoNoiseAtAClaimedEpsilon() throws {
    let (train, test, forget) = Self.hospital()
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 1e-6)
    func audit(_ mechanism: CertificateAudit<LogisticRegression>.Mechanism) throws
      -> RemovalCertificate.AuditReport
    {
      try CertificateAudit(
        model: LogisticRegression(featureCount: train.featureCount), train: train, test: test,
        regularization: 1e-3, privacy: privacy, forget: forget, trialCount: 60,
        mechanism: mechanism, perturbationSeed: 7, parallelism: 2
      ).run()
    }
    let report = try audit(.parametersUnchanged)
    #expect(report.isContradicted)
    #expect(report.verdict.hasPrefix("CERTIFICATE CONTRADICTED"))
    #expect(report.attack.falsePositives == 0 && report.attack.falseNegatives == 0)
    // Perfect separation of 30 against 30: the bound is log((1 - delta - u) / u) with
    // u = 1 - 0.025^(1/30), the Clopper-Pearson upper end of 0 / 30.
    let u = 1 - pow(0.025, 1.0 / 30)
    #expect(abs(report.empiricalEpsilonLowerBound - log((1 - 1e-4 - u) / u)) < 1e-9)
    let newton = try audit(.uncheckedNewtonStep)
    #expect(newton.isContradicted)
    #expect(newton.attack.separation == 1)
    let sound = try audit(.certifiedRemoval)
    #expect(!sound.isContradicted)
  }

  @Test func attackIsReproducibleAndRejectsBadInput() throws {
    let (train, test, forget) = Self.hospital()
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, budget: 0.5)
    func audit(trials: Int = 16, forget: [SampleID]) -> CertificateAudit<LogisticRegression> {
      CertificateAudit(
        model: LogisticRegression(featureCount: train.featureCount), train: train, test: test,
        regularization: 1e-3, privacy: privacy, forget: forget, trialCount: trials,
        perturbationSeed: 3, parallelism: 2)
    }
    let first = try audit(forget: forget).run()
    var serial = audit(forget: forget)
    serial.parallelism = 1
    let second = try serial.run()
    #expect(first.attack == second.attack)
    #expect(throws: UnlearningError.self) { try audit(trials: 4, forget: forget).run() }
    #expect(throws: UnlearningError.self) { try audit(forget: []).run() }
    #expect(throws: UnlearningError.self) { try audit(forget: [424_242]).run() }
  }
}
