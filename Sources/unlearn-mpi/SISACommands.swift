import Foundation
import Unlearning
import UnlearnCLI
import UnlearningDistributed

/// The model file of SISA over ranks: one JSON file that rank 0 writes (mode 0600) after
/// gathering every shard's checkpoints. The data is not in it; `scenario` says where it comes
/// from and the ensemble's `dataFingerprint` is the sharded data's (``ShardedData/fingerprint``).
struct SISAModelFile: Codable {
  /// `"unlearn-mpi.sisa/1"`.
  var format = Self.currentFormat
  /// Where the training rows come from (a `{rank}` path: pre-split parts).
  var scenario: Scenario
  /// `--seed` at training (layout, initialisation and trainer seed).
  var trainingSeed: UInt64
  /// The global ensemble: layout over the ascending ids, every shard's checkpoints, removed ids.
  var ensemble: SISA.Snapshot<LogisticRegression>
  /// Ids in the order they were removed.
  var removalOrder: [SampleID]

  static let currentFormat = "unlearn-mpi.sisa/1"

  /// Whether `bytes` are a SISA file (its `format` field), without decoding the rest.
  static func isSISA(_ bytes: [UInt8]) -> Bool {
    struct Probe: Decodable { var format: String? }
    return (try? JSONDecoder().decode(Probe.self, from: Data(bytes)))?.format == currentFormat
  }

  func encoded() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return Array(try encoder.encode(self))
  }

  static func decode(_ bytes: [UInt8], path: String) throws -> SISAModelFile {
    do {
      return try JSONDecoder().decode(SISAModelFile.self, from: Data(bytes))
    } catch {
      throw CLIError("\(path): not an unlearn-mpi SISA model file (\(error))")
    }
  }
}

/// Reads the raw bytes of a file on rank 0 and hands them to every rank.
func readBytes(_ path: String, _ world: Communicator) throws -> [UInt8] {
  try onRoot(world) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIError("\(path): cannot read the file")
    }
    return Array(data)
  }
}

/// `unlearn-mpi train --method sisa`: trains, gathers the checkpoints, rank 0 writes the file.
func trainSISA(
  data: LoadedData, shards: Int, slices: Int, lambda: Double, seed: UInt64, out: String,
  world: Communicator
) throws {
  let shard = data.shard
  let model = LogisticRegression(featureCount: shard.featureCount)
  progress(
    "SISA: \(shards) shards x \(slices) slices over \(world.size) rank(s) (shard s on rank s mod \(world.size))",
    world)
  let start = Communicator.wallTime
  let ensemble = try agree(world) {
    try runReportingErrors {
      try ShardedSISA.train(
        model: model, data: shard, shardCount: shards, sliceCount: slices, layoutSeed: seed,
        regularization: lambda,
        trainer: .newton(Training.Newton(gradientTolerance: 1e-10, seed: seed)),
        initializationSeed: seed)
    }
  }
  let seconds = try runReportingErrors {
    try world.allReduceMax(Communicator.wallTime - start)
  }
  try writeSISA(
    ensemble, scenario: data.scenario, seed: seed, removalOrder: [], to: out, world: world)
  say(
    "trained SISA (\(shards) shards x \(slices) slices, logistic regression on \(shard.featureCount) features) on \(world.size) rank(s) in \(String(format: "%.3f", seconds)) s",
    world)
  say("wrote \(out) (private, mode 0600)", world)
}

/// Gathers the ensemble and writes it on rank 0 (atomically, mode 0600); every rank learns the
/// outcome.
func writeSISA(
  _ ensemble: ShardedSISA<LogisticRegression>, scenario: Scenario, seed: UInt64,
  removalOrder: [SampleID], to out: String, world: Communicator
) throws {
  let snapshot = try runReportingErrors { try ensemble.snapshot() }
  _ = try onRoot(world) {
    guard let snapshot else { throw CLIError("internal error: rank 0 holds no SISA shard") }
    let file = SISAModelFile(
      scenario: scenario, trainingSeed: seed, ensemble: snapshot, removalOrder: removalOrder)
    try runReportingErrors { try SecureFile.writeAtomically(Data(try file.encoded()), to: out) }
    return []
  }
}

/// The JSON report of `unlearn-mpi remove --method sisa`.
struct RemoveSISAOutput: Encodable {
  var schema = "unlearn-mpi.remove-sisa/1"
  var ranks: Int
  var rowsPerRank: [Int]
  var requests: [Request]

  struct Request: Encodable {
    var ids: [SampleID]
    var report: SISA.Report
  }
}

/// `unlearn-mpi remove --method sisa`: each request retrains only the owning ranks' affected
/// shards; after each request rank 0 writes the report, then the model file.
func removeSISA(
  _ bytes: [UInt8], path: String, requests: [[SampleID]], out: String, json: String?,
  world: Communicator
) throws {
  var file = try SISAModelFile.decode(bytes, path: path)
  let data = try LoadedData(file.scenario, world: world)
  var ensemble = try agree(world) {
    do {
      return try ShardedSISA(snapshot: file.ensemble, data: data.shard)
    } catch let error as DistributedError {
      guard case .dataMismatch(let expected, let found) = error else {
        throw CLIError("\(path): \(error)")
      }
      throw CLIError(
        ModelFileError.dataMismatch(path: path, expected: expected, found: found).description)
    }
  }
  var output = RemoveSISAOutput(
    ranks: world.size, rowsPerRank: data.shard.rankCounts, requests: [])
  // Each request is committed before the next one starts: the report, then the file (a later
  // request that fails leaves the earlier ones written).
  for request in requests {
    let (next, report) = try agree(world) {
      try runReportingErrors { try ensemble.removing(ids: request) }
    }
    ensemble = next
    file.removalOrder += request
    output.requests.append(.init(ids: request, report: report))
    if let json {
      _ = try onRoot(world) {
        try runReportingErrors { try writeJSONAtomically(output, to: json) }
        return []
      }
    }
    try writeSISA(
      ensemble, scenario: file.scenario, seed: file.trainingSeed, removalOrder: file.removalOrder,
      to: out, world: world)
    say(
      "removed \(report.forgottenCount) sample(s) by SISA on \(world.size) rank(s): retrained shard(s) \(report.shardsRetrained.map(String.init).joined(separator: ", ")), \(report.slicesReplayed) slice(s) replayed in \(String(format: "%.4f", report.seconds)) s",
      world)
  }
  say("wrote \(out)", world)
}
