import Foundation
import Testing
import Unlearning
import UnlearnCLI

@Suite("train -> save -> load -> remove -> save")
struct ModelFileRoundTripTests {
  static func path(_ name: String) -> String {
    NSTemporaryDirectory() + "unlearn-roundtrip-\(UInt32.random(in: 0...UInt32.max))-\(name)"
  }

  static func run(_ arguments: [String]) throws {
    var command = try Unlearn.parseAsRoot(arguments)
    try command.run()
  }

  @Test func newtonRemovalThroughFilesEqualsTheInProcessAPI() throws {
    let model = Self.path("m.json"), updated = Self.path("m2.json"), ids = Self.path("ids.txt")
    try "1003\n1010\n1025\n".write(toFile: ids, atomically: true, encoding: .utf8)
    try Self.run(["train", "--out", model])
    try Self.run(["remove", "--model", model, "--forget-ids", ids, "--out", updated])
    let file = try ModelFile.read(from: updated)

    let (train, _) = HospitalScenario.make(seed: 42)
    let state = try TrainedModel.train(
      model: LogisticRegression(featureCount: 2), data: train, regularization: 1e-3,
      trainer: NewtonTrainer(gradientTolerance: 1e-10, seed: 42))
    let removed = try NewtonRemoval().unlearn(state, forgetting: [1003, 1010, 1025])
    #expect(file.parameters == removed.state.parameters)
    #expect(file.removedIDs == [1003, 1010, 1025])
    // The same request again is refused: those patients are already forgotten.
    #expect(throws: (any Error).self) {
      try Self.run([
        "remove", "--model", updated, "--forget-ids", ids, "--out", Self.path("x.json"),
      ])
    }
  }

  @Test func certifiedRemovalKeepsItsBudgetAcrossCalls() throws {
    let model = Self.path("c.json"), one = Self.path("c1.json"), two = Self.path("c2.json")
    let first = Self.path("first.txt"), second = Self.path("second.txt")
    try "1003\n1010\n".write(toFile: first, atomically: true, encoding: .utf8)
    try "1025\n".write(toFile: second, atomically: true, encoding: .utf8)
    try Self.run(["train", "--certified", "--sigma", "1", "--out", model])
    try Self.run(["remove", "--model", model, "--forget-ids", first, "--out", one])
    try Self.run(["remove", "--model", one, "--forget-ids", second, "--out", two])

    let (train, _) = HospitalScenario.make(seed: 42)
    var remover = try CertifiedRemover(
      model: LogisticRegression(featureCount: 2), data: train, regularization: 1e-3,
      privacy: PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 1),
      solver: .default, trainer: NewtonTrainer(gradientTolerance: 1e-10, seed: 42), seed: 42)
    _ = try remover.remove([1003, 1010])
    let certificate = try remover.remove([1025])
    let file = try ModelFile.read(from: two)
    #expect(file.parameters == remover.state.parameters)
    let saved = try #require(file.certification)
    #expect(abs(saved.spent - remover.spent) <= 1e-9 * remover.spent)
    #expect(saved.perturbation == remover.state.perturbation)
    #expect(certificate.trueResidual <= certificate.certifiedResidual)

    // The public copy has no b and cannot be used to continue removing.
    let published = Self.path("public.json")
    try Self.run(["export", "--public", "--model", two, "--out", published])
    #expect(try ModelFile.read(from: published).certification?.perturbation == nil)
    #expect(throws: (any Error).self) {
      try Self.run([
        "remove", "--model", published, "--forget-ids", first, "--out", Self.path("y.json"),
      ])
    }
  }

  @Test func corruptModelFileGivesOneLineError() throws {
    let bad = Self.path("bad.json"), ids = Self.path("ids.txt")
    try "{\"format\": \"unlearn-model\", \"version\": 1, \"model\": 3}".write(
      toFile: bad, atomically: true, encoding: .utf8)
    try "1003\n".write(toFile: ids, atomically: true, encoding: .utf8)
    do {
      try Self.run(["remove", "--model", bad, "--forget-ids", ids, "--out", Self.path("z.json")])
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains(bad))
      #expect(!"\(error)".contains("\n"))
    }
  }
}
