import Foundation
import Unlearning

/// `bench --only influence`: influence of all 12,000 Fashion-MNIST 0-vs-6 training samples on
/// one test point (d = 784, lambda = 1e-3), per IHVP solver, with the fit, the IHVP and the
/// scoring pass timed separately (one run each; the model is trained once).
package enum InfluenceBench {
  package static func run(into report: inout BenchReport) throws {
    FileHandle.standardError.write(
      Data("bench: influence (Fashion-MNIST 0 vs 6, all training samples)\n".utf8))
    let train = try FashionMNIST.load(split: .train, classes: [0, 6])
    let test = try FashionMNIST.load(split: .test, classes: [0, 6], limit: 1, seed: 1)
    let point = TestPoint(features: test.features.row(0), target: test.targets[0])
    for row in try InfluenceBenchmark.run(train: train, testPoint: point, regularization: 1e-3) {
      let seconds = row.ihvpSeconds + row.scoringSeconds
      report.rows.append(
        BenchRow(
          group: "influence", name: "all \(train.count) samples, 1 test point: \(row.solver)",
          medianSeconds: seconds, minimumSeconds: seconds, samples: 1,
          figures: [
            "fit s": row.fitSeconds, "ihvp s": row.ihvpSeconds, "scoring s": row.scoringSeconds,
            "iterations": Double(row.iterations),
            "deviation from direct": row.relativeDeviationFromReference,
          ]))
    }
  }
}
