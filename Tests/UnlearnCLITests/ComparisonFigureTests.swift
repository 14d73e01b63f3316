import Foundation
import Testing
import Unlearning
import UnlearnCLI

/// `compare --svg`: the plotted values, written as CSV beside the figure, are the comparison's
/// own numbers (accuracy gaps in points, KL in nats, seconds on a separate axis), and a KL of
/// exactly 0 is labelled on the axis instead of vanishing.
@Suite("Comparison figure")
struct ComparisonFigureTests {
  @Test("the CSV beside the SVG holds the plotted numbers, one panel per quantity")
  func plottedDataMatchesTheResult() throws {
    let directory = NSTemporaryDirectory() + "unlearn-figure-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var command = try Unlearn.parseAsRoot([
      "compare", "--model", "logistic", "--methods", "retrain,naive,newton", "--forget", "20",
      "--json", directory + "/r.json", "--svg", directory + "/f.svg", "--quiet",
    ])
    try command.run()
    let result = try JSONDecoder().decode(
      Comparison.Result.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/r.json")))
    let csv = try String(contentsOfFile: directory + "/f.csv", encoding: .utf8)
    var values = [String: Double]()
    for line in csv.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      #expect(fields.count == 4, "\(line)")
      guard fields.count == 4, let y = Double(fields[3]) else { continue }
      values["\(fields[0])|\(fields[1])|\(fields[2])"] = y
    }
    // The CSV holds 6 significant digits (round-off below them differs between machines).
    func matches(_ key: String, _ value: Double?) -> Bool {
      guard let value else { return values[key] == nil }
      guard let written = values[key] else { return false }
      return abs(written - value) <= 5e-6 * abs(value)
    }
    for row in result.rows where row.model == "logistic" {
      let e = row.evaluation
      #expect(matches("logistic: mean KL to the reference (nats)|test KL|\(row.method)", e.testKL))
      #expect(
        matches("logistic: mean KL to the reference (nats)|forget KL|\(row.method)", e.forgetKL))
      #expect(
        matches(
          "logistic: accuracy minus the reference's (points)|forget|\(row.method)",
          100 * e.forgetAccuracyGap))
      #expect(matches("logistic: unlearning time (seconds)|seconds|\(row.method)", e.seconds))
    }
    // Retrain's KL to itself is exactly 0: labelled on the axis, not drawn as an empty bar.
    let svg = try String(contentsOfFile: directory + "/f.svg", encoding: .utf8)
    #expect(svg.contains("text-anchor=\"middle\">0</text>"))
    // Seconds and KL are separate panels.
    #expect(svg.contains("unlearning time (seconds)") && svg.contains("mean KL to the reference"))
  }
}
