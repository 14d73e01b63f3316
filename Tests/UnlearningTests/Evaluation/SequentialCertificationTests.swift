import Testing
import Unlearning

@Suite("Sequential certified removal under both accountings")
struct SequentialCertificationTests {
  @Test func exactStepNeverRetrainsMoreThanPaperAndCertificatesCoverTheTruth() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let ids = Array(train.ids.prefix(60))
    // A small budget so that the paper accounting runs out within 60 removals.
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, budget: 0.02)
    let results = try Comparison.sequentialCertification(
      train: train, ids: ids, regularization: 1e-3, privacy: privacy,
      perturbation: .reproducibleNotPrivate(seed: 3))
    let paper = try #require(results.first { $0.accounting == "paper" })
    let exact = try #require(results.first { $0.accounting == "exact-step" })
    for r in results {
      #expect(r.everyCertificateCoversTheTruth)
      #expect(r.removals == 60)
      #expect(r.largestTrueResidual <= r.largestCertificate)
    }
    #expect(paper.retrains >= 1)
    #expect(exact.retrains <= paper.retrains)
    #expect((exact.firstRetrainAt ?? Int.max) >= (paper.firstRetrainAt ?? Int.max))
  }
}
