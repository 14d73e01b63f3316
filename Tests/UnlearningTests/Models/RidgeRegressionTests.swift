import Testing
import TestSupport
import Unlearning

@Suite("RidgeRegression")
struct RidgeRegressionTests {
  @Test("Derivatives are exact", arguments: [false, true])
  func derivatives(intercept: Bool) {
    let data = SyntheticProblems.regression(count: 30, features: 4, seed: 3)
    let model = RidgeRegression(featureCount: 4, fitsIntercept: intercept)
    var g = SeededGenerator(seed: 1)
    let objective = Objective(
      model: model, features: data.features, targets: data.targets,
      weights: DerivativeChecks.weights(count: 30, seed: 2), regularization: 0.1,
      perturbation: g.normalVector(count: model.parameterCount))
    DerivativeChecks.expectAccurate(
      DerivativeChecks.run(objective, at: g.normalVector(count: model.parameterCount), seed: 4))
  }

  @Test("The minimiser solves the normal equations")
  func normalEquations() throws {
    let data = SyntheticProblems.regression(count: 50, features: 5, seed: 8)
    let objective = Objective(
      model: RidgeRegression(featureCount: 5), features: data.features, targets: data.targets,
      regularization: 0.05)
    let h = objective.hessian(at: [Double](repeating: 0, count: 5))
    let theta = try Cholesky(h).solve(data.features.multiply(data.targets, transposed: true))
    #expect(objective.gradientNorm(at: theta) <= 1e-10 * 50)
  }
}
