import Foundation
import Testing
import TestSupport
import Unlearning

/// Forgetting a whole class: iterated Newton removal against actual retrains, the damped
/// Gauss-Newton CG step against a dense solve, the class request's errors, and the verdicts.
@Suite("Class forgetting")
struct ClassForgettingTests {
  /// 3 Gaussian clusters in 4 dimensions, 240 samples (80 per class); with `intercept` a 5th
  /// constant feature of that value (the models have no bias: without it a retrained model
  /// can still predict a class it never saw, for points on the far side of the origin).
  static func threeClassData(seed: UInt64 = 11, intercept: Double? = nil) throws -> Dataset {
    let problem = SyntheticProblems.multiclass(count: 240, features: 4, classes: 3, seed: seed)
    var features = problem.features
    if let intercept {
      features = Matrix(rows: problem.count, columns: 5) { i, j in
        j < 4 ? problem.features[i, j] : intercept
      }
    }
    return try Dataset(features: features, labels: problem.targets.map { Int($0) }, classCount: 3)
  }

  static func ids(of label: Int, in data: Dataset) -> [SampleID] {
    zip(data.ids, data.labels).filter { $0.1 == label }.map(\.0)
  }

  static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    a.subtracting(b).norm() / b.norm()
  }

  /// Iterated Newton removal of one class lands on the retrained softmax model (dense Cholesky
  /// and CG on Hessian-vector products); one step is measurably worse than several.
  @Test(arguments: [false, true])
  func iteratedNewtonConvergesToRetrainedSoftmax(conjugateGradient: Bool) throws {
    let data = try Self.threeClassData()
    let model = SoftmaxRegression(featureCount: 4, classCount: 3)
    let trainer = Training.Newton(gradientTolerance: 1e-13)
    let original = try TrainedModel.train(
      model: model, data: data, regularization: 1e-2, trainer: trainer)
    let forget = Self.ids(of: 2, in: data)
    #expect(forget.count == 80)
    let retrained = try Retrain(trainer: trainer).unlearn(original, forgetting: forget).state
      .parameters

    let solver: NewtonSolver =
      conjugateGradient ? .conjugateGradient(tolerance: 1e-12, maximumIterations: 500) : .cholesky
    let one = try NewtonRemoval(solver: solver).unlearn(original, forgetting: forget)
    let many = try NewtonRemoval(
      solver: solver, steps: 30, residualTolerance: 1e-11 * 160, stepControl: .objectiveDecrease
    )
    .unlearn(original, forgetting: forget)
    let oneError = Self.relativeError(one.state.parameters, retrained)
    let manyError = Self.relativeError(many.state.parameters, retrained)
    let steps = many.report.details["steps"] ?? 0
    print(
      "class forgetting, softmax 3 classes (\(conjugateGradient ? "CG" : "Cholesky")): relative distance to retrain after 1 step \(oneError), after \(Int(steps)) steps \(manyError); residuals \(one.report.gradientResidualNorm) vs \(many.report.gradientResidualNorm)"
    )
    #expect(manyError <= 1e-6)
    #expect(steps > 1)
    // A whole class is a large removal: one step is measurably worse.
    #expect(oneError > 1e-3)
    #expect(oneError > 100 * manyError)
    #expect(many.report.gradientResidualNorm < 1e-3 * one.report.gradientResidualNorm)
    // The iterated model, like retrain, never predicts the forgotten class on its own samples.
    let forgetRows = try data.subset(ids: forget)
    let predictedAsTwo = model.predictions(many.state.parameters, features: forgetRows.features)
      .filter { $0 == 2 }.count
    let retrainPredictedAsTwo = model.predictions(retrained, features: forgetRows.features).filter {
      $0 == 2
    }.count
    #expect(predictedAsTwo == retrainPredictedAsTwo)
  }

  /// The damped Gauss-Newton step by CG on Gauss-Newton products equals the dense solve
  /// `(G + lambda n_R I + mu I) v = -grad L(theta; R)` on a tiny MLP (p = 35).
  @Test func dampedGaussNewtonConjugateGradientMatchesDenseSolve() throws {
    let data = try Self.threeClassData(seed: 5)
    let model = MultilayerPerceptron(layerSizes: [4, 3, 3], hiddenActivation: .tanh)
    let original = try TrainedModel.train(
      model: model, data: data, regularization: 1e-2,
      trainer: Training.LBFGS(gradientTolerance: 1e-6, maximumIterations: 300, seed: 3))
    let forget = Self.ids(of: 1, in: data)
    let theta = original.parameters
    let mu = 0.5
    let cg = try NewtonRemoval(
      solver: .conjugateGradient(tolerance: 1e-13, maximumIterations: 1000),
      curvature: .dampedGaussNewton(mu)
    ).unlearn(original, forgetting: forget)

    // Independent dense solve: the matrix from p Gauss-Newton products with e_j, Cholesky.
    let objective = original.objective().with(weights: try data.weights(removing: forget))
    let p = model.parameterCount
    var matrix = Matrix(rows: p, columns: p)
    for j in 0..<p {
      var e = [Double](repeating: 0, count: p)
      e[j] = 1
      let column = objective.gaussNewtonVectorProduct(at: theta, e)
      for i in 0..<p { matrix[i, j] = column[i] }
    }
    var asymmetry = 0.0
    for i in 0..<p {
      for j in 0..<p { asymmetry = max(asymmetry, abs(matrix[i, j] - matrix[j, i])) }
    }
    #expect(asymmetry < 1e-9)
    matrix.addToDiagonal(mu)
    let dense = try Cholesky(matrix).solve(objective.gradient(at: theta).scaled(by: -1))
    let step = cg.state.parameters.subtracting(theta)
    #expect(step.norm() > 1e-3)
    #expect(step.subtracting(dense).norm() <= 1e-8 * dense.norm())
    // The dense path of the same curvature agrees too.
    let direct = try NewtonRemoval(curvature: .dampedGaussNewton(mu)).unlearn(
      original, forgetting: forget)
    #expect(
      direct.state.parameters.subtracting(theta).subtracting(dense).norm() <= 1e-10 * dense.norm())
  }

  @Test func classThatIsNotPresentIsAClearError() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    #expect(
      throws: Comparison.ComparisonError.invalidRequest(
        "forget class 3 is not a class of the data (classes: 0 = healthy, 1 = diabetic)")
    ) {
      try Comparison.resolveForget(.wholeClass(3), train: train, seed: 1)
    }
    #expect(throws: Comparison.ComparisonError.self) {
      try Comparison.resolveForget(.wholeClass(-1), train: train, seed: 1)
    }
    // A declared class without training samples.
    let empty = try Dataset(
      features: Matrix(rows: 4, columns: 1, elements: [1, 2, 3, 4]), labels: [0, 2, 0, 2],
      classCount: 3)
    #expect(
      throws: Comparison.ComparisonError.invalidRequest(
        "forget class 1 (1) has no training samples")
    ) {
      try Comparison.resolveForget(.wholeClass(1), train: empty, seed: 1)
    }
    let ids = try Comparison.resolveForget(.wholeClass(2), train: empty, seed: 1)
    #expect(ids == [empty.ids[1], empty.ids[3]])
  }

  /// The verdicts compare with retrain: near-zero forget accuracy is not over-forgetting when
  /// retrain's is near zero too.
  @Test func nearZeroForgetAccuracyIsNotOverForgettingWhenRetrainHasIt() throws {
    let data = try Self.threeClassData(seed: 8, intercept: 5)
    let (train, test) = data.split(testCount: 60, seed: 2)
    let model = SoftmaxRegression(featureCount: 5, classCount: 3)
    let trainer = Training.Newton(gradientTolerance: 1e-12)
    let original = try TrainedModel.train(
      model: model, data: train, regularization: 1e-3, trainer: trainer)
    let forget = Self.ids(of: 0, in: train)
    let retrain = try Retrain(trainer: trainer).unlearn(original, forgetting: forget)
    let context = UnlearningEvaluation.Context(
      model: model, retainedObjective: retrain.state.objective(),
      retain: try train.removing(ids: forget),
      forget: try train.subset(ids: forget), test: test, originalParameters: original.parameters,
      retrainedParameters: retrain.state.parameters, forgottenClass: 0)
    let reference = context.evaluate(
      method: "retrain", parameters: retrain.state.parameters, isReference: true)
    #expect(reference.forgetAccuracy == 0)
    #expect(reference.forgottenClassRecall == 0 && reference.predictedAsForgottenClassShare == 0)
    #expect(reference.verdict == .reference)
    let iterated = try NewtonRemoval(
      steps: 30, residualTolerance: 1e-10, stepControl: .objectiveDecrease
    ).unlearn(
      original, forgetting: forget)
    let e = context.evaluate(method: "newton-iterated", parameters: iterated.state.parameters)
    #expect(e.forgetAccuracy == 0)
    #expect(e.verdict == .closeToRetrain)
    let naive = context.evaluate(method: "naive", parameters: original.parameters)
    #expect(naive.forgetAccuracy > 0.5)
    #expect(naive.verdict == .noChange)
    // Per-class accuracy agrees with a direct count.
    let predictions = model.predictions(iterated.state.parameters, features: test.features)
    for c in 0..<3 {
      let rows = test.labels.indices.filter { test.labels[$0] == c }
      let direct = Double(rows.filter { predictions[$0] == c }.count) / Double(rows.count)
      #expect(e.testAccuracyByClass[c] == direct)
    }
  }

  /// End to end through `Comparison.run` on a CSV scenario: the class rows, the per-class
  /// metrics and the verdicts.
  @Test func comparisonForgetsAWholeClass() throws {
    let data = try Self.threeClassData(seed: 21, intercept: 5)
    var csv = "a,b,c,d,e,label\n"
    for i in 0..<data.count {
      csv +=
        (0..<5).map { String(data.features[i, $0]) }.joined(separator: ",")
        + ",c\(data.labels[i])\n"
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "class-forgetting-\(getpid()).csv"
    ).path
    try csv.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    var configuration = Comparison.Configuration()
    configuration.scenario = .csv(
      path: path, labelColumn: "label", testFraction: 0.25, seed: 3, normalizeRows: false)
    configuration.models = [.softmax]
    configuration.methods = [.retrain, .naive, .gradientAscent, .newton]
    configuration.forget = .wholeClass(1)
    configuration.regularization = 1e-3
    configuration.newtonResidualTolerance = 1e-12
    configuration.iteratedNewtonSteps = 30
    var lines = [String]()
    let result = try Comparison.run(configuration) { lines.append($0) }
    #expect(lines.contains { $0.contains("iterated Newton removal of class 1") })
    let rows = Dictionary(uniqueKeysWithValues: result.rows.map { ($0.method, $0.evaluation) })
    let reference = try #require(rows["retrain"])
    #expect(reference.forgetAccuracy < 0.05)
    let iterated = try #require(rows["newton-iterated"])
    let one = try #require(rows["newton-1step"])
    #expect(iterated.relativeDistance < 1e-6)
    #expect(iterated.relativeDistance < one.relativeDistance)
    #expect(iterated.verdict == .closeToRetrain)
    #expect(
      iterated.forgottenClass == 1
        && iterated.forgottenClassRecall == reference.forgottenClassRecall)
    #expect(rows["naive"]?.verdict == .noChange)
    for (method, e) in rows where method != "retrain" {
      // Nothing is "over-forgetting" merely for matching retrain's near-zero class accuracy.
      if e.verdict == .overForgets {
        #expect(e.forgetAccuracyGap < -context(result) || e.testAccuracyGap < -0.01)
      }
    }
  }

  /// The accuracy tolerance of the verdict rule (one forgotten sample for convex models).
  func context(_ result: Comparison.Result) -> Double { 1 / Double(result.forgottenIDs.count) }
}
