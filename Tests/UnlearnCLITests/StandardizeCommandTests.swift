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

  @Test("remove --method retrain refits the statistics on the retained rows; newton keeps them")
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
    // Newton first: keeps the stored statistics and says so.
    let first = Array(raw.ids.prefix(3))
    try first.map { "\($0.rawValue)" }.joined(separator: "\n").write(
      toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
    let newton = try Hostile.unlearn(
      [
        "remove", "--model-file", "m.json", "--forget-ids", "a.txt", "--method", "newton",
        "--out", "m.json", "--json", "newton.json",
      ], in: dir)
    #expect(newton.status == 0, "\(newton.stderr)")
    #expect(newton.stdout.contains("kept the stored standardization"))
    #expect(try ModelFile.read(from: dir + "/m.json").standardization == original)
    let newtonJSON = try #require(
      JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: dir + "/newton.json"))) as? [String: Any])
    let use = try #require(newtonJSON["standardization"] as? [String: Any])
    #expect(use["refitted"] as? Bool == false)
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
    // Under the table: the retrain on refitted statistics against the fixed-statistics one,
    // recomputed here.
    let refits = try #require(json["refittedRetrain"] as? [[String: Any]])
    #expect(refits.count == 1)
    let (raw, rawTest) = try Self.scenario(dir + "/p.csv").load()
    let result0 = try JSONDecoder().decode(Comparison.Result.self, from: data)
    let retained = try raw.removing(ids: result0.forgottenIDs)
    let refitted = try Dataset.Standardization(fittedOn: retained)
    let expected = try TrainedModel.train(
      model: LogisticRegression(featureCount: 3), data: retained.standardized(by: refitted),
      regularization: outcome.chosen, trainer: Training.Newton(gradientTolerance: 1e-10))
    #expect(
      refits[0]["refittedTestAccuracy"] as? Double
        == expected.accuracy(on: try rawTest.standardized(by: refitted)))
    #expect(refits[0]["retainedCount"] as? Int == raw.count - 5)
    #expect(run.stdout.contains("retrain with the standardization refitted on the"))
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
