/// Plain-text tables for reports.

/// Renders rows of cells as a fixed-width, left-aligned table with a rule under the header.
package func renderTable(_ lines: [[String]]) -> String {
  guard let header = lines.first else { return "" }
  var widths = header.map { $0.count }
  for line in lines {
    for (i, cell) in line.enumerated() where i < widths.count {
      widths[i] = max(widths[i], cell.count)
    }
  }
  func render(_ line: [String]) -> String {
    line.enumerated().map { i, cell in
      i == line.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
    }.joined(separator: "  ")
  }
  var out = render(header) + "\n"
  out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
  for line in lines.dropFirst() { out += render(line) + "\n" }
  return out
}

/// Renders rows of cells as CSV (RFC 4180): fields holding a comma, a quote or a line break are
/// quoted, with quotes doubled; lines end with `\n`.
package func renderCSV(_ lines: [[String]]) -> String {
  func field(_ cell: String) -> String {
    guard cell.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return cell }
    return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
  return lines.map { $0.map(field).joined(separator: ",") + "\n" }.joined()
}
