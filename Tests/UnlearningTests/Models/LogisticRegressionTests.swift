import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("LogisticRegression")
struct LogisticRegressionTests {
  static let cases: [(intercept: Bool, weighted: Bool, perturbed: Bool, seed: UInt64)] = [
    (false, false, false, 1), (false, true, true, 2), (true, false, true, 3),
    (true, true, false, 4),
  ]

  @Test("Gradient, HVP, dense Hessian and per-sample gradients are exact", arguments: cases)
  func derivatives(intercept: Bool, weighted: Bool, perturbed: Bool, seed: UInt64) {
    let data = SyntheticProblems.binary(count: 40, features: 6, seed: seed)
    let model = LogisticRegression(featureCount: 6, fitsIntercept: intercept)
    var g = SeededGenerator(seed: seed + 100)
    let objective = Objective(
      model: model, features: data.features, targets: data.targets,
      weights: weighted ? DerivativeChecks.weights(count: 40, seed: seed) : nil,
      regularization: 0.01,
      perturbation: perturbed ? g.normalVector(count: model.parameterCount) : nil)
    let theta = g.normalVector(count: model.parameterCount, standardDeviation: 2)
    DerivativeChecks.expectAccurate(DerivativeChecks.run(objective, at: theta, seed: seed))
  }

  @Test("Smallest Hessian eigenvalue is at least lambda * n", arguments: [UInt64(1), 2, 3])
  func hessianIsStronglyConvex(seed: UInt64) throws {
    let data = SyntheticProblems.binary(count: 200, features: 20, seed: seed)
    let objective = Objective(
      model: LogisticRegression(featureCount: 20), features: data.features, targets: data.targets,
      regularization: 1e-3)
    var g = SeededGenerator(seed: seed)
    let h = objective.hessian(at: g.normalVector(count: 20, standardDeviation: 3))
    let smallest = try SymmetricEigen.smallestEigenvalue(of: h)
    #expect(smallest >= 1e-3 * 200 * (1 - 1e-10))
  }

  @Test("Scalar derivatives, probabilities and constants")
  func scalarsAndConstants() {
    let model = LogisticRegression(featureCount: 1)
    let z: [Double] = [-800, -3, 0, 2.5, 800]
    let y: [Double] = [1, 0, 1, 1, 0]
    let d = model.lossDerivatives(linearPredictors: z, targets: y)
    #expect(d.values.allSatisfy { $0.isFinite })
    #expect(abs(d.values[0] - 800) < 1e-12 && abs(d.values[4] - 800) < 1e-12)
    #expect(abs(d.values[2] - log(2)) < 1e-15)
    #expect(abs(d.first[2] + 0.5) < 1e-15 && abs(d.second[2] - 0.25) < 1e-15)
    let p = model.probabilities([1], features: Matrix(rowArrays: z.map { [$0] }))
    for i in 0..<z.count { #expect(abs(p[i, 0] + p[i, 1] - 1) < 1e-15) }
    #expect(model.predictions([1], features: Matrix(rowArrays: z.map { [$0] })) == [0, 0, 0, 1, 1])
    #expect(model.curvatureLipschitzConstant == 0.25 && model.gradientNormBound == 1)
    #expect(abs(model.thirdDerivativeBound - 0.0962250448649376) < 1e-15)
    // sup |ell'''| is attained near z = +-1.3170 (sigma = 1/2 -+ 1/(2 sqrt 3)).
    let grid = stride(from: -6.0, through: 6.0, by: 1e-3).map { $0 }
    let third = model.lossThirdDerivatives(linearPredictors: grid).map(abs).max() ?? 0
    #expect(third <= model.thirdDerivativeBound && third > model.thirdDerivativeBound * (1 - 1e-6))
  }
}
