import Foundation
import Testing
import TestSupport
import Unlearning

/// The shared contract of every unlearner, as one generic check.
enum UnlearnerContract {
  /// `||grad L_b(theta; R)||` recomputed from scratch: the retained rows are selected by
  /// `removedIDs` (not by the state's weights) and copied, the data gradient is one unweighted
  /// `lossAndGradient` on them, and `lambda n_R theta + b` is added by hand.
  static func residual<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) -> Double {
    let kept = state.data.ids.indices.filter { !state.removedIDs.contains(state.data.ids[$0]) }
    let x = state.data.features.rows(at: kept)
    let y = kept.map { Double(state.data.labels[$0]) }
    var g = state.model.lossAndGradient(state.parameters, features: x, targets: y, weights: nil)
      .gradient
    for j in g.indices {
      g[j] += state.regularization * Double(kept.count) * state.parameters[j]
      g[j] += state.perturbation?[j] ?? 0
    }
    return g.norm()
  }

  /// Every field of two states is identical (bit for bit).
  static func identical<Model: TwiceDifferentiableModel>(
    _ a: TrainedModel<Model>, _ b: TrainedModel<Model>
  ) -> Bool {
    a.parameters == b.parameters && a.weights == b.weights && a.removedIDs == b.removedIDs
      && a.perturbation == b.perturbation && a.training == b.training && a.data == b.data
      && a.regularization == b.regularization
  }

  /// Runs `method` through: unknown, duplicate, already-forgotten ids and a request that would
  /// leave nothing (each throws the named error and leaves the input untouched); the empty
  /// request (state unchanged bit for bit, 0 seconds); a real request of `ids` (ids marked
  /// removed, report residual equal to ``residual(_:)`` of the returned state).
  ///
  /// `state` must not have removed anything yet; `ids` must not contain `data.ids[0]`, which
  /// the check removes first (by ``Baselines/NaiveDeletion``) to test the already-forgotten case.
  static func check<Model: TwiceDifferentiableModel>(
    _ method: some Unlearner, on state: TrainedModel<Model>, forgetting ids: [SampleID],
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let gone = state.data.ids[0]
    precondition(!ids.contains(gone) && state.removedIDs.isEmpty)
    let after = try Baselines.NaiveDeletion().unlearn(state, forgetting: [gone]).state
    let copy = after
    let unknown = SampleID(Int.max)
    let (a, b) = (ids[0], ids[1])
    #expect(throws: UnlearningError.unknownID(unknown), sourceLocation: sourceLocation) {
      try method.unlearn(after, forgetting: [a, unknown])
    }
    #expect(throws: UnlearningError.duplicateID(a), sourceLocation: sourceLocation) {
      try method.unlearn(after, forgetting: [a, b, a])
    }
    #expect(throws: UnlearningError.alreadyForgotten(gone), sourceLocation: sourceLocation) {
      try method.unlearn(after, forgetting: [a, gone])
    }
    #expect(throws: UnlearningError.nothingLeft, sourceLocation: sourceLocation) {
      try method.unlearn(after, forgetting: after.data.ids.filter { $0 != gone })
    }
    #expect(
      identical(after, copy), "input changed by a failed request", sourceLocation: sourceLocation)

    let empty = try method.unlearn(after, forgetting: [])
    #expect(
      identical(empty.state, after), "\(method.name): empty request changed the state",
      sourceLocation: sourceLocation)
    #expect(
      empty.report.seconds == 0 && empty.report.forgottenCount == 0,
      sourceLocation: sourceLocation)
    #expect(empty.report.method == method.name, sourceLocation: sourceLocation)

    let result = try method.unlearn(after, forgetting: ids)
    #expect(identical(after, copy), "input changed by a request", sourceLocation: sourceLocation)
    #expect(result.state.removedIDs == after.removedIDs.union(ids), sourceLocation: sourceLocation)
    let zeroRows = Set(result.state.weights.indices.filter { result.state.weights[$0] == 0 })
    let expectedRows = Set(
      result.state.removedIDs.compactMap { result.state.data.rowIndex(of: $0) })
    #expect(zeroRows == expectedRows, sourceLocation: sourceLocation)
    #expect(result.report.forgottenCount == ids.count, sourceLocation: sourceLocation)
    #expect(result.report.method == method.name, sourceLocation: sourceLocation)
    #expect(result.state.parameters.allSatisfy { $0.isFinite }, sourceLocation: sourceLocation)
    let recomputed = residual(result.state)
    let reported = result.report.gradientResidualNorm
    #expect(
      abs(reported - recomputed) <= 1e-9 * Swift.max(1, recomputed),
      "\(method.name): reported residual \(reported), recomputed \(recomputed)",
      sourceLocation: sourceLocation)
    let before = residual(after)
    #expect(
      abs(result.report.trainingResidualNorm - before) <= 1e-9 * Swift.max(1, before),
      sourceLocation: sourceLocation)
  }
}

@Suite("Baseline unlearner contract")
struct BaselineContractTests {
  static func randomIDs(_ data: Dataset, count: Int, seed: UInt64) -> [SampleID] {
    var g = SeededGenerator(seed: seed)
    return Array(data.ids.dropFirst().shuffled(using: &g).prefix(count))
  }

  static let logisticMethods: [any Unlearner] = [
    SISA(shardCount: 4, sliceCount: 3), Baselines.FisherForgetting(alpha: 1e-4),
    Baselines.FineTune(), Baselines.SCRUB(),
  ]

  @Test("Logistic (hospital, intercept, with b): every new method keeps the contract")
  func logistic() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    var g = SeededGenerator(seed: 5)
    let state = try TrainedModel.train(
      model: LogisticRegression(featureCount: 2, fitsIntercept: true), data: train,
      regularization: 1e-2, perturbation: g.normalVector(count: 3, standardDeviation: 0.1),
      trainer: Training.Newton())
    let ids = Self.randomIDs(train, count: 20, seed: 6)
    for method in Self.logisticMethods {
      try UnlearnerContract.check(method, on: state, forgetting: ids)
    }
  }

  @Test("MLP (hospital, 2-6-1 tanh): every new method keeps the contract")
  func network() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let trainer = Training.LBFGS(gradientTolerance: 1e-6, maximumIterations: 200, seed: 3)
    let state = try TrainedModel.train(
      model: MultilayerPerceptron(layerSizes: [2, 6, 1]), data: train, regularization: 1e-3,
      trainer: trainer)
    let ids = Self.randomIDs(train, count: 15, seed: 7)
    let methods: [any Unlearner] = [
      SISA(
        shardCount: 3, sliceCount: 2, initializationSeed: 3,
        trainer: .lbfgs(Training.LBFGS(gradientTolerance: 1e-6, maximumIterations: 100, seed: 3))),
      Baselines.FisherForgetting(alpha: 1e-4, information: .expected),
      Baselines.FineTune(learningRate: 0.01),
      Baselines.SCRUB(learningRate: 0.01),
    ]
    for method in methods {
      try UnlearnerContract.check(method, on: state, forgetting: ids)
    }
  }

  @Test("Softmax (3 classes): every new method keeps the contract")
  func softmax() throws {
    let problem = SyntheticProblems.multiclass(count: 240, features: 4, classes: 3, seed: 8)
    let data = try Dataset(
      features: problem.features, labels: problem.targets.map { Int($0) }, classCount: 3)
    let state = try TrainedModel.train(
      model: SoftmaxRegression(featureCount: 4, classCount: 3), data: data,
      regularization: 1e-2, trainer: Training.Newton())
    let ids = Self.randomIDs(data, count: 12, seed: 9)
    for method in Self.logisticMethods + [Baselines.FisherForgetting(information: .expected)] {
      try UnlearnerContract.check(method, on: state, forgetting: ids)
    }
  }

  @Test("Method names are the stable table names")
  func names() {
    #expect(
      [
        SISA().name, Baselines.FisherForgetting().name, Baselines.FineTune().name,
        Baselines.SCRUB().name,
      ] == [
        "sisa", "fisher", "finetune", "scrub",
      ])
  }
}
