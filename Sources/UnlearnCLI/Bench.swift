import ArgumentParser
import Foundation
import Unlearning
import UnlearnBench

/// `unlearn bench`: medians of repeated timings of the hot paths, as a table and JSON.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Benchmark the numerical kernels (build with -c release).",
    usage: "unlearn bench [--only <groups>] [--repeats <n>] [<options>]",
    discussion: """
      Prints median wall-clock times over repeated runs, with their spread, and rates relative to the GEMM peak measured in the same run. The JSON records the machine, the BLAS kernels and threads, and the git commit.

      Examples:
        swift run -c release unlearn bench --repeats 5 --json bench.json
        unlearn bench --only linalg,influence --csv bench.csv
      """
  )

  @Option(help: "Repetitions per measurement (the median is reported).")
  var repeats: Int = 5

  @Option(help: "Write all measurements as JSON to this file.")
  var json: String?

  @Option(help: "Write the table as CSV (seconds, one column per figure) to this file.")
  var csv: String?

  @Option(
    help:
      "Comma-separated groups to run: linalg, training, influence, baselines, certified, amortised, certified-kernels, class-forgetting, forget-score, or all (every group but certified-kernels, class-forgetting and forget-score, which take minutes). The Fashion-MNIST groups need dataset-fashion-mnist."
  )
  var only: String = "all"

  @Option(
    help:
      "Sequential single removals for the certified group's removals-before-retrain count."
  )
  var removals: Int = 500

  @Option(help: "Sequential single removals of the amortised group (O(d^2) path vs fused pass).")
  var requests: Int = 1000

  @Option(
    name: .customLong("forget-score-models"),
    help: "Model pairs N of the forget-score group (the challenge's 512; minutes on 2 cores).")
  var forgetScoreModels: Int = 512

  /// The groups `--only` may name.
  static let groupNames = [
    "linalg", "training", "influence", "baselines", "certified", "certified-kernels", "amortised",
    "class-forgetting", "forget-score",
    "all",
  ]

  /// `all`: every group but `certified-kernels`, `class-forgetting` and `forget-score` (minutes).
  static let allGroups = ["linalg", "training", "influence", "baselines", "certified", "amortised"]

  func validate() throws {
    guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    let named = only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    guard !named.isEmpty else {
      throw ValidationError(
        "--only: name at least one of \(Self.groupNames.joined(separator: ", "))")
    }
    for name in named where !Self.groupNames.contains(name) {
      throw ValidationError(
        "--only: unknown group '\(name)'; choose from \(Self.groupNames.joined(separator: ", "))")
    }
    guard removals >= 1 else { throw ValidationError("--removals must be at least 1") }
    guard requests >= 1 else { throw ValidationError("--requests must be at least 1") }
    guard forgetScoreModels >= 2 else {
      throw ValidationError("--forget-score-models must be at least 2")
    }
  }

  @OptionGroup var progressOptions: ProgressOptions

  func run() throws {
    progressOptions.apply()
    let outputs = [json, csv].compactMap { $0 }.filter { $0 != "-" }
    _ = try runReportingErrors { try SecureFile.checkOutputs(inputs: [], outputs: outputs) }
    var report = BenchReport(threads: BLASInfo.threadCount, repeats: repeats, rows: [])
    var groups = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    if groups.contains("all") { groups.formUnion(Self.allGroups) }
    if groups.contains("linalg") { try LinearAlgebraBench.run(repeats: repeats, into: &report) }
    if groups.contains("training") { try TrainingBench.run(repeats: repeats, into: &report) }
    if groups.contains("influence") {
      try InfluenceBench.run(repeats: repeats, into: &report)
    }
    if groups.contains("baselines") { try BaselinesBench.run(repeats: repeats, into: &report) }
    if groups.contains("certified-kernels") {
      try CertifiedBench.kernels(data: try fashionMNISTPair(), into: &report)
    }
    if groups.contains("certified") {
      try CertifiedBench.run(repeats: repeats, removals: removals, into: &report)
    }
    if groups.contains("amortised") {
      try AmortisedBench.run(requests: requests, into: &report)
    }
    if groups.contains("class-forgetting") { try ClassForgettingBench.run(into: &report) }
    if groups.contains("forget-score") {
      try ForgetScoreBench.run(modelCount: forgetScoreModels, into: &report)
    }
    print(report.table())
    if let json { try runReportingErrors { try writeJSONAtomically(report, to: json) } }
    if let csv { try runReportingErrors { try writeTextAtomically(report.csv(), to: csv) } }
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

/// Writes `text` atomically with mode 0600, or to standard output when `path` is `-`.
func writeTextAtomically(_ text: String, to path: String) throws {
  if path == "-" {
    FileHandle.standardOutput.write(Data(text.utf8))
    return
  }
  try SecureFile.writeAtomically(Data(text.utf8), to: path, mode: 0o600)
}
