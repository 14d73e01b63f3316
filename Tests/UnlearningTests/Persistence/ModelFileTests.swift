import Foundation
import Testing
import Unlearning

@Suite("Model files")
struct ModelFileTests {
  static func sampleFile() throws -> ModelFile {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    var state = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: 2), data: train, regularization: 1e-3,
      privacy: PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 10))
    state = try CertifiedRemoval().unlearn(state, forgetting: [1003, 1010]).state
    return try ModelFile(state: state, scenario: .hospital(seed: 42))
  }

  static func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "/unlearn-modelfile-\(UInt32.random(in: 0...UInt32.max))-\(name)"
  }

  @Test func roundTripsExactly() throws {
    let file = try Self.sampleFile()
    let path = Self.temporaryPath("m.json")
    try file.write(to: path)
    #expect(try ModelFile.read(from: path) == file)
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    let certification = try #require(file.certification)
    #expect(certification.certificates.count == 1)
    #expect(certification.solver == .default)
    #expect(certification.spectralNorm > 0)
  }

  @Test func versionOneIsRefusedWithHowToConvert() throws {
    let path = Self.temporaryPath("v1.json")
    try "{\"format\": \"unlearn-model\", \"version\": 1}".write(
      toFile: path, atomically: true, encoding: .utf8)
    do {
      _ = try ModelFile.read(from: path)
      Issue.record("expected an error")
    } catch {
      #expect(error.description.contains("unlearn train"))
      #expect(!error.description.contains("\n"))
    }
  }

  @Test func tamperedCertificationStatesAreRefused() throws {
    let file = try Self.sampleFile()
    let path = Self.temporaryPath("t.json")
    var overspent = file
    overspent.certification?.headSpent = [1e9]
    try overspent.write(to: path)
    #expect(throws: ModelFileError.self) { try ModelFile.read(from: path) }
    var noB = file
    noB.perturbation = nil
    try noB.write(to: path)
    #expect(throws: ModelFileError.self) { try ModelFile.read(from: path) }
    var shortB = file
    shortB.perturbation = [1]
    try shortB.write(to: path)
    #expect(throws: ModelFileError.self) { try ModelFile.read(from: path) }
  }

  @Test func fingerprintDistinguishesData() throws {
    let (train, test) = Scenario.Hospital.make(seed: 42)
    #expect(train.fingerprint == Scenario.Hospital.make(seed: 42).train.fingerprint)
    #expect(train.fingerprint != test.fingerprint)
    #expect(train.fingerprint != Scenario.Hospital.make(seed: 43).train.fingerprint)
    #expect(train.fingerprint.count == 16)
  }

  static let corruptions: [(String, String)] = [
    ("truncated", "{\"format\": \"unlearn-model\", \"version\": 2, \"model\""),
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
        #expect(
          error == .unsupportedVersion(path: path, found: 99, supported: ModelFile.currentVersion))
      }
    }
  }

  @Test func inconsistentShapesAreRejected() throws {
    var file = try Self.sampleFile()
    file.parameters = [1, 2, 3]
    let path = Self.temporaryPath("shape.json")
    try file.write(to: path)
    #expect(throws: ModelFileError.self) { try ModelFile.read(from: path) }
    var duplicated = try Self.sampleFile()
    duplicated.removedIDs = [1003, 1003]
    try duplicated.write(to: path)
    #expect(throws: ModelFileError.self) { try ModelFile.read(from: path) }
    #expect(throws: ModelFileError.unreadable(path: "/nonexistent/x.json", reason: "no such file"))
    {
      try ModelFile.read(from: "/nonexistent/x.json")
    }
  }
}
