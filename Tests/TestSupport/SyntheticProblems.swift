import Foundation
import Unlearning

/// A supervised problem: features, targets (as the model layer wants them), and a split.
public struct SyntheticProblem: Sendable {
  public var features: Matrix
  public var targets: [Double]

  public init(features: Matrix, targets: [Double]) {
    self.features = features
    self.targets = targets
  }

  public var count: Int { features.rows }
}

/// Seeded generators of small classification and regression problems.
public enum SyntheticProblems {
  /// Gaussian features, rows L2-normalised to `||x|| = 1` when `normalizeRows`, labels from a
  /// logistic model with a random `scale`-sized true parameter (0/1 targets).
  public static func binary(
    count n: Int, features d: Int, seed: UInt64, scale: Double = 4, normalizeRows: Bool = true
  ) -> SyntheticProblem {
    var g = SeededGenerator(seed: seed)
    var x = Matrix(rows: n, columns: d, elements: g.normalVector(count: n * d))
    if normalizeRows { x.scaleRows(by: x.rowNorms().map { $0 > 0 ? 1 / $0 : 0 }) }
    let truth = g.normalVector(count: d, standardDeviation: scale / Double(d).squareRoot())
    let z = x.multiply(truth)
    let y = z.map { t -> Double in
      let p = 1 / (1 + exp(-t * (normalizeRows ? Double(d).squareRoot() : 1)))
      return g.nextUniform() < p ? 1 : 0
    }
    return SyntheticProblem(features: x, targets: y)
  }

  /// `K` Gaussian clusters in `d` dimensions (targets 0 ..< K as doubles).
  public static func multiclass(count n: Int, features d: Int, classes k: Int, seed: UInt64)
    -> SyntheticProblem
  {
    var g = SeededGenerator(seed: seed)
    let centers = (0..<k).map { _ in g.normalVector(count: d) }
    var rows: [[Double]] = []
    var y: [Double] = []
    for i in 0..<n {
      let c = i % k
      rows.append(centers[c].adding(g.normalVector(count: d, standardDeviation: 1.5)))
      y.append(Double(c))
    }
    return SyntheticProblem(features: Matrix(rowArrays: rows), targets: y)
  }

  /// `y = x^T w + noise` with Gaussian `x` and `w`.
  public static func regression(count n: Int, features d: Int, seed: UInt64, noise: Double = 0.1)
    -> SyntheticProblem
  {
    var g = SeededGenerator(seed: seed)
    let x = Matrix(rows: n, columns: d, elements: g.normalVector(count: n * d))
    let w = g.normalVector(count: d)
    var y = x.multiply(w)
    for i in y.indices { y[i] += noise * g.nextNormal() }
    return SyntheticProblem(features: x, targets: y)
  }

  /// The hospital demo's hospital: `count` patients, half healthy (age ~ N(40, 10), glucose ~
  /// N(100, 15), label 0), half diabetic (age ~ N(55, 12), glucose ~ N(150, 20), label 1);
  /// features `((age - 47.5) / 50, (glucose - 125) / 100)`; shuffled with the same generator,
  /// then the first `trainCount` rows train and the rest test.
  public static func hospital(count: Int = 500, trainCount: Int = 400, seed: UInt64 = 42) -> (
    train: SyntheticProblem, test: SyntheticProblem
  ) {
    var g = SeededGenerator(seed: seed)
    var rows: [([Double], Double)] = []
    for i in 0..<count {
      let diabetic = i >= count / 2
      let age =
        diabetic
        ? g.nextNormal(mean: 55, standardDeviation: 12)
        : g.nextNormal(mean: 40, standardDeviation: 10)
      let glucose =
        diabetic
        ? g.nextNormal(mean: 150, standardDeviation: 20)
        : g.nextNormal(mean: 100, standardDeviation: 15)
      rows.append(([(age - 47.5) / 50, (glucose - 125) / 100], diabetic ? 1 : 0))
    }
    rows.shuffle(using: &g)
    func problem(_ slice: ArraySlice<([Double], Double)>) -> SyntheticProblem {
      SyntheticProblem(features: Matrix(rowArrays: slice.map { $0.0 }), targets: slice.map { $0.1 })
    }
    return (problem(rows[..<trainCount]), problem(rows[trainCount...]))
  }
}
