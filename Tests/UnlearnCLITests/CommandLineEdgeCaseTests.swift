import Foundation
import Testing
import Unlearning
import UnlearnCLI

/// Command-line edge cases that no other test exercises through the binary:
/// each is one readable line and exit 1 on bad input, or works as documented.
@Suite("Command-line edge cases")
struct CommandLineEdgeCaseTests {
  typealias Hostile = HostileCommandLineTests

  /// Runs the binary with `input` on standard input.
  static func unlearn(_ arguments: [String], in directory: String, input: String) throws
    -> Hostile.Run
  {
    let binary = try #require(SecureReleaseTests.binary())
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let (stdin, out, err) = (Pipe(), Pipe(), Pipe())
    process.standardInput = stdin
    process.standardOutput = out
    process.standardError = err
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Hostile.Run(
      status: process.terminationReason == .uncaughtSignal
        ? -process.terminationStatus : process.terminationStatus,
      stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  /// A refusal of the options themselves (a validation error): exit status 1 and exactly one
  /// line on standard error, `Error: ` and the message (no usage block below it).
  static func expectUsageError(
    _ run: Hostile.Run, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(run.status == 1, "exit \(run.status): \(run.stderr)", sourceLocation: sourceLocation)
    #expect(
      run.stderr.split(separator: "\n").count == 1, "\(run.stderr)", sourceLocation: sourceLocation)
    let line = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
    #expect(line.hasPrefix("Error: "), "\(run.stderr)", sourceLocation: sourceLocation)
    for fragment in fragments {
      #expect(line.contains(fragment), "\(line)", sourceLocation: sourceLocation)
    }
  }

  @Test("a model file whose shape does not fit the data: one line, exit 1, for every command")
  func modelFileInconsistentWithData() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let trained = try Hostile.unlearn(["train", "--out", "m.json", "--quiet"], in: dir)
    #expect(trained.status == 0, "\(trained.stderr)")
    let file = try ModelFile.read(from: dir + "/m.json")
    try "1003\n".write(toFile: dir + "/ids.txt", atomically: true, encoding: .utf8)
    // Three parameters on the hospital's 2-D data; a 3-class softmax on its 2 classes.
    var three = file
    three.model = .logistic(featureCount: 3, fitsIntercept: false)
    three.parameters = [0.1, 0.2, 0.3]
    var softmax = file
    softmax.model = .softmax(featureCount: 2, classCount: 3)
    softmax.parameters = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    for (name, edited, fragment) in [
      ("three.json", three, "features"), ("softmax.json", softmax, "classes"),
    ] {
      try edited.write(to: dir + "/" + name)
      let influence = try Hostile.unlearn(
        ["influence", "--model-file", name, "--test-index", "0"], in: dir)
      Hostile.expectOneLineError(influence, [fragment])
      let remove = try Hostile.unlearn(
        ["remove", "--model-file", name, "--forget-ids", "ids.txt", "--out", "out.json"], in: dir)
      #expect(remove.status == 1, "\(remove.stderr)")
      #expect(remove.errorLine.hasPrefix("Error: "), "\(remove.stderr)")
      #expect(!FileManager.default.fileExists(atPath: dir + "/out.json"))
    }
  }

  @Test("an unknown accounting string in a model file is one line naming the field")
  func unknownAccounting() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let trained = try Hostile.unlearn(
      ["train", "--certified", "--sigma", "1", "--out", "c.json", "--quiet"], in: dir)
    #expect(trained.status == 0, "\(trained.stderr)")
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/c.json"))
    var object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    var certification = try #require(object["certification"] as? [String: Any])
    #expect(certification["accounting"] != nil)
    certification["accounting"] = "bogus"
    object["certification"] = certification
    try JSONSerialization.data(withJSONObject: object).write(
      to: URL(fileURLWithPath: dir + "/bad.json"))
    for arguments in [
      ["audit", "--model-file", "bad.json"],
      ["export", "--public", "--model-file", "bad.json", "--out", "r.json"],
    ] {
      let run = try Hostile.unlearn(arguments, in: dir)
      Hostile.expectOneLineError(run, ["bad.json", "accounting"])
    }
  }

  @Test("--forget-ids - reads the ids from standard input (CRLF and a byte-order mark too)")
  func forgetIDsFromStandardInput() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let trained = try Hostile.unlearn(["train", "--out", "m.json", "--quiet"], in: dir)
    #expect(trained.status == 0, "\(trained.stderr)")
    let run = try Self.unlearn(
      ["remove", "--model-file", "m.json", "--forget-ids", "-", "--out", "m.json"], in: dir,
      input: "\u{FEFF}1003\r\n# a comment\r\n1010\r\n")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(try ModelFile.read(from: dir + "/m.json").removedIDs == [1003, 1010])
    let empty = try Self.unlearn(
      ["remove", "--model-file", "m.json", "--forget-ids", "-", "--out", "m.json"], in: dir,
      input: "")
    Hostile.expectOneLineError(empty, ["<stdin>", "no data rows"])
  }

  @Test(
    "--version prints one line; --intercept adds a parameter and is refused where it breaks a bound"
  )
  func versionAndIntercept() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let version = try Hostile.unlearn(["--version"], in: dir)
    #expect(version.status == 0)
    #expect(version.stdout.split(separator: "\n").count == 1 && !version.stdout.isEmpty)
    let trained = try Hostile.unlearn(
      ["train", "--intercept", "--out", "i.json", "--quiet"], in: dir)
    #expect(trained.status == 0, "\(trained.stderr)")
    let file = try ModelFile.read(from: dir + "/i.json")
    #expect(file.model == .logistic(featureCount: 2, fitsIntercept: true))
    #expect(file.parameters.count == 3)
    Self.expectUsageError(
      try Hostile.unlearn(
        ["train", "--intercept", "--certified", "--sigma", "1", "--out", "c.json"], in: dir),
      ["--intercept", "constant feature"])
  }
}
