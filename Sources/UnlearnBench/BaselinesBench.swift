import Foundation
import Unlearning

/// The `baselines` group: each removal method's time against a full retrain on the same
/// state, in the same run (medians over `repeats`), on a digits-like problem (1,400 x 64):
/// a 64-20-1 tanh network (binary: even vs odd digit class) and a logistic regression; plus
/// SISA's removal speed-up against a full retrain of its ensemble at S = 8.
package enum BaselinesBench {
  package static func run(repeats: Int, into report: inout BenchReport) throws {
    let tenClass = try Dataset.digitsLike(count: 1400, seed: 5)
    // Binary task: even vs odd class index.
    let data = try Dataset(
      features: tenClass.features, labels: tenClass.labels.map { $0 % 2 }, classCount: 2,
      name: "digits-like even/odd")
    // The first-order baselines, with their default settings (20 epochs for the ascent ones).
    let firstOrder: [(String, any Unlearner)] = [
      ("gradient ascent", Baselines.GradientAscent(epochs: 20)),
      ("neggrad+", Baselines.NegGradPlus(epochs: 20)),
      ("finetune", Baselines.FineTune()),
      ("scrub", Baselines.SCRUB()),
      ("fisher", Baselines.FisherForgetting()),
    ]
    var order = SeededGenerator(seed: 17)
    let forget = Array(data.ids.shuffled(using: &order).prefix(14))

    let network = MultilayerPerceptron(layerSizes: [64, 20, 1], hiddenActivation: .tanh)
    benchProgress("baselines: training the 64-20-1 network (p = \(network.parameterCount))")
    let networkTrainer = Training.LBFGS(gradientTolerance: 1e-6, maximumIterations: 3000, seed: 3)
    let networkState = try TrainedModel.train(
      model: network, data: data, regularization: 1e-3, trainer: networkTrainer)
    try compare(
      label: "mlp 64-20-1", state: networkState, forget: forget, repeats: repeats,
      retrain: Retrain(trainer: networkTrainer, seed: 3),
      methods: [
        (
          "newton (Gauss-Newton, 3 safeguarded steps, \(NewtonSolver.preferred(for: network).name))",
          NewtonRemoval(
            solver: .preferred(for: network), curvature: .gaussNewton, steps: 3, inexactSteps: true)
        )
      ] + firstOrder, into: &report)

    let logistic = LogisticRegression(featureCount: 64)
    benchProgress("baselines: training logistic regression")
    let logisticState = try TrainedModel.train(
      model: logistic, data: data, regularization: 1e-3,
      trainer: Training.Newton(gradientTolerance: 1e-10))
    try compare(
      label: "logistic", state: logisticState, forget: forget, repeats: repeats,
      retrain: Retrain(trainer: Training.Newton(gradientTolerance: 1e-10)),
      methods: [
        ("newton (1 step, Cholesky)", NewtonRemoval())
      ] + firstOrder, into: &report)

    // SISA at S = 8, R = 4: one deletion retrains one shard from its last unaffected
    // checkpoint; the reference is training the whole ensemble again.
    benchProgress("baselines: SISA S = 8")
    let layout = SISA.Layout(ids: data.ids, shardCount: 8, sliceCount: 4, seed: 1)
    let ensemble = try SISA.Ensemble.train(
      model: logistic, data: data, layout: layout, regularization: 1e-3)
    let one = [forget[0]]
    let removal = try timeMedian(repeats: repeats) { _ = try ensemble.removing(ids: one) }
    let full = try timeMedian(repeats: repeats) {
      _ = try SISA.Ensemble.train(
        model: logistic, data: data, layout: layout, removedIDs: Set(one), regularization: 1e-3)
    }
    let monolithic = try timeMedian(repeats: repeats) {
      _ = try Retrain(trainer: Training.Newton(gradientTolerance: 1e-10)).unlearn(
        logisticState, forgetting: one)
    }
    report.rows.append(
      BenchRow(
        group: "baselines", name: "sisa S=8 R=4 logistic: remove 1 sample",
        medianSeconds: removal.median, minimumSeconds: removal.minimum,
        maximumSeconds: removal.maximum, samples: repeats,
        figures: [
          "speed-up vs ensemble retrain": full.median / removal.median,
          "vs monolithic retrain": monolithic.median / removal.median,
        ]))
  }

  static func compare<Model: TwiceDifferentiableModel>(
    label: String, state: TrainedModel<Model>, forget: [SampleID], repeats: Int,
    retrain: Retrain, methods: [(String, any Unlearner)], into report: inout BenchReport
  ) throws {
    benchProgress("baselines: \(label): retrain")
    let reference = try timeMedian(repeats: repeats) {
      _ = try retrain.unlearn(state, forgetting: forget)
    }
    report.rows.append(
      BenchRow(
        group: "baselines", name: "\(label): retrain (\(forget.count) forgotten)",
        medianSeconds: reference.median, minimumSeconds: reference.minimum,
        maximumSeconds: reference.maximum, samples: repeats,
        figures: [
          "do-nothing residual": try Baselines.NaiveDeletion().unlearn(state, forgetting: forget)
            .report
            .gradientResidualNorm
        ]))
    for (name, method) in methods {
      benchProgress("baselines: \(label): \(name)")
      var residual = Double.nan
      let t = try timeMedian(repeats: repeats) {
        residual = try method.unlearn(state, forgetting: forget).report.gradientResidualNorm
      }
      report.rows.append(
        BenchRow(
          group: "baselines", name: "\(label): \(name)", medianSeconds: t.median,
          minimumSeconds: t.minimum, maximumSeconds: t.maximum, samples: repeats,
          figures: ["speed-up vs retrain": reference.median / t.median, "residual": residual]))
    }
  }
}
