import Foundation
import TestSupport
import Unlearning

/// Seeded binary problems as datasets (rows normalised to ||x|| = 1, labels 0/1).
enum CertificationProblems {
  static func binary(count n: Int, features d: Int, seed: UInt64) throws -> Dataset {
    let problem = SyntheticProblems.binary(count: n, features: d, seed: seed)
    return try Dataset(features: problem.features, labels: problem.targets.map { Int($0) })
  }

  /// `n` distinct ids of `data` chosen by a seeded shuffle.
  static func randomIDs(_ data: Dataset, count: Int, seed: UInt64) -> [SampleID] {
    var g = SeededGenerator(seed: seed)
    return Array(data.ids.shuffled(using: &g).prefix(count))
  }

  /// `PrivacyParameters` with the given sigma and a budget of about `budget` (epsilon solved
  /// for under the exact calibration).
  static func privacy(sigma: Double, budget: Double, delta: Double = 1e-4) throws
    -> PrivacyParameters
  {
    try PrivacyParameters(
      epsilon: PrivacyParameters.GaussianProfile.largestEpsilon(
        delta: delta, sigma: sigma, sensitivity: budget),
      delta: delta, sigma: sigma)
  }
}

/// Independent oracle for one Newton step on the retained objective: dense Hessian, dense
/// Cholesky, the residual and both bounds computed from scratch.
struct NewtonStepOracle {
  var step: [Double]
  var tight: Double
  var guo: Double

  /// `rhs`: `.delta` (Guo) or the negative full gradient.
  init(
    model: LogisticRegression, data: Dataset, weights: [Double], regularization: Double,
    perturbation: [Double]?, theta: [Double], forgotten rows: [Int], useDelta: Bool,
    spectralNorm: Double
  ) throws {
    let objective = Objective(
      model: model, features: data.features, targets: data.targets, weights: weights,
      regularization: regularization, perturbation: perturbation)
    var rhs: [Double]
    if useDelta {
      // Delta = m lambda theta + sum_F grad loss_j, per sample: (sigma(z_j) - y_j) x_j.
      rhs = theta.scaled(by: Double(rows.count) * regularization)
      for j in rows {
        let x = data.features.row(j)
        let z = x.dot(theta)
        let r = 1 / (1 + Foundation.exp(-z)) - Double(data.labels[j])
        rhs.add(x, scaledBy: r)
      }
    } else {
      rhs = objective.gradient(at: theta).scaled(by: -1)
    }
    let h = objective.hessian(at: theta)
    step = try Cholesky(h).solve(rhs)
    var t = data.features.multiply(step)
    for i in t.indices where weights[i] == 0 { t[i] = 0 }
    let g3 = 1 / (6 * 3.0.squareRoot())
    tight = 0.5 * g3 * spectralNorm * t.map { $0 * $0 * $0 * $0 }.reduce(0, +).squareRoot()
    guo = 0.25 * spectralNorm * step.norm() * t.norm()
  }
}
