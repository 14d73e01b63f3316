import Foundation
import Testing
import TestSupport
import Unlearning

func accuracy(_ predictions: [Int], _ targets: [Double]) -> Double {
  Double(zip(predictions, targets).filter { Double($0) == $1 }.count) / Double(targets.count)
}

@Suite("Training.GradientDescent")
struct GradientDescentTrainerTests {
  @Test(
    "The hospital demo's MLP (2 -> 20 tanh -> 1, lr 0.1, 200 epochs) reaches ~94% test accuracy",
    arguments: [UInt64(42), 7])
  func seedNetwork(seed: UInt64) {
    let (train, test) = SyntheticProblems.hospital(seed: seed)
    let model = MultilayerPerceptron(layerSizes: [2, 20, 1], hiddenActivation: .tanh)
    let objective = Objective(
      model: model, features: train.features, targets: train.targets, regularization: 1e-4)
    let result = Training.GradientDescent(seed: seed).train(objective)
    let acc = accuracy(model.predictions(result.parameters, features: test.features), test.targets)
    print(
      "GD seed \(seed): test accuracy \(acc), gradient norm \(result.gradientNorm), \(result.seconds) s"
    )
    #expect(result.iterations == 200 && result.method == "gradient-descent")
    #expect(!result.converged)  // a fixed epoch budget is not a stationary point, and says so
    #expect(acc >= 0.88)
    #expect(Training.GradientDescent(seed: seed).train(objective).parameters == result.parameters)
  }
}

@Suite("Training.Adam")
struct AdamTrainerTests {
  @Test("Mini-batch Adam is deterministic per seed and learns the hospital task")
  func hospital() {
    let (train, test) = SyntheticProblems.hospital()
    let model = MultilayerPerceptron(layerSizes: [2, 20, 1], hiddenActivation: .relu)
    let objective = Objective(
      model: model, features: train.features, targets: train.targets, regularization: 1e-4)
    let trainer = Training.Adam(learningRate: 0.01, epochs: 100, batchSize: 32, seed: 3)
    let result = trainer.train(objective)
    #expect(result.parameters == trainer.train(objective).parameters)
    let acc = accuracy(model.predictions(result.parameters, features: test.features), test.targets)
    #expect(acc >= 0.9, "accuracy \(acc)")
    #expect(result.iterations == 100 * 13)
  }

  @Test("Full-batch Adam on a convex problem approaches the Newton solution")
  func fullBatchConvex() {
    let data = SyntheticProblems.binary(count: 300, features: 5, seed: 2)
    let objective = Objective(
      model: LogisticRegression(featureCount: 5), features: data.features, targets: data.targets,
      regularization: 1e-2)
    let adam = Training.Adam(learningRate: 0.05, epochs: 3000).train(objective)
    let newton = Training.Newton().train(objective)
    #expect(adam.parameters.isApproximatelyEqual(to: newton.parameters, relativeTolerance: 1e-3))
  }
}

@Suite("Training.LBFGS")
struct LBFGSTrainerTests {
  @Test(
    "Smooth MLP: L-BFGS reaches a near-stationary point",
    arguments: [MultilayerPerceptron.Activation.tanh, .sigmoid])
  func mlpNearStationary(activation: MultilayerPerceptron.Activation) {
    let (train, _) = SyntheticProblems.hospital()
    let objective = Objective(
      model: MultilayerPerceptron(layerSizes: [2, 8, 1], hiddenActivation: activation),
      features: train.features, targets: train.targets, regularization: 1e-3)
    let result = Training.LBFGS(gradientTolerance: 1e-7, maximumIterations: 5000, seed: 1).train(
      objective)
    #expect(
      result.converged,
      "\(activation): \(result.gradientNorm) after \(result.iterations), \(result.notes)")
  }

  @Test("ReLU MLP (not twice differentiable at kinks): the result states whether it converged")
  func reluReportsHonestly() {
    let (train, _) = SyntheticProblems.hospital()
    let objective = Objective(
      model: MultilayerPerceptron(layerSizes: [2, 8, 1], hiddenActivation: .relu),
      features: train.features, targets: train.targets, regularization: 1e-3)
    let result = Training.LBFGS(gradientTolerance: 1e-7, maximumIterations: 5000, seed: 1).train(
      objective)
    #expect(result.converged == (result.gradientNorm <= result.gradientTolerance))
    #expect(result.converged || !result.notes.isEmpty || result.iterations == 5000)
    #expect(abs(objective.gradientNorm(at: result.parameters) - result.gradientNorm) <= 1e-12)
  }

  @Test("Softmax regression: agrees with Newton")
  func softmaxAgreesWithNewton() {
    let data = SyntheticProblems.multiclass(count: 400, features: 5, classes: 3, seed: 9)
    let objective = Objective(
      model: SoftmaxRegression(featureCount: 5, classCount: 3), features: data.features,
      targets: data.targets, regularization: 1e-3)
    let a = Training.LBFGS().train(objective)
    let b = Training.Newton().train(objective)
    #expect(a.converged && b.converged)
    #expect(a.parameters.isApproximatelyEqual(to: b.parameters, relativeTolerance: 1e-6))
  }
}
