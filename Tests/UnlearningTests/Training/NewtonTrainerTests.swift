import Testing
import TestSupport
import Unlearning

@Suite("Training.Newton")
struct NewtonTrainerTests {
  static func logisticObjective(seed: UInt64) -> Objective<LogisticRegression> {
    let data = SyntheticProblems.binary(count: 2000, features: 50, seed: seed)
    return Objective(
      model: LogisticRegression(featureCount: 50), features: data.features, targets: data.targets,
      regularization: 1e-3)
  }

  @Test(
    "Logistic n = 2000, d = 50: gradient norm <= 1e-9 n, agrees with L-BFGS",
    arguments: [UInt64(1), 2])
  func logisticConvergesAndAgreesWithLBFGS(seed: UInt64) {
    let objective = Self.logisticObjective(seed: seed)
    let newton = Training.Newton().train(objective)
    #expect(newton.converged, "\(newton)")
    #expect(newton.gradientNorm <= 1e-9 * 2000)
    #expect(newton.iterations < 20)
    let lbfgs = Training.LBFGS().train(objective)
    #expect(lbfgs.converged, "\(lbfgs.gradientNorm) after \(lbfgs.iterations)")
    #expect(newton.parameters.isApproximatelyEqual(to: lbfgs.parameters, relativeTolerance: 1e-6))
    let plain = Training.Newton(reusesFactorization: false).train(objective)
    #expect(plain.converged && plain.iterations < 20)
    #expect(newton.parameters.isApproximatelyEqual(to: plain.parameters, relativeTolerance: 1e-9))
  }

  @Test("Weight-0 samples give the model trained without those rows")
  func zeroWeightsEqualRemovedRows() {
    let objective = Self.logisticObjective(seed: 3)
    let removed = Set(stride(from: 5, to: 2000, by: 7))
    let weights = (0..<2000).map { removed.contains($0) ? 0.0 : 1.0 }
    let kept = (0..<2000).filter { !removed.contains($0) }
    let weighted = Training.Newton().train(objective.with(weights: weights))
    let reduced = Objective(
      model: objective.model, features: objective.features.rows(at: kept),
      targets: kept.map { objective.targets[$0] }, regularization: objective.regularization)
    let direct = Training.Newton().train(reduced)
    #expect(weighted.converged && direct.converged)
    #expect(
      weighted.parameters.isApproximatelyEqual(to: direct.parameters, relativeTolerance: 1e-10))
  }

  @Test("With perturbation and intercept: converges; the gradient includes b")
  func perturbedWithIntercept() {
    let data = SyntheticProblems.binary(count: 500, features: 10, seed: 4)
    var g = SeededGenerator(seed: 5)
    let objective = Objective(
      model: LogisticRegression(featureCount: 10, fitsIntercept: true), features: data.features,
      targets: data.targets, regularization: 1e-2,
      perturbation: g.normalVector(count: 11, standardDeviation: 3))
    let result = Training.Newton().train(objective)
    #expect(result.converged)
    #expect(abs(objective.gradientNorm(at: result.parameters) - result.gradientNorm) <= 1e-12)
    #expect(objective.with(perturbation: nil).gradientNorm(at: result.parameters) > 1)
  }

  @Test("Ridge: one Newton step is the exact minimiser")
  func ridgeOneStep() {
    let data = SyntheticProblems.regression(count: 300, features: 8, seed: 6)
    let objective = Objective(
      model: RidgeRegression(featureCount: 8), features: data.features, targets: data.targets,
      regularization: 0.1)
    let result = Training.Newton(gradientTolerance: 1e-12).train(objective)
    #expect(result.converged && result.iterations == 1)
  }

  @Test("Softmax regression converges")
  func softmax() {
    let data = SyntheticProblems.multiclass(count: 300, features: 6, classes: 4, seed: 7)
    let objective = Objective(
      model: SoftmaxRegression(featureCount: 6, classCount: 4), features: data.features,
      targets: data.targets, regularization: 1e-3)
    let result = Training.Newton().train(objective)
    #expect(result.converged && result.gradientNorm <= 1e-9 * 300)
  }

  @Test("Non-convex MLP: damped steps are reported, never silent")
  func dampedFallbackIsReported() {
    let (train, _) = SyntheticProblems.hospital()
    let objective = Objective(
      model: MultilayerPerceptron(layerSizes: [2, 6, 1]), features: train.features,
      targets: train.targets, regularization: 1e-4)
    let result = Training.Newton(maximumIterations: 30).train(objective)
    #expect(result.converged == (result.gradientNorm <= result.gradientTolerance))
    if result.notes.isEmpty == false {
      #expect(result.notes.contains { $0.contains("damped") || $0.contains("stopped") })
    }
  }
}
