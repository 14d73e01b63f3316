import Foundation
import Testing
import Unlearning
import UnlearnCLI

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Secret and forgotten stay private")
struct SecureReleaseTests {
  static func path(_ name: String) -> String {
    NSTemporaryDirectory() + "unlearn-secure-\(UInt32.random(in: 0...UInt32.max))-\(name)"
  }

  static func run(_ arguments: [String]) throws {
    var command = try Unlearn.parseAsRoot(arguments)
    try command.run()
  }

  static func write(_ ids: [Int], _ path: String) throws {
    try ids.map(String.init).joined(separator: "\n").write(
      toFile: path, atomically: true, encoding: .utf8)
  }

  static func mode(_ path: String) throws -> Int {
    try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1
  }

  /// A trained certified hospital state and its path.
  static func certifiedState() throws -> String {
    let model = path("state.json")
    try run(["train", "--certified", "--sigma", "1", "--out", model])
    return model
  }

  @Test("b is secret: fresh per training, in no release, not rebuilt from any seed")
  func perturbationIsSecret() throws {
    let a = try ModelFile.read(from: Self.certifiedState())
    let b = try ModelFile.read(from: Self.certifiedState())
    let bA = try #require(a.perturbation)
    #expect(bA != b.perturbation)
    #expect(a.certification?.perturbationSource == .system)
    for seed in UInt64(0)...200 {
      var g = SeededGenerator(seed: seed)
      #expect(g.normalVector(count: bA.count, standardDeviation: 1) != bA)
    }
  }

  @Test("The release is a whitelist: no b, no ids, no earlier parameters, no spent")
  func releaseIsAWhitelist() throws {
    let model = try Self.certifiedState()
    let before = try ModelFile.read(from: model)
    let ids = Self.path("ids.txt")
    try Self.write([1003, 1010, 1025], ids)
    try Self.run(["remove", "--model-file", model, "--forget-ids", ids, "--out", model])
    let after = try ModelFile.read(from: model)
    #expect(try Self.mode(model) == 0o600)
    #expect(try Self.mode(StateStore(path: model).ledgerPath) == 0o600)
    // No copy of the pre-removal parameters anywhere in the private state.
    let text = try String(contentsOfFile: model, encoding: .utf8)
    for value in before.parameters { #expect(!text.contains(String(value))) }
    let release = Self.path("public.json")
    try Self.run(["export", "--public", "--model-file", model, "--out", release])
    let published = try String(contentsOfFile: release, encoding: .utf8)
    for value in (after.perturbation ?? []) + before.parameters {
      #expect(!published.contains(String(value)))
    }
    for id in ["1003", "1010", "1025"] { #expect(!published.contains(id)) }
    for key in [
      "perturbation", "removedIDs", "headSpent", "certificates", "scenario", "Fingerprint",
      "training", "seed",
    ] {
      #expect(!published.contains(key), "\(key)")
    }
    // A release is not a state: refused where a state is required.
    #expect(throws: (any Error).self) { try ModelFile.read(from: release) }
    let parsed = try PublicRelease.read(from: release)
    #expect(parsed.parameters == after.parameters)
    #expect(parsed.privacy?.budget == after.certification?.budget)
  }

  @Test("Colliding and unwritable outputs are refused before any work, nothing lost")
  func outputsAreCheckedFirst() throws {
    let model = try Self.certifiedState()
    let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
    let ids = Self.path("ids.txt")
    try Self.write([1003], ids)
    for arguments in [
      ["export", "--public", "--model-file", model, "--out", model],
      ["remove", "--model-file", model, "--forget-ids", ids, "--out", ids],
      ["remove", "--model-file", model, "--forget-ids", ids, "--out", model, "--json", model],
      [
        "remove", "--model-file", model, "--forget-ids", ids, "--out", model, "--json",
        "/nonexistent-dir/report.json",
      ],
      ["remove", "--model-file", model, "--forget-ids", ids, "--out", "/dev/null"],
    ] {
      do {
        try Self.run(arguments)
        Issue.record("expected a refusal: \(arguments)")
      } catch {
        #expect(!"\(error)".contains("\n"))
      }
      #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == bytes)
    }
    #expect(StateStore(path: model).audit(data: nil).passed)
  }

  @Test("Eight concurrent processes on one state: every id in the state and the ledger")
  func concurrentRequestsLoseNothing() throws {
    let model = try Self.certifiedState()
    let trainIDs = Scenario.Hospital.make(seed: 42).train.ids.map { Int($0.rawValue) }
    let groups = (0..<8).map { k in [trainIDs[2 * k], trainIDs[2 * k + 1]] }
    let files = try groups.enumerated().map { k, ids in
      let p = Self.path("ids-\(k).txt")
      try Self.write(ids, p)
      return p
    }
    // Eight separate processes of the real binary, started together.
    let binary = try #require(Self.binary(), "the unlearn executable is built with the tests")
    let processes = try files.map { ids -> Process in
      let process = Process()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = ["remove", "--model-file", model, "--forget-ids", ids, "--out", model]
      process.standardError = FileHandle.nullDevice
      process.standardOutput = FileHandle.nullDevice
      try process.run()
      return process
    }
    for process in processes { process.waitUntilExit() }
    #expect(processes.allSatisfy { $0.terminationStatus == 0 })
    let state = try ModelFile.read(from: model)
    let expected = Set(groups.joined().map { SampleID($0) })
    #expect(Set(state.removedIDs) == expected)
    let store = StateStore(path: model)
    let entries = try store.ledger.entries()
    #expect(entries.count == 9)
    #expect(Set(entries.flatMap(\.ids)) == expected)
    let audit = store.audit(data: Scenario.Hospital.make(seed: 42).train)
    #expect(audit.passed, "\(audit.findings)")
  }

  @Test("Hand edits of the state are caught by the audit, naming the field")
  func handEditsAreCaught() throws {
    let model = try Self.certifiedState()
    let ids = Self.path("ids.txt")
    try Self.write([1003, 1010], ids)
    try Self.run(["remove", "--model-file", model, "--forget-ids", ids, "--out", model])
    let (train, _) = Scenario.Hospital.make(seed: 42)
    #expect(StateStore(path: model).audit(data: train).passed)
    let original = try ModelFile.read(from: model)
    var edits: [(String, ModelFile)] = []
    var spentZero = original
    spentZero.certification?.headSpent = [0]
    edits.append(("spent set to 0", spentZero))
    var louder = original
    louder.certification?.privacy.sigma *= 1000
    edits.append(("sigma raised", louder))
    var forgetful = original
    forgetful.removedIDs = []
    edits.append(("removed ids emptied", forgetful))
    var zeroB = original
    zeroB.perturbation = zeroB.perturbation.map { $0.map { _ in 0 } }
    edits.append(("b zeroed", zeroB))
    var fingerprint = original
    fingerprint.dataFingerprint = "0000000000000000"
    edits.append(("fingerprint pasted", fingerprint))
    for (name, edited) in edits {
      let copy = Self.path("edited.json")
      try FileManager.default.copyItem(
        atPath: StateStore(path: model).ledgerPath, toPath: StateStore(path: copy).ledgerPath)
      try edited.write(to: copy)
      let audit = StateStore(path: copy).audit(data: train)
      #expect(!audit.passed, "\(name)")
      #expect(audit.findings.first { !$0.passed }?.detail.contains("entry") == true, "\(name)")
    }
  }

  @Test("Killed at every stage of a request: old or new pair, or repairable; nothing lost")
  func crashSafety() throws {
    let binary = try #require(Self.binary(), "the unlearn executable is built with the tests")
    for stage in ["before-ledger", "after-ledger", "after-state"] {
      let model = try Self.certifiedState()
      let ids = Self.path("ids.txt")
      try Self.write([1003], ids)
      let process = Process()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = ["remove", "--model-file", model, "--forget-ids", ids, "--out", model]
      process.environment = ProcessInfo.processInfo.environment.merging(
        ["UNLEARN_TEST_KILL_AT": stage]) { $1 }
      process.standardError = FileHandle.nullDevice
      process.standardOutput = FileHandle.nullDevice
      try process.run()
      process.waitUntilExit()
      #expect(process.terminationReason == .uncaughtSignal, "\(stage)")
      let store = StateStore(path: model)
      let (train, _) = Scenario.Hospital.make(seed: 42)
      let first = store.audit(data: train)
      if stage == "after-ledger" {
        #expect(!first.passed)
        #expect(first.repairs.contains(.uncommittedEntry))
        try store.repair()
      }
      let audit = store.audit(data: train)
      #expect(audit.passed, "\(stage): \(audit.findings)")
      let state = try ModelFile.read(from: model)
      #expect(state.removedIDs == (stage == "after-state" ? [1003] : []), "\(stage)")
      // The request can be retried (or is done) and the state stays auditable.
      if state.removedIDs.isEmpty {
        try Self.run(["remove", "--model-file", model, "--forget-ids", ids, "--out", model])
        #expect(try ModelFile.read(from: model).removedIDs == [1003])
      }
      #expect(SecureFile.strayTemporaryFiles(for: model).isEmpty)
    }
  }

  /// The `unlearn` executable of this build (built with the test targets).
  static func binary() -> String? {
    var directory = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { directory.deleteLastPathComponent() }
    #if DEBUG
      let configuration = "debug"
    #else
      let configuration = "release"
    #endif
    let candidate = directory.appendingPathComponent(".build/\(configuration)/unlearn").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
  }
}
