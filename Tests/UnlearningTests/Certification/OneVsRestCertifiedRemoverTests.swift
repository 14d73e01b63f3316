import Foundation
import Testing
import TestSupport
import Unlearning

extension CertificationTests {
  @Suite("One-vs-rest certified removal")
  struct OneVsRest {
    static func data(seed: UInt64) throws -> Dataset {
      let problem = SyntheticProblems.multiclass(count: 600, features: 8, classes: 3, seed: seed)
      return try Dataset(features: problem.features, labels: problem.targets.map { Int($0) })
        .normalizingRows()
    }

    @Test(
      "Every head takes its own exact Newton step; bounds are summed; residual covered",
      arguments: [BudgetAccounting.exactStep, .paper])
    func headsMatchOracle(accounting: BudgetAccounting) throws {
      let data = try Self.data(seed: 131)
      let model = LogisticRegression(featureCount: 8)
      var remover = try OneVsRestCertifiedRemover(
        model: model, data: data, regularization: 1e-2,
        privacy: try CertificationProblems.privacy(sigma: 0.5, budget: 50), accounting: accounting,
        solver: .direct, seed: 132)
      let spectralNorm = try data.features.spectralNormUpperBound()
      // Distinct b_k per head.
      #expect(remover.head(0).perturbation != remover.head(1).perturbation)
      for ids in [
        [data.ids[4]],
        CertificationProblems.randomIDs(data, count: 15, seed: 133).filter { $0 != data.ids[4] },
      ] {
        let heads = (0..<3).map { remover.head($0) }
        let previousSpent = remover.spent
        var weights = remover.weights
        let rows = ids.compactMap { data.rowIndex(of: $0) }
        for row in rows { weights[row] = 0 }
        let oracles = try heads.map { head in
          try NewtonStepOracle(
            model: model, data: head.data, weights: weights, regularization: 1e-2,
            perturbation: head.perturbation,
            theta: head.parameters, forgotten: rows, useDelta: accounting == .paper,
            spectralNorm: spectralNorm)
        }
        let certificate = try remover.remove(ids)
        #expect(!certificate.retrained)
        #expect(certificate.headCount == 3)
        for k in 0..<3 {
          #expect(
            remover.parameters[k].isApproximatelyEqual(
              to: heads[k].parameters.adding(oracles[k].step), relativeTolerance: 1e-9))
        }
        let tight = oracles.map(\.tight).reduce(0, +)
        let guo = oracles.map(\.guo).reduce(0, +)
        #expect(Swift.abs(certificate.tightBound - tight) <= 1e-8 * tight)
        #expect(Swift.abs(certificate.guoBound - guo) <= 1e-8 * guo)
        #expect(certificate.tightBound <= certificate.guoBound)
        let charged = accounting == .paper ? guo : tight
        let base = accounting == .paper ? previousSpent : 0
        #expect(certificate.certifiedResidual >= base + charged)
        #expect(
          certificate.certifiedResidual <= base + charged + certificate.solveInexactness
            + certificate.floatingPointAllowance + 1e-12)
        // Measured, per head with b_k, summed.
        var measured = 0.0
        for k in 0..<3 { measured += remover.head(k).gradientResidualNorm() }
        #expect(Swift.abs(certificate.trueResidual - measured) <= 1e-12 * Swift.max(measured, 1))
        #expect(certificate.trueResidual <= certificate.certifiedResidual)
      }
      // Shared bookkeeping: one weight per sample, updated once.
      #expect(remover.retainedCount == 600 - 16)
      #expect(remover.removedIDs.count == 16)
      #expect(remover.head(2).weights == remover.weights)
    }

    @Test("Budget exhaustion retrains every head with a fresh b_k (equal to training from scratch)")
    func retrainsAllHeads() throws {
      let data = try Self.data(seed: 141)
      let model = LogisticRegression(featureCount: 8)
      var probe = try OneVsRestCertifiedRemover(
        model: model, data: data, regularization: 1e-2,
        privacy: try CertificationProblems.privacy(sigma: 0.5, budget: 50), accounting: .paper,
        seed: 142)
      let typical = try probe.remove([data.ids[0]]).guoBound
      var remover = try OneVsRestCertifiedRemover(
        model: model, data: data, regularization: 1e-2,
        privacy: try CertificationProblems.privacy(
          sigma: 0.5, budget: probe.certificates[0].spent - typical + 2.5 * typical),
        accounting: .paper, seed: 142)
      var retrains = 0
      for id in CertificationProblems.randomIDs(data, count: 8, seed: 143) {
        let old = (0..<3).map { remover.head($0).perturbation }
        let certificate = try remover.remove([id])
        #expect(certificate.trueResidual <= certificate.spent)
        guard certificate.retrained else { continue }
        retrains += 1
        for k in 0..<3 {
          let head = remover.head(k)
          let b = try #require(head.perturbation)
          #expect(b != old[k])
          let scratch = NewtonTrainer().train(head.objective())
          #expect(
            head.parameters.isApproximatelyEqual(to: scratch.parameters, relativeTolerance: 1e-8))
        }
      }
      #expect(retrains >= 1 && retrains < 8)
      #expect(remover.retrainCount == retrains)
      #expect(throws: UnlearningError.alreadyForgotten(remover.removedIDs.sorted()[0])) {
        try remover.remove([remover.removedIDs.sorted()[0]])
      }
      let accuracy = Metrics.accuracy(
        predictions: remover.predictions(features: data.features), labels: data.labels)
      #expect(accuracy > 0.6)
    }
  }
}
