import Foundation
import Testing
import Unlearning
import UnlearnCLI

/// The command line on hostile or unusual input: every case is one readable line and exit 1
/// (run through the real binary, so a trap would show as a signal, not a failed expectation
/// inside the test process), and your own data with your own ids works end to end.
@Suite("Hostile command line")
struct HostileCommandLineTests {
  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The error line (the last line of stderr).
    var errorLine: String {
      stderr.split(separator: "\n").last.map(String.init) ?? ""
    }
  }

  /// Runs the `unlearn` binary in `directory`.
  static func unlearn(_ arguments: [String], in directory: String) throws -> Run {
    let binary = try #require(
      SecureReleaseTests.binary(), "the unlearn executable is built with the tests")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting: a full pipe would block the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(
      status: process.terminationReason == .uncaughtSignal
        ? -process.terminationStatus
        : process.terminationStatus,
      stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  static func directory() throws -> String {
    let path = NSTemporaryDirectory() + "unlearn-hostile-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// Expects exit status 1 and an error line containing every fragment.
  static func expectOneLineError(
    _ run: Run, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(run.status == 1, "exit \(run.status): \(run.stderr)", sourceLocation: sourceLocation)
    let line = run.errorLine
    #expect(line.hasPrefix("Error: "), "\(run.stderr)", sourceLocation: sourceLocation)
    for fragment in fragments {
      #expect(line.contains(fragment), "\(line)", sourceLocation: sourceLocation)
    }
  }

  /// A CSV of `n` patients with ids `1000 + 7 i` in column `pid`, three features and a yes/no
  /// label that a linear model separates imperfectly.
  static func patients(_ n: Int, seed: UInt64 = 1, scale: Double = 1) -> String {
    var g = SeededGenerator(seed: seed)
    var text = "pid,age,glucose,bmi,outcome\n"
    for i in 0..<n {
      let x = g.normalVector(count: 3).map { $0 * scale }
      let noise = g.normalVector(count: 1)[0]
      text += "\(1000 + 7 * i),\(x[0]),\(x[1]),\(x[2]),\(x[0] + x[1] + noise > 0 ? "yes" : "no")\n"
    }
    return text
  }

  @Test("a negative --lambda typed with a space is reported as not positive")
  func negativeLambda() throws {
    for command in ["train", "compare"] {
      var arguments = [command, "--lambda", "-1"]
      if command == "train" { arguments += ["--out", "never.json"] }
      do {
        _ = try Unlearn.parseAsRoot(arguments)
        Issue.record("expected a validation error")
      } catch {
        let message = Unlearn.message(for: error)
        #expect(message.contains("--lambda must be positive"), "\(message)")
        #expect(!message.contains("Missing value"))
      }
    }
    // The same for the certified options and the test fraction.
    do {
      var command = try Unlearn.parseAsRoot(["compare", "--sigma", "-2"])
      try command.run()
      Issue.record("expected an error")
    } catch {
      #expect(Unlearn.message(for: error).contains("--sigma must be positive"))
    }
  }

  @Test("empty --methods and an unknown bench group are refused, not run as empty tables")
  func emptySelections() throws {
    for arguments in [["compare", "--methods", ""], ["compare", "--methods", ","]] {
      #expect(throws: (any Error).self) { try Unlearn.parseAsRoot(arguments) }
    }
    do {
      _ = try Unlearn.parseAsRoot(["bench", "--only", "bogus"])
      Issue.record("expected a validation error")
    } catch {
      #expect(Unlearn.message(for: error).contains("unknown group 'bogus'"))
    }
  }

  @Test("--classes and --id-column are refused where they do not apply")
  func optionsThatDoNotApply() throws {
    let dir = try Self.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(40).write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let classes = try Self.unlearn(
      [
        "train", "--dataset", "csv:p.csv", "--label-column", "outcome", "--classes", "0,1",
        "--out", "m.json",
      ], in: dir)
    Self.expectOneLineError(classes, ["--classes", "every label"])
    let idColumn = try Self.unlearn(
      ["train", "--id-column", "pid", "--out", "m.json"], in: dir)
    Self.expectOneLineError(idColumn, ["--id-column applies to CSV"])
    #expect(!FileManager.default.fileExists(atPath: dir + "/m.json"))
  }

  @Test("a LIBSVM index of 10^8 is refused or trained within memory, never a crash")
  func hugeLIBSVMIndex() throws {
    let dir = try Self.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "0 1:1\n1 100000000:1\n0 2:1\n1 3:1\n0 1:0.5\n"
      .write(toFile: dir + "/big.svm", atomically: true, encoding: .utf8)
    let run = try Self.unlearn(
      ["train", "--dataset", "libsvm:big.svm", "--test-fraction", "0.2", "--out", "m.json"],
      in: dir)
    // 10^8 parameters: no dense Hessian (80,000 GB); L-BFGS needs 38 GB, refused unless the
    // machine has twice that free.
    #expect(run.status >= 0, "terminated by signal \(-run.status)")
    if run.status != 0 {
      Self.expectOneLineError(run, ["100000000 parameters", "free memory"])
    } else {
      #expect(run.stderr.contains("trainer: L-BFGS"))
    }
  }

  @Test("a 30 x 40,000 CSV trains by L-BFGS, says so, and allocates no dense Hessian")
  func wideCSVChoosesLBFGS() throws {
    let dir = try Self.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var g = SeededGenerator(seed: 7)
    var text = "label," + (0..<40_000).map { "f\($0)" }.joined(separator: ",") + "\n"
    for i in 0..<30 {
      text +=
        "\(i % 2),"
        + g.normalVector(count: 40_000).map { String(format: "%.2f", $0) }
        .joined(separator: ",") + "\n"
    }
    try text.write(toFile: dir + "/wide.csv", atomically: true, encoding: .utf8)
    let run = try Self.unlearn(
      ["train", "--dataset", "csv:wide.csv", "--normalize-rows", "--out", "m.json"], in: dir)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.contains("trainer: L-BFGS, 40000 parameters"))
    #expect(run.stderr.contains("12.8 GB"))
    let file = try ModelFile.read(from: dir + "/m.json")
    #expect(file.training.converged)
    #expect(file.training.method != "newton")
    // Newton removal on it runs conjugate gradient, not a dense factor.
    let (train, _) = try file.scenario.load()
    try "\(train.ids[0].rawValue)\n".write(
      toFile: dir + "/ids.txt", atomically: true, encoding: .utf8)
    let removal = try Self.unlearn(
      [
        "remove", "--model-file", "m.json", "--forget-ids", "ids.txt", "--out", "m2.json",
        "--method", "newton",
      ], in: dir)
    #expect(removal.status == 0, "\(removal.stderr)")
    #expect(removal.stderr.contains("conjugate gradient"))
    // Certified training needs the dense factor: refused in one line.
    let certified = try Self.unlearn(
      [
        "train", "--dataset", "csv:wide.csv", "--normalize-rows", "--certified", "--out",
        "c.json",
      ], in: dir)
    Self.expectOneLineError(certified, ["--certified", "40000 x 40000"])
  }

  @Test("training that does not converge is an error unless --allow-unconverged")
  func nonConvergence() throws {
    let dir = try Self.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let rows = (0..<20).map { "\($0 % 2 == 0 ? "" : "-")1e300,\($0 % 3 == 0 ? 1 : 0)" }
    try ("a,label\n" + rows.joined(separator: "\n") + "\n")
      .write(toFile: dir + "/huge.csv", atomically: true, encoding: .utf8)
    let refused = try Self.unlearn(
      ["train", "--dataset", "csv:huge.csv", "--out", "m.json"], in: dir)
    Self.expectOneLineError(refused, ["did not converge", "--allow-unconverged"])
    #expect(!FileManager.default.fileExists(atPath: dir + "/m.json"))
    let allowed = try Self.unlearn(
      ["train", "--dataset", "csv:huge.csv", "--out", "m.json", "--allow-unconverged"], in: dir)
    #expect(allowed.status == 0, "\(allowed.stderr)")
    #expect(allowed.stdout.contains("NOT converged"))
  }

  @Test("own ids: --id-column, requests by id, moved data with --data, fingerprint still checked")
  func bringYourOwnData() throws {
    let dir = try Self.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(80).write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let trained = try Self.unlearn(
      [
        "train", "--dataset", "csv:p.csv", "--label-column", "outcome", "--id-column", "pid",
        "--normalize-rows", "--out", "m.json",
      ], in: dir)
    #expect(trained.status == 0, "\(trained.stderr)")
    let file = try ModelFile.read(from: dir + "/m.json")
    // The stored path is absolute, and the ids are the file's.
    #expect(file.scenario.dataPath?.hasPrefix("/") == true)
    let (train, test) = try file.scenario.load()
    #expect(Set(train.ids + test.ids) == Set((0..<80).map { SampleID(1000 + 7 * $0) }))

    // Move the data; forget two patients by their ids, retraining on the moved file.
    try FileManager.default.createDirectory(
      atPath: dir + "/moved", withIntermediateDirectories: true)
    try FileManager.default.moveItem(atPath: dir + "/p.csv", toPath: dir + "/moved/q.csv")
    let forget = Array(train.ids.prefix(2))
    try forget.map { "\($0.rawValue)" }.joined(separator: "\r\n")
      .write(toFile: dir + "/ids.txt", atomically: true, encoding: .utf8)
    let lost = try Self.unlearn(
      [
        "remove", "--model-file", "m.json", "--forget-ids", "ids.txt", "--out", "m2.json",
        "--method", "retrain",
      ], in: dir)
    Self.expectOneLineError(lost, ["p.csv"])
    let removed = try Self.unlearn(
      [
        "remove", "--model-file", "m.json", "--forget-ids", "ids.txt", "--out", "m2.json",
        "--method", "retrain", "--data", "moved/q.csv",
      ], in: dir)
    #expect(removed.status == 0, "\(removed.stderr)")
    // Oracle: a model trained from scratch on the rows without those ids.
    let after = try ModelFile.read(from: dir + "/m2.json")
    #expect(after.removedIDs == forget)
    #expect(after.scenario.dataPath == dir + "/moved/q.csv")
    let reference = try TrainedModel.train(
      model: LogisticRegression(featureCount: 3), data: train.removing(ids: forget),
      regularization: file.regularization, trainer: Training.Newton(gradientTolerance: 1e-12))
    let difference = zip(after.parameters, reference.parameters).map { abs($0 - $1) }.max() ?? 0
    #expect(difference < 1e-6 * max(1, reference.parameters.map(abs).max() ?? 0))

    // A row position is not an id of this data set.
    try "3\n".write(toFile: dir + "/row.txt", atomically: true, encoding: .utf8)
    let position = try Self.unlearn(
      [
        "remove", "--model-file", "m2.json", "--forget-ids", "row.txt", "--out", "m3.json",
        "--data", "moved/q.csv",
      ], in: dir)
    Self.expectOneLineError(position, ["3"])

    // Changed data at the new place: the fingerprint catches it.
    var changed = try String(contentsOfFile: dir + "/moved/q.csv", encoding: .utf8)
    changed = changed.replacingOccurrences(of: "\n1007,", with: "\n1007,9")
    try changed.write(toFile: dir + "/moved/r.csv", atomically: true, encoding: .utf8)
    let mismatch = try Self.unlearn(
      ["audit", "--model-file", "m2.json", "--data", "moved/r.csv"], in: dir)
    #expect(mismatch.status == 1)
    let auditOK = try Self.unlearn(
      ["audit", "--model-file", "m2.json", "--data", "moved/q.csv"], in: dir)
    #expect(auditOK.status == 0, "\(auditOK.stdout)\(auditOK.stderr)")
    #expect(auditOK.stdout.contains("audit passed"))
  }

  @Test("influence takes a test id, lists the ids, and states its regulariser convention")
  func influenceByTestID() throws {
    let dir = try Self.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(60, seed: 3).write(
      toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let trained = try Self.unlearn(
      [
        "train", "--dataset", "csv:p.csv", "--label-column", "outcome", "--id-column", "pid",
        "--out", "m.json", "--quiet",
      ], in: dir)
    #expect(trained.status == 0, "\(trained.stderr)")
    #expect(trained.stderr.isEmpty, "--quiet prints no progress: \(trained.stderr)")
    let (_, test) = try ModelFile.read(from: dir + "/m.json").scenario.load()
    let listed = try Self.unlearn(
      ["influence", "--model-file", "m.json", "--list-test-ids"], in: dir)
    #expect(listed.status == 0)
    for id in test.ids { #expect(listed.stdout.contains("\(id.rawValue)")) }

    let byIndex = try Self.unlearn(
      ["influence", "--model-file", "m.json", "--test-index", "2", "--json", "a.json"], in: dir)
    let byID = try Self.unlearn(
      [
        "influence", "--model-file", "m.json", "--test-id", "\(test.ids[2].rawValue)", "--json",
        "b.json",
      ], in: dir)
    #expect(byIndex.status == 0 && byID.status == 0, "\(byIndex.stderr)\(byID.stderr)")
    func ranking(_ name: String) throws -> (testID: Int, helpful: [Int], object: [String: Any]) {
      let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
      let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
      let ranking = try #require(object["ranking"] as? [String: Any])
      let helpful = try #require(ranking["helpful"] as? [[String: Any]])
      return (
        try #require(object["testID"] as? Int), helpful.compactMap { $0["id"] as? Int }, object
      )
    }
    let a = try ranking("a.json")
    let b = try ranking("b.json")
    #expect(a.testID == Int(test.ids[2].rawValue) && b.testID == a.testID)
    #expect(a.helpful == b.helpful && !a.helpful.isEmpty)
    #expect(a.object["regularization"] as? String == "rescaled")
    #expect(a.object["schema"] as? String == "unlearn.influence/2")

    let unknown = try Self.unlearn(
      ["influence", "--model-file", "m.json", "--test-id", "5"], in: dir)
    Self.expectOneLineError(unknown, ["--test-id 5", "--list-test-ids"])
  }

  @Test("compare on un-normalised CSV skips certified removal in one line and prints the table")
  func compareSkipsCertified() throws {
    let dir = try Self.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(120, seed: 5, scale: 40).write(
      toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let run = try Self.unlearn(
      [
        "compare", "--dataset", "csv:p.csv", "--label-column", "outcome", "--model", "logistic",
        "--methods", "retrain,newton,certified", "--forget", "10", "--csv", "t.csv",
      ], in: dir)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("method"))
    #expect(
      run.stdout.contains("skipped certified removal") && run.stdout.contains("--normalize-rows"))
    let csv = try String(contentsOfFile: dir + "/t.csv", encoding: .utf8)
    let lines = csv.split(separator: "\n")
    #expect(lines.first?.hasPrefix("model,method,reference,test_accuracy") == true)
    #expect(lines.dropFirst().map { $0.split(separator: ",")[1] } == ["retrain", "newton"])

    let only = try Self.unlearn(
      [
        "compare", "--dataset", "csv:p.csv", "--label-column", "outcome", "--model", "logistic",
        "--methods", "certified", "--forget", "10",
      ], in: dir)
    Self.expectOneLineError(only, ["certified", "--normalize-rows"])
  }
}
