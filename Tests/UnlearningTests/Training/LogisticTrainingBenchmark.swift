import Foundation
import Testing
import TestSupport
import Unlearning

/// Timing of the benchmark the CLI will run: binary logistic regression on 12,000 x 784,
/// lambda = 1e-4, to a sum-form gradient norm <= 1e-8 n. Prints; never asserts time.
/// Enabled with `UNLEARN_BENCH=1 swift test -c release --filter LogisticTrainingBenchmark`.
@Suite(
  "LogisticTrainingBenchmark",
  .enabled(if: ProcessInfo.processInfo.environment["UNLEARN_BENCH"] != nil))
struct LogisticTrainingBenchmark {
  /// Non-negative, correlated, row-normalised "pixel-like" features (harder than Gaussian).
  static func pixelLike(count n: Int, features d: Int, seed: UInt64) -> SyntheticProblem {
    var g = SeededGenerator(seed: seed)
    let prototypes = (0..<2).map { _ in (0..<d).map { _ in max(0, g.nextNormal() + 0.3) } }
    var x = Matrix(rows: n, columns: d)
    var y = [Double](repeating: 0, count: n)
    for i in 0..<n {
      let c = i % 2
      y[i] = Double(c)
      for j in 0..<d {
        x[i, j] = max(0, prototypes[c][j] * (0.5 + g.nextUniform()) + 0.6 * g.nextNormal())
      }
    }
    x.scaleRows(by: x.rowNorms().map { 1 / $0 })
    return SyntheticProblem(features: x, targets: y)
  }

  @Test(
    "12,000 x 784 logistic, lambda = 1e-4, tolerance 1e-8 n", arguments: ["gaussian", "pixel-like"])
  func newton(kind: String) {
    let data =
      kind == "gaussian"
      ? SyntheticProblems.binary(count: 12_000, features: 784, seed: 1)
      : Self.pixelLike(count: 12_000, features: 784, seed: 1)
    let objective = Objective(
      model: LogisticRegression(featureCount: 784), features: data.features, targets: data.targets,
      regularization: 1e-4)
    for trainer in [Training.Newton(gradientTolerance: 1e-8)] as [any Trainer] {
      let r = trainer.train(objective)
      print(
        "BENCH \(kind) \(r.method): \(r.seconds) s, \(r.iterations) iterations, gradient norm \(r.gradientNorm) (tolerance \(r.gradientTolerance)), converged \(r.converged), \(r.notes), threads \(BLASInfo.threadCount)"
      )
      #expect(r.converged)
    }
    let l = Training.LBFGS(gradientTolerance: 1e-8).train(objective)
    print(
      "BENCH \(kind) lbfgs: \(l.seconds) s, \(l.iterations) iterations, gradient norm \(l.gradientNorm), converged \(l.converged)"
    )
  }
}
