import Foundation

/// Command transcripts in markdown (the README's), checked like notebook outputs.
///
/// A transcript is a fenced code block preceded by a directive comment with the tolerance,
/// whose first line is the command after `$ ` and whose other lines are its standard output:
///
/// ````
/// <!-- transcript: rtol=0.01 atol=1e-6 -->
/// ```text
/// $ swift run -c release unlearn compare --model logistic
/// method   test acc  ...  verdict
/// ...
/// ```
/// ````
///
/// `...` elides: a line that is only `...` stands for any number of output lines (none
/// included), and `...` inside a line for any text there (e.g. elided table columns). Numbers
/// compare under the tolerance as in ``OutputComparison`` (integers and percentages exactly,
/// others within `atol + rtol * max(|a|, |b|)` plus half a unit in the last printed digit);
/// runs of spaces count as one.
public enum Transcript {
  /// One transcript block.
  public struct Block: Sendable, Equatable {
    /// 1-based line of the command in the markdown file.
    public var line: Int
    /// The `unlearn` arguments (the command without `swift run -c release unlearn`).
    public var arguments: [String]
    /// The expected output, with `...` elisions.
    public var expected: String
    /// The declared tolerance.
    public var tolerance: OutputTolerance
  }

  /// The directive that marks the next fenced block as a transcript.
  public static let directive = "<!-- transcript:"

  /// The transcript blocks of a markdown document, in order.
  ///
  /// - Throws: ``NotebookError`` for a directive not followed by a fenced block, a block whose
  ///   first line is not `$ ... unlearn ...`, or a bad tolerance.
  public static func blocks(inMarkdown markdown: String) throws(NotebookError) -> [Block] {
    let lines = markdown.components(separatedBy: "\n")
    var blocks = [Block]()
    var index = 0
    while index < lines.count {
      let text = lines[index].trimmingCharacters(in: .whitespaces)
      guard text.hasPrefix(directive), text.hasSuffix("-->") else {
        index += 1
        continue
      }
      let arguments = String(text.dropFirst(directive.count).dropLast(3))
        .trimmingCharacters(in: .whitespaces)
      let tolerance = try OutputTolerance.parse(arguments)
      guard index + 2 < lines.count, lines[index + 1].hasPrefix("```") else {
        throw NotebookError("line \(index + 1): a transcript directive must precede a ``` block")
      }
      let commandLine = lines[index + 2]
      guard commandLine.hasPrefix("$ "),
        let range = commandLine.range(of: "unlearn ")
          ?? (commandLine.hasSuffix("unlearn") ? commandLine.range(of: "unlearn") : nil)
      else {
        throw NotebookError(
          "line \(index + 3): a transcript starts with `$ ... unlearn ARGUMENTS`")
      }
      let command = commandLine[range.upperBound...].split(separator: " ").map(String.init)
      var body = [String]()
      var end = index + 3
      while end < lines.count, !lines[end].hasPrefix("```") {
        body.append(lines[end])
        end += 1
      }
      guard end < lines.count else {
        throw NotebookError("line \(index + 2): unterminated transcript block")
      }
      blocks.append(
        Block(
          line: index + 3, arguments: command, expected: body.joined(separator: "\n"),
          tolerance: tolerance))
      index = end + 1
    }
    return blocks
  }

  /// Why `actual` does not match the transcript's `expected` output, or `nil` when it does.
  public static func mismatch(
    expected: String, actual: String, tolerance: OutputTolerance
  ) -> OutputComparison.Mismatch? {
    let want = expected.components(separatedBy: "\n").filter { !$0.isEmpty }
    let got = actual.components(separatedBy: "\n").filter { !$0.isEmpty }
    let patterns = want.map { LinePattern($0) }
    // match(i, j): expected lines i... match actual lines j...; memoised.
    var memo = [Int: Bool]()
    var deepest = (line: 0, reason: "")
    func match(_ i: Int, _ j: Int) -> Bool {
      let key = i * (got.count + 1) + j
      if let known = memo[key] { return known }
      var result: Bool
      if i == want.count {
        result = j == got.count
        if !result && i >= deepest.line {
          deepest = (i, "extra output line \(OutputComparison.quoted(got[j]))")
        }
      } else if want[i].trimmingCharacters(in: .whitespaces) == "..." {
        result = (j...got.count).contains { match(i + 1, $0) }
      } else if j == got.count {
        result = false
        if i >= deepest.line {
          deepest = (i, "missing line \(OutputComparison.quoted(want[i]))")
        }
      } else if let reason = patterns[i].mismatch(got[j], tolerance: tolerance) {
        result = false
        if i >= deepest.line { deepest = (i, reason) }
      } else {
        result = match(i + 1, j + 1)
      }
      memo[key] = result
      return result
    }
    return match(0, 0)
      ? nil : OutputComparison.Mismatch(line: deepest.line + 1, reason: deepest.reason)
  }

  /// One expected line as a regular expression: text literally (runs of spaces as `\s+`),
  /// numbers as capture groups compared under the tolerance, `...` as any text.
  struct LinePattern {
    var source: String
    var numbers: [OutputNumber] = []
    var regex: NSRegularExpression?

    static let numberPattern = "([-+]?[0-9][0-9,]*(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?%?)"

    init(_ line: String) {
      source = line
      var pattern = "^\\s*"
      var dropPercent = false
      for token in OutputComparison.tokens(line.trimmingCharacters(in: .whitespaces)) {
        switch token {
        case .number(let n):
          numbers.append(n)
          pattern += Self.numberPattern
          dropPercent = n.isPercentage
        case .text(var text):
          if dropPercent && text.hasPrefix("%") { text.removeFirst() }
          dropPercent = false
          let pieces = text.components(separatedBy: "...")
          for (k, piece) in pieces.enumerated() {
            if k > 0 { pattern += ".*?" }
            var literal = ""
            var inSpace = false
            for character in piece {
              if character == " " {
                if !inSpace { literal += "\\s+" }
                inSpace = true
              } else {
                literal += NSRegularExpression.escapedPattern(for: String(character))
                inSpace = false
              }
            }
            // Next to an elision, the spaces may be absorbed by it.
            if pieces.count > 1 { literal = literal.replacingOccurrences(of: "\\s+", with: "\\s*") }
            pattern += literal
          }
        }
      }
      pattern += "\\s*$"
      regex = try? NSRegularExpression(pattern: pattern)
    }

    func mismatch(_ actual: String, tolerance: OutputTolerance) -> String? {
      let context =
        "expected \(OutputComparison.quoted(source)), got \(OutputComparison.quoted(actual))"
      guard let regex,
        let found = regex.firstMatch(
          in: actual, range: NSRange(actual.startIndex..., in: actual))
      else { return context }
      for (k, expected) in numbers.enumerated() {
        guard let range = Range(found.range(at: k + 1), in: actual),
          case .number(let value)? = OutputComparison.tokens(String(actual[range])).first
        else { return context }
        if let reason = OutputComparison.numberMismatch(expected, value, tolerance: tolerance) {
          return "\(reason) in \(context)"
        }
      }
      return nil
    }
  }
}
