import Testing
import TestSupport
import Unlearning

@Suite("SoftmaxRegression")
struct SoftmaxRegressionTests {
  @Test("Derivatives are exact", arguments: [(3, false, UInt64(1)), (4, true, 2), (2, true, 3)])
  func derivatives(classes: Int, weightedAndPerturbed: Bool, seed: UInt64) {
    let data = SyntheticProblems.multiclass(count: 30, features: 5, classes: classes, seed: seed)
    let model = SoftmaxRegression(featureCount: 5, classCount: classes)
    var g = SeededGenerator(seed: seed + 7)
    let objective = Objective(
      model: model, features: data.features, targets: data.targets,
      weights: weightedAndPerturbed ? DerivativeChecks.weights(count: 30, seed: seed) : nil,
      regularization: 0.02,
      perturbation: weightedAndPerturbed ? g.normalVector(count: model.parameterCount) : nil)
    let theta = g.normalVector(count: model.parameterCount, standardDeviation: 0.5)
    DerivativeChecks.expectAccurate(DerivativeChecks.run(objective, at: theta, seed: seed))
  }

  @Test("Probabilities sum to one; the regularised Hessian is positive definite")
  func probabilitiesAndConvexity() throws {
    let data = SyntheticProblems.multiclass(count: 60, features: 4, classes: 3, seed: 5)
    let model = SoftmaxRegression(featureCount: 4, classCount: 3)
    var g = SeededGenerator(seed: 9)
    let theta = g.normalVector(count: 12)
    let p = model.probabilities(theta, features: data.features)
    for i in 0..<p.rows { #expect(abs(p.row(i).reduce(0, +) - 1) < 1e-14) }
    let objective = Objective(
      model: model, features: data.features, targets: data.targets, regularization: 1e-3)
    let smallest = try SymmetricEigen.smallestEigenvalue(of: objective.hessian(at: theta))
    #expect(smallest >= 1e-3 * 60 * (1 - 1e-10))
  }
}
