import ArgumentParser
import Foundation
import Testing
import Unlearning
import UnlearnCLI

@Suite("unlearn evaluate")
struct EvaluateCommandTests {
  static func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "unlearn-evaluate-\(UInt32.random(in: 0...UInt32.max))-\(name)"
  }

  /// Every key of a JSON object tree.
  static func keys(_ value: Any) -> [String] {
    if let object = value as? [String: Any] {
      return object.keys.map { $0 } + object.values.flatMap { keys($0) }
    }
    if let array = value as? [Any] { return array.flatMap { keys($0) } }
    return []
  }

  @Test func writesVersionedJSONWhoseEpsilonsFollowFromTheConfidences() throws {
    let path = Self.temporaryPath("evaluate.json")
    var command = try Unlearn.parseAsRoot([
      "evaluate", "--methods", "naive,newton", "--models", "16", "--forget", "12", "--json", path,
    ])
    try command.run()
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let document = try JSONDecoder().decode(EvaluateDocument.self, from: data)
    #expect(document.schema == "unlearn.evaluate/2")
    #expect(document.methods.map(\.method) == ["naive", "newton"])
    #expect(document.noiseFloor.method == "retrain-vs-retrain")
    #expect(document.modelCount == 16 && document.forgetIDs.count == 12)
    #expect(document.thresholdSearch == "challengeGrid")
    let estimator = Metrics.ThresholdAttackEstimator(
      delta: document.delta, cap: document.epsilonCap, search: .challengeGrid)
    for method in document.methods + [document.noiseFloor] {
      #expect(method.unlearnedConfidences.count == 16)
      #expect(method.retrainedConfidences.count == 16)
      #expect(method.unlearnedConfidences.allSatisfy { $0.count == 12 })
      // Recomputed from the exported tables with the public functions.
      let epsilons = ForgetScore.epsilons(
        unlearned: method.unlearnedConfidences, retrained: method.retrainedConfidences,
        estimator: estimator
      ).map(\.epsilon)
      #expect(epsilons == method.epsilons)
      #expect(ForgetScore.forgetScore(epsilons: epsilons, modelCount: 16) == method.forgetScore)
      #expect(
        abs(
          ForgetScore.finalScore(
            forgetScore: method.forgetScore,
            unlearnedRetainAccuracy: method.unlearned.retainAccuracy,
            retrainedRetainAccuracy: document.retrained.retainAccuracy,
            unlearnedTestAccuracy: method.unlearned.testAccuracy,
            retrainedTestAccuracy: document.retrained.testAccuracy) - method.finalScore) <= 1e-15)
    }
    #expect(document.methods[0].forgetScore < document.methods[1].forgetScore)
    let tree = try JSONSerialization.jsonObject(with: data)
    #expect(Self.keys(tree).allSatisfy { !$0.contains(" ") })
  }

  @Test func rejectsRetrainAndUnknownMethodsAndBadCounts() {
    #expect(throws: (any Error).self) {
      try Unlearn.parseAsRoot(["evaluate", "--methods", "retrain"])
    }
    #expect(throws: (any Error).self) {
      try Unlearn.parseAsRoot(["evaluate", "--methods", "newton,magic"])
    }
    #expect(throws: (any Error).self) { try Unlearn.parseAsRoot(["evaluate", "--models", "1"]) }
    #expect(throws: (any Error).self) {
      try Unlearn.parseAsRoot(["evaluate", "--thresholds", "fine"])
    }
    #expect(throws: (any Error).self) {
      try Unlearn.parseAsRoot(["evaluate", "--model", "forest"])
    }
  }

  @Test func badRequestsGiveOneLineErrors() throws {
    var tooMany = try Unlearn.parseAsRoot(["evaluate", "--models", "4", "--forget", "400"])
    do {
      try tooMany.run()
      Issue.record("expected an error")
    } catch {
      #expect(error is CLIError)
      #expect("\(error)".contains("forget count 400"))
      #expect(!"\(error)".contains("\n"))
    }
    var unknown = try Unlearn.parseAsRoot(["evaluate", "--dataset", "nowhere", "--models", "4"])
    #expect(throws: CLIError.self) { try unknown.run() }
  }

  /// U-LiRA and the certificate audit through the command: labels use the option spelling,
  /// the JSON carries both reports, and the audit's bound follows from its exported counts.
  @Test func uliraAndCertificateAuditAreExportedWithOptionSpelledLabels() throws {
    let path = Self.temporaryPath("evaluate-ulira.json")
    var command = try Unlearn.parseAsRoot([
      "evaluate", "--methods", "naive,neggrad-plus", "--models", "4", "--forget", "8", "--ulira",
      "--shadow-models", "16", "--audit-certificate", "--audit-models", "16", "--audit-seed", "5",
      "--json", path,
    ])
    try command.run()
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    // The point epsilon is infinite when an error count is 0: written as "inf".
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let document = try decoder.decode(EvaluateDocument.self, from: data)
    #expect(document.methods.map(\.method) == ["naive", "neggrad-plus"])
    let ulira = try #require(document.ulira)
    #expect(
      ulira.rows.map(\.method) == [
        "original (no unlearning)", "naive", "neggrad-plus", "retrain (noise floor)",
      ])
    #expect(ulira.modelCount == 16 && ulira.forgetIDs == document.forgetIDs)
    let audit = try #require(document.certificateAudit)
    #expect(!audit.perturbationIsPrivate && audit.trialCount == 16)
    #expect(!audit.isContradicted)
    let a = audit.attack
    let recomputed = EmpiricalEpsilon.lowerConfidenceBound(
      falsePositives: a.falsePositives, negatives: a.evaluationNegatives,
      falseNegatives: a.falseNegatives, positives: a.evaluationPositives, delta: audit.delta,
      confidence: audit.confidence)
    #expect(recomputed == a.epsilonLowerBound)
  }

  @Test func auditOptionsAreValidated() {
    #expect(throws: (any Error).self) {
      _ = try Unlearn.parseAsRoot(["evaluate", "--audit-certificate", "--model", "mlp"])
    }
    #expect(throws: (any Error).self) {
      _ = try Unlearn.parseAsRoot(["evaluate", "--ulira", "--shadow-models", "4"])
    }
    #expect(throws: (any Error).self) {
      _ = try Unlearn.parseAsRoot(["evaluate", "--audit-certificate", "--audit-models", "2"])
    }
  }
}
