import Testing
import TestSupport
import Unlearning

@Suite("MultilayerPerceptron")
struct MultilayerPerceptronTests {
  static let shapes: [[Int]] = [[3, 5, 1], [3, 4, 6, 1], [3, 5, 3], [3, 4, 3, 4]]

  @Test(
    "Gradient, R-operator HVP, dense Hessian, per-sample gradients are exact",
    arguments: MultilayerPerceptron.Activation.allCases, shapes)
  func derivatives(activation: MultilayerPerceptron.Activation, layerSizes: [Int]) {
    let classes = max(layerSizes.last ?? 1, 2)
    let data = SyntheticProblems.multiclass(count: 24, features: 3, classes: classes, seed: 11)
    let model = MultilayerPerceptron(layerSizes: layerSizes, hiddenActivation: activation)
    var g = SeededGenerator(seed: 3)
    var theta = model.initialParameters(seed: 1)
    theta.add(g.normalVector(count: theta.count, standardDeviation: 0.3))
    let objective = Objective(
      model: model, features: data.features, targets: data.targets,
      weights: DerivativeChecks.weights(count: 24, seed: 4), regularization: 0.01,
      perturbation: g.normalVector(count: model.parameterCount))
    DerivativeChecks.expectAccurate(DerivativeChecks.run(objective, at: theta, seed: 5))
  }

  @Test(
    "Gauss-Newton product is symmetric positive semidefinite",
    arguments: MultilayerPerceptron.Activation.allCases)
  func gaussNewton(activation: MultilayerPerceptron.Activation) throws {
    let data = SyntheticProblems.multiclass(count: 20, features: 3, classes: 3, seed: 2)
    let model = MultilayerPerceptron(layerSizes: [3, 4, 3], hiddenActivation: activation)
    let theta = model.initialParameters(seed: 8)
    let objective = Objective(
      model: model, features: data.features, targets: data.targets, regularization: 0)
    let p = model.parameterCount
    var gn = Matrix(rows: p, columns: p)
    var e = [Double](repeating: 0, count: p)
    for j in 0..<p {
      e[j] = 1
      let c = objective.gaussNewtonVectorProduct(at: theta, e)
      e[j] = 0
      for i in 0..<p { gn[i, j] = c[i] }
    }
    #expect(gn.asymmetry <= 1e-12 * gn.frobeniusNorm)
    gn.symmetrizeFromUpper()
    #expect(try SymmetricEigen.smallestEigenvalue(of: gn) >= -1e-10 * gn.frobeniusNorm)
  }

  @Test("Layout, Glorot initialisation and probabilities")
  func layout() {
    let model = MultilayerPerceptron(layerSizes: [2, 20, 1])
    #expect(model.parameterCount == 81 && model.outputClassCount == 2)
    let theta = model.initialParameters(seed: 42)
    #expect(theta == model.initialParameters(seed: 42))
    let bound = (6.0 / 22).squareRoot()
    #expect(theta[0..<40].allSatisfy { abs($0) <= bound } && theta[40..<60].allSatisfy { $0 == 0 })
    let x = Matrix(rowArrays: [[0.1, 0.2], [-1, 0.5]])
    let p = model.probabilities(theta, features: x)
    #expect(p.columns == 2 && abs(p[1, 0] + p[1, 1] - 1) < 1e-15)
  }
}
