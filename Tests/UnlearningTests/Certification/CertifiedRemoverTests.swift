import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("Certification")
struct CertificationTests {}

extension CertificationTests {
  @Suite("Logistic loss constants")
  struct LossConstants {
    let model = LogisticRegression(featureCount: 1)

    @Test("sup |loss'''| = 1 / (6 sqrt 3) by scanning, to 1e-9")
    func thirdDerivativeSupremum() {
      // Coarse scan, then two refinements around the maximiser.
      var center = 0.0
      var width = 20.0
      var best = 0.0
      for _ in 0..<3 {
        let grid = (0...200_000).map { center - width / 2 + width * Double($0) / 200_000 }
        let values = model.lossThirdDerivatives(linearPredictors: grid).map(Swift.abs)
        let k = values.indices.max { values[$0] < values[$1] } ?? 0
        best = values[k]
        center = grid[k]
        width /= 1000
      }
      #expect(Swift.abs(best - 1 / (6 * 3.0.squareRoot())) <= 1e-9, "scanned sup \(best)")
      #expect(Swift.abs(model.thirdDerivativeBound - 1 / (6 * 3.0.squareRoot())) <= 1e-15)
    }

    @Test("|l'(z+t) - l'(z) - l''(z) t| <= (g3/2) t^2 on a dense grid")
    func lagrangeRemainder() {
      let g3 = model.thirdDerivativeBound
      let zs = stride(from: -12.0, through: 12.0, by: 0.05).map { $0 }
      // t = k / 32 (exact binary fractions, no spurious round-off-sized steps), t != 0.
      let ts = (-192...192).filter { $0 != 0 }.map { Double($0) / 32 }
      var worstRatio = 0.0
      for y in [0.0, 1.0] {
        let base = model.lossDerivatives(linearPredictors: zs, targets: zs.map { _ in y })
        for t in ts {
          let shifted = model.lossDerivatives(
            linearPredictors: zs.map { $0 + t }, targets: zs.map { _ in y }
          ).first
          for i in zs.indices {
            let e = shifted[i] - base.first[i] - base.second[i] * t
            // 1e-16: the round-off of evaluating l' (values of size <= 1).
            let ratio = (Swift.abs(e) - 1e-16) / (0.5 * g3 * t * t)
            worstRatio = Swift.max(worstRatio, ratio)
          }
        }
      }
      #expect(worstRatio <= 1 + 1e-9, "worst |e| / ((g3/2) t^2) = \(worstRatio)")
      #expect(worstRatio > 0.5, "the bound should be nearly attained somewhere (\(worstRatio))")
    }
  }

  @Suite("Loss perturbation")
  struct Perturbation {
    @Test("Sampler: sample standard deviation within 3 sigma / sqrt(2N) of sigma")
    func samplerStandardDeviation() {
      for (sigma, seed) in [(10.0, UInt64(1)), (0.5, 2)] {
        var g = SeededGenerator(seed: seed)
        let n = 200_000
        let b = g.normalVector(count: n, standardDeviation: sigma)
        let mean = b.reduce(0, +) / Double(n)
        let sd = (b.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)).squareRoot()
        #expect(
          Swift.abs(sd - sigma) <= 3 * sigma / (2.0 * Double(n)).squareRoot(),
          "sd \(sd) for sigma \(sigma)")
        #expect(Swift.abs(mean) <= 4 * sigma / Double(n).squareRoot())
      }
    }

    @Test("The remover's b is the seeded N(0, sigma^2 I) draw, and the objective includes it")
    func removerUsesSeededDraw() throws {
      let data = try CertificationProblems.binary(count: 300, features: 40, seed: 3)
      let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 2)
      let remover = try CertifiedRemover(
        model: LogisticRegression(featureCount: 40), data: data, regularization: 1e-2,
        privacy: privacy, solver: .default, seed: 77)
      var g = SeededGenerator(seed: 77)
      let expected = g.normalVector(count: 40, standardDeviation: 2)
      #expect(remover.state.perturbation == expected)
      // The residual is that of the perturbed objective: without b it would be ~ ||b||.
      let unperturbed = Objective(
        model: remover.state.model, features: data.features, targets: data.targets,
        regularization: 1e-2)
      #expect(remover.state.gradientResidualNorm() < 1e-6)
      #expect(
        Swift.abs(unperturbed.gradientNorm(at: remover.state.parameters) - expected.norm()) < 1e-6)
    }
  }
}

extension CertificationTests {
  @Suite("Certified removal")
  struct Removal {
    @Test("Full-gradient step: grad L_b(theta + v; R) = X_R^T e + (H v + g), |e_i| <= (g3/2) t_i^2")
    func residualIdentity() throws {
      let (n, d, lambda) = (800, 20, 1e-3)
      let data = try CertificationProblems.binary(count: n, features: d, seed: 11)
      let model = LogisticRegression(featureCount: d)
      var g = SeededGenerator(seed: 12)
      let b = g.normalVector(count: d, standardDeviation: 1)
      let trained = try TrainedModel.train(
        model: model, data: data, regularization: lambda, perturbation: b, trainer: NewtonTrainer())
      let forgotten = Set(
        CertificationProblems.randomIDs(data, count: 60, seed: 13).compactMap {
          data.rowIndex(of: $0)
        })
      let weights = (0..<n).map { forgotten.contains($0) ? 0.0 : 1.0 }
      let objective = trained.objective().with(weights: weights)
      let theta = trained.parameters
      let gradient = objective.gradient(at: theta)
      let hessian = objective.hessian(at: theta)
      let v = try Cholesky(hessian).solve(gradient.scaled(by: -1))
      let after = objective.gradient(at: theta.adding(v))

      // Independent remainder, per sample, with naive loops.
      let z = Naive.matVec(data.features, theta, transposed: false)
      let t = Naive.matVec(data.features, v, transposed: false)
      let base = model.lossDerivatives(linearPredictors: z, targets: data.targets)
      let moved = model.lossDerivatives(linearPredictors: z.adding(t), targets: data.targets)
      var e = [Double](repeating: 0, count: n)
      var worst = 0.0
      for i in 0..<n where weights[i] != 0 {
        e[i] = moved.first[i] - base.first[i] - base.second[i] * t[i]
        worst = Swift.max(worst, Swift.abs(e[i]) / (0.5 * model.thirdDerivativeBound * t[i] * t[i]))
      }
      var predicted = Naive.matVec(data.features, e, transposed: true)
      predicted.add(Naive.matVec(hessian, v, transposed: false).adding(gradient))
      let difference = after.subtracting(predicted).norm()
      #expect(after.norm() > 1e-6, "the remainder should be visible (\(after.norm()))")
      #expect(
        difference <= 1e-9 * after.norm() + 1e-12,
        "difference \(difference) vs residual \(after.norm())")
      #expect(worst <= 1 + 1e-9)
    }

    @Test(
      "Random trials: true residual <= data-dependent bound <= worst case; tight <= Guo",
      arguments: [(300, 5, UInt64(21)), (700, 20, 22), (1500, 50, 23), (2000, 10, 24)])
    func boundChain(n: Int, d: Int, seed: UInt64) throws {
      let lambda = 1e-2
      let data = try CertificationProblems.binary(count: n, features: d, seed: seed)
      // Small sigma: ||theta*|| <= 1 / lambda (the worst case's assumption) holds.
      let privacy = try CertificationProblems.privacy(sigma: 0.01, budget: 1e3)
      for batch in [1, 10] {
        var remover = try CertifiedRemover(
          model: LogisticRegression(featureCount: d), data: data, regularization: lambda,
          privacy: privacy, accounting: .paper, solver: .default, seed: seed)
        let thetaNorm = remover.state.parameters.norm()
        let r0 = remover.spent
        let ids = CertificationProblems.randomIDs(data, count: batch, seed: seed + 100)
        let certificate = try remover.remove(ids)
        #expect(!certificate.retrained)
        #expect(certificate.trueResidual <= certificate.certifiedResidual, "\(certificate)")
        #expect(
          certificate.certifiedResidual <= r0 + certificate.guoBound + certificate.solveInexactness
            + certificate.floatingPointAllowance * (1 + 1e-12))
        #expect(certificate.tightBound <= certificate.guoBound)
        #expect(certificate.solveInexactness <= 1e-8 * certificate.guoBound + 1e-12)
        try #require(
          thetaNorm <= 1 / lambda, "worst case assumes ||theta*|| <= 1/lambda, got \(thetaNorm)")
        #expect(
          certificate.guoBound <= certificate.worstCaseBound,
          "\(certificate.guoBound) > \(certificate.worstCaseBound)")
        #expect(certificate.trueResidual - r0 <= certificate.worstCaseBound)
        // Exact-step on the same request: its certificate also covers the measured residual.
        var exact = try CertifiedRemover(
          model: LogisticRegression(featureCount: d), data: data, regularization: lambda,
          privacy: privacy, accounting: .exactStep, solver: .default, seed: seed)
        let exactCertificate = try exact.remove(ids)
        #expect(exactCertificate.trueResidual <= exactCertificate.certifiedResidual)
        #expect(exactCertificate.tightBound <= exactCertificate.guoBound)
      }
    }

    @Test("Paper mode: after T sequential removals the true residual <= spent")
    func paperSequential() throws {
      let data = try CertificationProblems.binary(count: 1000, features: 20, seed: 31)
      var remover = try CertifiedRemover(
        model: LogisticRegression(featureCount: 20), data: data, regularization: 1e-3,
        privacy: try CertificationProblems.privacy(sigma: 1, budget: 50), accounting: .paper,
        solver: .default, seed: 32)
      var previousSpent = remover.spent
      for (k, id) in CertificationProblems.randomIDs(data, count: 60, seed: 33).enumerated() {
        let certificate = try remover.remove([id])
        #expect(
          certificate.trueResidual <= certificate.spent,
          "removal \(k): \(certificate.trueResidual) > \(certificate.spent)")
        #expect(certificate.trueResidual == remover.state.gradientResidualNorm())
        if !certificate.retrained {
          #expect(certificate.spent > previousSpent, "paper mode accumulates")
        }
        previousSpent = certificate.spent
      }
      #expect(remover.certificates.count == 60)
    }

    @Test("Exact-step: never certifies below the measured residual over 200 removals")
    func exactStepSequential() throws {
      let data = try CertificationProblems.binary(count: 1200, features: 15, seed: 41)
      var remover = try CertifiedRemover(
        model: LogisticRegression(featureCount: 15), data: data, regularization: 1e-3,
        privacy: try CertificationProblems.privacy(sigma: 1, budget: 0.5), solver: .default,
        seed: 42)
      var ids = CertificationProblems.randomIDs(data, count: 290, seed: 43)
      var count = 0
      while count < 200 {
        let batch = count % 20 == 19 ? Array(ids.prefix(10)) : [ids[0]]
        ids.removeFirst(batch.count)
        let certificate = try remover.remove(batch)
        #expect(
          certificate.trueResidual <= certificate.certifiedResidual,
          "removal \(count): \(certificate)")
        #expect(certificate.spent == certificate.certifiedResidual)
        #expect(certificate.certifiedResidual <= certificate.budget)
        #expect(certificate.tightBound <= certificate.guoBound)
        count += 1
      }
      #expect(remover.state.retainedCount == 1200 - 190 - 10 * 10)
    }

    @Test("A tiny budget triggers a retrain exactly when a step would exceed it, with a fresh b")
    func budgetTriggersRetrain() throws {
      let (n, d, lambda, sigma) = (600, 10, 1e-2, 0.5)
      let data = try CertificationProblems.binary(count: n, features: d, seed: 51)
      let model = LogisticRegression(featureCount: d)
      let spectralNorm = try data.features.spectralNormUpperBound()
      // The typical single-removal bound, from a remover with a large budget (same sigma and
      // seed, so the same b and the same trained model).
      var probe = try CertifiedRemover(
        model: model, data: data, regularization: lambda,
        privacy: try CertificationProblems.privacy(sigma: sigma, budget: 100), accounting: .paper,
        solver: .default, seed: 52)
      let typical = try probe.remove([data.ids[0]]).guoBound
      var remover = try CertifiedRemover(
        model: model, data: data, regularization: lambda,
        privacy: try CertificationProblems.privacy(
          sigma: sigma, budget: probe.certificates[0].spent - typical + 3.5 * typical),
        accounting: .paper, solver: .default, seed: 52)
      var retrains = 0
      for id in CertificationProblems.randomIDs(data, count: 12, seed: 53) {
        let before = remover
        let row = try #require(data.rowIndex(of: id))
        var weights = before.state.weights
        weights[row] = 0
        let oracle = try NewtonStepOracle(
          model: model, data: data, weights: weights, regularization: lambda,
          perturbation: before.state.perturbation, theta: before.state.parameters, forgotten: [row],
          useDelta: true, spectralNorm: spectralNorm)
        let predicted = before.spent + oracle.guo
        let certificate = try remover.remove([id])
        #expect(Swift.abs(certificate.guoBound - oracle.guo) <= 1e-8 * oracle.guo)
        if predicted > before.budget * (1 + 1e-9) {
          #expect(
            certificate.retrained,
            "spent \(before.spent) + \(oracle.guo) > \(before.budget) must retrain")
        } else if predicted < before.budget * (1 - 1e-9) {
          #expect(
            !certificate.retrained,
            "spent \(before.spent) + \(oracle.guo) < \(before.budget) must not retrain")
          #expect(
            remover.state.parameters.isApproximatelyEqual(
              to: before.state.parameters.adding(oracle.step), relativeTolerance: 1e-9))
        }
        if certificate.retrained {
          retrains += 1
          let oldB = try #require(before.state.perturbation)
          let newB = try #require(remover.state.perturbation)
          #expect(newB != oldB)
          #expect(newB.subtracting(oldB).norm() > 0.1 * sigma)
          let scratch = NewtonTrainer().train(
            Objective(
              model: model, features: data.features, targets: data.targets, weights: weights,
              regularization: lambda, perturbation: newB))
          #expect(
            remover.state.parameters.isApproximatelyEqual(
              to: scratch.parameters, relativeTolerance: 1e-8))
          #expect(certificate.spent == certificate.certifiedResidual)
          #expect(certificate.spent <= certificate.budget)
        }
      }
      #expect(retrains >= 1)
      #expect(retrains < 12)
      #expect(remover.retrainCount == retrains)
    }
  }
}

extension CertificationTests {
  @Suite("Certified remover requirements and requests")
  struct Requirements {
    @Test("Rows with norm > 1, lambda <= 0 and an intercept are rejected")
    func rejectsInvalidSetups() throws {
      let problem = SyntheticProblems.binary(count: 50, features: 4, seed: 61, normalizeRows: false)
      let raw = try Dataset(features: problem.features, labels: problem.targets.map { Int($0) })
      let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 1)
      let firstLarge = try #require(raw.features.rowNorms().firstIndex { $0 > 1 })
      #expect(
        throws: CertificationError.rowNormTooLarge(
          row: firstLarge, norm: raw.features.rowNorms()[firstLarge])
      ) {
        _ = try CertifiedRemover(
          model: LogisticRegression(featureCount: 4), data: raw, regularization: 1e-2,
          privacy: privacy, solver: .default)
      }
      let data = raw.normalizingRows()
      for lambda in [0.0, -1e-3] {
        #expect(throws: CertificationError.nonPositiveRegularization(lambda)) {
          _ = try CertifiedRemover(
            model: LogisticRegression(featureCount: 4), data: data, regularization: lambda,
            privacy: privacy, solver: .default)
        }
      }
      #expect(throws: CertificationError.self) {
        _ = try CertifiedRemover(
          model: LogisticRegression(featureCount: 4, fitsIntercept: true), data: data,
          regularization: 1e-2, privacy: privacy, solver: .default)
      }
      _ = try CertifiedRemover(
        model: LogisticRegression(featureCount: 4), data: data, regularization: 1e-2,
        privacy: privacy, solver: .default)
    }

    @Test("Unknown, duplicate, already-forgotten ids throw naming the id and change nothing")
    func badRequests() throws {
      let data = try CertificationProblems.binary(count: 200, features: 5, seed: 71)
      var remover = try CertifiedRemover(
        model: LogisticRegression(featureCount: 5), data: data, regularization: 1e-2,
        privacy: try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 1), solver: .default)
      _ = try remover.remove([SampleID(3)])
      let snapshot = remover
      #expect(throws: UnlearningError.unknownID(SampleID(5000))) {
        try remover.remove([SampleID(4), SampleID(5000)])
      }
      #expect(throws: UnlearningError.duplicateID(SampleID(4))) {
        try remover.remove([SampleID(4), SampleID(4)])
      }
      #expect(throws: UnlearningError.alreadyForgotten(SampleID(3))) {
        try remover.remove([SampleID(3)])
      }
      #expect("\(UnlearningError.alreadyForgotten(SampleID(3)))".contains("3"))
      #expect(remover.state.parameters == snapshot.state.parameters)
      #expect(remover.state.removedIDs == snapshot.state.removedIDs)
      #expect(remover.state.weights == snapshot.state.weights)
      #expect(remover.spent == snapshot.spent)
      #expect(remover.certificates == snapshot.certificates)
      let empty = try remover.remove([])
      #expect(empty.removedCount == 0)
      #expect(remover.state.parameters == snapshot.state.parameters)
      #expect(remover.certificates.count == snapshot.certificates.count)
      #expect(remover.publishableModel.parameters == remover.state.parameters)
    }
  }
}
