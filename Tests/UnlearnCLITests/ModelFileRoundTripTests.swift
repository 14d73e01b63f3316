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
    try Self.run(["remove", "--model-file", model, "--forget-ids", ids, "--out", updated])
    let file = try ModelFile.read(from: updated)

    let (train, _) = Scenario.Hospital.make(seed: 42)
    let state = try TrainedModel.train(
      model: LogisticRegression(featureCount: 2), data: train, regularization: 1e-3,
      trainer: Training.Newton(gradientTolerance: 1e-10, seed: 42))
    let removed = try NewtonRemoval().unlearn(state, forgetting: [1003, 1010, 1025])
    #expect(file.parameters == removed.state.parameters)
    #expect(file.removedIDs == [1003, 1010, 1025])
    // The same request again is refused: those patients are already forgotten.
    #expect(throws: (any Error).self) {
      try Self.run([
        "remove", "--model-file", updated, "--forget-ids", ids, "--out", Self.path("x.json"),
      ])
    }
  }

  @Test func certifiedRemovalKeepsItsBudgetAcrossCalls() throws {
    let model = Self.path("c.json"), one = Self.path("c1.json"), two = Self.path("c2.json")
    let first = Self.path("first.txt"), second = Self.path("second.txt")
    try "1003\n1010\n".write(toFile: first, atomically: true, encoding: .utf8)
    try "1025\n".write(toFile: second, atomically: true, encoding: .utf8)
    try Self.run(["train", "--certified", "--sigma", "1", "--out", model])
    try Self.run(["remove", "--model-file", model, "--forget-ids", first, "--out", one])
    try Self.run(["remove", "--model-file", one, "--forget-ids", second, "--out", two])

    // Replay in process from the first file's state: the same engine and solver.
    let (train, _) = Scenario.Hospital.make(seed: 42)
    struct Replay: StateVisitor {
      func visit<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) throws
        -> [Double]
      {
        let once = try CertifiedRemoval().unlearn(state, forgetting: [1003, 1010]).state
        return try CertifiedRemoval().unlearn(once, forgetting: [1025]).state.parameters
      }
    }
    let start = try ModelFile.read(from: model)
    let replayed = try start.withState(data: train, path: model, Replay())
    let file = try ModelFile.read(from: two)
    let saved = try #require(file.certification)
    #expect(saved.solver == .default)
    #expect(saved.certificates.count == 2)
    #expect(file.removedIDs == [1003, 1010, 1025])
    // Each file load starts from a fresh factor, so the steps differ from the in-process ones
    // within what is charged: both are within (certified residual) / (lambda n_R) of the same
    // minimiser.
    let last = try #require(saved.certificates.last)
    let mu = 1e-3 * Double(last.retainedCount)
    #expect(file.parameters.subtracting(replayed).norm() <= 2 * last.budget / mu)
    #expect(last.trueResidual <= last.certifiedResidual)
    #expect(file.perturbation == start.perturbation)

    // The public release is a whitelist: no b, no ids, no spent, no certificates.
    let published = Self.path("public.json")
    try Self.run(["export", "--public", "--model-file", two, "--out", published])
    let text = try String(contentsOfFile: published, encoding: .utf8)
    for secret in [
      "perturbation", "removedIDs", "headSpent", "certificates", "scenario", "Fingerprint",
    ] {
      #expect(!text.contains(secret), "\(secret)")
    }
    #expect(try PublicRelease.read(from: published).parameters == file.parameters)
    // A release cannot be used where the private state is required.
    #expect(throws: (any Error).self) {
      try Self.run([
        "remove", "--model-file", published, "--forget-ids", first, "--out", Self.path("y.json"),
      ])
    }
    // An output equal to the input is refused before any work.
    #expect(throws: (any Error).self) {
      try Self.run(["export", "--public", "--model-file", two, "--out", two])
    }
  }

  @Test func softmaxCertifiedTrainsOneVsRestThatRemoveAccepts() throws {
    let model = Self.path("ovr.json"), ids = Self.path("ids.txt"), out = Self.path("ovr2.json")
    try "3\n17\n".write(toFile: ids, atomically: true, encoding: .utf8)
    let csv = Self.path("three.csv")
    var rows = "a,b,label\n"
    var g = SeededGenerator(seed: 5)
    for i in 0..<60 {
      let k = i % 3
      rows += "\(Double(k) + 0.3 * g.nextNormal()),\(Double(2 - k) + 0.3 * g.nextNormal()),\(k)\n"
    }
    try rows.write(toFile: csv, atomically: true, encoding: .utf8)
    try Self.run([
      "train", "--dataset", "csv:" + csv, "--normalize-rows", "--model", "softmax", "--certified",
      "--sigma", "5", "--out", model,
    ])
    let file = try ModelFile.read(from: model)
    #expect(file.model == .oneVsRest(featureCount: 2, classCount: 3))
    struct FirstIDs: StateVisitor {
      func visit<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) -> [SampleID] {
        Array(state.data.ids.prefix(2))
      }
    }
    let (train, _) = try file.scenario.load()
    let first = try file.withState(data: train, path: model, FirstIDs())
    try first.map { String($0.rawValue) }.joined(separator: "\n").write(
      toFile: ids, atomically: true, encoding: .utf8)
    try Self.run(["remove", "--model-file", model, "--forget-ids", ids, "--out", out])
    let updated = try ModelFile.read(from: out)
    #expect(updated.certification?.certificates.first?.headCount == 3)
    #expect(updated.certification?.certificates.first?.isCertified == true)
  }

  @Test func corruptModelFileGivesOneLineError() throws {
    let bad = Self.path("bad.json"), ids = Self.path("ids.txt")
    try "{\"format\": \"unlearn-model\", \"version\": 1, \"model\": 3}".write(
      toFile: bad, atomically: true, encoding: .utf8)
    try "1003\n".write(toFile: ids, atomically: true, encoding: .utf8)
    do {
      try Self.run([
        "remove", "--model-file", bad, "--forget-ids", ids, "--out", Self.path("z.json"),
      ])
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains(bad))
      #expect(!"\(error)".contains("\n"))
    }
  }
}
