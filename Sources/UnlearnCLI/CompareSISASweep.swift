import Foundation
import Unlearning

/// The JSON of `compare --sisa-shards`.
struct SISASweepOutput: Encodable {
  var schema = "unlearn.compare.sisa-sweep/1"
  var scenario: String
  var trainCount: Int
  var testCount: Int
  var seed: UInt64
  var models: [Comparison.SISASweep]
}

extension Compare {
  /// The shard counts of `--sisa-shards`, validated.
  func parsedShardCounts() throws -> [Int]? {
    guard let sisaShards else { return nil }
    let counts = sisaShards.split(separator: ",").compactMap {
      Int($0.trimmingCharacters(in: .whitespaces))
    }
    guard !counts.isEmpty, counts.count == sisaShards.split(separator: ",").count,
      counts.allSatisfy({ $0 >= 1 })
    else {
      throw CLIError("--sisa-shards: give positive shard counts, e.g. 1,2,4,8,16")
    }
    return counts
  }

  /// `compare --sisa-shards`: the SISA shard sweep instead of the methods table.
  func runSISASweep(_ shardCounts: [Int], configuration: Comparison.Configuration) throws {
    if forgetIDs != nil || forgetClass != nil {
      throw CLIError(
        "--sisa-shards times requests of --forget N random ids (default 1), not --forget-ids or --forget-class"
      )
    }
    if csv != nil || svg != nil { throw CLIError("--sisa-shards writes a table and --json only") }
    guard sisaSlices >= 1, sisaRepeats >= 1 else {
      throw CLIError("--sisa-slices and --sisa-repeats must be at least 1")
    }
    let (train, test, sweeps) = try runReportingErrors {
      try Comparison.sisaSweeps(
        configuration, shardCounts: shardCounts, sliceCount: sisaSlices, forgetCount: forget ?? 1,
        repeats: sisaRepeats, progress: progressLine)
    }
    print("unlearn compare --sisa-shards: \(configuration.scenario)")
    print(
      "\(train.count) training / \(test.count) test samples; \(forget ?? 1) random id(s) per request, \(sisaRepeats) requests per S; times: median (fastest - slowest)"
    )
    for s in sweeps {
      let sweep = s.sweep
      func time(_ median: Double, _ range: ClosedRange<Double>) -> String {
        "\(ComparisonRendering.seconds(median)) (\(ComparisonRendering.seconds(range.lowerBound)) - \(ComparisonRendering.seconds(range.upperBound)))"
      }
      print(
        "\n== \(s.model): \(s.specification) - lambda \(String(format: "%.1e", s.regularization)), trainer \(s.trainer)"
      )
      print(
        "   one model on all the data: test accuracy \(ComparisonRendering.pct(sweep.monolithicAccuracy)); full retrain \(time(sweep.retrainSeconds, sweep.retrainSecondsRange))"
      )
      var lines = [
        [
          "S", "R", "test acc", "cost (points)", "train", "unlearn", "speed-up",
          "shards retrained",
        ]
      ]
      for row in sweep.rows {
        lines.append([
          "\(row.shardCount)", "\(row.sliceCount)", ComparisonRendering.pct(row.ensembleAccuracy),
          String(format: "%+.1f", 100 * row.accuracyCost),
          ComparisonRendering.seconds(row.trainingSeconds),
          time(row.unlearningSeconds, row.unlearningSecondsRange),
          String(format: "%.3gx", row.speedup), String(format: "%.2g", row.shardsRetrained),
        ])
      }
      print(renderTable(lines), terminator: "")
    }
    print(
      "\ncost: the monolithic model's test accuracy minus the ensemble's (points); speed-up: the median full retrain over the median SISA deletion"
    )
    if let json {
      try runReportingErrors {
        try writeJSONAtomically(
          SISASweepOutput(
            scenario: configuration.scenario.description, trainCount: train.count,
            testCount: test.count, seed: configuration.seed, models: sweeps), to: json)
      }
      progressLine("wrote \(json)")
    }
  }
}
