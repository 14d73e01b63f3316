import Foundation
import Unlearning

/// `bench --only forget-score`: the NeurIPS 2023 challenge forget score as `unlearn evaluate`
/// computes it for logistic regression on Fashion-MNIST 0 vs 6 (n = 12,000, d = 784, rows
/// L2-normalised, lambda = 1e-3), 20 random forget examples, the methods naive, gradient
/// ascent, NegGrad+ and Newton removal, `N` model pairs (the challenge's 512 by default) in the
/// paired design with warm starts, pairs run in parallel on every processor. One run: the
/// wall-clock seconds of ``ForgetScore/Experiment/run(progress:)``, with seconds per pair and
/// the scores as figures.
package enum ForgetScoreBench {
  package static func run(modelCount: Int, into report: inout BenchReport) throws {
    benchProgress("forget score: loading Fashion-MNIST 0 vs 6")
    let train = try fashionMNISTPair()
    let test = try Scenario.FashionMNIST.load(split: .test, classes: [0, 6], normalizeRows: true)
    let forget = try ForgetScore.randomForgetSet(train, count: 20, seed: 42 &+ 0x5eed)
    let model = LogisticRegression(featureCount: train.featureCount)
    let methods: [any Unlearner] = [
      Baselines.NaiveDeletion(), Baselines.GradientAscent(), Baselines.NegGradPlus(beta: 0.9),
      NewtonRemoval(),
    ]
    let experiment = ForgetScore.Experiment(
      model: model, trainer: Training.Newton(gradientTolerance: 1e-10),
      regularization: CertifiedBench.lambda, train: train, test: test, forget: forget,
      methods: methods, modelCount: modelCount, seed: 42)
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try experiment.run { benchProgress($0) }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    var figures: [String: Double] = [
      "model pairs N": Double(modelCount),
      "seconds per pair": seconds / Double(modelCount),
      "minutes": seconds / 60,
      "pairs in parallel": Double(experiment.parallelism),
      "F noise floor (retrain vs retrain)": result.noiseFloor.forgetScore,
    ]
    for row in result.rows { figures["F \(row.method)"] = row.forgetScore }
    report.rows.append(
      BenchRow(
        group: "forget-score",
        name:
          "forget score: logistic, Fashion-MNIST 0 vs 6, N = \(modelCount) pairs x (train, 4 methods, retrain, control retrain)",
        medianSeconds: seconds, minimumSeconds: seconds, samples: 1, figures: figures))
  }
}
