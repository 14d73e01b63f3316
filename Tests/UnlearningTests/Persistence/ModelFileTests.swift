import Foundation
import Testing
import Unlearning

@Suite("Model files")
struct ModelFileTests {
  static func sampleFile() -> ModelFile {
    let training = TrainingResult(
      parameters: [0.5, -1.25], iterations: 3, gradientNorm: 1e-9, gradientTolerance: 1e-7,
      objectiveValue: 1.5, seconds: 0.01, converged: true, method: "newton", notes: [])
    let privacy = try? PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 10)
    return ModelFile(
      model: .logistic(featureCount: 2, fitsIntercept: false), regularization: 1e-3,
      parameters: [0.5, -1.25], training: training, scenario: .hospital(seed: 42),
      dataFingerprint: "0123456789abcdef", removedIDs: [1003, 1010],
      certification: privacy.map {
        .init(
          privacy: $0, accounting: "exact-step", perturbation: [0.1, 0.2], spent: 0.01,
          retrainCount: 0, nextPerturbationSeed: 9)
      })
  }

  static func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "/unlearn-modelfile-\(UInt32.random(in: 0...UInt32.max))-\(name)"
  }

  @Test func roundTripsExactly() throws {
    let file = Self.sampleFile()
    let path = Self.temporaryPath("m.json")
    try file.write(to: path)
    #expect(try ModelFile.read(from: path) == file)
    #expect(file.publicCopy().certification?.perturbation == nil)
    let publicPath = Self.temporaryPath("public.json")
    try file.publicCopy().write(to: publicPath)
    let text = try String(contentsOfFile: publicPath, encoding: .utf8)
    #expect(!text.contains("perturbation"))
  }

  @Test func fingerprintDistinguishesData() throws {
    let (train, test) = HospitalScenario.make(seed: 42)
    #expect(train.fingerprint == HospitalScenario.make(seed: 42).train.fingerprint)
    #expect(train.fingerprint != test.fingerprint)
    #expect(train.fingerprint != HospitalScenario.make(seed: 43).train.fingerprint)
    #expect(train.fingerprint.count == 16)
  }

  static let corruptions: [(String, String)] = [
    ("truncated", "{\"format\": \"unlearn-model\", \"version\": 1, \"model\""),
    ("wrong format", "{\"format\": \"something-else\", \"version\": 1}"),
    ("wrong version", "{\"format\": \"unlearn-model\", \"version\": 99}"),
    ("not json", "hello"),
  ]

  @Test(arguments: corruptions)
  func corruptFilesGiveOneLineErrors(name: String, text: String) throws {
    let path = Self.temporaryPath("bad.json")
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    do {
      _ = try ModelFile.read(from: path)
      Issue.record("\(name): expected an error")
    } catch {
      #expect(!error.description.contains("\n"))
      #expect(error.description.contains(path))
      if name == "wrong version" {
        #expect(error == .unsupportedVersion(path: path, found: 99, supported: 1))
      }
    }
  }

  @Test func inconsistentShapesAreRejected() throws {
    var file = Self.sampleFile()
    file.parameters = [1, 2, 3]
    let path = Self.temporaryPath("shape.json")
    try file.write(to: path)
    #expect(throws: ModelFileError.self) { try ModelFile.read(from: path) }
    var duplicated = Self.sampleFile()
    duplicated.removedIDs = [1003, 1003]
    try duplicated.write(to: path)
    #expect(throws: ModelFileError.self) { try ModelFile.read(from: path) }
    #expect(throws: ModelFileError.unreadable(path: "/nonexistent/x.json", reason: "no such file"))
    {
      try ModelFile.read(from: "/nonexistent/x.json")
    }
  }
}
