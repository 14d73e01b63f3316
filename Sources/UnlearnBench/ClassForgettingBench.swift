import Foundation
import Unlearning

/// `bench --only class-forgetting`: forgetting a whole class of softmax regression on the full
/// Fashion-MNIST training set (60,000 x 784, 10 classes, rows L2-normalised, lambda = 1e-3 per
/// sample, class 5 forgotten: 6,000 rows).
///
/// In one run: the original model and the retrain by L-BFGS from zero (memory 20, to
/// `||grad|| <= 1e-9 n`, as `compare` trains softmax); then, from the original parameters,
/// iterated Newton removal with Armijo backtracking and Eisenstat-Walker inexact CG solves,
/// (a) sub-sampled (curvature products on 2,000 retained rows, exact gradients; stopped when
/// the retained optimum is provably within `1e-4` of the distance travelled) and (b) with the
/// exact curvature to `||grad|| <= 1e-9 n_R` (Docs/Math.md sections 3.5 and 3.7); and L-BFGS
/// warm-started at the original parameters. Each row gives the wall-clock seconds, `rho = ||theta - theta_r|| /
/// ||theta_o - theta_r||` against the retrain, the final residual, and the speed-up over the
/// retrain; the Newton rows also give each step's cumulative seconds and residual.
package enum ClassForgettingBench {
  package static func run(into report: inout BenchReport) throws {
    benchProgress("class forgetting: loading Fashion-MNIST (all 10 classes)")
    let data = try Scenario.FashionMNIST.load(split: .train, normalizeRows: true)
    let lambda = 1e-3  // compare's default, per sample
    let forgotten = 5
    let model = SoftmaxRegression(featureCount: data.featureCount, classCount: data.classCount)
    let trainer = Training.LBFGS(memory: 20, gradientTolerance: 1e-9, maximumIterations: 20_000)
    benchProgress("class forgetting: training the original model (L-BFGS)")
    let (original, trainSeconds) = try timed {
      try TrainedModel.train(model: model, data: data, regularization: lambda, trainer: trainer)
    }
    let ids = zip(data.ids, data.labels).filter { $0.1 == forgotten }.map(\.0)
    benchProgress("class forgetting: retraining without class \(forgotten) (L-BFGS from zero)")
    let (retrain, retrainSeconds) = try timed {
      try Retrain(trainer: trainer).unlearn(original, forgetting: ids)
    }
    let thetaR = retrain.state.parameters
    let distance = original.parameters.subtracting(thetaR).norm()
    let prefix =
      "class forgetting: softmax 60000x784, 10 classes, class \(forgotten) (\(ids.count) rows)"
    report.rows.append(
      BenchRow(
        group: "class-forgetting", name: "\(prefix): original, L-BFGS from zero",
        medianSeconds: trainSeconds, minimumSeconds: trainSeconds, maximumSeconds: trainSeconds,
        samples: 1,
        figures: [
          "iterations": Double(original.training.iterations),
          "residual / n": original.training.gradientNorm / Double(data.count),
        ]))
    report.rows.append(
      BenchRow(
        group: "class-forgetting", name: "\(prefix): retrain, L-BFGS from zero",
        medianSeconds: retrainSeconds, minimumSeconds: retrainSeconds,
        maximumSeconds: retrainSeconds, samples: 1,
        figures: [
          "iterations": retrain.report.details["iterations"] ?? .nan,
          "residual / n_R": retrain.report.gradientResidualNorm / Double(data.count - ids.count),
        ]))

    let retainedCount = Double(data.count - ids.count)
    var subsampled = NewtonRemoval(
      solver: .conjugateGradient(tolerance: 1e-10, maximumIterations: 2000), steps: 30,
      stepControl: .objectiveDecrease, inexactSteps: true)
    subsampled.curvatureSampleRows = 2000
    subsampled.relativeDistanceTolerance = 1e-4
    let exact = NewtonRemoval(
      solver: .conjugateGradient(tolerance: 1e-10, maximumIterations: 2000), steps: 20,
      residualTolerance: 1e-9 * retainedCount, stepControl: .objectiveDecrease,
      inexactSteps: true)
    let variants: [(label: String, method: any Unlearner)] = [
      (
        "iterated sub-sampled Newton (curvature on 2000 rows, CG), to distance bound 1e-4",
        subsampled
      ),
      ("iterated Newton (exact curvature, CG), to 1e-9 n_R", exact),
    ]
    for variant in variants {
      benchProgress("class forgetting: \(variant.label)")
      let (result, seconds) = try timed { try variant.method.unlearn(original, forgetting: ids) }
      let rho = result.state.parameters.subtracting(thetaR).norm() / distance
      var figures: [String: Double] = [
        "rho vs retrain": rho,
        "residual / n_R": result.report.gradientResidualNorm / Double(data.count - ids.count),
        "speedup over retrain (same run)": retrainSeconds / seconds,
      ]
      for key in ["steps", "cg iterations"] {
        if let value = result.report.details[key] { figures[key] = value }
      }
      report.rows.append(
        BenchRow(
          group: "class-forgetting", name: "\(prefix): \(variant.label)",
          medianSeconds: seconds, minimumSeconds: seconds, maximumSeconds: seconds, samples: 1,
          figures: figures))
      for note in result.report.notes where note.contains("after each step") {
        benchProgress("class forgetting: \(variant.label): \(note)")
      }
    }
    benchProgress("class forgetting: L-BFGS warm-started at the original")
    let forgottenRows = Set(try data.rowIndices(of: ids))
    let retained = Objective(
      model: model, features: data.features, targets: data.targets,
      weights: (0..<data.count).map { forgottenRows.contains($0) ? 0 : 1 }, regularization: lambda)
    let (warm, warmSeconds) = timed { trainer.train(retained, from: original.parameters) }
    report.rows.append(
      BenchRow(
        group: "class-forgetting", name: "\(prefix): L-BFGS warm-started at the original",
        medianSeconds: warmSeconds, minimumSeconds: warmSeconds, maximumSeconds: warmSeconds,
        samples: 1,
        figures: [
          "rho vs retrain": warm.parameters.subtracting(thetaR).norm() / distance,
          "residual / n_R": warm.gradientNorm / Double(data.count - ids.count),
          "speedup over retrain (same run)": retrainSeconds / warmSeconds,
          "iterations": Double(warm.iterations),
        ]))
    report.rows.append(
      BenchRow(
        group: "class-forgetting",
        name: "class forgetting: peak resident memory (VmHWM, whole process)",
        medianSeconds: 0, minimumSeconds: 0, samples: 1,
        figures: ["MiB": CertifiedBench.peakResidentMebibytes()]))
  }

  static func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
  }
}
