import Foundation
import Testing
import Unlearning

/// ``Comparison/Configuration/standardizesFeatures`` against retrains from scratch on the
/// retained rows standardised by statistics refitted on them, and the original trained on all
/// rows' statistics and re-expressed.
@Suite("Comparison with statistics refitted on the retained rows")
struct ComparisonStandardizationTests {
  /// 120 patients with features on scales 1e4, 1e-3 and 1, ids `500 + 3 i`.
  static func csv() throws -> String {
    let dir = NSTemporaryDirectory() + "unlearn-cmp-std-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var g = SeededGenerator(seed: 17)
    var text = "pid,income,dose,age,outcome\n"
    for i in 0..<120 {
      let x = g.normalVector(count: 3)
      let noise: Double = 0.3 * g.normalVector(count: 1)[0]
      let score: Double = x[0] - x[1] + 0.5 * x[2] + noise
      let label = score > 0 ? "yes" : "no"
      let income: Double = 4e4 + 1e4 * x[0]
      let dose: Double = 2e-3 + 1e-3 * x[1]
      let age: Double = 50 + x[2]
      text += "\(500 + 3 * i),\(income),\(dose),\(age),\(label)\n"
    }
    let path = dir + "/p.csv"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  static func configuration(_ path: String) -> Comparison.Configuration {
    var c = Comparison.Configuration()
    c.scenario = .csv(
      path: path, labelColumn: "outcome", testFraction: 0.2, seed: 42, normalizeRows: false,
      idColumn: "pid")
    c.models = [.logistic, .mlp(hidden: [3], activation: .tanh)]
    c.methods = [.retrain, .naive, .newton]
    // The 15 largest incomes would move the statistics most; a seeded random set is the
    // comparison's default, so take those explicitly.
    c.regularization = 0.01
    c.networkRegularization = 0.01
    c.standardizesFeatures = true
    return c
  }

  static func distance(_ a: [Double], _ b: [Double]) -> Double {
    var total = 0.0
    for (x, y) in zip(a, b) { total += (x - y) * (x - y) }
    return total.squareRoot()
  }

  @Test(
    "every retrain refits, the original enters re-expressed, Newton lands within its residual bound of the true retrain"
  )
  func retrainsRefit() throws {
    let path = try Self.csv()
    defer {
      try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
    var c = Self.configuration(path)
    let (raw, rawTest) = try c.scenario.load()
    let order = (0..<raw.count).sorted { raw.features[$0, 0] > raw.features[$1, 0] }
    let forgotten = order.prefix(15).map { raw.ids[$0] }
    c.forget = .ids(forgotten)
    let result = try Comparison.run(c)
    #expect(result.forgottenIDs == forgotten)
    let retained = try raw.removing(ids: forgotten)
    let fitted = try Dataset.Standardization(fittedOn: raw)
    let refitted = try Dataset.Standardization(fittedOn: retained)
    #expect(fitted != refitted)

    // Logistic regression (no intercept).
    let logistic = try #require(result.models.first { $0.model == "logistic" })
    let s = try #require(logistic.standardization)
    #expect(s.fitted == fitted && s.refitted == refitted && s.parameterCoordinates == "refitted")
    #expect(s.reexpression == "shift-dropped" && s.droppedShifts?.count == 1)
    let newtonTrainer = Training.Newton(gradientTolerance: 1e-10)
    let oracle = try TrainedModel.train(
      model: LogisticRegression(featureCount: 3), data: refitted.apply(to: retained),
      regularization: 0.01, trainer: newtonTrainer)
    #expect(
      logistic.retrainedParameters.isApproximatelyEqual(
        to: oracle.parameters, relativeTolerance: 1e-8))
    let rows = result.rows.filter { $0.model == "logistic" }
    let retrainRow = try #require(rows.first { $0.method == "retrain" })
    #expect(retrainRow.parameters == logistic.retrainedParameters)
    #expect(
      retrainRow.evaluation.testAccuracy == oracle.accuracy(on: try refitted.apply(to: rawTest)))
    // The original: trained on all rows' statistics, re-expressed on the retained rows'.
    let original = try TrainedModel.train(
      model: LogisticRegression(featureCount: 3), data: fitted.apply(to: raw),
      regularization: 0.01, trainer: newtonTrainer)
    let spec = ModelFile.Specification.logistic(featureCount: 3, fitsIntercept: false)
    let r = try spec.reexpressing(original.parameters, from: fitted, to: refitted)
    #expect(
      logistic.originalParameters.isApproximatelyEqual(to: r.parameters, relativeTolerance: 1e-8))
    #expect(
      abs((s.droppedShifts?[0] ?? 0) - r.droppedShifts[0]) <= 1e-8 * max(1, abs(r.droppedShifts[0]))
    )
    // Naive deletion keeps the starting point: the re-expressed original.
    let naive = try #require(rows.first { $0.method == "naive" })
    #expect(naive.parameters == logistic.originalParameters)
    #expect(naive.evaluation.relativeDistance == 1)
    // Newton: the objective is (lambda n_R)-strongly convex, so it lies within
    // ||g|| / (lambda n_R) of the retained optimum, and the oracle within 1e-10 n_R / (lambda n_R).
    let newton = try #require(rows.first { $0.method == "newton" })
    let nR = Double(retained.count)
    let g = try #require(newton.report?.gradientResidualNorm)
    let gap = Self.distance(newton.parameters, oracle.parameters)
    #expect(gap <= (g + 1e-10 * nR) / (0.01 * nR) * 1.001 + 1e-12)
    #expect(newton.evaluation.relativeDistance < 0.1)
    // rho is computed in the refitted coordinates: recomputed here from the three vectors.
    let rho =
      gap / Self.distance(logistic.originalParameters, logistic.retrainedParameters)
    #expect(abs(newton.evaluation.relativeDistance - rho) <= 1e-6 * rho + 1e-12)

    // The network: both retrains (reference and second-seed noise floor) refit; the
    // re-expression is exact (the first layer's bias absorbs the shift).
    let mlp = try #require(result.models.first { $0.model.hasPrefix("mlp") })
    #expect(mlp.standardization?.reexpression == "exact")
    #expect(mlp.standardization?.droppedShifts == nil)
    let network = MultilayerPerceptron(layerSizes: [3, 3, 1], hiddenActivation: .tanh)
    let data = try refitted.apply(to: retained)
    func retrain(seed: UInt64) throws -> [Double] {
      try TrainedModel.train(
        model: network, data: data, regularization: 0.01,
        trainer: Training.LBFGS(gradientTolerance: 1e-8, maximumIterations: 5000, seed: seed),
        start: network.initialParameters(seed: seed)
      ).parameters
    }
    let first = try retrain(seed: 42)
    let second = try retrain(seed: 43)
    #expect(mlp.retrainedParameters.isApproximatelyEqual(to: first, relativeTolerance: 1e-6))
    let floor = try #require(mlp.retrainNoiseFloorDistance)
    #expect(abs(floor - Self.distance(first, second)) <= 1e-5 * max(floor, 1))
  }

  @Test("standardisation is refused with certified removal and with a standardized scenario")
  func refusals() throws {
    let path = try Self.csv()
    defer {
      try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
    var c = Self.configuration(path)
    c.forget = .random(count: 5)
    c.models = [.logistic]
    c.methods = [.retrain, .certified]
    #expect(throws: Comparison.ComparisonError.self) { try Comparison.run(c) }
    c.methods = [.retrain]
    c.scenario = .standardized(c.scenario)
    #expect(throws: Comparison.ComparisonError.self) { try Comparison.run(c) }
  }
}
