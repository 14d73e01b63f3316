import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("Fine-tuning")
struct FineTuneTests {
  /// An under-trained MLP on the hospital (40 full-batch GD steps), so fine-tuning has work.
  static func underTrained() throws -> TrainedModel<MultilayerPerceptron> {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    return try TrainedModel.train(
      model: MultilayerPerceptron(layerSizes: [2, 8, 1]), data: train, regularization: 1e-3,
      trainer: Training.GradientDescent(learningRate: 0.1, epochs: 40, seed: 2))
  }

  /// Mean loss over the rows whose ids are not in `removed`, from the per-sample losses.
  static func retainedMeanLoss(_ state: TrainedModel<MultilayerPerceptron>, _ theta: [Double])
    -> Double
  {
    let losses = state.model.losses(
      theta, features: state.data.features, targets: state.data.targets)
    let kept = state.data.ids.indices.filter { !state.removedIDs.contains(state.data.ids[$0]) }
    return kept.reduce(0) { $0 + losses[$1] } / Double(kept.count)
  }

  @Test("The retained loss decreases and the report says so")
  func retainedLossDecreases() throws {
    let state = try Self.underTrained()
    let forget = Array(state.data.ids[100..<140])
    let result = try Baselines.FineTune(epochs: 5, learningRate: 0.05).unlearn(
      state, forgetting: forget)
    let before = Self.retainedMeanLoss(result.state, state.parameters)
    let after = Self.retainedMeanLoss(result.state, result.state.parameters)
    #expect(after < 0.9 * before, "retained mean loss \(before) -> \(after)")
    #expect(abs(result.report.details["retained mean loss before"]! - before) <= 1e-12)
    #expect(abs(result.report.details["retained mean loss after"]! - after) <= 1e-12)
    #expect(result.report.details["steps"] == Double(5 * Int((360.0 / 64).rounded(.up))))
  }

  @Test("Forgotten rows are never read: garbage in them, or no rows at all, gives the same result")
  func forgottenRowsUntouched() throws {
    let state = try Self.underTrained()
    let data = state.data
    let forgetRows = Array(stride(from: 3, to: data.count, by: 9))
    let forget = forgetRows.map { data.ids[$0] }
    let method = Baselines.FineTune(epochs: 3, learningRate: 0.05, batchSize: 32, seed: 7)
    let reference = try method.unlearn(state, forgetting: forget)

    // 1. The forgotten rows' features and labels replaced by garbage.
    var g = SeededGenerator(seed: 8)
    var x = data.features
    var labels = data.labels
    for i in forgetRows {
      x[i, 0] = 50 * g.nextNormal()
      x[i, 1] = 50 * g.nextNormal()
      labels[i] = 1 - labels[i]
    }
    var garbage = state
    garbage.data = try Dataset(features: x, labels: labels, ids: data.ids)
    let fromGarbage = try method.unlearn(garbage, forgetting: forget)
    #expect(fromGarbage.state.parameters == reference.state.parameters)

    // 2. A data set physically without them (plus one dummy row, forgotten by the request).
    let reduced = try data.removing(ids: forget)
    var y = reduced.features
    y.appendRows(of: Matrix(rows: 1, columns: 2, elements: [9, -9]))
    let dummy = SampleID(99_999)
    var physical = state
    physical.data = try Dataset(
      features: y, labels: reduced.labels + [1], ids: reduced.ids + [dummy])
    physical.weights = [Double](repeating: 1, count: physical.data.count)
    let fromReduced = try method.unlearn(physical, forgetting: [dummy])
    #expect(fromReduced.state.parameters == reference.state.parameters)

    // A different seed gives a different batch order, hence different parameters.
    var other = method
    other.seed = 9
    #expect(
      try other.unlearn(state, forgetting: forget).state.parameters
        != reference.state.parameters)
  }
}
