import Foundation
import LinearAlgebra
import Testing
import Unlearning

/// `unlearn-mpi` under `mpirun -np 1, 2, 4` against the single-process library on the same data:
/// parameters, certificates and removal decisions must agree to round-off. The reference is
/// computed in this process with `TrainedModel.trainCertified` and `CertifiedRemoval`, the
/// distributed runs are the real binary under `mpirun --oversubscribe` (one BLAS thread per
/// rank).
@Suite(.serialized)
struct MPIEquivalenceTests {
  /// A CSV data set: `n` rows, `d` Gaussian features, labels from a logistic model, with a few
  /// exact duplicate rows (adversarial for the Gram and the downdates).
  static func writeData(rows n: Int, features d: Int, seed: UInt64, to path: String) throws {
    var generator = SeededGenerator(seed: seed)
    let direction = generator.normalVector(count: d)
    var lines = [(0..<d).map { "x\($0)" }.joined(separator: ",") + ",label"]
    var previous: [Double] = []
    for i in 0..<n {
      var x = generator.normalVector(count: d)
      if i % 17 == 5 && !previous.isEmpty { x = previous }
      previous = x
      let p = 1 / (1 + exp(-2 * x.dot(direction)))
      let y = generator.nextUniform() < p ? 1 : 0
      lines.append(x.map { String($0) }.joined(separator: ",") + ",\(y)")
    }
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
  }

  static func scratch(_ name: String) throws -> String {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("unlearn-mpi-tests-\(getpid())-\(name)")
    try? FileManager.default.removeItem(at: directory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.path
  }

  /// The `unlearn-mpi` executable of this build.
  static func binary() -> String? {
    var directory = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { directory.deleteLastPathComponent() }
    #if DEBUG
      let configuration = "debug"
    #else
      let configuration = "release"
    #endif
    let candidate = directory.appendingPathComponent(".build/\(configuration)/unlearn-mpi").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
  }

  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// `mpirun -np ranks --oversubscribe --allow-run-as-root unlearn-mpi arguments`, killed
  /// after `timeout` seconds (exit status 124): a rank left waiting in a collective fails the
  /// test instead of hanging it.
  static func mpirun(_ ranks: Int, _ arguments: [String], timeout: Int = 300) throws -> Run {
    let executable = try #require(
      Self.binary(), "build unlearn-mpi first (swift build -c release)")
    return try run(
      "/usr/bin/env",
      [
        "timeout", String(timeout), "mpirun", "-np", String(ranks), "--oversubscribe",
        "--allow-run-as-root", executable,
      ] + arguments)
  }

  /// Runs `executable` with one BLAS thread per process and Open MPI's shared-memory transport
  /// without single-copy (containers), collecting both streams.
  static func run(_ executable: String, _ arguments: [String]) throws -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_NUM_THREADS"] = "1"
    environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
    process.environment = environment
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  @discardableResult
  static func succeed(_ ranks: Int, _ arguments: [String]) throws -> Run {
    let run = try mpirun(ranks, arguments)
    #expect(run.status == 0, "\(arguments): \(run.stderr)")
    return run
  }

  /// `|a - b| <= 1e-10 |b| + absolute`: relative round-off, plus an absolute floor for
  /// quantities that are themselves round-off (a training residual near 1e-14).
  static func close(_ a: Double, _ b: Double, absolute: Double = 1e-12) -> Bool {
    abs(a - b) <= 1e-10 * abs(b) + absolute
  }

  static func closeVectors(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && a.subtracting(b).norm() <= 1e-10 * b.norm() + 1e-13
  }

  /// The same certificate up to round-off, with the same decisions.
  static func expectSame(
    _ a: RemovalCertificate, _ b: RemovalCertificate, _ context: String
  ) {
    #expect(a.retrained == b.retrained, "retrained: \(context)")
    #expect(a.stepsTaken == b.stepsTaken, "steps: \(context)")
    #expect(a.refreshed == b.refreshed, "refreshed: \(context)")
    #expect(a.isCertified == b.isCertified, "certified: \(context)")
    #expect(a.removedCount == b.removedCount && a.retainedCount == b.retainedCount, "\(context)")
    #expect(a.accounting == b.accounting && a.bound == b.bound, "\(context)")
    for (name, x, y) in [
      ("tight", a.tightBound, b.tightBound), ("guo", a.guoBound, b.guoBound),
      ("worst case", a.worstCaseBound, b.worstCaseBound),
      ("inexactness", a.solveInexactness, b.solveInexactness),
      ("certified", a.certifiedResidual, b.certifiedResidual), ("spent", a.spent, b.spent),
      ("true residual", a.trueResidual, b.trueResidual),
      ("allowance", a.floatingPointAllowance, b.floatingPointAllowance),
      ("budget", a.budget, b.budget),
    ] {
      #expect(close(x, y), "\(name): \(x) vs \(y) (\(context))")
    }
  }

  /// The state as loading its model file gives it: the same fields, no solver caches, then
  /// ``TrainedModel/prepareForRemoval()``.
  static func reloaded(_ state: TrainedModel<LogisticRegression>) throws
    -> TrainedModel<LogisticRegression>
  {
    var fresh = TrainedModel(
      model: state.model, parameters: state.parameters, data: state.data,
      removedIDs: state.removedIDs, regularization: state.regularization,
      perturbation: state.perturbation, training: state.training,
      certification: state.certification)
    try fresh.prepareForRemoval()
    return fresh
  }

  /// `||grad L_b(theta; R)||` of a logistic model file, recomputed in this process from the
  /// whole training set (removed rows weighted 0, `b` included).
  static func trueResidual(_ file: ModelFile, train: Dataset) -> Double {
    let removed = Set(file.removedIDs)
    let objective = Objective(
      model: LogisticRegression(featureCount: train.featureCount), features: train.features,
      targets: train.targets, weights: train.ids.map { removed.contains($0) ? 0 : 1 },
      regularization: file.regularization, perturbation: file.perturbation)
    return objective.gradientNorm(at: file.parameters)
  }

  struct RemoveJSON: Decodable {
    struct Request: Decodable {
      var ids: [SampleID]
      var report: RemovalReport
    }
    var ranks: Int
    var rowsPerRank: [Int]
    var requests: [Request]
  }

  static func readRemoveJSON(_ path: String) throws -> RemoveJSON {
    try JSONDecoder().decode(RemoveJSON.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
  }

  /// Writes `stream` and `batch` as ids files, serves them through `unlearn-mpi remove` on
  /// `ranks` ranks (the stream one id per request in one mpirun, the batch as one request in
  /// another), and serves the same requests in this process from `reference`, rebuilding its
  /// caches before each of the two groups as every mpirun does after loading the file.
  /// Returns the distributed reports, the one-process certificates, and the final reference.
  static func serveStreamThenBatch(
    ranks: Int, directory: String, model: String, stream: [SampleID], batch: [SampleID],
    reference start: TrainedModel<LogisticRegression>
  ) throws -> (
    reports: [RemoveJSON.Request], certificates: [RemovalCertificate],
    reference: TrainedModel<LogisticRegression>
  ) {
    let streamFile = directory + "/stream.txt"
    let batchFile = directory + "/batch.txt"
    try stream.map(\.description).joined(separator: "\n").write(
      toFile: streamFile, atomically: true, encoding: .utf8)
    try batch.map(\.description).joined(separator: "\n").write(
      toFile: batchFile, atomically: true, encoding: .utf8)
    try succeed(
      ranks,
      [
        "remove", "--model-file", model, "--forget-ids", streamFile, "--one-at-a-time", "--out",
        model, "--json", directory + "/stream.json",
      ])
    try succeed(
      ranks,
      [
        "remove", "--model-file", model, "--forget-ids", batchFile, "--out", model, "--json",
        directory + "/batch.json",
      ])
    let batchJSON = try readRemoveJSON(directory + "/batch.json")
    #expect(batchJSON.rowsPerRank.count == ranks)
    let reports = try readRemoveJSON(directory + "/stream.json").requests + batchJSON.requests
    var certificates: [RemovalCertificate] = []
    var reference = try reloaded(start)
    for id in stream {
      let result = try CertifiedRemoval().unlearn(reference, forgetting: [id])
      reference = result.state
      certificates.append(try #require(result.report.certificate))
    }
    reference = try reloaded(reference)
    let result = try CertifiedRemoval().unlearn(reference, forgetting: batch)
    certificates.append(try #require(result.report.certificate))
    #expect(reports.count == stream.count + 1)
    return (reports, certificates, result.state)
  }

  /// Exact-step accounting with the default solver (downdated factor): training, a stream of
  /// single-id requests, then a batch, then the audit and the influence ranking, for every rank
  /// count, against one process.
  @Test(arguments: [1, 2, 4])
  func trainingAndRemovalMatchOneProcess(ranks: Int) throws {
    let directory = try Self.scratch("exact-\(ranks)")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let csv = directory + "/data.csv"
    try Self.writeData(rows: 240, features: 6, seed: 11, to: csv)
    let model = directory + "/state.json"
    let scenario = Scenario.csv(
      path: csv, labelColumn: "label", testFraction: 0.25, seed: 42, normalizeRows: true)
    let (train, test) = try scenario.load()
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 0.05)
    var reference = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: 6), data: train, regularization: 1e-2,
      privacy: privacy, trainer: Training.Newton(gradientTolerance: 1e-10, seed: 42),
      perturbation: .reproducibleNotPrivate(seed: 7))

    try Self.succeed(
      ranks,
      [
        "train", "--dataset", "csv:\(csv)", "--normalize-rows", "--test-fraction", "0.25",
        "--lambda", "1e-2", "--certified", "--sigma", "0.05", "--reproducible-not-private-seed",
        "7", "--out", model,
      ])
    var file = try ModelFile.read(from: model)
    #expect(Self.closeVectors(file.parameters, reference.parameters))
    #expect(file.perturbation == reference.perturbation)
    let trained = try #require(file.certification)
    let expected = try #require(reference.certification)
    #expect(Self.close(trained.spectralNorm, expected.spectralNorm, absolute: 0))
    #expect(Self.close(trained.spent, expected.spent))
    #expect(trained.budget == expected.budget)

    // A stream of single-id requests in one mpirun, then a batch in another. The reference:
    // every mpirun rebuilds its caches from the file, as `unlearn remove` does after loading
    // (a fresh state, then prepareForRemoval); within one mpirun the caches carry over.
    let stream: [SampleID] = [train.ids[3], train.ids[100], train.ids[17]]
    let batch: [SampleID] = Array(train.ids[40..<48])
    let reports: [RemoveJSON.Request]
    let certificates: [RemovalCertificate]
    (reports, certificates, reference) = try Self.serveStreamThenBatch(
      ranks: ranks, directory: directory, model: model, stream: stream, batch: batch,
      reference: reference)
    for (k, (report, certificate)) in zip(reports, certificates).enumerated() {
      let distributed = try #require(report.report.certificate)
      Self.expectSame(distributed, certificate, "np \(ranks), request \(k)")
    }
    file = try ModelFile.read(from: model)
    #expect(Self.closeVectors(file.parameters, reference.parameters))
    #expect(file.removedIDs == stream + batch)
    #expect(file.certification?.certificates.count == 4)
    // The certified residual covers the true one, recomputed from scratch on the whole data.
    let truth = Self.trueResidual(file, train: train)
    #expect(truth <= (file.certification?.spent ?? 0), "true residual \(truth)")

    // The audit recomputes the residual on the shards.
    let audit = try Self.succeed(ranks, ["audit", "--model-file", model])
    #expect(audit.stdout.contains("audit passed"))

    // Influence of every retained row on a test point: the same top entries as one process.
    let influenceJSON = directory + "/influence.json"
    try Self.succeed(
      ranks,
      [
        "influence", "--model-file", model, "--test-index", "2", "--top", "5", "--json",
        influenceJSON,
      ])
    struct InfluenceJSON: Decodable {
      struct Ranking: Decodable {
        var helpful: [Influence.Ranking.Entry]
        var harmful: [Influence.Ranking.Entry]
      }
      var ranking: Ranking
    }
    let ranking = try JSONDecoder().decode(
      InfluenceJSON.self, from: Data(contentsOf: URL(fileURLWithPath: influenceJSON))
    ).ranking
    let single = try InfluenceFunctions(
      model: LogisticRegression(featureCount: 6), parameters: file.parameters, dataset: train,
      regularization: file.regularization, removed: file.removedIDs
    ).topInfluences(
      on: Influence.TestPoint(features: test.features.row(2), target: test.targets[2]), count: 5)
    #expect(ranking.helpful.map(\.id) == single.helpful.map(\.id))
    #expect(ranking.harmful.map(\.id) == single.harmful.map(\.id))
    for (a, b) in zip(ranking.helpful + ranking.harmful, single.helpful + single.harmful) {
      #expect(Self.close(a.value, b.value, absolute: 0), "\(a) vs \(b)")
    }
  }

  /// The amortised `O(d^2)` steps (Docs/Math.md 6.10, `--solver amortised`) on 1, 2 and 4
  /// ranks: a stream of single-id requests (`O(d^2)` steps that read no row of `X`, then exact
  /// steps once the running sum passes its fraction of the budget) and a batch, against one
  /// process: the same decisions, parameters and certificates; the certificate covers the true
  /// residual recomputed from scratch on the gathered data; the audit passes.
  @Test(arguments: [1, 2, 4])
  func amortisedStepsMatchOneProcess(ranks: Int) throws {
    let directory = try Self.scratch("amortised-\(ranks)")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let csv = directory + "/data.csv"
    try Self.writeData(rows: 240, features: 6, seed: 13, to: csv)
    let model = directory + "/state.json"
    let (train, _) = try Scenario.csv(
      path: csv, labelColumn: "label", testFraction: 0.25, seed: 42, normalizeRows: true
    ).load()
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 5)
    var reference = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: 6), data: train, regularization: 1e-2,
      privacy: privacy, solver: .downdatedFactor(.amortised),
      trainer: Training.Newton(gradientTolerance: 1e-10, seed: 42),
      perturbation: .reproducibleNotPrivate(seed: 7))
    try Self.succeed(
      ranks,
      [
        "train", "--dataset", "csv:\(csv)", "--normalize-rows", "--test-fraction", "0.25",
        "--lambda", "1e-2", "--certified", "--sigma", "5", "--solver", "amortised",
        "--reproducible-not-private-seed", "7", "--out", model,
      ])
    let stream = Array(train.ids[0..<16])
    let batch = Array(train.ids[60..<100])
    let reports: [RemoveJSON.Request]
    let certificates: [RemovalCertificate]
    (reports, certificates, reference) = try Self.serveStreamThenBatch(
      ranks: ranks, directory: directory, model: model, stream: stream, batch: batch,
      reference: reference)

    for (k, (report, certificate)) in zip(reports, certificates).enumerated() {
      let distributed = try #require(report.report.certificate)
      Self.expectSame(distributed, certificate, "amortised, np \(ranks), request \(k)")
      #expect(
        distributed.residualMeasured == certificate.residualMeasured,
        "O(d^2) step or exact: np \(ranks), request \(k)")
    }
    // Both paths were compared: O(d^2) steps (no residual measured) and exact steps.
    let cheap = certificates.filter { !$0.residualMeasured }.count
    #expect(cheap >= 1 && cheap < certificates.count, "\(cheap) O(d^2) steps")
    let file = try ModelFile.read(from: model)
    #expect(Self.closeVectors(file.parameters, reference.parameters))
    #expect(file.removedIDs == stream + batch)

    // The certified residual covers the true one, recomputed from scratch on the whole data.
    let truth = Self.trueResidual(file, train: train)
    let spent = try #require(file.certification?.spent)
    #expect(truth <= spent, "true residual \(truth) vs certified \(spent)")
    #expect(Self.close(truth, try #require(certificates.last?.trueResidual), absolute: 1e-10))
    let audit = try Self.succeed(ranks, ["audit", "--model-file", model])
    #expect(audit.stdout.contains("audit passed"))
  }

  /// Paper accounting with a budget small enough that a request retrains with a fresh `b`,
  /// and the conjugate-gradient solver: the same decisions (retrain included) on 1, 2 and 4
  /// ranks as on one process.
  @Test(arguments: [1, 2, 4])
  func budgetRetrainMatchesOneProcess(ranks: Int) throws {
    let directory = try Self.scratch("paper-\(ranks)")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let csv = directory + "/data.csv"
    try Self.writeData(rows: 120, features: 5, seed: 3, to: csv)
    let model = directory + "/state.json"
    let scenario = Scenario.csv(
      path: csv, labelColumn: "label", testFraction: 0.2, seed: 42, normalizeRows: true)
    let (train, _) = try scenario.load()
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 0.02)
    var reference = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: 5), data: train, regularization: 1e-3,
      privacy: privacy, accounting: .paper, solver: .conjugateGradient,
      trainer: Training.Newton(gradientTolerance: 1e-10, seed: 42),
      perturbation: .reproducibleNotPrivate(seed: 5))
    try Self.succeed(
      ranks,
      [
        "train", "--dataset", "csv:\(csv)", "--normalize-rows", "--test-fraction", "0.2",
        "--lambda", "1e-3", "--certified", "--sigma", "0.02", "--accounting", "paper",
        "--solver", "cg", "--reproducible-not-private-seed", "5", "--out", model,
      ])
    let ids = Array(train.ids[0..<6])
    let idsFile = directory + "/ids.txt"
    try ids.map(\.description).joined(separator: "\n").write(
      toFile: idsFile, atomically: true, encoding: .utf8)
    try Self.succeed(
      ranks,
      [
        "remove", "--model-file", model, "--forget-ids", idsFile, "--one-at-a-time", "--out",
        model, "--json", directory + "/report.json",
      ])
    let reports = try Self.readRemoveJSON(directory + "/report.json").requests
    reference = try Self.reloaded(reference)
    var retrains = 0
    for (k, id) in ids.enumerated() {
      let result = try CertifiedRemoval().unlearn(reference, forgetting: [id])
      reference = result.state
      let certificate = try #require(result.report.certificate)
      if certificate.retrained { retrains += 1 }
      Self.expectSame(
        try #require(reports[k].report.certificate), certificate, "np \(ranks), request \(k)")
    }
    #expect(retrains >= 1, "the budget is meant to force a retrain")
    let file = try ModelFile.read(from: model)
    #expect(Self.closeVectors(file.parameters, reference.parameters))
    #expect(file.perturbation == reference.perturbation)
    #expect(file.certification?.retrainCount == reference.certification?.retrainCount)
  }

  /// Plain (uncertified) training, Newton with the all-reduced Hessian, on 2 and 4 ranks: the
  /// single-process parameters, and a gradient that vanishes on the whole data set.
  @Test(arguments: [2, 4])
  func plainTrainingMatchesOneProcess(ranks: Int) throws {
    let directory = try Self.scratch("plain-\(ranks)")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let csv = directory + "/data.csv"
    // d > n_k on 4 ranks: 9 features, about 7 training rows per rank.
    try Self.writeData(rows: 36, features: 9, seed: 8, to: csv)
    let model = directory + "/state.json"
    try Self.succeed(
      ranks,
      ["train", "--dataset", "csv:\(csv)", "--normalize-rows", "--lambda", "1e-2", "--out", model])
    let (train, _) = try Scenario.csv(
      path: csv, labelColumn: "label", testFraction: 0.2, seed: 42, normalizeRows: true
    ).load()
    let spec = ModelFile.Specification.logistic(featureCount: 9, fitsIntercept: false)
    let reference = try TrainedModel.train(
      model: LogisticRegression(featureCount: 9), data: train, regularization: 1e-2,
      trainer: spec.defaultTrainer(seed: 42))
    let file = try ModelFile.read(from: model)
    #expect(Self.closeVectors(file.parameters, reference.parameters))
    let objective = Objective(
      model: LogisticRegression(featureCount: 9), features: train.features,
      targets: train.targets, regularization: 1e-2)
    #expect(objective.gradientNorm(at: file.parameters) <= 1e-6 * Double(train.count))
    #expect(file.certification == nil && file.perturbation == nil)
  }

  /// Refusals: an id no rank holds (alone or with known ids) is refused before any work, on
  /// every rank, and the state stays as it was; a rank without rows is refused at training.
  @Test func refusals() throws {
    let directory = try Self.scratch("refusals")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let csv = directory + "/data.csv"
    try Self.writeData(rows: 60, features: 3, seed: 5, to: csv)
    let model = directory + "/state.json"
    try Self.succeed(
      2,
      [
        "train", "--dataset", "csv:\(csv)", "--normalize-rows", "--certified", "--sigma", "1",
        "--out", model,
      ])
    let before = try Data(contentsOf: URL(fileURLWithPath: model))
    let (train, _) = try Scenario.csv(
      path: csv, labelColumn: "label", testFraction: 0.2, seed: 42, normalizeRows: true
    ).load()
    for ids in [[SampleID(999_999)], [train.ids[0], SampleID(999_999)]] {
      let idsFile = directory + "/ids.txt"
      try ids.map(\.description).joined(separator: "\n").write(
        toFile: idsFile, atomically: true, encoding: .utf8)
      let run = try Self.mpirun(
        2, ["remove", "--model-file", model, "--forget-ids", idsFile, "--out", model])
      #expect(run.status != 0)
      #expect(run.stderr.contains("sample id 999999 is not in the training data"), "\(run.stderr)")
      #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == before)
    }
    // An id removed twice.
    let idsFile = directory + "/twice.txt"
    try "\(train.ids[1])\n\(train.ids[1])\n".write(
      toFile: idsFile, atomically: true, encoding: .utf8)
    let twice = try Self.mpirun(
      2, ["remove", "--model-file", model, "--forget-ids", idsFile, "--out", model])
    #expect(twice.status != 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == before)

    // 3 training rows over 4 ranks: some rank holds nothing.
    let tiny = directory + "/tiny.csv"
    try "a,b,label\n0.6,0.8,0\n-0.6,0.8,1\n0.8,-0.6,0\n-0.8,-0.6,1\n".write(
      toFile: tiny, atomically: true, encoding: .utf8)
    let run = try Self.mpirun(
      4,
      [
        "train", "--dataset", "csv:\(tiny)", "--normalize-rows", "--test-fraction", "0.25",
        "--out", directory + "/tiny.json",
      ])
    #expect(run.status != 0)
    #expect(run.stderr.contains("holds no rows"), "\(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory + "/tiny.json"))
  }
}
