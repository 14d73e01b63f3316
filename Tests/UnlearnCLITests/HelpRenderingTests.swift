import ArgumentParser
import Foundation
import Testing
import UnlearnCLI

/// `unlearn --help` and every subcommand's help at 80 columns: no line wider than 80, no
/// orphan one-word line left by re-wrapped text, and the text equal to the committed snapshot
/// in Tests/HelpSnapshots (regenerate with `UNLEARN_UPDATE_HELP_SNAPSHOTS=1 swift test -c
/// release --filter "Help at 80 columns"` after changing a help text, and review the diff).
@Suite("Help at 80 columns")
struct HelpRenderingTests {
  static let columns = 80

  /// Every command's help, by snapshot name.
  static func renderedHelp() -> [(name: String, text: String)] {
    var out = [("unlearn", Unlearn.helpMessage(columns: columns))]
    for command in Unlearn.configuration.subcommands {
      let name = command._commandName
      out.append(("unlearn-\(name)", Unlearn.helpMessage(for: command, columns: columns)))
    }
    return out
  }

  static var snapshotDirectory: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("HelpSnapshots")
  }

  /// Hard line breaks inside a paragraph, which the parser re-wraps into orphan lines
  /// ("...retrained without" / "the" / "forgotten"): a line followed, at the same indentation,
  /// by a continuation whose first word would still have fitted on it (with 3 columns to
  /// spare). Option and argument
  /// names (starting with `-` or `<`), headings (ending in `:`) and examples (one per line,
  /// starting with `unlearn` or `swift`) are not continuations.
  static func orphans(_ text: String) -> [String] {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    func indentation(_ s: String) -> Int { s.prefix { $0 == " " }.count }
    var found = [String]()
    for i in lines.indices.dropLast() {
      let line = lines[i]
      let next = lines[i + 1]
      let body = line.trimmingCharacters(in: .whitespaces)
      let continuation = next.trimmingCharacters(in: .whitespaces)
      guard !body.isEmpty, !continuation.isEmpty, !body.hasSuffix(":"),
        indentation(line) == indentation(next),
        !["-", "<"].contains(where: { continuation.hasPrefix($0) }),
        !["unlearn ", "swift ", "unlearn\n"].contains(where: { continuation.hasPrefix($0) }),
        let firstWord = continuation.split(separator: " ").first
      else { continue }
      // The parser keeps a trailing space and wraps a little early: allow 3 columns of slack.
      let used = line.count - line.reversed().prefix { $0 == " " }.count
      if used + 1 + firstWord.count <= columns - 3 { found.append("\(line)\n\(next)") }
    }
    return found
  }

  @Test("the orphan detector finds the re-wrap defect it is meant to catch")
  func detectorWorks() {
    let bad = "OVERVIEW: x\n\nthe model retrained without\nthe\nforgotten samples.\n"
    #expect(!orphans(bad).isEmpty)
    #expect(orphans("  --quiet\n  --seed <seed>   Seed.\nOPTIONS:\n").isEmpty)
  }

  func orphans(_ text: String) -> [String] { Self.orphans(text) }

  @Test("every help renders within 80 columns without orphan lines")
  func rendersCleanly() {
    let all = Self.renderedHelp()
    #expect(all.count >= 10)
    for (name, text) in all {
      for line in text.split(separator: "\n") where line.count > Self.columns {
        Issue.record("\(name): \(line.count) columns: \(line)")
      }
      for orphan in Self.orphans(text) { Issue.record("\(name): orphan line:\n\(orphan)") }
      // Discussions are not hard-wrapped: no paragraph line ends mid-sentence only to be
      // re-wrapped (caught above); examples fit on one line each.
      for line in text.split(separator: "\n") where line.hasPrefix("  unlearn ") {
        #expect(line.count <= Self.columns)
      }
    }
  }

  @Test("help texts equal the committed snapshots")
  func matchesSnapshots() throws {
    let update = ProcessInfo.processInfo.environment["UNLEARN_UPDATE_HELP_SNAPSHOTS"] == "1"
    if update {
      try FileManager.default.createDirectory(
        at: Self.snapshotDirectory, withIntermediateDirectories: true)
    }
    for (name, text) in Self.renderedHelp() {
      let file = Self.snapshotDirectory.appendingPathComponent(name + ".txt")
      if update {
        try Data(text.utf8).write(to: file, options: .atomic)
        continue
      }
      guard let committed = try? String(contentsOf: file, encoding: .utf8) else {
        Issue.record("missing snapshot \(file.path) (UNLEARN_UPDATE_HELP_SNAPSHOTS=1 writes it)")
        continue
      }
      #expect(committed == text, "\(name) differs from \(file.lastPathComponent)")
    }
  }
}
