import Foundation
import LinearAlgebra
import Testing
import Unlearning

/// Pre-split files (`--dataset csv:data.part-{rank}.csv`): each rank reads only its part, and
/// the result is the single-file run's (same fingerprint, parameters and certificates to
/// round-off); duplicate ids, missing parts and parts that disagree are refused on every rank.
@Suite(.serialized)
struct MPIPreSplitTests {
  typealias MPI = MPIEquivalenceTests

  /// `data.csv` with an id column (ids `1000 + 7 i`) in front of `writeData`'s columns.
  static func writeDataWithIDs(rows n: Int, features d: Int, seed: UInt64, to path: String)
    throws
  {
    try MPI.writeData(rows: n, features: d, seed: seed, to: path)
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    let out =
      ["id," + lines[0]]
      + lines.dropFirst().enumerated().map { "\(1000 + 7 * $0),\($1)" }
    try out.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// Rows `rows` of `data` as a CSV part (id column first; features printed exactly).
  static func writePart(_ data: Dataset, rows: Range<Int>, to path: String) throws {
    var lines = ["id," + (0..<data.featureCount).map { "x\($0)" }.joined(separator: ",") + ",label"]
    for i in rows {
      let x = data.features.row(i).map { String($0) }.joined(separator: ",")
      lines.append("\(data.ids[i]),\(x),\(data.classNames[data.labels[i]])")
    }
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// The training rows of the single-file run, cut into `ranks` contiguous parts (not the
  /// hash split): certified training and a stream of removals agree with the single file.
  @Test(arguments: [2, 4])
  func preSplitPartsMatchTheSingleFile(ranks: Int) throws {
    let directory = try MPI.scratch("parts-\(ranks)")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let csv = directory + "/data.csv"
    try Self.writeDataWithIDs(rows: 160, features: 5, seed: 13, to: csv)
    // The raw (unnormalised) training rows of the single-file split, in file order.
    let (train, _) = try Scenario.csv(
      path: csv, labelColumn: "label", testFraction: 0.25, seed: 42, normalizeRows: false,
      idColumn: "id"
    ).load()
    for k in 0..<ranks {
      let rows = (k * train.count / ranks)..<((k + 1) * train.count / ranks)
      try Self.writePart(train, rows: rows, to: directory + "/data.part-\(k).csv")
    }
    let common = [
      "--id-column", "id", "--normalize-rows", "--lambda", "1e-2", "--certified", "--sigma",
      "0.05", "--reproducible-not-private-seed", "7", "--test-fraction", "0.25",
    ]
    let single = directory + "/single.json"
    let parts = directory + "/parts.json"
    try MPI.succeed(ranks, ["train", "--dataset", "csv:\(csv)", "--out", single] + common)
    try MPI.succeed(
      ranks,
      ["train", "--dataset", "csv:\(directory)/data.part-{rank}.csv", "--out", parts] + common)
    let a = try ModelFile.read(from: single)
    let b = try ModelFile.read(from: parts)
    #expect(a.dataFingerprint == b.dataFingerprint)
    #expect(MPI.closeVectors(b.parameters, a.parameters))
    #expect(b.perturbation == a.perturbation)
    let ca = try #require(a.certification)
    let cb = try #require(b.certification)
    #expect(MPI.close(cb.spent, ca.spent) && MPI.close(cb.spectralNorm, ca.spectralNorm))

    let stream: [SampleID] = [train.ids[5], train.ids[train.count - 1], train.ids[60]]
    let idsFile = directory + "/ids.txt"
    try stream.map(\.description).joined(separator: "\n").write(
      toFile: idsFile, atomically: true, encoding: .utf8)
    for (model, json) in [(single, "/single-report.json"), (parts, "/parts-report.json")] {
      try MPI.succeed(
        ranks,
        [
          "remove", "--model-file", model, "--forget-ids", idsFile, "--one-at-a-time", "--out",
          model, "--json", directory + json,
        ])
    }
    let ra = try MPI.readRemoveJSON(directory + "/single-report.json").requests
    let rb = try MPI.readRemoveJSON(directory + "/parts-report.json").requests
    #expect(ra.count == 3 && rb.count == 3)
    for (k, (x, y)) in zip(rb, ra).enumerated() {
      MPI.expectSame(
        try #require(x.report.certificate), try #require(y.report.certificate),
        "np \(ranks), request \(k)")
    }
    #expect(
      MPI.closeVectors(
        try ModelFile.read(from: parts).parameters, try ModelFile.read(from: single).parameters))
    let audit = try MPI.succeed(ranks, ["audit", "--model-file", parts])
    #expect(audit.stdout.contains("audit passed"))
  }

  /// LIBSVM parts without ids: row `i` of part `k` is id `offset_k + i`; the parameters are the
  /// library's on the concatenated parts, and a part with a feature the others lack widens all.
  @Test func libsvmPartsNumberRowsFromTheirOffset() throws {
    let directory = try MPI.scratch("libsvm-parts")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var generator = SeededGenerator(seed: 17)
    var rows: [[Double]] = []
    var labels: [Int] = []
    for i in 0..<60 {
      var x = generator.normalVector(count: 4)
      // Part 0 never uses feature 4 (index 4 in LIBSVM): the loader sees 3 features there.
      if i < 30 { x[3] = 0 }
      rows.append(x)
      labels.append(generator.nextUniform() < 1 / (1 + exp(-3 * x[0])) ? 1 : -1)
    }
    for k in 0..<2 {
      let text = (30 * k..<30 * (k + 1)).map { i in
        "\(labels[i]) "
          + rows[i].enumerated().filter { $0.element != 0 }.map { "\($0.offset + 1):\($0.element)" }
          .joined(separator: " ")
      }.joined(separator: "\n")
      try text.write(
        toFile: directory + "/part-\(k).svm", atomically: true, encoding: .utf8)
    }
    let model = directory + "/state.json"
    try MPI.succeed(
      2,
      [
        "train", "--dataset", "libsvm:\(directory)/part-{rank}.svm", "--normalize-rows",
        "--lambda", "1e-2", "--out", model,
      ])
    let all = try Dataset(
      features: Matrix(rows: 60, columns: 4, elements: rows.flatMap { $0 }),
      labels: labels.map { $0 == 1 ? 1 : 0 }, classCount: 2
    ).normalizingRows()
    let spec = ModelFile.Specification.logistic(featureCount: 4, fitsIntercept: false)
    let reference = try TrainedModel.train(
      model: LogisticRegression(featureCount: 4), data: all, regularization: 1e-2,
      trainer: spec.defaultTrainer(seed: 42))
    let file = try ModelFile.read(from: model)
    #expect(MPI.closeVectors(file.parameters, reference.parameters))
    // Ids 0..<60 exist (30 and 59 are in part 1); 60 does not.
    let idsFile = directory + "/ids.txt"
    try "60\n".write(toFile: idsFile, atomically: true, encoding: .utf8)
    let certified = directory + "/certified.json"
    try MPI.succeed(
      2,
      [
        "train", "--dataset", "libsvm:\(directory)/part-{rank}.svm", "--normalize-rows",
        "--certified", "--sigma", "1", "--out", certified,
      ])
    let unknown = try MPI.mpirun(
      2, ["remove", "--model-file", certified, "--forget-ids", idsFile, "--out", certified])
    #expect(unknown.status != 0)
    #expect(
      unknown.stderr.contains("sample id 60 is not in the training data"), "\(unknown.stderr)")
    try "30\n59\n".write(toFile: idsFile, atomically: true, encoding: .utf8)
    try MPI.succeed(
      2, ["remove", "--model-file", certified, "--forget-ids", idsFile, "--out", certified])
  }

  /// Refusals with one line and a non-zero exit on every rank, no hang: an id in two parts, a
  /// missing part, parts with different columns, and a part with no row.
  @Test func badPartsAreRefusedOnEveryRank() throws {
    let directory = try MPI.scratch("bad-parts")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    func write(_ name: String, _ text: String) throws {
      try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }
    try write("dup-0.csv", "id,a,b,label\n1,0.6,0.8,0\n2,-0.6,0.8,1\n")
    try write("dup-1.csv", "id,a,b,label\n3,0.8,-0.6,0\n2,-0.8,-0.6,1\n")
    try write("cols-0.csv", "id,a,b,label\n1,0.6,0.8,0\n2,-0.6,0.8,1\n")
    try write("cols-1.csv", "id,a,b,c,label\n3,0.8,-0.6,0,0\n4,-0.8,-0.6,0,1\n")
    try write("empty-0.csv", "id,a,b,label\n1,0.6,0.8,0\n2,-0.6,0.8,1\n")
    try write("empty-1.csv", "id,a,b,label\n")
    for (prefix, ranks, message) in [
      ("dup", 2, "sample id 2 appears in more than one part"),
      ("dup", 3, "dup-2.csv"),
      ("cols", 2, "rank 1 has 3 features"),
      ("empty", 2, "empty-1.csv"),
    ] {
      let out = directory + "/\(prefix)-\(ranks).json"
      let run = try MPI.mpirun(
        ranks,
        [
          "train", "--dataset", "csv:\(directory)/\(prefix)-{rank}.csv", "--id-column", "id",
          "--out", out,
        ], timeout: 120)
      #expect(run.status != 0 && run.status != 124, "\(prefix) on \(ranks): \(run.status)")
      #expect(run.stderr.contains(message), "\(prefix) on \(ranks): \(run.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out))
    }
  }
}
