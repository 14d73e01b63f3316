import Testing
import Unlearning

@Suite("Comparison on the hospital scenario")
struct ComparisonTests {
  /// The default comparison, computed once for the suite (about a second in release).
  static let result: Comparison.Result? = try? Comparison.run(Comparison.Configuration())

  @Test func producesEveryMethodForEveryModel() throws {
    let result = try #require(Self.result)
    #expect(result.trainCount == 400 && result.testCount == 100 && result.forgottenIDs.count == 80)
    #expect(Set(result.forgottenIDs).count == 80)
    let logistic = result.rows.filter { $0.model == "logistic" }.map(\.method)
    #expect(
      logistic == [
        "retrain", "naive", "gradient-ascent", "gradient-ascent-tuned", "neggrad-plus", "finetune",
        "scrub", "fisher", "sisa", "newton",
      ])
    // Certified removal: its own group, judged against a retrain with the same secret b, with
    // the gaps to the plain retrain recorded too.
    let certified = result.rows.filter { $0.model == "certified logistic" }
    #expect(certified.map(\.method) == ["retrain (same b)", "certified"])
    #expect(certified.last?.reference == "retrain (same b)")
    #expect(certified.last?.accuracyGapsToRetrain?.count == 3)
    #expect(certified.last?.report?.certificate?.isCertified == true)
    #expect(certified.first?.evaluation.verdict == .reference)
    let mlp = result.rows.filter { $0.model.hasPrefix("mlp") }.map(\.method)
    #expect(
      mlp.contains("retrain") && mlp.contains("gradient-ascent") && mlp.contains("newton")
        && mlp.contains("naive"))
  }

  @Test func retrainIsExactlyTheReference() throws {
    let result = try #require(Self.result)
    for row in result.rows where row.method == "retrain" {
      let e = row.evaluation
      #expect(e.relativeDistance == 0 && e.distanceToRetrain == 0)
      #expect(e.testKL == 0 && e.forgetKL == 0)
      #expect(e.testAccuracyGap == 0 && e.forgetAccuracyGap == 0 && e.retainAccuracyGap == 0)
      #expect(e.verdict == .reference)
    }
  }

  @Test func naiveIsNoChangeAndNewtonIsCloseToRetrainForLogistic() throws {
    let result = try #require(Self.result)
    let rows = result.rows.filter { $0.model == "logistic" }
    let naive = try #require(rows.first { $0.method == "naive" })
    #expect(naive.evaluation.relativeDistance == 1)
    #expect(naive.evaluation.verdict == .noChange)
    let newton = try #require(rows.first { $0.method == "newton" })
    #expect(newton.evaluation.relativeDistance < 0.1)
    #expect(newton.evaluation.verdict == .closeToRetrain)
    // Newton's residual is far below doing nothing's.
    #expect(newton.evaluation.gradientResidualNorm < 0.1 * naive.evaluation.gradientResidualNorm)
  }

  @Test func seedGradientAscentOverForgetsOnTheNetwork() throws {
    let result = try #require(Self.result)
    let row = try #require(
      result.rows.first { $0.model.hasPrefix("mlp") && $0.method == "gradient-ascent" })
    #expect(row.evaluation.verdict == .overForgets)
    let reference = try #require(
      result.rows.first { $0.model.hasPrefix("mlp") && $0.method == "retrain" })
    // The retrained network still classifies the forgotten patients well; ascent does not.
    #expect(reference.evaluation.forgetAccuracy > 0.8)
    #expect(row.evaluation.forgetAccuracy < reference.evaluation.forgetAccuracy - 0.1)
  }

  @Test func certifiedRowCarriesASoundCertificate() throws {
    let result = try #require(Self.result)
    let row = try #require(result.rows.first { $0.method == "certified" })
    let certificate = try #require(row.report?.certificate)
    #expect(certificate.trueResidual <= certificate.certifiedResidual)
    #expect(certificate.certifiedResidual <= certificate.budget)
    #expect(abs(certificate.budget - 0.5) < 1e-12)
  }

  @Test func badForgetRequestsAreRejected() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    #expect(throws: Comparison.ComparisonError.self) {
      try Comparison.resolveForget(.random(count: 0), train: train, seed: 1)
    }
    #expect(throws: Comparison.ComparisonError.self) {
      try Comparison.resolveForget(.random(count: 400), train: train, seed: 1)
    }
    #expect(
      throws: Comparison.ComparisonError.invalidRequest("forget id 7 is not in the training set")
    ) {
      try Comparison.resolveForget(.ids([7]), train: train, seed: 1)
    }
    let id = train.ids[3]
    #expect(throws: Comparison.ComparisonError.invalidRequest("forget id \(id) is listed twice")) {
      try Comparison.resolveForget(.ids([id, id]), train: train, seed: 1)
    }
    let drawn = try Comparison.resolveForget(.random(count: 10), train: train, seed: 5)
    #expect(drawn == (try Comparison.resolveForget(.random(count: 10), train: train, seed: 5)))
    #expect(drawn != (try Comparison.resolveForget(.random(count: 10), train: train, seed: 6)))
  }
}
