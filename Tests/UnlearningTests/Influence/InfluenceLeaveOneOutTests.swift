import Foundation
import Testing
import TestSupport
import Unlearning

/// Oracles from actual retraining: predicted vs leave-one-out changes (Docs/Math.md section 4), and
/// the ridge closed form.
@Suite("InfluenceLeaveOneOut")
struct InfluenceLeaveOneOutTests {
  /// Binary logistic regression, n = 2000, d = 50, lambda = 1e-3; Newton to 1e-10 n.
  static func logisticProblem() throws -> (
    objective: Objective<LogisticRegression>, theta: [Double], test: Influence.TestPoint
  ) {
    let all = SyntheticProblems.binary(count: 2200, features: 50, seed: 11)
    let train = all.features.rows(at: Array(0..<2000))
    let targets = Array(all.targets[0..<2000])
    let objective = Objective(
      model: LogisticRegression(featureCount: 50), features: train, targets: targets,
      regularization: 1e-3)
    let trained = Training.Newton(gradientTolerance: 1e-10).train(objective)
    try #require(trained.converged)
    // The test point the model gets most wrong (Koh & Liang's choice of an interesting point).
    let testFeatures = all.features.rows(at: Array(2000..<2200))
    let testTargets = Array(all.targets[2000..<2200])
    let losses = objective.model.losses(
      trained.parameters, features: testFeatures, targets: testTargets)
    let worst = losses.indices.max { losses[$0] < losses[$1] } ?? 0
    return (
      objective, trained.parameters,
      Influence.TestPoint(features: testFeatures.row(worst), target: testTargets[worst])
    )
  }

  static func testLoss<M: TwiceDifferentiableModel>(
    _ model: M, _ theta: [Double], _ point: Influence.TestPoint
  ) -> Double {
    model.losses(
      theta, features: Matrix(rows: 1, columns: point.features.count, elements: point.features),
      targets: [point.target])[0]
  }

  @Test(
    "logistic n = 2000, d = 50: top-100 predicted vs retrained, Pearson and Spearman >= 0.99",
    arguments: Influence.Regularization.allCases)
  func logisticLeaveOneOut(convention: Influence.Regularization) throws {
    let (objective, theta, test) = try Self.logisticProblem()
    let n = objective.features.rows
    let influence = try InfluenceFunctions(
      model: objective.model, parameters: theta, features: objective.features,
      targets: objective.targets,
      regularization: objective.regularization, removalRegularization: convention)
    let scores = try influence.influences(on: test)
    let top = scores.values.indices.sorted { abs(scores.values[$0]) > abs(scores.values[$1]) }
      .prefix(100)
    let baseLoss = Self.testLoss(objective.model, theta, test)
    var predictedLoss: [Double] = [], actualLoss: [Double] = []
    var predictedTheta: [Double] = [], actualTheta: [Double] = []
    for row in top {
      var weights = [Double](repeating: 1, count: n)
      weights[row] = 0
      // The exact retrain of each convention: `.fixed` keeps lambda * n_eff at its training
      // value, `.rescaled` lets it follow n_eff (Objective's default).
      let retrainObjective =
        convention == .fixed
        ? Objective(
          model: objective.model, features: objective.features, targets: objective.targets,
          weights: weights,
          regularization: objective.regularization * Double(n) / Double(n - 1))
        : objective.with(weights: weights)
      let retrained = Training.Newton(gradientTolerance: 1e-10).train(retrainObjective, from: theta)
      try #require(retrained.converged)
      actualLoss.append(Self.testLoss(objective.model, retrained.parameters, test) - baseLoss)
      predictedLoss.append(scores.values[row])
      actualTheta.append(contentsOf: retrained.parameters.subtracting(theta))
      predictedTheta.append(
        contentsOf: try influence.parameterChange(removing: [SampleID(row)]).change)
    }
    let lossPearson = Metrics.pearson(predictedLoss, actualLoss)
    let lossSpearman = Metrics.spearman(predictedLoss, actualLoss)
    let thetaPearson = Metrics.pearson(predictedTheta, actualTheta)
    let thetaSpearman = Metrics.spearman(predictedTheta, actualTheta)
    print(
      "INFLUENCE logistic \(convention): test loss Pearson \(lossPearson) Spearman \(lossSpearman); parameters Pearson \(thetaPearson) Spearman \(thetaSpearman)"
    )
    #expect(lossPearson >= 0.99)
    #expect(lossSpearman >= 0.99)
    #expect(thetaPearson >= 0.99)
    #expect(thetaSpearman >= 0.99)
  }

  /// Ridge, fixed regulariser `lambda n`: the exact leave-one-out change is
  /// `A^{-1} x_i e_i / (1 - h_ii)` with `A = X^T X + lambda n I = n H_J`,
  /// `h_ii = x_i^T A^{-1} x_i`, while the influence prediction is `(1/n) H_J^{-1} x_i e_i =
  /// A^{-1} x_i e_i`. Checked against retrains by dense solves on the retained rows.
  @Test(
    "ridge: influence x 1/(1 - h_ii) = exact leave-one-out (to 1e-10)", arguments: [false, true])
  func ridgeIdentity(intercept: Bool) throws {
    let data = SyntheticProblems.regression(count: 60, features: 6, seed: 5, noise: 0.5)
    let model = RidgeRegression(featureCount: 6, fitsIntercept: intercept)
    let lambda = 0.05
    let n = data.count
    // theta by a dense solve of the normal equations (sum form).
    func fit(_ weights: [Double]?) throws -> [Double] {
      let objective = Objective(
        model: model, features: data.features, targets: data.targets, weights: weights,
        regularization: lambda * Double(n) / (weights.map { $0.reduce(0, +) } ?? Double(n)))
      let h = try Cholesky(
        objective.hessian(at: [Double](repeating: 0, count: model.parameterCount)))
      return h.solve(
        objective.gradient(at: [Double](repeating: 0, count: model.parameterCount)).scaled(by: -1))
    }
    let theta = try fit(nil)
    let influence = try InfluenceFunctions(
      model: model, parameters: theta, features: data.features, targets: data.targets,
      regularization: lambda)
    let full = Objective(
      model: model, features: data.features, targets: data.targets, regularization: lambda)
    let a = try Cholesky(full.hessian(at: theta))  // sum form: X~^T X~ + lambda n I
    for row in [0, 7, 33, 59] {
      var weights = [Double](repeating: 1, count: n)
      weights[row] = 0
      let exact = try fit(weights).subtracting(theta)
      var x = data.features.row(row)
      if intercept { x.append(1) }
      let leverage = x.dot(a.solve(x))
      let predicted = try influence.parameterChange(removing: [SampleID(row)]).change
      let corrected = predicted.scaled(by: 1 / (1 - leverage))
      #expect(corrected.subtracting(exact).norm() <= 1e-10 * exact.norm(), "row \(row)")
      // Without the factor they differ by exactly h_ii / (1 - h_ii) (relative).
      #expect(abs(exact.norm() / predicted.norm() - 1 / (1 - leverage)) <= 1e-10)
    }
  }

  /// Newton on the retain objective, each step solved by CG on exact HVPs preconditioned by
  /// the full-data Cholesky factor (a nearby matrix): an actual retrain to `1e-10 n`.
  static func retrain<M: TwiceDifferentiableModel>(
    _ objective: Objective<M>, from start: [Double], preconditioner: Cholesky
  ) throws -> [Double] {
    var theta = start
    for _ in 0..<20 {
      let gradient = objective.gradient(at: theta)
      if gradient.norm() <= 1e-10 * objective.effectiveCount { return theta }
      let step = ConjugateGradient(tolerance: 1e-12).solve(
        objective.hessianOperator(at: theta), gradient.scaled(by: -1),
        preconditioner: preconditioner)
      theta.add(step.solution)
    }
    let norm = objective.gradient(at: theta).norm()
    try #require(norm <= 1e-10 * objective.effectiveCount, "retrain did not converge: \(norm)")
    return theta
  }

  @Test(
    "Fashion-MNIST 0 vs 6, 2000 train, lambda 1e-3: top-50 Pearson >= 0.99",
    .enabled(if: Scenario.FashionMNIST.isAvailable()))
  func fashionMNIST() throws {
    let train = try Scenario.FashionMNIST.load(
      split: .train, classes: [0, 6], limit: 2000, seed: 3)
    let testSet = try Scenario.FashionMNIST.load(
      split: .test, classes: [0, 6], limit: 200, seed: 3)
    let model = LogisticRegression(featureCount: train.featureCount)
    let objective = Objective(
      model: model, features: train.features, targets: train.targets, regularization: 1e-3)
    let trained = Training.Newton(gradientTolerance: 1e-10).train(objective)
    try #require(trained.converged)
    let theta = trained.parameters
    let losses = model.losses(theta, features: testSet.features, targets: testSet.targets)
    let worst = losses.indices.max { losses[$0] < losses[$1] } ?? 0
    let test = Influence.TestPoint(
      features: testSet.features.row(worst), target: testSet.targets[worst])
    let influence = try InfluenceFunctions(
      model: model, parameters: theta, dataset: train, regularization: 1e-3)
    let scores = try influence.influences(on: test)
    let top = scores.values.indices.sorted { abs(scores.values[$0]) > abs(scores.values[$1]) }
      .prefix(50)
    let factor = try Cholesky(objective.hessian(at: theta))
    let n = train.count
    let baseLoss = Self.testLoss(model, theta, test)
    var predicted: [Double] = [], actual: [Double] = []
    for row in top {
      var weights = [Double](repeating: 1, count: n)
      weights[row] = 0
      let retrainObjective = Objective(
        model: model, features: train.features, targets: train.targets, weights: weights,
        regularization: 1e-3 * Double(n) / Double(n - 1))
      let retrained = try Self.retrain(retrainObjective, from: theta, preconditioner: factor)
      actual.append(Self.testLoss(model, retrained, test) - baseLoss)
      predicted.append(scores.values[row])
    }
    let pearson = Metrics.pearson(predicted, actual)
    print(
      "INFLUENCE fashion-mnist top-50: Pearson \(pearson), Spearman \(Metrics.spearman(predicted, actual))"
    )
    #expect(pearson >= 0.99)
  }
}
