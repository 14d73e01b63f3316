import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("Fisher forgetting")
struct FisherForgettingTests {
  /// The mean-form Fisher diagonal from one single-row gradient at a time: the empirical kind
  /// squares the gradient at the observed label, the expected kind averages the squared
  /// gradients over every label weighted by the model's probabilities.
  static func independentFisher<Model: TwiceDifferentiableModel>(
    _ model: Model, _ theta: [Double], _ data: Dataset, rows: [Int], expected: Bool
  ) -> [Double] {
    var f = [Double](repeating: 0, count: model.parameterCount)
    for i in rows {
      let x = Matrix(rows: 1, columns: data.featureCount, elements: data.features.row(i))
      let p = model.probabilities(theta, features: x)
      let labels = expected ? Array(0..<model.outputClassCount) : [data.labels[i]]
      for k in labels {
        let g = model.lossAndGradient(theta, features: x, targets: [Double(k)], weights: nil)
          .gradient
        let w = expected ? p[0, k] : 1
        for j in g.indices { f[j] += w * g[j] * g[j] }
      }
    }
    return f.map { $0 / Double(rows.count) }
  }

  static func check<Model: TwiceDifferentiableModel>(
    _ model: Model, _ theta: [Double], _ data: Dataset, forget: [SampleID]
  ) throws {
    let weights = try data.weights(removing: forget)
    let kept = weights.indices.filter { weights[$0] != 0 }
    for expected in [false, true] {
      let oracle = independentFisher(model, theta, data, rows: kept, expected: expected)
      let computed = Baselines.FisherForgetting.fisherDiagonal(
        model: model, parameters: theta, features: data.features.rows(at: kept),
        targets: kept.map { Double(data.labels[$0]) },
        information: expected ? .expected : .empirical, blockRows: 37)
      #expect(computed.isApproximatelyEqual(to: oracle, relativeTolerance: 1e-12))
      #expect(oracle.allSatisfy { $0 > 0 })
    }
  }

  @Test("Fisher diagonal equals the mean of squared single-row gradients (logistic, softmax, MLP)")
  func fisherDiagonal() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let forget = Array(train.ids[10..<30])
    let logistic = LogisticRegression(featureCount: 2, fitsIntercept: true)
    try Self.check(logistic, [1.5, 2.5, -0.3], train, forget: forget)
    let mlp = MultilayerPerceptron(layerSizes: [2, 4, 1])
    try Self.check(mlp, mlp.initialParameters(seed: 4), train, forget: forget)
    let multi = SyntheticProblems.multiclass(count: 150, features: 4, classes: 3, seed: 5)
    let data = try Dataset(features: multi.features, labels: multi.targets.map { Int($0) })
    var g = SeededGenerator(seed: 6)
    let softmax = SoftmaxRegression(featureCount: 4, classCount: 3)
    try Self.check(softmax, g.normalVector(count: 12), data, forget: Array(data.ids[0..<9]))
    let wide = MultilayerPerceptron(layerSizes: [4, 5, 3], hiddenActivation: .relu)
    try Self.check(wide, wide.initialParameters(seed: 7), data, forget: Array(data.ids[0..<9]))
  }

  @Test("Noise variance per coordinate is alpha / F_jj, capped at alpha * 1e3 (2,000 seeds)")
  func noiseVariance() throws {
    // Hospital plus a third feature that is zero for every retained row: F_22 = 0 (capped).
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let forget = Array(train.ids[0..<40])
    var x = Matrix(rows: train.count, columns: 3)
    for i in 0..<train.count {
      x[i, 0] = train.features[i, 0]
      x[i, 1] = train.features[i, 1]
      x[i, 2] = i < 40 ? 0.5 : 0
    }
    let data = try Dataset(features: x, labels: train.labels, ids: train.ids)
    let model = LogisticRegression(featureCount: 3, fitsIntercept: true)
    let state = try TrainedModel.train(
      model: model, data: data, regularization: 1e-2, trainer: Training.Newton())
    let alpha = 1e-3
    let kept = Array(40..<train.count)
    let fisher = Self.independentFisher(model, state.parameters, data, rows: kept, expected: false)
    #expect(fisher[2] == 0)
    let variances = fisher.map { alpha * Swift.min(1 / ($0 + 1e-8), 1e3) }
    #expect(variances[2] == alpha * 1e3)
    #expect(variances[0] < alpha * 1e3 && variances[1] < alpha * 1e3 && variances[3] < alpha * 1e3)
    let draws = 2000
    var sum = [Double](repeating: 0, count: 4)
    var squares = sum
    for seed in 0..<draws {
      let result = try Baselines.FisherForgetting(alpha: alpha, seed: UInt64(seed)).unlearn(
        state, forgetting: forget)
      for j in 0..<4 {
        let e = result.state.parameters[j] - state.parameters[j]
        sum[j] += e
        squares[j] += e * e
      }
      if seed == 0 { #expect(result.report.details["clamped coordinates"] == 1) }
    }
    for j in 0..<4 {
      let mean = sum[j] / Double(draws)
      let variance = squares[j] / Double(draws) - mean * mean
      // Sample variance of 2,000 normal draws: relative standard error sqrt(2 / 2000) ~ 3%.
      #expect(
        abs(variance / variances[j] - 1) < 0.15, "coordinate \(j): \(variance) vs \(variances[j])")
      #expect(abs(mean) < 5 * (variances[j] / Double(draws)).squareRoot())
    }
    // Same seed, same draw; another seed, another draw.
    let a = try Baselines.FisherForgetting(alpha: alpha, seed: 3).unlearn(state, forgetting: forget)
    let b = try Baselines.FisherForgetting(alpha: alpha, seed: 3).unlearn(state, forgetting: forget)
    let c = try Baselines.FisherForgetting(alpha: alpha, seed: 4).unlearn(state, forgetting: forget)
    #expect(a.state.parameters == b.state.parameters)
    #expect(a.state.parameters != c.state.parameters)
  }

  @Test("noiseVariances applies the stated formula")
  func formula() {
    let method = Baselines.FisherForgetting(alpha: 2e-6, maximumInverseFisher: 50)
    let v = method.noiseVariances(fisherDiagonal: [0, 1e-3, 0.5, 4])
    #expect(v[0] == 2e-6 * 50)
    #expect(v[1] == 2e-6 * 50)
    #expect(abs(v[2] - 2e-6 / (0.5 + 1e-8)) <= 1e-22)
    #expect(abs(v[3] - 2e-6 / (4 + 1e-8)) <= 1e-22)
  }
}
