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

  @Test func compareWithSeedsWritesSchema3WithIntervalsAndTheForgetScore() throws {
    let json = Self.temporaryPath("compare3.json")
    let csv = Self.temporaryPath("compare3.csv")
    var command = try Unlearn.parseAsRoot([
      "compare", "--model", "logistic", "--methods", "retrain,naive,newton", "--forget", "20",
      "--seeds", "2", "--forget-score-models", "4", "--repeats", "2", "--json", json, "--csv", csv,
      "--quiet",
    ])
    try command.run()
    let data = try Data(contentsOf: URL(fileURLWithPath: json))
    let result = try JSONDecoder().decode(Comparison.Result.self, from: data)
    #expect(result.schema == "unlearn.compare/4")
    #expect(result.seeds == [42, 43])
    #expect(result.summary.map(\.method) == ["retrain", "naive", "newton"])
    let floor = try #require(result.models.first?.forgetScore?.floor)
    #expect(result.rows.first?.forgetScore == floor)
    for row in result.summary {
      #expect(row.testAccuracy.values.count == 2 && row.forgetScore?.values.count == 2)
      #expect(row.seconds?.runs.count == 4)
    }
    // Encoding the decoded result gives the same document.
    let again = try JSONDecoder().decode(Comparison.Result.self, from: JSONEncoder().encode(result))
    #expect(again.summary == result.summary)
    let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 4)
    let header = lines[0].split(separator: ",").map(String.init)
    #expect(header.contains("forget_score_lo") && header.contains("seconds_max"))
    #expect(
      lines.allSatisfy {
        $0.split(separator: ",", omittingEmptySubsequences: false).count == header.count
      })
  }

  @Test func compareRejectsBadSeedsRepeatsAndModelCounts() {
    for bad in [
      ["--seeds", "0"], ["--repeats", "0"], ["--forget-score-models", "1"],
      ["--forget-score-models", "-3"],
    ] {
      #expect(throws: (any Error).self, "\(bad)") { try Unlearn.parseAsRoot(["compare"] + bad) }
    }
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
