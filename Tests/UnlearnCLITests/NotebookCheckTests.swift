import Foundation
import NotebookRunner
import Testing
import UnlearnCLI

@Suite("Notebook check")
struct NotebookCheckTests {
  static let tolerance = OutputTolerance(relative: 1e-6, absolute: 1e-8)

  static func numbers(_ line: String) -> [String] {
    OutputComparison.tokens(line).compactMap {
      if case .number(let n) = $0 { return n.text } else { return nil }
    }
  }

  static func texts(_ line: String) -> [String] {
    OutputComparison.tokens(line).compactMap {
      if case .text(let t) = $0 { return t } else { return nil }
    }
  }

  @Test("splits scientific, percent, signed, parenthesised and grouped numbers")
  func tokenisesNumberForms() throws {
    #expect(
      Self.numbers("KL forget 1.2e-10, acc 92.0% (+1.0) gap -0.3 n 1,234 and 5.6e-04")
        == ["1.2e-10", "92.0", "+1.0", "-0.3", "1,234", "5.6e-04"])
    let tokens = OutputComparison.tokens("92.0% of 1,234")
    guard case .number(let percent) = tokens[0], case .number(let grouped) = tokens[2] else {
      Issue.record("expected numbers in \(tokens)")
      return
    }
    #expect(percent.isPercentage && !percent.isInteger && percent.value == 92)
    #expect(abs(percent.unit - 0.1) < 1e-15)
    #expect(grouped.isInteger && grouped.value == 1234 && grouped.unit == 0)
    guard case .number(let small) = OutputComparison.tokens("5.1e-10")[0] else {
      Issue.record("5.1e-10 is a number")
      return
    }
    #expect(abs(small.value - 5.1e-10) < 1e-25 && abs(small.unit - 1e-11) < 1e-26)
  }

  @Test("digits inside words and hyphens between numbers are not signs or numbers")
  func wordsKeepTheirDigits() {
    #expect(Self.numbers("MLP 2-20-1 (tanh)") == ["2", "20", "1"])
    #expect(Self.texts("MLP 2-20-1 (tanh)") == ["MLP ", "-", "-", " (tanh)"])
    #expect(Self.numbers("lr 0.1, x0.7, idx3 Notebook_01") == ["0.1"])
    #expect(Self.numbers("ratio 1.83x faster; removal 192.") == ["1.83", "192"])
    #expect(Self.numbers("a = -2, b=(+3)") == ["-2", "+3"])
  }

  @Test("round-off differences within the tolerance and rounding flips pass")
  func toleranceAcceptsRoundOff() {
    let committed = "newton  92.0%  0.034  5.1e-10\ncertified 6.4e-10 <= budget: yes"
    let fresh = "newton    92.0%  0.034  5.0e-10\ncertified 6.5e-10 <= budget: yes"
    #expect(
      OutputComparison.mismatch(committed: committed, fresh: fresh, tolerance: Self.tolerance)
        == nil)
    // Without a directive the check is textual: the same outputs differ.
    #expect(
      OutputComparison.mismatch(committed: committed, fresh: fresh, tolerance: .exact) != nil)
    // A value at a rounding boundary may print one unit apart: 0.0345 -> 0.034 or 0.035.
    #expect(
      OutputComparison.mismatch(
        committed: "rho 0.034", fresh: "rho 0.035", tolerance: Self.tolerance) == nil)
  }

  @Test("a changed word, a number beyond tolerance and a missing line fail")
  func realChangesFail() throws {
    let committed = "verdict: close to retrain\nrho 0.034, KL 5.1e-10\nconverged: yes"
    let word = try #require(
      OutputComparison.mismatch(
        committed: committed,
        fresh: "verdict: far from retrain\nrho 0.034, KL 5.1e-10\nconverged: yes",
        tolerance: Self.tolerance))
    #expect(word.line == 1)
    let number = try #require(
      OutputComparison.mismatch(
        committed: committed,
        fresh: "verdict: close to retrain\nrho 0.036, KL 5.1e-10\nconverged: yes",
        tolerance: Self.tolerance))
    #expect(number.line == 2)
    #expect(number.reason.contains("0.034 vs 0.036"))
    let missing = try #require(
      OutputComparison.mismatch(
        committed: committed, fresh: "verdict: close to retrain\nrho 0.034, KL 5.1e-10",
        tolerance: Self.tolerance))
    #expect(missing.line == 3 && missing.reason.contains("missing line"))
    let extra = try #require(
      OutputComparison.mismatch(
        committed: committed, fresh: committed + "\nmore", tolerance: Self.tolerance))
    #expect(extra.line == 4)
    // Beyond atol for a round-off sized value: 5.1e-10 -> 5.1e-07 is a real change.
    #expect(
      OutputComparison.mismatch(
        committed: "KL 5.1e-10", fresh: "KL 5.1e-07", tolerance: Self.tolerance) != nil)
    // Text replacing a number, or a number replacing text, fails.
    #expect(
      OutputComparison.mismatch(
        committed: "KL 5.1e-10", fresh: "KL < 1e-8", tolerance: Self.tolerance) != nil)
  }

  @Test("integers and percentages must be equal whatever the tolerance")
  func countsAndAccuraciesAreExact() {
    let loose = OutputTolerance(relative: 0.5, absolute: 1)
    #expect(
      OutputComparison.mismatch(committed: "acc 92.0%", fresh: "acc 92.1%", tolerance: loose)
        != nil)
    #expect(
      OutputComparison.mismatch(
        committed: "1000 removals", fresh: "999 removals", tolerance: loose) != nil)
    #expect(
      OutputComparison.mismatch(committed: "value 2.5", fresh: "value 2.9", tolerance: loose)
        == nil)
  }

  @Test("timing lines are ignored in both modes")
  func timingsIgnored() {
    #expect(
      OutputComparison.mismatch(
        committed: "a 1\n[time] 0.45 s\nb 2", fresh: "a 1\n[time] 9.99 s\nb 2", tolerance: .exact)
        == nil)
  }

  @Test("directives: notebook-wide, per block, exact, and malformed ones")
  func directives() throws {
    let notebook = """
      # A notebook
      <!-- check: rtol=1e-6 atol=1e-8 -->

      ```swift
      print("a")
      ```

      <!-- check next: exact -->
      ```swift
      print("b")
      ```

      <!-- check next: rtol=0.01 -->
      ```swift
      print("c")
      ```
      ```swift
      print("d")
      ```
      """
    let tolerances = try NotebookRunner.tolerances(of: NotebookRunner.parse(notebook))
    #expect(
      tolerances == [
        Self.tolerance, .exact, OutputTolerance(relative: 0.01, absolute: 0), Self.tolerance,
      ])
    #expect(
      try NotebookRunner.tolerances(of: NotebookRunner.parse("```swift\nprint(1)\n```"))
        == [.exact])
    #expect(throws: NotebookError.self) {
      try NotebookRunner.tolerances(of: NotebookRunner.parse("<!-- check: rtol=abc -->"))
    }
    #expect(throws: NotebookError.self) {
      try NotebookRunner.tolerances(of: NotebookRunner.parse("<!-- check: tol=1 -->"))
    }
    #expect(throws: NotebookError.self) {
      try NotebookRunner.tolerances(
        of: NotebookRunner.parse("<!-- check: rtol=1 -->\n<!-- check: atol=1 -->"))
    }
    #expect(throws: NotebookError.self) {
      try NotebookRunner.tolerances(of: NotebookRunner.parse("text\n<!-- check next: exact -->"))
    }
  }

  @Test("compare uses each block's tolerance against the committed outputs")
  func compareAgainstCommittedOutputs() throws {
    let notebook = """
      <!-- check: rtol=1e-6 atol=1e-8 -->
      ```swift
      print(x)
      ```

      <!-- output -->
      ```text
      KL 5.1e-10
      ```
      <!-- end output -->
      <!-- check next: exact -->
      ```swift
      print(y)
      ```

      <!-- output -->
      ```text
      KL 5.1e-10
      ```
      <!-- end output -->
      """
    let parsed = NotebookRunner.parse(notebook)
    let mismatches = try NotebookRunner.compare(parsed, outputs: ["KL 5.0e-10", "KL 5.0e-10"])
    #expect(mismatches.map(\.block) == [1])
    #expect(try NotebookRunner.compare(parsed, outputs: ["KL 5.1e-10", "KL 5.1e-10"]).isEmpty)
  }

  @Test("--package-root of a missing folder fails in one line and creates nothing")
  func missingPackageRoot() throws {
    let missing = NSTemporaryDirectory() + "unlearn-missing-root-\(UUID().uuidString)"
    let notebook = NSTemporaryDirectory() + "unlearn-notebook-\(UUID().uuidString).md"
    try "```swift\nprint(1)\n```\n".write(toFile: notebook, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: notebook) }
    var command = try Unlearn.parseAsRoot(["notebook", "--package-root", missing, notebook])
    do {
      try command.run()
      Issue.record("expected an error")
    } catch {
      let message = "\(error)"
      #expect(message.contains(missing) && message.contains("no such folder"))
      #expect(!message.contains("\n"))
    }
    #expect(!FileManager.default.fileExists(atPath: missing))
    // A folder without the package's manifest is refused too, and stays empty.
    let empty = NSTemporaryDirectory() + "unlearn-empty-root-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: empty) }
    #expect(throws: NotebookError.self) { try NotebookRunner.validatePackageRoot(empty) }
    var other = try Unlearn.parseAsRoot(["notebook", "--package-root", empty, notebook])
    #expect(throws: (any Error).self) { try other.run() }
    #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
  }
}
