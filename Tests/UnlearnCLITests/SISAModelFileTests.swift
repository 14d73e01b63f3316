import Foundation
import Testing
import Unlearning
import UnlearnCLI

/// `train --method sisa` and `remove --method sisa` through model files, checked against SISA
/// trained from scratch on the retained data with the same layout.
@Suite("SISA model files")
struct SISAModelFileTests {
  static func path(_ name: String) -> String {
    NSTemporaryDirectory() + "unlearn-sisa-\(UInt32.random(in: 0...UInt32.max))-\(name)"
  }

  static func run(_ arguments: [String]) throws {
    var command = try Unlearn.parseAsRoot(arguments)
    try command.run()
  }

  static func writeIDs(_ ids: [SampleID]) throws -> String {
    let file = path("ids.txt")
    try ids.map { "\($0.rawValue)" }.joined(separator: "\n").write(
      toFile: file, atomically: true, encoding: .utf8)
    return file
  }

  /// The hospital training set of `train` (seed 42) and the CLI's trainer for logistic
  /// regression on it.
  static let hospital = Scenario.Hospital.make(seed: 42).train
  static let trainer = Training.Settings.newton(Training.Newton(gradientTolerance: 1e-10, seed: 42))

  /// SISA trained from the start on `D \ removed` with the file's layout: the oracle.
  static func fromScratch(layout: SISA.Layout, removed: Set<SampleID>) throws
    -> SISA.Ensemble<
      LogisticRegression
    >
  {
    try SISA.Ensemble.train(
      model: LogisticRegression(featureCount: 2), data: hospital, layout: layout,
      removedIDs: removed, regularization: 1e-3, trainer: trainer, initializationSeed: 42)
  }

  /// `max |a - b| / max(||b||_inf, 1)` over every checkpoint.
  static func worst(_ a: [[[Double]]], _ b: [[[Double]]]) -> Double {
    var worst = 0.0
    for (sa, sb) in zip(a, b) {
      for (ca, cb) in zip(sa, sb) {
        let scale = Swift.max(cb.map { abs($0) }.max() ?? 0, 1)
        for (x, y) in zip(ca, cb) { worst = Swift.max(worst, abs(x - y) / scale) }
      }
    }
    return worst
  }

  @Test("two successive removals equal SISA from scratch on D \\ F; no checkpoint saw F")
  func twoRemovalsEqualTrainingFromScratch() throws {
    let model = Self.path("m.json")
    try Self.run([
      "train", "--method", "sisa", "--shards", "4", "--slices", "3", "--out", model,
    ])
    let trained = try ModelFile.read(from: model)
    #expect(trained.version == 3)
    let state = try #require(trained.sisa)
    let layout = state.layout
    #expect(layout.shardCount == 4 && layout.sliceCount == 3)
    #expect(Set(layout.ids) == Set(Self.hospital.ids))
    // The file's training equals SISA trained in process with the same layout.
    #expect(
      Self.worst(state.checkpoints, try Self.fromScratch(layout: layout, removed: []).checkpoints)
        <= 1e-9)

    // First request: one id in the last slice of shard 0 and one in the middle slice of
    // shard 2; second: one in the first slice of shard 3.
    let first = [layout.slices[0][2][0], layout.slices[2][1][1]]
    let second = [layout.slices[3][0][0]]
    try Self.run([
      "remove", "--model-file", model, "--forget-ids", try Self.writeIDs(first), "--out", model,
    ])
    let afterFirst = try #require(try ModelFile.read(from: model).sisa)
    try Self.run([
      "remove", "--model-file", model, "--forget-ids", try Self.writeIDs(second), "--out", model,
    ])
    let file = try ModelFile.read(from: model)
    let final = try #require(file.sisa)
    #expect(file.removedIDs == first + second)
    #expect(final.layout == layout)

    // (a) Equal to SISA trained from the start on D \ F, every checkpoint, to round-off.
    let oracle = try Self.fromScratch(layout: layout, removed: Set(first + second))
    #expect(Self.worst(final.checkpoints, oracle.checkpoints) <= 1e-9)
    #expect(file.parameters.subtracting(oracle.averagedParameters).norm() <= 1e-9)

    // (b) Checkpoints before the earliest affected slice are the trained ones bit for bit
    // (shard 1 untouched entirely); every checkpoint at or after it was replaced and differs
    // from the one trained with the forgotten row.
    #expect(final.checkpoints[1] == state.checkpoints[1])
    #expect(Array(final.checkpoints[0][0..<2]) == Array(state.checkpoints[0][0..<2]))
    #expect(final.checkpoints[0][2] != state.checkpoints[0][2])
    #expect(final.checkpoints[2][0] == state.checkpoints[2][0])
    for r in 1..<3 { #expect(final.checkpoints[2][r] != state.checkpoints[2][r]) }
    for r in 0..<3 { #expect(final.checkpoints[3][r] != state.checkpoints[3][r]) }
    // The second call left the first call's shards alone.
    #expect(final.checkpoints[0] == afterFirst.checkpoints[0])
    // Recomputing each replaced checkpoint from the retained rows of its slices alone (warm
    // start from the previous checkpoint) gives the stored one: none was trained on F.
    let forgotten = Set(first + second)
    for (s, r) in [(0, 2), (2, 1), (2, 2), (3, 0), (3, 1), (3, 2)] {
      let ids = layout.slices[s][0...r].flatMap { $0 }.filter { !forgotten.contains($0) }
      #expect(!ids.contains { forgotten.contains($0) })
      let rows = try Self.hospital.subset(ids: ids)
      let objective = Objective(
        model: LogisticRegression(featureCount: 2), features: rows.features,
        targets: rows.labels.map(Double.init), regularization: 1e-3)
      let start = r == 0 ? [0.0, 0.0] : final.checkpoints[s][r - 1]
      let recomputed = Self.trainer.train(objective, from: start).parameters
      #expect(recomputed.subtracting(final.checkpoints[s][r]).norm() <= 1e-9)
      // The stored checkpoint is a minimiser of the retained objective of its slices.
      #expect(objective.gradientNorm(at: final.checkpoints[s][r]) <= 1e-8 * Double(rows.count))
    }
    // The audit trail: train + two removals, state recorded.
    let audit = StateStore(path: model).audit(data: nil)
    #expect(audit.passed)
  }

  @Test(
    "unknown, duplicate, already-forgotten ids, a wrong method and a tampered file are refused; the file is unchanged"
  )
  func badRequestsLeaveTheFileUnchanged() throws {
    let model = Self.path("m.json")
    try Self.run(["train", "--method", "sisa", "--shards", "2", "--slices", "2", "--out", model])
    let forgotten = try #require(try ModelFile.read(from: model).sisa).layout.slices[1][1][0]
    try Self.run([
      "remove", "--model-file", model, "--forget-ids", try Self.writeIDs([forgotten]), "--out",
      model,
    ])
    let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
    let ledger = try Data(contentsOf: URL(fileURLWithPath: model + ".ledger.jsonl"))
    let retained = Self.hospital.ids.first { $0 != forgotten }!
    let requests: [([SampleID], [String], String)] = [
      ([99_999], [], "not in the training data"),
      ([retained, retained], [], "more than once"),
      ([forgotten], [], "already forgotten"),
      ([retained], ["--method", "newton"], "--method sisa"),
      ([retained], ["--method", "retrain"], "--method sisa"),
    ]
    for (ids, extra, phrase) in requests {
      do {
        try Self.run(
          ["remove", "--model-file", model, "--forget-ids", try Self.writeIDs(ids), "--out", model]
            + extra)
        Issue.record("request \(ids) \(extra) was accepted")
      } catch let error as CLIError {
        #expect(error.description.contains(phrase), "\(error.description)")
        #expect(!error.description.contains("\n"))
      }
      #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == bytes)
      #expect(try Data(contentsOf: URL(fileURLWithPath: model + ".ledger.jsonl")) == ledger)
    }
    // A plain model refuses --method sisa.
    let plain = Self.path("plain.json")
    try Self.run(["train", "--out", plain])
    #expect(throws: CLIError("\(plain): not a SISA model file (train it with --method sisa)")) {
      try Self.run([
        "remove", "--model-file", plain, "--forget-ids", try Self.writeIDs([retained]),
        "--method", "sisa", "--out", plain,
      ])
    }
    // Tampered: a field changed by hand (still valid JSON and shapes).
    let text = try String(contentsOf: URL(fileURLWithPath: model), encoding: .utf8)
    #expect(text.contains("\"initializationSeed\" : 42"))
    try Data(
      text.replacingOccurrences(
        of: "\"initializationSeed\" : 42", with: "\"initializationSeed\" : 43"
      ).utf8
    ).write(to: URL(fileURLWithPath: model))
    let tamperedBytes = try Data(contentsOf: URL(fileURLWithPath: model))
    do {
      try Self.run([
        "remove", "--model-file", model, "--forget-ids", try Self.writeIDs([retained]), "--out",
        model,
      ])
      Issue.record("the tampered file was accepted")
    } catch let error as CLIError {
      #expect(error.description.contains("not the one the ledger last recorded"))
      #expect(!error.description.contains("\n"))
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == tamperedBytes)
    // Influence and export refuse a SISA file with one line.
    #expect(throws: CLIError.self) {
      try Self.run(["export", "--public", "--model-file", model, "--out", Self.path("pub.json")])
    }
  }

  @Test("a deletion that empties a slice and one that empties a shard")
  func emptiedSliceAndShard() throws {
    let model = Self.path("m.json")
    try Self.run(["train", "--method", "sisa", "--shards", "3", "--slices", "2", "--out", model])
    let layout = try #require(try ModelFile.read(from: model).sisa).layout
    // Empty slice 0 of shard 0: the shard restarts from the initial parameters and trains
    // slice 1 alone; its checkpoint 0 is the initial parameters.
    let slice = layout.slices[0][0]
    try Self.run([
      "remove", "--model-file", model, "--forget-ids", try Self.writeIDs(slice), "--out", model,
    ])
    var state = try #require(try ModelFile.read(from: model).sisa)
    #expect(state.checkpoints[0][0] == [0, 0])
    var oracle = try Self.fromScratch(layout: layout, removed: Set(slice))
    #expect(Self.worst(state.checkpoints, oracle.checkpoints) <= 1e-9)
    // Empty shard 2 entirely: it no longer votes, its checkpoints are the initial parameters.
    let shard = layout.slices[2].flatMap { $0 }
    try Self.run([
      "remove", "--model-file", model, "--forget-ids", try Self.writeIDs(shard), "--out", model,
    ])
    let file = try ModelFile.read(from: model)
    state = try #require(file.sisa)
    #expect(state.checkpoints[2] == [[0, 0], [0, 0]])
    oracle = try Self.fromScratch(layout: layout, removed: Set(slice + shard))
    #expect(oracle.activeShards == [0, 1])
    #expect(Self.worst(state.checkpoints, oracle.checkpoints) <= 1e-9)
    // The file's parameters are the mean over the two shards that still hold data.
    let mean = state.checkpoints[0][1].adding(state.checkpoints[1][1]).map { $0 / 2 }
    #expect(file.parameters.subtracting(mean).norm() <= 1e-12)
    #expect(Set(file.removedIDs) == Set(slice + shard))
  }

  @Test("version 2 files still load; a version 3 file without its SISA section is refused")
  func versions() throws {
    let plain = Self.path("plain.json")
    try Self.run(["train", "--out", plain])
    let file = try ModelFile.read(from: plain)
    #expect(file.version == 2 && file.sisa == nil)
    var text = try String(contentsOf: URL(fileURLWithPath: plain), encoding: .utf8)
    text = text.replacingOccurrences(of: "\"version\" : 2", with: "\"version\" : 3")
    let bad = Self.path("bad.json")
    try text.write(toFile: bad, atomically: true, encoding: .utf8)
    #expect(throws: ModelFileError.self) { try ModelFile.read(from: bad) }
  }
}
