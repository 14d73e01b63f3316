import Foundation
import NotebookRunner
import Testing

/// The README's command transcripts are run and checked like notebook outputs (see
/// `Transcript`): elided `...` lines and columns, numbers within the declared tolerance.
@Suite("README transcripts")
struct ReadmeTranscriptTests {
  static var repositoryRoot: URL {
    var directory = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { directory.deleteLastPathComponent() }
    return directory
  }

  static let tolerance = OutputTolerance(relative: 0.01, absolute: 1e-6)

  @Test("elided lines and columns match; a changed number, word or missing line does not")
  func matcherIsAnOracle() {
    let expected = """
      header
      ...
      name   92.0%  ...  0.775  verdict x
      tail 5.1e-10
      """
    let actual = """
      header
      noise 1
      noise 2
      name        92.0%   0.1 12 ms   0.776   verdict x
      tail 5.0e-10
      """
    #expect(
      Transcript.mismatch(expected: expected, actual: actual, tolerance: Self.tolerance) == nil)
    // A real change: a percentage differs (must be equal), a number beyond rtol, a word.
    for (old, new) in [
      ("92.0%   0.1", "92.1%   0.1"), ("0.776", "0.900"), ("verdict x", "verdict y"),
    ] {
      let changed = actual.replacingOccurrences(of: old, with: new)
      #expect(
        Transcript.mismatch(expected: expected, actual: changed, tolerance: Self.tolerance) != nil,
        "\(new) must not match")
    }
    // A missing line, and an extra line after the last expected one.
    #expect(
      Transcript.mismatch(
        expected: expected, actual: actual.replacingOccurrences(of: "tail 5.0e-10", with: ""),
        tolerance: Self.tolerance) != nil)
    #expect(
      Transcript.mismatch(expected: expected, actual: actual + "\nmore", tolerance: Self.tolerance)
        != nil)
  }

  @Test("directives are parsed: command, body and tolerance")
  func parsesBlocks() throws {
    let markdown = """
      text
      <!-- transcript: rtol=0.01 atol=1e-6 -->
      ```text
      $ swift run -c release unlearn compare --model logistic
      line one
      ```
      """
    let blocks = try Transcript.blocks(inMarkdown: markdown)
    #expect(blocks.count == 1)
    #expect(blocks.first?.arguments == ["compare", "--model", "logistic"])
    #expect(blocks.first?.expected == "line one")
    #expect(blocks.first?.tolerance == Self.tolerance)
  }

  @Test("every README transcript matches the binary's output")
  func readmeTranscriptsMatch() throws {
    let readme = try String(
      contentsOf: Self.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    let blocks = try Transcript.blocks(inMarkdown: readme)
    #expect(!blocks.isEmpty, "the README has at least one checked transcript")
    let binary = try #require(
      SecureReleaseTests.binary(), "the unlearn executable is built with the tests")
    for block in blocks {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = block.arguments
      process.currentDirectoryURL = Self.repositoryRoot
      let out = Pipe()
      process.standardOutput = out
      process.standardError = FileHandle.nullDevice
      try process.run()
      let data = out.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      #expect(process.terminationStatus == 0, "README line \(block.line): exit status")
      let mismatch = Transcript.mismatch(
        expected: block.expected, actual: String(decoding: data, as: UTF8.self),
        tolerance: block.tolerance)
      #expect(mismatch == nil, "README line \(block.line): \(mismatch?.description ?? "")")
    }
  }
}
