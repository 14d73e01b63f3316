import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("Baselines.SCRUB")
struct SCRUBTests {
  /// Mean over the rows of `KL(p_teacher || p_student)` for a two-class model, from the
  /// positive-class probabilities: `a log(a / b) + (1 - a) log((1 - a) / (1 - b))`.
  static func meanBinaryKL(teacher: Matrix, student: Matrix) -> Double {
    var total = 0.0
    for i in 0..<teacher.rows {
      let a = teacher[i, 1]
      let b = student[i, 1]
      total += a * log(a / b) + (1 - a) * log((1 - a) / (1 - b))
    }
    return total / Double(teacher.rows)
  }

  static func accuracy(_ model: MultilayerPerceptron, _ theta: [Double], _ data: Dataset) -> Double
  {
    let predicted = model.predictions(theta, features: data.features)
    return Double(zip(predicted, data.labels).filter { $0 == $1 }.count) / Double(data.count)
  }

  @Test(
    "Hospital MLP: the forget-set KL to the teacher grows, retain accuracy stays within 3 points")
  func forgetsSelectively() throws {
    let (train, test) = Scenario.Hospital.make(seed: 42)
    let model = MultilayerPerceptron(layerSizes: [2, 16, 1])
    let state = try TrainedModel.train(
      model: model, data: train, regularization: 1e-3,
      trainer: Training.LBFGS(gradientTolerance: 1e-7, maximumIterations: 2000, seed: 1))
    var g = SeededGenerator(seed: 2)
    let forget = Array(train.ids.shuffled(using: &g).prefix(40))
    let forgetData = try train.subset(ids: forget)
    let retainData = try train.removing(ids: forget)
    let method = Baselines.SCRUB(epochs: 10, maxSteps: 5, learningRate: 0.05, seed: 3)
    let result = try method.unlearn(state, forgetting: forget)
    let theta = result.state.parameters
    let forgetKL = Self.meanBinaryKL(
      teacher: model.probabilities(state.parameters, features: forgetData.features),
      student: model.probabilities(theta, features: forgetData.features))
    let retainKL = Self.meanBinaryKL(
      teacher: model.probabilities(state.parameters, features: retainData.features),
      student: model.probabilities(theta, features: retainData.features))
    // The student starts at the teacher (KL 0); the max-passes push the forget rows away: far
    // more than the same run without them (min-passes only), which stays near the teacher.
    let control = try Baselines.SCRUB(epochs: 10, maxSteps: 0, learningRate: 0.05, seed: 3).unlearn(
      state, forgetting: forget)
    let controlKL = Self.meanBinaryKL(
      teacher: model.probabilities(state.parameters, features: forgetData.features),
      student: model.probabilities(control.state.parameters, features: forgetData.features))
    #expect(forgetKL > 1e-4, "forget KL \(forgetKL)")
    #expect(forgetKL > 10 * controlKL, "forget KL \(forgetKL), without max-passes \(controlKL)")
    // Random patients are not memorised by this small network: the retained rows drift as much
    // as the forgotten ones (no selectivity to measure here).
    #expect(retainKL < 10 * forgetKL, "retain KL \(retainKL)")
    #expect(abs(result.report.details["forget KL to teacher"]! - forgetKL) <= 1e-9)
    #expect(abs(result.report.details["retain KL to teacher"]! - retainKL) <= 1e-9)
    let retainBefore = Self.accuracy(model, state.parameters, retainData)
    let retainAfter = Self.accuracy(model, theta, retainData)
    #expect(
      abs(retainAfter - retainBefore) <= 0.03, "retain accuracy \(retainBefore) -> \(retainAfter)")
    let testBefore = Self.accuracy(model, state.parameters, test)
    let testAfter = Self.accuracy(model, theta, test)
    #expect(abs(testAfter - testBefore) <= 0.05, "test accuracy \(testBefore) -> \(testAfter)")
    // Steps: 5 max-passes of ceil(40 / 32) = 2 batches, 10 min-passes of ceil(360 / 128) = 3.
    #expect(result.report.details["max steps"] == 10)
    #expect(result.report.details["min steps"] == 30)
  }

  @Test(
    "Without max-passes and with alpha = 0 Baselines.SCRUB is SGD on the task loss; regression is refused"
  )
  func degenerateSettings() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let logistic = LogisticRegression(featureCount: 2)
    let state = try TrainedModel.train(
      model: logistic, data: train, regularization: 1e-2, trainer: Training.Newton())
    let forget = Array(train.ids[0..<10])
    let result = try Baselines.SCRUB(
      epochs: 1, maxSteps: 0, learningRate: 0.1, momentum: 0, weightDecay: 0, gamma: 1,
      alpha: 0, retainBatchSize: 1000
    ).unlearn(state, forgetting: forget)
    // One full-batch step on the mean retained loss, computed independently.
    let kept = try train.removing(ids: forget)
    let gradient = logistic.perSampleGradients(
      state.parameters, features: kept.features, targets: kept.targets)
    var expected = state.parameters
    for j in expected.indices {
      var s = 0.0
      for i in 0..<kept.count { s += gradient[i, j] }
      expected[j] -= 0.1 * s / Double(kept.count)
    }
    #expect(result.state.parameters.isApproximatelyEqual(to: expected, relativeTolerance: 1e-12))
    let ridge = try TrainedModel.train(
      model: RidgeRegression(featureCount: 2), data: train, regularization: 1e-2,
      trainer: Training.Newton())
    #expect {
      try Baselines.SCRUB().unlearn(ridge, forgetting: forget)
    } throws: { error in
      guard case UnlearningError.unsupported = error else { return false }
      return true
    }
    // A bad request is reported as such even for an unsupported model.
    #expect(throws: UnlearningError.unknownID(SampleID(1))) {
      try Baselines.SCRUB().unlearn(ridge, forgetting: [SampleID(1)])
    }
  }
}
