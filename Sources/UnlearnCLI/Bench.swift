import ArgumentParser
import Foundation
import Unlearning
import UnlearnBench

/// `unlearn bench`: medians of repeated timings of the hot paths, as a table and JSON.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Benchmark the numerical kernels (build with -c release).",
    discussion: """
      Prints median wall-clock seconds over repeated runs and rates relative to the GEMM peak
      measured in the same run. Example:

        swift run -c release unlearn bench --repeats 5 --json bench.json
      """
  )

  @Option(help: "Repetitions per measurement (the median is reported).")
  var repeats: Int = 5

  @Option(help: "Write all measurements as JSON to this file.")
  var json: String?

  @Option(
    help:
      "Comma-separated groups to run: linalg, training, influence, baselines, certified (Fashion-MNIST groups need dataset-fashion-mnist)."
  )
  var only: String = "linalg,training,influence,baselines,certified"

  @Option(
    help:
      "Sequential single removals for the certified group's removals-before-retrain count."
  )
  var removals: Int = 500

  func validate() throws {
    guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    guard removals >= 1 else { throw ValidationError("--removals must be at least 1") }
  }

  func run() throws {
    var report = BenchReport(threads: BLASInfo.threadCount, repeats: repeats, rows: [])
    let groups = Set(only.split(separator: ",").map { String($0) })
    if groups.contains("linalg") { try LinearAlgebraBench.run(repeats: repeats, into: &report) }
    if groups.contains("training") { try TrainingBench.run(repeats: repeats, into: &report) }
    if groups.contains("influence") { try InfluenceBench.run(into: &report) }
    if groups.contains("baselines") { try BaselinesBench.run(repeats: repeats, into: &report) }
    if groups.contains("certified-kernels") {
      try CertifiedBench.kernels(data: try fashionMNISTPair(), into: &report)
    }
    if groups.contains("certified") {
      try CertifiedBench.run(repeats: repeats, removals: removals, into: &report)
    }
    print(report.table())
    if let json { try writeJSONAtomically(report, to: json) }
  }
}

/// Encodes `value` as pretty JSON and writes it atomically with mode 0600 (temporary file +
/// rename), or to standard output when `path` is `-`.
package func writeJSONAtomically<T: Encodable>(_ value: T, to path: String) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  let data = try encoder.encode(value)
  if path == "-" {
    FileHandle.standardOutput.write(data + Data("\n".utf8))
    return
  }
  try SecureFile.writeAtomically(data, to: path, mode: 0o600)
}
