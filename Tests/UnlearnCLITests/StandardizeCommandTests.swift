import Foundation
import Testing
import Unlearning
import UnlearnCLI

/// `--standardize` and `compare --lambda auto` end to end through the real binary, checked
/// against statistics, trainings and rule outcomes recomputed in the test.
@Suite("Standardize and lambda auto on the command line")
struct StandardizeCommandTests {
  typealias Hostile = HostileCommandLineTests

  /// Patients with features on scales 1e4 and 1e-3, a constant column, ids `1000 + 7 i`.
  static func patients(_ n: Int) -> String {
    var g = SeededGenerator(seed: 3)
    var text = "pid,income,dose,site,outcome\n"
    for i in 0..<n {
      let x = g.normalVector(count: 3)
      let label = x[0] + x[1] + 0.7 * x[2] > 0 ? "yes" : "no"
      text += "\(1000 + 7 * i),\(3e4 + 1e4 * x[0]),\(1e-3 * x[1]),4.5,\(label)\n"
    }
    return text
  }

  static func scenario(_ path: String) -> Scenario {
    .csv(
      path: path, labelColumn: "outcome", testFraction: 0.2, seed: 42, normalizeRows: false,
      idColumn: "pid")
  }

  /// Naive per-column mean and population deviation (the oracle).
  static func naiveStatistics(_ data: Dataset, excluding: Set<SampleID>) -> (
    [Double], [Double]
  ) {
    let rows = (0..<data.count).filter { !excluding.contains(data.ids[$0]) }.map {
      data.features.row($0)
    }
    let n = Double(rows.count)
    var means = [Double]()
    var deviations = [Double]()
    for j in 0..<data.featureCount {
      let mean = rows.map { $0[j] }.reduce(0, +) / n
      means.append(mean)
      deviations.append(
        (rows.map { ($0[j] - mean) * ($0[j] - mean) }.reduce(0, +) / n).squareRoot())
    }
    return (means, deviations)
  }

  struct Parameters: StateVisitor {
    func visit<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) throws -> (
      [Double], [Int]
    ) {
      (state.parameters, state.predictions(state.data.features))
    }
  }

  @Test("train --standardize stores the statistics; loaded predictions equal the in-memory model's")
  func trainStoresStatistics() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(150).write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let run = try Hostile.unlearn(
      [
        "train", "--dataset", "csv:p.csv", "--label-column", "outcome", "--id-column", "pid",
        "--standardize", "--lambda", "0.01", "--out", "m.json", "--json", "train.json",
      ], in: dir)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("standardised 3 features"))
    let file = try ModelFile.read(from: dir + "/m.json")
    let (raw, rawTest) = try Self.scenario(dir + "/p.csv").load()
    let stored = try #require(file.standardization)
    #expect(file.version == 4 && file.dataFingerprint == raw.fingerprint)
    let (means, deviations) = Self.naiveStatistics(raw, excluding: [])
    for j in 0..<2 {
      #expect(abs(stored.means[j] - means[j]) <= 1e-12 * abs(means[j]))
      #expect(abs(stored.scales[j] - deviations[j]) <= 1e-10 * deviations[j])
    }
    #expect(stored.scales[2] == 1)  // the constant column: centred, scale 1
    // The in-memory model: the same spec, trainer and lambda on the standardised rows.
    let standardized = try raw.standardized(by: Dataset.Standardization(fittedOn: raw))
    let spec = ModelFile.Specification.logistic(featureCount: 3, fitsIntercept: false)
    let inMemory = try TrainedModel.train(
      model: LogisticRegression(featureCount: 3), data: standardized, regularization: 0.01,
      trainer: spec.defaultTrainer(seed: 42))
    let (loaded, trainPredictions) = try file.withState(
      data: raw, path: dir + "/m.json", Parameters())
    #expect(loaded.isApproximatelyEqual(to: inMemory.parameters, relativeTolerance: 1e-9))
    #expect(trainPredictions == inMemory.predictions(standardized.features))
    let test = try rawTest.standardized(by: stored)
    #expect(
      LogisticRegression(featureCount: 3).predictions(loaded, features: test.features)
        == inMemory.predictions(test.features))
    // The public release carries the statistics; with them its parameters predict the same.
    let export = try Hostile.unlearn(
      ["export", "--public", "--model-file", "m.json", "--out", "release.json"], in: dir)
    #expect(export.status == 0, "\(export.stderr)")
    let release = try PublicRelease.read(from: dir + "/release.json")
    #expect(release.standardization == stored)
    let releaseTest = try rawTest.standardized(by: try #require(release.standardization))
    #expect(
      LogisticRegression(featureCount: 3).predictions(
        release.parameters, features: releaseTest.features)
        == inMemory.predictions(test.features))
    // train --json: the lambda and how it was set, the statistics.
    let json = try #require(
      JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: dir + "/train.json")))
        as? [String: Any])
    #expect(json["schema"] as? String == "unlearn.train/1")
    #expect(json["lambda"] as? Double == 0.01)
    #expect(json["lambdaRule"] as? String == "given")
    #expect(json["standardization"] != nil)
  }

  @Test("remove refits the statistics on the retained rows for newton and retrain alike")
  func retrainRefits() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(150).write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let train = try Hostile.unlearn(
      [
        "train", "--dataset", "csv:p.csv", "--label-column", "outcome", "--id-column", "pid",
        "--standardize", "--lambda", "0.01", "--out", "m.json", "--quiet",
      ], in: dir)
    #expect(train.status == 0, "\(train.stderr)")
    let (raw, _) = try Self.scenario(dir + "/p.csv").load()
    let original = try #require(try ModelFile.read(from: dir + "/m.json").standardization)
    // Newton first: refits too, and says how the parameters were re-expressed.
    let first = Array(raw.ids.prefix(3))
    try first.map { "\($0.rawValue)" }.joined(separator: "\n").write(
      toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
    let newton = try Hostile.unlearn(
      [
        "remove", "--model-file", "m.json", "--forget-ids", "a.txt", "--method", "newton",
        "--out", "m.json", "--json", "newton.json",
      ], in: dir)
    #expect(newton.status == 0, "\(newton.stderr)")
    #expect(newton.stdout.contains("standardization refitted on the \(raw.count - 3) retained"))
    #expect(newton.stdout.contains("parameters re-expressed on them before newton"))
    let afterNewton = try #require(try ModelFile.read(from: dir + "/m.json").standardization)
    #expect(afterNewton.rowCount == raw.count - 3 && afterNewton != original)
    let newtonJSON = try #require(
      JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: dir + "/newton.json"))) as? [String: Any])
    let use = try #require(newtonJSON["standardization"] as? [String: Any])
    #expect(use["refitted"] as? Bool == true)
    #expect(use["reexpression"] as? String == "shift-dropped")
    #expect(use["previousRowCount"] as? Int == raw.count)
    #expect((use["droppedShifts"] as? [Double])?.count == 1)
    // Then a retrain: statistics of the rows retained after both requests.
    let second = Array(raw.ids.dropFirst(10).prefix(5))
    try second.map { "\($0.rawValue)" }.joined(separator: "\r\n").write(
      toFile: dir + "/b.txt", atomically: true, encoding: .utf8)
    let retrain = try Hostile.unlearn(
      [
        "remove", "--model-file", "m.json", "--forget-ids", "b.txt", "--method", "retrain",
        "--out", "m.json", "--json", "retrain.json",
      ], in: dir)
    #expect(retrain.status == 0, "\(retrain.stderr)")
    #expect(retrain.stdout.contains("standardization refitted on the \(raw.count - 8) retained"))
    let file = try ModelFile.read(from: dir + "/m.json")
    let refitted = try #require(file.standardization)
    let forgotten = Set(first + second)
    let (means, deviations) = Self.naiveStatistics(raw, excluding: forgotten)
    #expect(refitted.rowCount == raw.count - forgotten.count)
    for j in 0..<2 {
      #expect(abs(refitted.means[j] - means[j]) <= 1e-12 * abs(means[j]))
      #expect(abs(refitted.scales[j] - deviations[j]) <= 1e-10 * deviations[j])
    }
    #expect(refitted != original)
    // The retrained parameters: a training from scratch on the retained rows, standardised
    // by statistics of those rows only.
    let retained = try raw.removing(ids: Array(forgotten))
    let expected = try TrainedModel.train(
      model: LogisticRegression(featureCount: 3),
      data: retained.standardized(by: Dataset.Standardization(fittedOn: retained)),
      regularization: 0.01,
      trainer: ModelFile.Specification.logistic(featureCount: 3, fitsIntercept: false)
        .defaultTrainer(seed: 42))
    #expect(file.parameters.isApproximatelyEqual(to: expected.parameters, relativeTolerance: 1e-7))
    // The audit still passes (raw fingerprint, stored statistics).
    let audit = try Hostile.unlearn(["audit", "--model-file", "m.json"], in: dir)
    #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
  }

  /// `(x - mean) / scale` of the given rows, element by element.
  static func standardize(_ rows: [[Double]], _ s: Dataset.Standardization) -> [[Double]] {
    rows.map { (x: [Double]) -> [Double] in
      (0..<x.count).map { (j: Int) -> Double in (x[j] - s.means[j]) / s.scales[j] }
    }
  }

  /// The sum-form logistic gradient `sum_i (sigma(w.z_i) - y_i) z_i + lambda n w`, by hand.
  static func logisticGradient(_ w: [Double], rows: [[Double]], labels: [Int], lambda: Double)
    -> [Double]
  {
    var g = w.map { lambda * Double(rows.count) * $0 }
    for (z, y) in zip(rows, labels) {
      let margin = dot(w, z)
      let r = 1 / (1 + exp(-margin)) - Double(y)
      for j in g.indices { g[j] += r * z[j] }
    }
    return g
  }

  static func distance(_ a: [Double], _ b: [Double]) -> Double {
    var total = 0.0
    for (x, y) in zip(a, b) { total += (x - y) * (x - y) }
    return total.squareRoot()
  }

  static func dot(_ a: [Double], _ b: [Double]) -> Double {
    var total = 0.0
    for (x, y) in zip(a, b) { total += x * y }
    return total
  }

  @Test(
    "remove --method newton: statistics of the retained rows only, none in the release depends on a forgotten row, the model is the refitted retrain within its residual bound"
  )
  func newtonForgetsTheStatistics() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(150).write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let lambda = 0.01
    let train = try Hostile.unlearn(
      [
        "train", "--dataset", "csv:p.csv", "--label-column", "outcome", "--id-column", "pid",
        "--standardize", "--lambda", "\(lambda)", "--out", "m.json", "--quiet",
      ], in: dir)
    #expect(train.status == 0, "\(train.stderr)")
    let (raw, _) = try Self.scenario(dir + "/p.csv").load()
    // Forget the 12 rows with the largest income: they pull the mean and deviation most.
    let order = (0..<raw.count).sorted { raw.features[$0, 0] > raw.features[$1, 0] }
    let forgotten = order.prefix(12).map { raw.ids[$0] }
    try forgotten.map { "\($0.rawValue)" }.joined(separator: "\n").write(
      toFile: dir + "/f.txt", atomically: true, encoding: .utf8)
    let remove = try Hostile.unlearn(
      [
        "remove", "--model-file", "m.json", "--forget-ids", "f.txt", "--method", "newton",
        "--out", "m.json", "--json", "r.json",
      ], in: dir)
    #expect(remove.status == 0, "\(remove.stderr)")
    let file = try ModelFile.read(from: dir + "/m.json")
    let stored = try #require(file.standardization)
    // 1. The stored statistics are those of the retained rows, recomputed naively.
    let forgottenSet = Set(forgotten)
    let (means, deviations) = Self.naiveStatistics(raw, excluding: forgottenSet)
    #expect(stored.rowCount == raw.count - 12 && file.trainingRowCount == raw.count)
    #expect(file.standardizationFitsRetainedRows == true)
    for j in 0..<2 {
      #expect(abs(stored.means[j] - means[j]) <= 1e-12 * abs(means[j]))
      #expect(abs(stored.scales[j] - deviations[j]) <= 1e-10 * deviations[j])
    }
    // 2. The release's statistics do not depend on the forgotten rows: the same statistics
    // come out, bit for bit, when the forgotten rows' features are replaced by anything else.
    let export = try Hostile.unlearn(
      ["export", "--public", "--model-file", "m.json", "--out", "release.json"], in: dir)
    #expect(export.status == 0, "\(export.stderr)")
    let release = try PublicRelease.read(from: dir + "/release.json")
    var rows = (0..<raw.count).map { raw.features.row($0) }
    for i in 0..<raw.count where forgottenSet.contains(raw.ids[i]) {
      rows[i] = [-1e9 * Double(i), 42, -7]
    }
    let altered = try Dataset(
      features: Matrix(rowArrays: rows), labels: raw.labels, ids: raw.ids,
      classCount: raw.classCount)
    #expect(
      release.standardization
        == (try Dataset.Standardization(fittedOn: altered, excluding: forgotten)))
    #expect(release.parameters == file.parameters)
    // 3. The model against the retrain a user gets (`remove --method retrain`: statistics
    // refitted on the retained rows, Newton to ||g|| <= 1e-10 n_R). The sum-form objective is
    // (lambda n_R)-strongly convex, so each model lies within ||g|| / (lambda n_R) of the
    // retained optimum, with g its retained gradient recomputed here by hand.
    let keep = (0..<raw.count).filter { !forgottenSet.contains(raw.ids[$0]) }
    let retainedRows = Self.standardize(keep.map { raw.features.row($0) }, stored)
    let retainedLabels = keep.map { raw.labels[$0] }
    let nR = Double(keep.count)
    let g = Self.logisticGradient(
      file.parameters, rows: retainedRows, labels: retainedLabels, lambda: lambda)
    let gNorm = Self.distance(g, [Double](repeating: 0, count: g.count))
    let json = try #require(
      JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json")))
        as? [String: Any])
    let report = try #require(json["report"] as? [String: Any])
    let reported = try #require(report["gradientResidualNorm"] as? Double)
    #expect(abs(reported - gNorm) <= 1e-6 * gNorm + 1e-12)
    let retained = try raw.removing(ids: forgotten)
    let retrain = try TrainedModel.train(
      model: LogisticRegression(featureCount: 3),
      data: retained.standardized(by: Dataset.Standardization(fittedOn: retained)),
      regularization: lambda,
      trainer: ModelFile.Specification.logistic(featureCount: 3, fitsIntercept: false)
        .defaultTrainer(seed: 42))
    let bound = (gNorm + 1e-10 * nR) / (lambda * nR)
    let gap = Self.distance(file.parameters, retrain.parameters)
    #expect(gap <= bound * 1.001 + 1e-12, "gap \(gap), bound \(bound)")
    // The stored model's test-free check: training-row probabilities within the logistic
    // Lipschitz bound 1/4 ||z|| ||Delta theta|| of the retrain's, and the same predicted
    // classes wherever the retrain's margin exceeds ||z|| * bound.
    for z in retainedRows {
      let zNorm = Self.dot(z, z).squareRoot()
      let a = Self.dot(file.parameters, z)
      let b = Self.dot(retrain.parameters, z)
      #expect(abs(a - b) <= zNorm * gap * (1 + 1e-9) + 1e-12)
      if abs(b) > zNorm * bound * 1.001 { #expect((a > 0) == (b > 0)) }
    }
    // It is nearer the refitted retrain than the retrain on the old statistics is: the
    // re-expression put it in the refitted coordinates (the old reference is far).
    let old = try Dataset.Standardization(fittedOn: raw)
    let fixed = try TrainedModel.train(
      model: LogisticRegression(featureCount: 3),
      data: retained.standardized(by: old), regularization: lambda,
      trainer: Training.Newton(gradientTolerance: 1e-10))
    #expect(gap < Self.distance(fixed.parameters, retrain.parameters) / 10)
  }

  @Test("export --public refuses, in one line, statistics fitted on more rows than retained")
  func exportRefusesStaleStatistics() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(60).write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let train = try Hostile.unlearn(
      [
        "train", "--dataset", "csv:p.csv", "--label-column", "outcome", "--id-column", "pid",
        "--standardize", "--lambda", "0.01", "--out", "m.json", "--quiet",
      ], in: dir)
    #expect(train.status == 0, "\(train.stderr)")
    let (raw, _) = try Self.scenario(dir + "/p.csv").load()
    /// Writes `m.json` with `edit` applied to its JSON as `name` (mode 0600).
    func edited(_ source: String, _ name: String, _ edit: (inout [String: Any]) -> Void) throws {
      var json = try #require(
        JSONSerialization.jsonObject(
          with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + source))) as? [String: Any])
      edit(&json)
      let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
      FileManager.default.createFile(
        atPath: dir + "/" + name, contents: data, attributes: [.posixPermissions: 0o600])
    }
    // Before any removal, a file without the row count (an older build's) is fine.
    try edited("m.json", "fresh.json") { $0["trainingRowCount"] = nil }
    let fresh = try Hostile.unlearn(
      ["export", "--public", "--model-file", "fresh.json", "--out", "fresh-release.json"],
      in: dir)
    #expect(fresh.status == 0, "\(fresh.stderr)")
    try "\(raw.ids[0].rawValue)\n\(raw.ids[1].rawValue)".write(
      toFile: dir + "/f.txt", atomically: true, encoding: .utf8)
    let remove = try Hostile.unlearn(
      [
        "remove", "--model-file", "m.json", "--forget-ids", "f.txt", "--method", "newton",
        "--out", "m.json", "--quiet",
      ], in: dir)
    #expect(remove.status == 0, "\(remove.stderr)")
    // An older build's file after an approximate removal: statistics of all rows kept, no row
    // count. Cannot tell from the file: refused.
    try edited("m.json", "legacy.json") { json in
      json["trainingRowCount"] = nil
      var s = json["standardization"] as? [String: Any] ?? [:]
      s["rowCount"] = raw.count
      json["standardization"] = s
    }
    Hostile.expectOneLineError(
      try Hostile.unlearn(
        ["export", "--public", "--model-file", "legacy.json", "--out", "r1.json"], in: dir),
      ["legacy.json", "written before removals refitted the standardization", "unlearn remove"])
    // A file that records the row count but whose statistics cover more rows than it keeps.
    try edited("m.json", "stale.json") { json in
      var s = json["standardization"] as? [String: Any] ?? [:]
      s["rowCount"] = raw.count
      json["standardization"] = s
    }
    Hostile.expectOneLineError(
      try Hostile.unlearn(
        ["export", "--public", "--model-file", "stale.json", "--out", "r2.json"], in: dir),
      ["stale.json", "fitted on \(raw.count) rows but the model retains \(raw.count - 2)"])
    #expect(!FileManager.default.fileExists(atPath: dir + "/r1.json"))
    #expect(!FileManager.default.fileExists(atPath: dir + "/r2.json"))
    // The library refuses the same files.
    #expect(throws: ModelFileError.self) {
      try PublicRelease(try ModelFile.read(from: dir + "/stale.json"))
    }
    #expect(throws: ModelFileError.self) {
      try PublicRelease(try ModelFile.read(from: dir + "/legacy.json"))
    }
    // The removed model itself exports.
    let export = try Hostile.unlearn(
      ["export", "--public", "--model-file", "m.json", "--out", "r3.json"], in: dir)
    #expect(export.status == 0, "\(export.stderr)")
  }

  @Test("--standardize is refused with --certified, SISA and the built-in data, in one line")
  func refusals() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(40).write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let base = ["train", "--dataset", "csv:p.csv", "--label-column", "outcome", "--out", "m.json"]
    CommandLineEdgeCaseTests.expectUsageError(
      try Hostile.unlearn(base + ["--standardize", "--certified", "--lambda", "0.01"], in: dir),
      ["--standardize is not for --certified", "every training row", "--normalize-rows"])
    CommandLineEdgeCaseTests.expectUsageError(
      try Hostile.unlearn(base + ["--standardize", "--method", "sisa"], in: dir),
      ["--standardize is not for --method sisa"])
    Hostile.expectOneLineError(
      try Hostile.unlearn(["train", "--standardize", "--out", "h.json"], in: dir),
      ["--standardize applies to CSV and LIBSVM data"])
    Hostile.expectOneLineError(
      try Hostile.unlearn(
        ["evaluate", "--dataset", "csv:p.csv", "--label-column", "outcome", "--standardize"],
        in: dir), ["--standardize is for train and compare"])
    #expect(!FileManager.default.fileExists(atPath: dir + "/m.json"))
  }

  @Test(
    "compare --lambda auto --standardize: train's rule, the value in the JSON, certified skipped")
  func compareLambdaAuto() throws {
    let dir = try Hostile.directory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.patients(120).write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let run = try Hostile.unlearn(
      [
        "compare", "--dataset", "csv:p.csv", "--label-column", "outcome", "--id-column", "pid",
        "--standardize", "--lambda", "auto", "--model", "logistic", "--methods",
        "retrain,newton,certified", "--forget", "5", "--forget-score-models", "0", "--repeats",
        "1", "--json", "c.json",
      ], in: dir)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("skipped certified removal: --lambda auto"))
    #expect(run.stdout.contains("skipped certified removal: --standardize"))
    #expect(run.stdout.contains("lambda auto:"))
    #expect(run.stdout.contains("features standardised"))
    // The oracle: the rule on the standardised training rows, run here.
    let (train, _) = try Scenario.standardized(Self.scenario(dir + "/p.csv")).load()
    let outcome = try LambdaSelection.choose(
      spec: .logistic(featureCount: 3, fitsIntercept: false), train: train,
      trainer: ModelFile.Specification.logistic(featureCount: 3, fitsIntercept: false)
        .defaultTrainer(seed: 42), seed: 42)
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/c.json"))
    let json = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(json["schema"] as? String == "unlearn.compare/4")
    let lambda = try #require(json["lambda"] as? [String: Any])
    #expect(lambda["rule"] as? String == "auto")
    #expect(lambda["linear"] as? Double == outcome.chosen)
    #expect((json["skipped"] as? [String])?.count == 2)
    #expect(json["standardization"] is String)
    // The table's retrain reference is the retrain a user gets: from scratch on the retained
    // rows with statistics refitted on them, recomputed here.
    #expect(json["refittedRetrain"] == nil)
    let (raw, rawTest) = try Self.scenario(dir + "/p.csv").load()
    let result0 = try JSONDecoder().decode(Comparison.Result.self, from: data)
    let retained = try raw.removing(ids: result0.forgottenIDs)
    let refitted = try Dataset.Standardization(fittedOn: retained)
    let expected = try TrainedModel.train(
      model: LogisticRegression(featureCount: 3), data: retained.standardized(by: refitted),
      regularization: outcome.chosen, trainer: Training.Newton(gradientTolerance: 1e-10))
    let summary = try #require(result0.models.first { $0.model == "logistic" })
    #expect(summary.standardization?.refitted == refitted)
    #expect(summary.standardization?.fitted == (try Dataset.Standardization(fittedOn: raw)))
    let retrainRow = try #require(
      result0.rows.first { $0.model == "logistic" && $0.method == "retrain" })
    #expect(
      retrainRow.parameters.isApproximatelyEqual(to: expected.parameters, relativeTolerance: 1e-8))
    #expect(
      retrainRow.evaluation.testAccuracy
        == expected.accuracy(on: try rawTest.standardized(by: refitted)))
    #expect(refitted.rowCount == raw.count - 5)
    #expect(
      run.stdout.contains(
        "logistic: original trained on statistics of \(raw.count) rows, re-expressed with a constant logit shift"
      ))
    // The rest is the comparison's result, which still decodes, with the chosen lambda.
    let result = try JSONDecoder().decode(Comparison.Result.self, from: data)
    #expect(result.configuration.regularization == outcome.chosen)
    #expect(!result.configuration.methods.contains(.certified))
    // Certified alone: nothing left to run, one line.
    Hostile.expectOneLineError(
      try Hostile.unlearn(
        [
          "compare", "--dataset", "csv:p.csv", "--label-column", "outcome", "--lambda", "auto",
          "--methods", "certified", "--normalize-rows",
        ], in: dir), ["--lambda auto chooses lambda on every training row"])
  }
}
