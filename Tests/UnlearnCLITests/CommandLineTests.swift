import Foundation
import Testing
import Unlearning
import UnlearnCLI

@Suite("Command line")
struct CommandLineTests {
  static func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "unlearn-cli-\(UInt32.random(in: 0...UInt32.max))-\(name)"
  }

  @Test func rejectsUnknownSubcommandAndBadOptions() {
    #expect(throws: (any Error).self) { try Unlearn.parseAsRoot(["no-such-command"]) }
    #expect(throws: (any Error).self) {
      try Unlearn.parseAsRoot(["compare", "--methods", "retrain,magic"])
    }
    #expect(throws: (any Error).self) { try Unlearn.parseAsRoot(["compare", "--lambda", "-1"]) }
    #expect(throws: (any Error).self) {
      try Unlearn.parseAsRoot(["compare", "--forget", "3", "--forget-ids", "x"])
    }
  }

  @Test func compareWritesJSONThatDecodes() throws {
    let json = Self.temporaryPath("compare.json")
    var command = try Unlearn.parseAsRoot([
      "compare", "--model", "logistic", "--methods", "retrain,naive,newton", "--forget", "20",
      "--json", json,
    ])
    try command.run()
    let result = try JSONDecoder().decode(
      Comparison.Result.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
    #expect(result.rows.map(\.method) == ["retrain", "naive", "newton"])
    #expect(result.forgottenIDs.count == 20)
  }

  @Test func unknownForgetIDGivesAOneLineError() throws {
    let ids = Self.temporaryPath("ids.txt")
    try "1003\n99999\n".write(toFile: ids, atomically: true, encoding: .utf8)
    var command = try Unlearn.parseAsRoot([
      "compare", "--model", "logistic", "--methods", "retrain", "--forget-ids", ids,
    ])
    do {
      try command.run()
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("99999"))
      #expect(!"\(error)".contains("\n"))
    }
    try "1003\nabc\n".write(toFile: ids, atomically: true, encoding: .utf8)
    var bad = try Unlearn.parseAsRoot(["compare", "--forget-ids", ids])
    do {
      try bad.run()
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("\(ids):2"))
      #expect("\(error)".contains("abc"))
      #expect(!"\(error)".contains("\n"))
    }
  }
}
