import Foundation
import LinearAlgebra
import Testing
import Unlearning

/// `unlearn-mpi train --method sisa` and `remove` on a SISA file under `mpirun -np 1, 2, 4`
/// against the library's single-process ``SISA.Ensemble`` with the same layout (the ascending
/// ids dealt by the same seed): every checkpoint, and what each deletion retrained.
@Suite(.serialized)
struct MPISISATests {
  typealias MPI = MPIEquivalenceTests

  struct FileJSON: Decodable {
    var format: String
    var ensemble: SISA.Snapshot<LogisticRegression>
    var removalOrder: [SampleID]
  }

  struct ReportJSON: Decodable {
    struct Request: Decodable {
      var ids: [SampleID]
      var report: SISA.Report
    }
    var ranks: Int
    var requests: [Request]
  }

  static func read<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
  }

  static func expectSameCheckpoints(
    _ a: [[[Double]]], _ b: [[[Double]]], _ context: String
  ) {
    #expect(a.count == b.count, "shard count: \(context)")
    for (s, (x, y)) in zip(a, b).enumerated() {
      #expect(x.count == y.count, "slice count of shard \(s): \(context)")
      for (r, (u, v)) in zip(x, y).enumerated() {
        #expect(MPI.closeVectors(u, v), "shard \(s) slice \(r): \(u) vs \(v) (\(context))")
      }
    }
  }

  /// Three shards of two slices (on 4 ranks one rank owns none): training, a stream of two
  /// single-id requests, then a batch that empties a whole shard; checkpoints and reports
  /// against the library, and untouched shards bit for bit.
  @Test(arguments: [1, 2, 4])
  func sisaOverRanksMatchesOneProcess(ranks: Int) throws {
    let directory = try MPI.scratch("sisa-\(ranks)")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let csv = directory + "/data.csv"
    try MPI.writeData(rows: 100, features: 4, seed: 21, to: csv)
    let model = directory + "/sisa.json"
    let (train, _) = try Scenario.csv(
      path: csv, labelColumn: "label", testFraction: 0.2, seed: 42, normalizeRows: true
    ).load()
    try MPI.succeed(
      ranks,
      [
        "train", "--dataset", "csv:\(csv)", "--normalize-rows", "--lambda", "1e-2", "--method",
        "sisa", "--shards", "3", "--slices", "2", "--out", model,
      ])
    let layout = SISA.Layout(ids: train.ids.sorted(), shardCount: 3, sliceCount: 2, seed: 42)
    var reference = try SISA.Ensemble.train(
      model: LogisticRegression(featureCount: 4), data: train, layout: layout,
      regularization: 1e-2, trainer: .newton(Training.Newton(gradientTolerance: 1e-10, seed: 42)),
      initializationSeed: 42)
    let trained = try Self.read(FileJSON.self, model)
    #expect(trained.format == "unlearn-mpi.sisa/1")
    #expect(trained.ensemble.layout == layout)
    Self.expectSameCheckpoints(
      trained.ensemble.checkpoints, reference.checkpoints, "np \(ranks), training")
    let attributes = try FileManager.default.attributesOfItem(atPath: model)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)

    // A stream: one id of shard 1's last slice, then one of shard 0's first slice.
    let stream = [layout.slices[1][1][0], layout.slices[0][0][0]]
    let streamFile = directory + "/stream.txt"
    try stream.map(\.description).joined(separator: "\n").write(
      toFile: streamFile, atomically: true, encoding: .utf8)
    try MPI.succeed(
      ranks,
      [
        "remove", "--model-file", model, "--forget-ids", streamFile, "--one-at-a-time",
        "--method", "sisa", "--out", model, "--json", directory + "/stream.json",
      ])
    // A batch emptying shard 2 entirely (on 4 ranks: every row rank 2 holds).
    let batch = layout.slices[2].flatMap { $0 }
    let batchFile = directory + "/batch.txt"
    try batch.map(\.description).joined(separator: "\n").write(
      toFile: batchFile, atomically: true, encoding: .utf8)
    try MPI.succeed(
      ranks,
      [
        "remove", "--model-file", model, "--forget-ids", batchFile, "--out", model, "--json",
        directory + "/batch.json",
      ])
    let reports =
      try Self.read(ReportJSON.self, directory + "/stream.json").requests
      + Self.read(ReportJSON.self, directory + "/batch.json").requests
    #expect(reports.count == 3)
    var expected: [SISA.Report] = []
    for request in stream.map({ [$0] }) + [batch] {
      let (next, report) = try reference.removing(ids: request)
      reference = next
      expected.append(report)
    }
    for (k, (got, want)) in zip(reports, expected).enumerated() {
      #expect(got.report.shardsRetrained == want.shardsRetrained, "np \(ranks), request \(k)")
      #expect(got.report.slicesReplayed == want.slicesReplayed, "np \(ranks), request \(k)")
      #expect(got.report.forgottenCount == want.forgottenCount, "np \(ranks), request \(k)")
    }
    #expect(expected.map(\.shardsRetrained) == [[1], [0], [2]])
    let after = try Self.read(FileJSON.self, model)
    #expect(after.removalOrder == stream + batch)
    #expect(Set(after.ensemble.removedIDs) == Set(stream + batch))
    Self.expectSameCheckpoints(
      after.ensemble.checkpoints, reference.checkpoints, "np \(ranks), after the deletions")
    // Shard 2 is empty: its checkpoints are the initial parameters (zero), and it does not vote.
    #expect(after.ensemble.checkpoints[2].allSatisfy { $0.allSatisfy { $0 == 0 } })
    #expect(reference.activeShards == [0, 1])
    // Shard 1 kept its first slice's checkpoint bit for bit (it was replayed from slice 1).
    #expect(after.ensemble.checkpoints[1][0] == trained.ensemble.checkpoints[1][0])

    // Refusals on every rank, the file untouched: an unknown id, an id already removed.
    let before = try Data(contentsOf: URL(fileURLWithPath: model))
    for (ids, message) in [
      ("999999", "sample id 999999 is not in the training data"),
      ("\(stream[0])", "already"),
    ] {
      let idsFile = directory + "/bad.txt"
      try ids.write(toFile: idsFile, atomically: true, encoding: .utf8)
      let run = try MPI.mpirun(
        ranks, ["remove", "--model-file", model, "--forget-ids", idsFile, "--out", model])
      #expect(run.status != 0)
      #expect(run.stderr.contains(message), "\(run.stderr)")
      #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == before)
    }
    // A stream whose second request is refused keeps the first one written.
    let retained = layout.slices[0][1][0]
    let mixedFile = directory + "/mixed.txt"
    try "\(retained)\n999999\n".write(toFile: mixedFile, atomically: true, encoding: .utf8)
    let mixed = try MPI.mpirun(
      ranks,
      [
        "remove", "--model-file", model, "--forget-ids", mixedFile, "--one-at-a-time", "--out",
        model,
      ])
    #expect(mixed.status != 0)
    #expect(try Self.read(FileJSON.self, model).removalOrder == stream + batch + [retained])
  }
}
