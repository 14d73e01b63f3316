import Foundation
import Testing
import TestSupport
import Unlearning

extension CertificationTests {
  @Suite("Fast sequential certified removal")
  struct FastSequential {
    /// A policy that demands an essentially exact solve (refines by PCG, refreshes if needed).
    static let accurate = FastRemovalPolicy(
      inexactnessFraction: 0, relativeTolerance: 1e-12, budgetFraction: 0, maximumRefinements: 20,
      refreshInterval: 1000)
    /// A policy that never refines or refreshes on its own (accepts every stale solve).
    static let stale = FastRemovalPolicy(
      inexactnessFraction: 1e12, relativeTolerance: 0, maximumRefinements: 0, refreshInterval: .max)

    /// `sum_{i in R} w_i l''(x_i^T theta0) x_i x_i^T + shift I` by naive loops.
    static func naiveHessian(_ data: Dataset, weights: [Double], at theta: [Double], shift: Double)
      -> Matrix
    {
      let d = data.featureCount
      var h = Matrix(rows: d, columns: d)
      for i in 0..<data.count where weights[i] != 0 {
        let x = data.features.row(i)
        var z = 0.0
        for k in 0..<d { z += x[k] * theta[k] }
        let s = 1 / (1 + Foundation.exp(-z))
        let c = weights[i] * s * (1 - s)
        for a in 0..<d { for b in 0..<d { h[a, b] += c * x[a] * x[b] } }
      }
      for a in 0..<d { h[a, a] += shift }
      return h
    }

    static func relativeGap(_ a: Matrix, _ b: Matrix) -> Double {
      var diff = a
      diff.add(b, scaledBy: -1)
      return diff.elements.norm() / b.elements.norm()
    }

    @Test(
      "Fast and exact (.direct) paths agree on theta to 1e-8 over 100 removals; certificates cover the true residual",
      arguments: [BudgetAccounting.paper, .exactStep])
    func agreesWithExactPath(accounting: BudgetAccounting) throws {
      let (n, d, lambda) = (700, 15, 1e-2)
      let data = try CertificationProblems.binary(count: n, features: d, seed: 61)
      let model = LogisticRegression(featureCount: d)
      let privacy = try CertificationProblems.privacy(sigma: 1, budget: 1000)
      var exact = try CertifiedRemover(
        model: model, data: data, regularization: lambda, privacy: privacy, accounting: accounting,
        solver: .direct, seed: 62)
      var fast = try CertifiedRemover(
        model: model, data: data, regularization: lambda, privacy: privacy, accounting: accounting,
        solver: .fastSequential(Self.accurate), seed: 62)
      #expect(fast.state.parameters == exact.state.parameters)
      var ids = CertificationProblems.randomIDs(data, count: 120, seed: 63)
      for k in 0..<100 {
        let batch = k % 25 == 24 ? Array(ids.prefix(5)) : [ids[0]]
        ids.removeFirst(batch.count)
        let e = try exact.remove(batch)
        let f = try fast.remove(batch)
        #expect(!e.retrained && !f.retrained)
        let gap = fast.state.parameters.subtracting(exact.state.parameters).norm()
        #expect(gap <= 1e-8 * exact.state.parameters.norm(), "removal \(k): gap \(gap)")
        // The true residual measured from scratch (b included).
        let measured = fast.state.gradientResidualNorm()
        #expect(Swift.abs(f.trueResidual - measured) <= 1e-9 * measured + 1e-12)
        #expect(
          measured <= f.certifiedResidual, "removal \(k): \(measured) > \(f.certifiedResidual)")
        #expect(measured <= f.spent)
        #expect(Swift.abs(f.tightBound - e.tightBound) <= 1e-6 * e.tightBound)
      }
    }

    @Test(
      "Default policy: certificate >= true residual, inexactness within the policy, over 100 removals",
      arguments: [BudgetAccounting.paper, .exactStep])
    func defaultPolicyIsSound(accounting: BudgetAccounting) throws {
      let (n, d, lambda) = (900, 12, 1e-3)
      let data = try CertificationProblems.binary(count: n, features: d, seed: 71)
      var fast = try CertifiedRemover(
        model: LogisticRegression(featureCount: d), data: data, regularization: lambda,
        privacy: try CertificationProblems.privacy(sigma: 1, budget: 5), accounting: accounting,
        solver: .fastSequential(.default), seed: 72)
      var ids = CertificationProblems.randomIDs(data, count: 130, seed: 73)
      for k in 0..<100 {
        let batch = k % 20 == 19 ? Array(ids.prefix(4)) : [ids[0]]
        ids.removeFirst(batch.count)
        let c = try fast.remove(batch)
        let measured = fast.state.gradientResidualNorm()
        #expect(
          measured <= c.certifiedResidual, "removal \(k): \(measured) > \(c.certifiedResidual)")
        #expect(c.certifiedResidual <= c.budget)
        if !c.retrained {
          let charged = fast.bound == .guo ? c.guoBound : c.tightBound
          #expect(
            c.refreshed || c.solveInexactness <= 0.5 * charged + 1e-9
              || (accounting == .exactStep && charged + c.solveInexactness <= 0.01 * c.budget),
            "removal \(k): inexactness \(c.solveInexactness) vs bound \(charged)")
        }
      }
      // At least one fused pass over X per request (the fast path really ran).
      #expect((fast.fastStatistics?.dataPasses ?? 0) >= 100)
    }

    @Test("The downdated factor equals a fresh factorisation of the downdated matrix to 1e-10")
    func downdatedFactor() throws {
      let (n, d, lambda) = (400, 20, 1e-2)
      let data = try CertificationProblems.binary(count: n, features: d, seed: 81)
      var fast = try CertifiedRemover(
        model: LogisticRegression(featureCount: d), data: data, regularization: lambda,
        privacy: try CertificationProblems.privacy(sigma: 1, budget: 1000), accounting: .paper,
        solver: .fastSequential(Self.stale), seed: 82)
      let theta0 = fast.state.parameters
      let initial = try #require(fast.fastFactor)
      #expect(
        Self.relativeGap(
          initial.lower,
          try Cholesky(
            Self.naiveHessian(
              data, weights: fast.state.weights, at: theta0, shift: lambda * Double(n))
          ).lower
        ) <= 1e-10)
      var ids = CertificationProblems.randomIDs(data, count: 20, seed: 83)
      _ = try fast.remove(Array(ids.prefix(6)))  // a batch: 6 rank-1 downdates
      ids.removeFirst(6)
      for id in ids { _ = try fast.remove([id]) }
      #expect(fast.certificates.allSatisfy { !$0.refreshed })
      // Downdated matrix: the data part at theta0 over the current retain set, with the
      // regulariser of the original n rows (lambda n_0 I).
      let oracle = try Cholesky(
        Self.naiveHessian(data, weights: fast.state.weights, at: theta0, shift: lambda * Double(n)))
      let factor = try #require(fast.fastFactor)
      #expect(Self.relativeGap(factor.lower, oracle.lower) <= 1e-10)
      #expect(fast.state.retainedCount == n - 20)
    }

    @Test(
      "Refresh every k requests: refreshed exactly then, to the Hessian at the pre-step parameters")
    func refreshOnCount() throws {
      let (n, d, lambda) = (500, 10, 1e-2)
      let data = try CertificationProblems.binary(count: n, features: d, seed: 91)
      var policy = Self.stale
      policy.refreshInterval = 5
      var fast = try CertifiedRemover(
        model: LogisticRegression(featureCount: d), data: data, regularization: lambda,
        privacy: try CertificationProblems.privacy(sigma: 1, budget: 1000), accounting: .exactStep,
        solver: .fastSequential(policy), seed: 92)
      for (k, id) in CertificationProblems.randomIDs(data, count: 17, seed: 93).enumerated() {
        let before = fast.state.parameters
        let certificate = try fast.remove([id])
        #expect(certificate.refreshed == (k % 5 == 0 && k > 0), "request \(k)")
        if certificate.refreshed {
          let oracle = try Cholesky(
            Self.naiveHessian(
              data, weights: fast.state.weights, at: before,
              shift: lambda * Double(fast.state.retainedCount)))
          let factor = try #require(fast.fastFactor)
          #expect(Self.relativeGap(factor.lower, oracle.lower) <= 1e-10)
        }
      }
      #expect(fast.fastStatistics?.refreshes == 1 + 3)
    }

    @Test("A zero inexactness fraction and no refinements refresh on every request")
    func refreshOnInexactness() throws {
      let (n, d, lambda) = (500, 10, 1e-2)
      let data = try CertificationProblems.binary(count: n, features: d, seed: 95)
      let policy = FastRemovalPolicy(
        inexactnessFraction: 0, relativeTolerance: 0, budgetFraction: 0, maximumRefinements: 0,
        refreshInterval: .max)
      var fast = try CertifiedRemover(
        model: LogisticRegression(featureCount: d), data: data, regularization: lambda,
        privacy: try CertificationProblems.privacy(sigma: 1, budget: 1000), accounting: .paper,
        solver: .fastSequential(policy), seed: 96)
      var lenient = try CertifiedRemover(
        model: LogisticRegression(featureCount: d), data: data, regularization: lambda,
        privacy: try CertificationProblems.privacy(sigma: 1, budget: 1000), accounting: .paper,
        solver: .fastSequential(Self.stale), seed: 96)
      for id in CertificationProblems.randomIDs(data, count: 8, seed: 97) {
        let strict = try fast.remove([id])
        let loose = try lenient.remove([id])
        #expect(strict.refreshed)
        #expect(!loose.refreshed)
        // The refreshed solve is exact to round-off; the stale one is not.
        #expect(strict.solveInexactness < loose.solveInexactness)
      }
      #expect(fast.fastStatistics?.refreshes == 1 + 8)
      #expect(lenient.fastStatistics?.refreshes == 1)
    }

    @Test("Invalid policies are rejected; certificates without `refreshed` decode as false")
    func policyValidationAndDecoding() throws {
      let data = try CertificationProblems.binary(count: 100, features: 5, seed: 99)
      for policy in [
        FastRemovalPolicy(inexactnessFraction: -1), FastRemovalPolicy(relativeTolerance: .nan),
        FastRemovalPolicy(maximumRefinements: -1), FastRemovalPolicy(refreshInterval: 0),
      ] {
        #expect(throws: CertificationError.self) {
          _ = try CertifiedRemover(
            model: LogisticRegression(featureCount: 5), data: data, regularization: 1e-2,
            privacy: try CertificationProblems.privacy(sigma: 1, budget: 10),
            solver: .fastSequential(policy))
        }
      }
      var remover = try CertifiedRemover(
        model: LogisticRegression(featureCount: 5), data: data, regularization: 1e-2,
        privacy: try CertificationProblems.privacy(sigma: 1, budget: 10),
        solver: .fastSequential(.default))
      let certificate = try remover.remove([data.ids[3]])
      let encoded = try JSONEncoder().encode(certificate)
      var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
      #expect(object["refreshed"] != nil)
      object["refreshed"] = nil
      let legacy = try JSONSerialization.data(withJSONObject: object)
      let decoded = try JSONDecoder().decode(RemovalCertificate.self, from: legacy)
      var expected = certificate
      expected.refreshed = false
      #expect(decoded == expected)
      #expect(try JSONDecoder().decode(RemovalCertificate.self, from: encoded) == certificate)
    }
  }
}
