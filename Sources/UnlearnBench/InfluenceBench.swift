import Foundation
import Unlearning

/// `bench --only influence`: influence of all 12,000 Fashion-MNIST 0-vs-6 training samples on
/// one test point (d = 784, lambda = 1e-3), per IHVP solver, with the fit, the IHVP and the
/// scoring pass timed separately; medians (and the minimum) over `repeats` runs.
package enum InfluenceBench {
  package static func run(repeats: Int, into report: inout BenchReport) throws {
    FileHandle.standardError.write(
      Data("bench: influence (Fashion-MNIST 0 vs 6, all training samples)\n".utf8))
    let train = try Scenario.FashionMNIST.load(split: .train, classes: [0, 6])
    let test = try Scenario.FashionMNIST.load(split: .test, classes: [0, 6], limit: 1, seed: 1)
    let point = Influence.TestPoint(features: test.features.row(0), target: test.targets[0])
    var runs = [[Influence.Benchmark.Row]]()
    for _ in 0..<repeats {
      runs.append(
        try Influence.Benchmark.run(train: train, testPoint: point, regularization: 1e-3))
    }
    func median(_ values: [Double]) -> Double {
      let s = values.sorted()
      return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }
    for (i, row) in runs[0].enumerated() {
      let samples = runs.map { $0[i] }
      let seconds = samples.map { $0.ihvpSeconds + $0.scoringSeconds }
      report.rows.append(
        BenchRow(
          group: "influence", name: "all \(train.count) samples, 1 test point: \(row.solver)",
          medianSeconds: median(seconds), minimumSeconds: seconds.min() ?? .nan,
          maximumSeconds: seconds.max(),
          samples: repeats,
          figures: [
            "fit s": median(samples.map(\.fitSeconds)),
            "ihvp s": median(samples.map(\.ihvpSeconds)),
            "scoring s": median(samples.map(\.scoringSeconds)),
            "iterations": Double(row.iterations),
            "deviation from direct": row.relativeDeviationFromReference,
          ]))
    }
  }
}
