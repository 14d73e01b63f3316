import Foundation
import Testing
import TestSupport
import Unlearning

/// Newton removal on networks never diverges: every accepted step decreases the retained
/// gradient norm, measured here from scratch on the retained rows (never from the report).
@Suite("Newton removal safeguard")
struct NewtonSafeguardTests {
  /// The retained gradient norm at `theta`, from the retained rows alone.
  static func retainedResidual(
    _ state: TrainedModel<MultilayerPerceptron>, forgetting ids: [SampleID], at theta: [Double]
  ) throws -> Double {
    let forget = Set(ids)
    let keep = state.data.ids.filter { !forget.contains($0) }
    let retained = try state.data.subset(ids: keep)
    let objective = Objective(
      model: state.model, features: retained.features, targets: retained.targets,
      regularization: state.regularization)
    return objective.gradientNorm(at: theta)
  }

  /// The digits-like 64-128-10 ReLU network with 10% forgotten: the Gauss-Newton removal ends
  /// at or below the do-nothing residual, each report's residual matches a from-scratch
  /// measurement, and the safeguard is what makes the difference (the unsafeguarded steps are
  /// measured too and printed).
  @Test func gaussNewtonRemovalNeverEndsAboveDoingNothing() throws {
    let data = try Dataset.digitsLike(count: 1437, seed: 3)
    let model = MultilayerPerceptron(layerSizes: [64, 128, 10], hiddenActivation: .relu)
    let original = try TrainedModel.train(
      model: model, data: data, regularization: 1e-4,
      trainer: Training.LBFGS(gradientTolerance: 1e-6, maximumIterations: 400, seed: 1))
    var generator = SeededGenerator(seed: 9)
    let forget = Array(data.ids.shuffled(using: &generator).prefix(144))
    let nothing = try Self.retainedResidual(original, forgetting: forget, at: original.parameters)

    for solver in [
      NewtonSolver.preferred(for: model),
      .conjugateGradient(tolerance: 1e-10, maximumIterations: 50),
    ] {
      let safe = try NewtonRemoval(solver: solver, curvature: .gaussNewton, steps: 3)
        .unlearn(original, forgetting: forget)
      let measured = try Self.retainedResidual(
        original, forgetting: forget, at: safe.state.parameters)
      let full = try NewtonRemoval(
        solver: solver, curvature: .gaussNewton, steps: 3, stepControl: .full
      ).unlearn(original, forgetting: forget)
      let fullMeasured = try Self.retainedResidual(
        original, forgetting: forget, at: full.state.parameters)
      print(
        "digits-like 64-128-10, \(solver.name): do nothing \(nothing), safeguarded \(measured) (\(safe.report.notes.joined(separator: "; "))), unsafeguarded \(fullMeasured)"
      )
      #expect(measured <= nothing)
      // The case is adversarial: without the safeguard the same steps diverge.
      #expect(fullMeasured > 10 * nothing)
      #expect(
        Swift.abs(measured - safe.report.gradientResidualNorm) <= 1e-8 * Swift.max(1, nothing))
      // Test accuracy of the safeguarded model stays near the original's (the divergence this
      // guards against dropped it from 97% to 31%).
      #expect(safe.state.accuracy(on: data) >= original.accuracy(on: data) - 0.05)
    }
  }
}
