import Foundation
import TestSupport
import Testing

@testable import Unlearning

@Suite("Certified removal: O(d^2) steps between exact steps")
struct AmortisedCertifiedRemovalTests {
  /// The amortised policy with a given budget fraction and drift trigger.
  static func amortised(fraction: Double, minimumCheapSteps: Int = 8) -> NewtonSolver {
    .downdatedFactor(
      CertifiedRemoval.FastRemovalPolicy(
        amortisedSteps: CertifiedRemoval.AmortisedStepPolicy(
          budgetFraction: fraction, minimumCheapSteps: minimumCheapSteps)))
  }

  struct Tally {
    var cheap = 0
    var exact = 0
    var worst = 0.0
  }

  /// Sequential requests; after each, the residual recomputed from the data at the returned
  /// parameters must be covered by the certificate, which must fit the budget.
  static func check(
    data: Dataset, lambda: Double, sigma: Double, budget: Double, requests: [[SampleID]],
    solver: NewtonSolver, accounting: CertifiedRemoval.Accounting, label: String
  ) throws -> Tally {
    var state = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: data.featureCount), data: data,
      regularization: lambda, privacy: CertificationProblems.privacy(sigma: sigma, budget: budget),
      accounting: accounting, solver: solver, perturbation: .reproducibleNotPrivate(seed: 9))
    var tally = Tally()
    for ids in requests {
      let result = try CertifiedRemoval().unlearn(state, forgetting: ids)
      state = result.state
      let certificate = try #require(result.report.certificate)
      let truth = residualFromScratch(state)
      #expect(truth <= certificate.certifiedResidual, "\(label): \(certificate)")
      #expect(certificate.certifiedResidual <= certificate.budget, "\(label)")
      #expect(certificate.certifiedResidual == state.certification?.spent)
      if certificate.residualMeasured {
        tally.exact += 1
        #expect(abs(certificate.trueResidual - truth) <= 1e-8 * Swift.max(truth, 1), "\(label)")
      } else {
        tally.cheap += 1
      }
      tally.worst = Swift.max(tally.worst, truth / certificate.certifiedResidual)
    }
    return tally
  }

  @Test(
    "Over many random and adversarial problems every certificate covers the residual from scratch",
    arguments: [CertifiedRemoval.Accounting.exactStep, .paper])
  func soundOverManyProblems(accounting: CertifiedRemoval.Accounting) throws {
    var total = Tally()
    for seed in UInt64(0)..<8 {
      let cases: [(String, Dataset, Double)] = [
        (
          "benign", try AdversarialProblems.benign(n: 60 + Int(seed) * 10, d: 6, seed: 100 + seed),
          1e-2
        ),
        ("duplicated rows", try AdversarialProblems.duplicated(n: 40, d: 3 + Int(seed % 3)), 1e-2),
        ("tiny lambda", try AdversarialProblems.benign(n: 50, d: 4, seed: 200 + seed), 1e-6),
        ("d > n", try AdversarialProblems.benign(n: 14, d: 30, seed: 300 + seed), 1e-2),
        ("outlier", try AdversarialProblems.outlier(), 1e-2),
      ]
      for (name, data, lambda) in cases {
        let ids = CertificationProblems.randomIDs(
          data, count: Swift.min(12, data.count - 3), seed: 11 + seed)
        var requests = ids.prefix(ids.count - 3).map { [$0] }
        requests.append(Array(ids.suffix(3)))  // a batch
        for fraction in [1.0, 0.3] {
          let tally = try Self.check(
            data: data, lambda: lambda, sigma: 5, budget: 50, requests: requests,
            solver: Self.amortised(fraction: fraction), accounting: accounting,
            label: "\(name), seed \(seed), fraction \(fraction)")
          total.cheap += tally.cheap
          total.exact += tally.exact
          total.worst = Swift.max(total.worst, tally.worst)
        }
      }
    }
    print(
      "O(d^2) soundness (\(accounting.rawValue)): \(total.cheap) cheap and \(total.exact) exact steps, largest truth / certificate \(total.worst)"
    )
    // The test exercises both kinds of step.
    #expect(total.cheap > 100, "\(total.cheap) cheap steps")
    #expect(total.exact > 10, "\(total.exact) exact steps")
    #expect(total.worst <= 1)
  }

  @Test("A retain set of two rows, with the budget forcing exact steps and refactors")
  func nearlyEmptyRetainSet() throws {
    let data = try AdversarialProblems.benign(n: 10, d: 3, seed: 6)
    let ids = data.ids
    for fraction in [1.0, 0.05] {
      for accounting in [CertifiedRemoval.Accounting.exactStep, .paper] {
        _ = try Self.check(
          data: data, lambda: 1e-2, sigma: 5, budget: 2,
          requests: ids[0..<8].map { [$0] }, solver: Self.amortised(fraction: fraction),
          accounting: accounting, label: "two rows left, fraction \(fraction)")
      }
    }
  }

  @Test("Heavy outliers among tiny rows and a tight budget: exact steps interleave with cheap ones")
  func exactStepsInterleave() throws {
    let data = try AdversarialProblems.benign(n: 200, d: 5, seed: 8)
    let ids = CertificationProblems.randomIDs(data, count: 60, seed: 3)
    let tally = try Self.check(
      data: data, lambda: 1e-3, sigma: 1, budget: 0.5, requests: ids.map { [$0] },
      solver: Self.amortised(fraction: 0.5), accounting: .exactStep, label: "interleaved")
    #expect(tally.cheap > 0 && tally.exact > 0, "\(tally)")
  }

  @Test("Long runs of cheap steps fold the pending rows into H~ and G_R; batches too")
  func foldsStaySound() throws {
    let data = try AdversarialProblems.benign(n: 400, d: 6, seed: 21)
    let ids = CertificationProblems.randomIDs(data, count: 120, seed: 4)
    var requests = ids.prefix(80).map { [$0] }
    requests += stride(from: 80, to: 120, by: 10).map { Array(ids[$0..<($0 + 10)]) }
    let tally = try Self.check(
      data: data, lambda: 1e-2, sigma: 5, budget: 50, requests: requests,
      solver: Self.amortised(fraction: 1), accounting: .paper, label: "folds")
    // More cheap steps than two folds' worth of rows.
    #expect(tally.cheap >= 2 * 32, "\(tally)")
  }

  @Test("The stale-factor remainder bound is nearly attained: a bound half as large would fail")
  func remainderBoundIsNearlyAttained() throws {
    // 400 copies of x = [1] with sigma(theta) = 0.7887, where |l'''| peaks; removing label-1 rows
    // moves z = theta monotonically away from theta~ while l''' stays near -g3. Every row's
    // remainder then points the same way and X_R^T e' is exactly ||X_R|| ||e'||, so the charged
    // (E6.7c) is attained up to sqrt(n_R / n) and the flatness of l''' at its extremum.
    let n = 400
    let ones = Int((0.7887 * Double(n)).rounded())
    let data = try Dataset(
      features: Matrix(rows: n, columns: 1, elements: [Double](repeating: 1, count: n)),
      labels: (0..<n).map { $0 < ones ? 1 : 0 })
    var state = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: 1), data: data, regularization: 1e-9,
      privacy: CertificationProblems.privacy(sigma: 1e-6, budget: 10),
      solver: Self.amortised(fraction: 1), perturbation: .reproducibleNotPrivate(seed: 1))
    var largest = 0.0
    for j in 0..<8 {
      let before = residualFromScratch(state)
      let result = try CertifiedRemoval().unlearn(state, forgetting: [data.ids[j]])
      state = result.state
      let certificate = try #require(result.report.certificate)
      #expect(!certificate.residualMeasured)
      let after = residualFromScratch(state)
      #expect(after <= certificate.certifiedResidual)
      // ||g_R(theta + v)|| <= ||g_D(theta)|| + ||M v - Delta|| + remainder: the share of the
      // charged remainder bound that the truth actually used.
      let used = (after - before - certificate.solveInexactness) / certificate.tightBound
      #expect(used <= 1 + 1e-9)
      largest = Swift.max(largest, used)
    }
    print("stale-factor remainder bound: largest share used by the truth \(largest)")
    #expect(largest >= 0.9, "largest used share of the charged remainder bound: \(largest)")
  }

  @Test(
    "The measured drift (E6.7d) bounds max_i |x_i^T theta - z~_i| recomputed from the data, and is attained at its anchor"
  )
  func anchoredDriftBoundsTheRowDrift() throws {
    var attained = 0.0
    var anchoredChecks = 0
    var checks = 0
    for seed in UInt64(0)..<4 {
      let cases: [(Dataset, Double)] = [
        (try AdversarialProblems.benign(n: 120, d: 6, seed: 400 + seed), 1e-3),
        (try AdversarialProblems.duplicated(n: 40, d: 3 + Int(seed % 3)), 1e-2),
        (try AdversarialProblems.benign(n: 14, d: 30, seed: 500 + seed), 1e-2),
        (try AdversarialProblems.outlier(), 1e-2),
      ]
      for (data, lambda) in cases {
        var state = try TrainedModel.trainCertified(
          model: LogisticRegression(featureCount: data.featureCount), data: data,
          regularization: lambda, privacy: CertificationProblems.privacy(sigma: 1, budget: 0.5),
          solver: Self.amortised(fraction: 0.3), perturbation: .reproducibleNotPrivate(seed: seed))
        let ids = CertificationProblems.randomIDs(
          data, count: Swift.min(20, data.count - 3), seed: 40 + seed)
        for id in ids {
          state = try CertifiedRemoval().unlearn(state, forgetting: [id]).state
          let solvers = state.certifiedCache?.heads as? [HeadNewtonSolver<LogisticRegression>]
          let amortised = try #require(solvers?.first?.amortised)
          let theta = state.parameters
          guard amortised.pointPredictors.count == data.count else { continue }
          // The truth from the data: the largest retained |x_i^T theta - z~_i|.
          let z = data.features.multiply(theta)
          var truth = 0.0
          for i in z.indices where state.weights[i] != 0 {
            truth = Swift.max(truth, abs(z[i] - amortised.pointPredictors[i]))
          }
          let bound = amortised.driftBound(at: theta)
          #expect(truth <= bound + 1e-13 * theta.norm(), "truth \(truth), bound \(bound)")
          checks += 1
          // Right after an exact step the anchor is the current theta: the bound is the
          // measured maximum itself (a bound half as large would fail above).
          if amortised.anchor == theta, truth > 1e-8 {
            anchoredChecks += 1
            attained = Swift.max(attained, truth / bound)
          }
        }
      }
    }
    print(
      "anchored drift: \(checks) checks, \(anchoredChecks) at the anchor, largest truth / bound \(attained)"
    )
    #expect(anchoredChecks >= 5, "\(anchoredChecks) checks at an anchor")
    #expect(attained >= 0.99, "largest truth / bound at an anchor: \(attained)")
  }

  @Test("O(d^2) steps follow the retrained model as closely as the exact path")
  func tracksRetraining() throws {
    let data = try AdversarialProblems.benign(n: 300, d: 8, seed: 12)
    let ids = CertificationProblems.randomIDs(data, count: 20, seed: 5)
    let privacy = try CertificationProblems.privacy(sigma: 5, budget: 50)
    var state = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: 8), data: data, regularization: 1e-2,
      privacy: privacy, solver: Self.amortised(fraction: 1),
      perturbation: .reproducibleNotPrivate(seed: 2))
    let original = state.parameters
    for id in ids { state = try CertifiedRemoval().unlearn(state, forgetting: [id]).state }
    // The reference: the retained objective (same b) minimised from scratch.
    let objective = Objective(
      model: state.model, features: data.features, targets: data.labels.map(Double.init),
      weights: state.weights, regularization: state.regularization,
      perturbation: state.perturbation)
    let retrained = Training.Newton(gradientTolerance: 1e-12).train(objective, from: nil).parameters
    let gap = state.parameters.subtracting(retrained).norm()
    let moved = original.subtracting(retrained).norm()
    #expect(gap <= 0.05 * moved, "gap \(gap), original distance \(moved)")
  }

  @Test("The policy is stored with the solver settings; older settings decode without it")
  func policyRoundTrips() throws {
    let solver = Self.amortised(fraction: 0.25, minimumCheapSteps: 3)
    let data = try JSONEncoder().encode(solver)
    #expect(try JSONDecoder().decode(NewtonSolver.self, from: data) == solver)
    let old = try JSONEncoder().encode(NewtonSolver.default)
    #expect(!String(decoding: old, as: UTF8.self).contains("amortised"))
    #expect(try JSONDecoder().decode(NewtonSolver.self, from: old) == .default)
    #expect(throws: (any Error).self) {
      try Self.amortised(fraction: 0).validate()
    }
    #expect(throws: (any Error).self) {
      try Self.amortised(fraction: 0.5, minimumCheapSteps: -1).validate()
    }
  }

  @Test("Across several folds the Woodbury solve is a dense solve of the downdated Hessian")
  func woodburySolveMatchesTheDowndatedHessian() throws {
    let data = try AdversarialProblems.benign(n: 300, d: 8, seed: 41)
    var state = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: 8), data: data, regularization: 1e-2,
      privacy: CertificationProblems.privacy(sigma: 5, budget: 50),
      solver: Self.amortised(fraction: 1), perturbation: .reproducibleNotPrivate(seed: 4))
    var g = SeededGenerator(seed: 12)
    var pendingSeen = Set<Int>()
    let ids = CertificationProblems.randomIDs(data, count: 84, seed: 13)
    // Single removals, then batches of three (several rows appended per request).
    var requests = ids.prefix(60).map { [$0] }
    requests += stride(from: 60, to: 84, by: 3).map { Array(ids[$0..<($0 + 3)]) }
    for (j, request) in requests.enumerated() {
      state = try CertifiedRemoval().unlearn(state, forgetting: request).state
      let solvers = state.certifiedCache?.heads as? [HeadNewtonSolver<LogisticRegression>]
      let solver = try #require(solvers?.first)
      let factor = try #require(solver.factor)
      pendingSeen.insert(factor.pendingCount)
      // The matrix the factor stands for, from the data: the retained rows' curvature at the
      // factor's point plus the regulariser it was formed with.
      var explicit = Matrix(rows: 8, columns: 8)
      for i in 0..<data.count where state.weights[i] != 0 {
        let x = data.features.row(i)
        for a in 0..<8 {
          for b in 0..<8 { explicit[a, b] += solver.factorCurvature[i] * x[a] * x[b] }
        }
      }
      explicit.addToDiagonal(solver.factorShift)
      let rhs = g.normalVector(count: 8)
      let dense = try Cholesky(explicit).solve(rhs)
      #expect(
        factor.solve(rhs).subtracting(dense).norm() <= 1e-9 * dense.norm(),
        "request \(j), \(factor.pendingCount) pending")
    }
    // The run folded (pending counts restarted) and carried pending rows between folds.
    #expect(pendingSeen.contains(1) && pendingSeen.contains(20), "\(pendingSeen.sorted())")
  }

  @Test("The measured solve inexactness is charged: a charge half as large would fail")
  func inexactnessIsCharged() throws {
    // lambda = 1 keeps every predictor near 0, where the third derivative of the loss vanishes:
    // the remainder is tiny, and the residual after an O(d^2) step is the solve's inexactness,
    // which the stale regulariser of the factor (lambda n~ instead of lambda n_R) makes about
    // lambda ||v|| per removed row.
    let data = try AdversarialProblems.benign(n: 400, d: 3, seed: 17)
    let original = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: 3), data: data, regularization: 1,
      privacy: CertificationProblems.privacy(sigma: 1e-6, budget: 10),
      solver: Self.amortised(fraction: 1), perturbation: .reproducibleNotPrivate(seed: 5))
    let before = residualFromScratch(original)
    var largest = 0.0
    // Each removal from the same original state (its cache is shared and never written).
    for id in data.ids.prefix(6) {
      let result = try CertifiedRemoval().unlearn(original, forgetting: [id])
      let certificate = try #require(result.report.certificate)
      #expect(!certificate.residualMeasured)
      let after = residualFromScratch(result.state)
      #expect(after <= certificate.certifiedResidual, "\(certificate)")
      #expect(certificate.solveInexactness > 10 * certificate.tightBound)
      let used = (after - before - certificate.tightBound) / certificate.solveInexactness
      largest = Swift.max(largest, used)
    }
    print("O(d^2) step: largest share of the charged inexactness used by the truth \(largest)")
    #expect(largest >= 0.9, "largest used share of the charged inexactness: \(largest)")
  }

  @Test(
    "Removing twice from one state: each result equals a fresh engine's, across a fold",
    arguments: [true, false])
  func removingTwiceFromOneState(amortised: Bool) throws {
    let data = try AdversarialProblems.benign(n: 200, d: 6, seed: 31)
    let solver = amortised ? Self.amortised(fraction: 1) : NewtonSolver.default
    func trained() throws -> TrainedModel<LogisticRegression> {
      try TrainedModel.trainCertified(
        model: LogisticRegression(featureCount: 6), data: data, regularization: 1e-2,
        privacy: CertificationProblems.privacy(sigma: 5, budget: 50), solver: solver,
        perturbation: .reproducibleNotPrivate(seed: 3))
    }
    let ids = CertificationProblems.randomIDs(data, count: 36, seed: 6)
    // Identical histories: `shared` is removed from repeatedly, each twin once.
    func history() throws -> TrainedModel<LogisticRegression> {
      var state = try trained()
      for id in ids.prefix(30) {
        state = try CertifiedRemoval().unlearn(state, forgetting: [id]).state
      }
      return state
    }
    let shared = try history()
    // 30 rows pending: each batch of three below folds them (into a copy: `shared` keeps its
    // cache).
    let first = try CertifiedRemoval().unlearn(shared, forgetting: Array(ids[30..<33]))
    let second = try CertifiedRemoval().unlearn(shared, forgetting: Array(ids[33..<36]))
    let again = try CertifiedRemoval().unlearn(shared, forgetting: Array(ids[30..<33]))
    let freshFirst = try CertifiedRemoval().unlearn(try history(), forgetting: Array(ids[30..<33]))
    let freshSecond = try CertifiedRemoval().unlearn(
      try history(), forgetting: Array(ids[33..<36]))
    for (result, reference, label) in [
      (first, freshFirst, "first"), (second, freshSecond, "second"), (again, freshFirst, "again"),
    ] {
      let gap = result.state.parameters.subtracting(reference.state.parameters).norm()
      #expect(gap <= 1e-12 * reference.state.parameters.norm(), "\(label): gap \(gap)")
      let certificate = try #require(result.report.certificate)
      let expected = try #require(reference.report.certificate)
      #expect(
        abs(certificate.certifiedResidual - expected.certifiedResidual)
          <= 1e-10 * expected.certifiedResidual, "\(label)")
      #expect(residualFromScratch(result.state) <= certificate.certifiedResidual, "\(label)")
    }
  }
}
