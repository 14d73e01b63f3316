import Foundation
import Testing
import TestSupport
import Unlearning

@Suite("SISA")
struct SISATests {
  static func randomIDs(_ data: Dataset, count: Int, seed: UInt64) -> [SampleID] {
    var g = SeededGenerator(seed: seed)
    return Array(data.ids.shuffled(using: &g).prefix(count))
  }

  static func multiclassData(seed: UInt64) throws -> Dataset {
    let problem = SyntheticProblems.multiclass(count: 360, features: 5, classes: 3, seed: seed)
    return try Dataset(
      features: problem.features, labels: problem.targets.map { Int($0) }, classCount: 3)
  }

  /// `max_j |a_j - b_j| / max(||b||_inf, 1e-300)` over every checkpoint of every shard.
  static func worstRelativeDifference(_ a: [[[Double]]], _ b: [[[Double]]]) -> Double {
    var worst = 0.0
    for (sa, sb) in zip(a, b) {
      for (ca, cb) in zip(sa, sb) {
        let scale = Swift.max(cb.map { abs($0) }.max() ?? 0, 1e-300)
        for (x, y) in zip(ca, cb) { worst = Swift.max(worst, abs(x - y) / scale) }
      }
    }
    return worst
  }

  @Test("Layout: a seeded partition, shard sizes within one, slices contiguous and balanced")
  func layout() {
    let ids = (0..<103).map { SampleID(500 + 3 * $0) }
    let layout = SISA.Layout(ids: ids, shardCount: 4, sliceCount: 3, seed: 9)
    #expect(layout == SISA.Layout(ids: ids, shardCount: 4, sliceCount: 3, seed: 9))
    #expect(layout != SISA.Layout(ids: ids, shardCount: 4, sliceCount: 3, seed: 10))
    let all = layout.slices.flatMap { $0.flatMap { $0 } }
    #expect(all.count == ids.count && Set(all) == Set(ids))
    let shardSizes = layout.slices.map { $0.reduce(0) { $0 + $1.count } }
    #expect(shardSizes.max()! - shardSizes.min()! <= 1)
    #expect(shardSizes.reduce(0, +) == 103)
    for shard in layout.slices {
      let sizes = shard.map(\.count)
      #expect(sizes.max()! - sizes.min()! <= 1)
    }
    // Not the identity order: the first shard's first slice is not a run of consecutive ids.
    #expect(layout.slices[0][0] != Array(ids.prefix(layout.slices[0][0].count)))
    let removed = layout.removing([ids[0], ids[50]])
    #expect(removed.ids.count == 101)
    #expect(removed.ids == layout.ids.filter { $0 != ids[0] && $0 != ids[50] })
  }

  /// Trains on D, deletes F, and compares with training from the start on D \ F with the same
  /// assignment; also checks which shards were retrained against the layout.
  static func checkExactness<Model: TwiceDifferentiableModel>(
    model: Model, data: Dataset, shards: Int, slices: Int, trainer: Training.Settings,
    regularization: Double, forget: [SampleID], tolerance: Double
  ) throws {
    let ensemble = try SISA.Ensemble.train(
      model: model, data: data, shardCount: shards, sliceCount: slices, layoutSeed: 11,
      regularization: regularization, trainer: trainer, initializationSeed: 4)
    let (after, report) = try ensemble.removing(ids: forget)
    let reference = try SISA.Ensemble.train(
      model: model, data: try data.removing(ids: forget),
      layout: ensemble.layout.removing(Set(forget)),
      regularization: regularization, trainer: trainer, initializationSeed: 4)
    let worst = worstRelativeDifference(after.checkpoints, reference.checkpoints)
    #expect(worst <= tolerance, "worst relative difference \(worst)")
    // Which shards hold F, and from which slice on, read off the layout directly.
    var earliest = [Int: Int]()
    for (s, shard) in ensemble.layout.slices.enumerated() {
      for (r, slice) in shard.enumerated() where slice.contains(where: forget.contains) {
        earliest[s] = Swift.min(earliest[s] ?? r, r)
      }
    }
    #expect(report.shardsRetrained == earliest.keys.sorted())
    #expect(report.slicesReplayed == earliest.values.reduce(0) { $0 + slices - $1 })
    #expect(report.forgottenCount == forget.count)
    for s in 0..<shards where earliest[s] == nil {
      #expect(after.checkpoints[s] == ensemble.checkpoints[s], "shard \(s) must be untouched")
    }
    for s in earliest.keys {
      #expect(after.shardParameters[s] != ensemble.shardParameters[s], "shard \(s) must move")
    }
    for (s, r) in earliest where r > 0 {
      #expect(
        Array(after.checkpoints[s][0..<r]) == Array(ensemble.checkpoints[s][0..<r]),
        "checkpoints before the earliest affected slice are kept")
    }
    #expect(after.removedIDs == Set(forget))
    #expect(ensemble.removedIDs.isEmpty, "the receiver is unchanged")
  }

  @Test("Exact: logistic (Newton), deleting F equals training on D \\ F with the same layout")
  func exactLogistic() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    try Self.checkExactness(
      model: LogisticRegression(featureCount: 2, fitsIntercept: true), data: train, shards: 4,
      slices: 3, trainer: .newton(Training.Newton()), regularization: 1e-2,
      forget: Self.randomIDs(train, count: 25, seed: 12), tolerance: 1e-10)
  }

  @Test("Exact: softmax (Newton), 3 classes")
  func exactSoftmax() throws {
    let data = try Self.multiclassData(seed: 13)
    try Self.checkExactness(
      model: SoftmaxRegression(featureCount: 5, classCount: 3), data: data, shards: 3, slices: 4,
      trainer: .newton(Training.Newton()), regularization: 1e-2,
      forget: Self.randomIDs(data, count: 10, seed: 14), tolerance: 1e-10)
  }

  @Test("Exact: MLP (L-BFGS, a deterministic trainer)")
  func exactNetwork() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    try Self.checkExactness(
      model: MultilayerPerceptron(layerSizes: [2, 4, 1]), data: train, shards: 2, slices: 3,
      trainer: .lbfgs(Training.LBFGS(gradientTolerance: 1e-6, maximumIterations: 60, seed: 1)),
      regularization: 1e-3, forget: Self.randomIDs(train, count: 6, seed: 15), tolerance: 1e-10)
  }

  @Test("Exact: ridge regression; the aggregate of a regression ensemble is the mean prediction")
  func exactRidge() throws {
    let problem = SyntheticProblems.regression(count: 240, features: 4, seed: 18, noise: 0.5)
    let labels = problem.targets.map { Int(Swift.min(Swift.max(($0 + 10).rounded(), 0), 19)) }
    let data = try Dataset(features: problem.features, labels: labels, classCount: 20)
    let model = RidgeRegression(featureCount: 4)
    try Self.checkExactness(
      model: model, data: data, shards: 3, slices: 2, trainer: .newton(Training.Newton()),
      regularization: 1e-2, forget: Self.randomIDs(data, count: 12, seed: 19), tolerance: 1e-10)
    for aggregation in SISA.Aggregation.allCases {
      let ensemble = try SISA.Ensemble.train(
        model: model, data: data, shardCount: 3, sliceCount: 1, layoutSeed: 1,
        regularization: 1e-2, aggregation: aggregation)
      let x = data.features
      let mean = ensemble.shardParameters.map { x.multiply($0) }.reduce(
        [Double](repeating: 0, count: x.rows)
      ) { $0.adding($1, scaledBy: 1.0 / 3) }
      #expect(
        ensemble.probabilities(x).elements.isApproximatelyEqual(to: mean, relativeTolerance: 1e-12))
      #expect(ensemble.predictions(x) == mean.map { Int($0.rounded()) })
    }
  }

  @Test("One deleted id retrains exactly one shard and replays R - r slices")
  func oneShard() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let ensemble = try SISA.Ensemble.train(
      model: LogisticRegression(featureCount: 2), data: train, shardCount: 8, sliceCount: 5,
      layoutSeed: 3, regularization: 1e-2)
    for (s, r) in [(0, 0), (5, 2), (7, 4)] {
      let id = ensemble.layout.slices[s][r][0]
      let (after, report) = try ensemble.removing(ids: [id])
      #expect(report.shardsRetrained == [s])
      #expect(report.slicesReplayed == 5 - r)
      #expect(after.activeShards == Array(0..<8))
    }
    // Two requests in a row: the second builds on the first.
    let first = try ensemble.removing(ids: [ensemble.layout.slices[1][1][0]]).ensemble
    let second = try first.removing(ids: [ensemble.layout.slices[2][0][0]])
    #expect(second.report.shardsRetrained == [2])
    #expect(second.ensemble.checkpoints[1] == first.checkpoints[1])
    #expect(second.ensemble.removedIDs.count == 2)
  }

  @Test("S = 1, R = 1 is a plain retrain (ensemble and Unlearner conformance)")
  func singleShardIsRetrain() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let model = LogisticRegression(featureCount: 2, fitsIntercept: true)
    let state = try TrainedModel.train(
      model: model, data: train, regularization: 1e-2, trainer: Training.Newton())
    let forget = Self.randomIDs(train, count: 30, seed: 16)
    let retrained = try Retrain().unlearn(state, forgetting: forget).state.parameters
    let sisa = try SISA(shardCount: 1, sliceCount: 1).unlearn(state, forgetting: forget)
    #expect(sisa.state.parameters.isApproximatelyEqual(to: retrained, relativeTolerance: 1e-8))
    #expect(sisa.report.details["shards retrained"] == 1)
    #expect(sisa.report.details["slices replayed"] == 1)
    let direct = try TrainedModel.train(
      model: model, data: try train.removing(ids: forget), regularization: 1e-2,
      trainer: Training.Newton())
    let ensemble = try SISA(shardCount: 1, sliceCount: 1).ensemble(for: state)
    let after = try ensemble.removing(ids: forget).ensemble
    #expect(
      after.shardParameters[0].isApproximatelyEqual(
        to: direct.parameters, relativeTolerance: 1e-8))
  }

  @Test("Aggregation: averaged probabilities and majority vote against per-shard predictions")
  func aggregation() throws {
    let data = try Self.multiclassData(seed: 17)
    let model = SoftmaxRegression(featureCount: 5, classCount: 3)
    var ensemble = try SISA.Ensemble.train(
      model: model, data: data, shardCount: 5, sliceCount: 2, layoutSeed: 1,
      regularization: 5e-2)
    let x = data.features
    let perShard = ensemble.shardParameters.map { model.probabilities($0, features: x) }
    let averaged = ensemble.probabilities(x)
    for i in 0..<x.rows {
      for k in 0..<3 {
        let mean = perShard.reduce(0) { $0 + $1[i, k] } / 5
        #expect(abs(averaged[i, k] - mean) <= 1e-14)
      }
    }
    ensemble.aggregation = .majorityVote
    let votes = ensemble.shardParameters.map { model.predictions($0, features: x) }
    let predicted = ensemble.predictions(x)
    for i in 0..<x.rows {
      var counts = [0, 0, 0]
      for v in votes { counts[v[i]] += 1 }
      let best = counts.firstIndex(of: counts.max()!)!
      #expect(predicted[i] == best)
    }
    // Accuracy is the fraction of matching labels.
    let correct = zip(predicted, data.labels).filter { $0 == $1 }.count
    #expect(ensemble.accuracy(on: data) == Double(correct) / Double(data.count))
  }

  @Test("A shard whose rows are all deleted stops voting")
  func emptiedShard() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let ensemble = try SISA.Ensemble.train(
      model: LogisticRegression(featureCount: 2), data: train, shardCount: 40, sliceCount: 2,
      layoutSeed: 2, regularization: 1e-2)
    let shard = ensemble.layout.slices[7].flatMap { $0 }
    let (after, report) = try ensemble.removing(ids: shard)
    #expect(report.shardsRetrained == [7])
    #expect(after.activeShards == (0..<40).filter { $0 != 7 })
    #expect(
      after.shardParameters[7] == [0, 0], "a shard with no rows keeps its initial parameters")
  }

  @Test("Bad requests throw like the other unlearners and leave the ensemble unchanged")
  func badRequests() throws {
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let ensemble = try SISA.Ensemble.train(
      model: LogisticRegression(featureCount: 2), data: train, shardCount: 2, sliceCount: 2,
      layoutSeed: 2, regularization: 1e-2)
    let (a, b) = (train.ids[3], train.ids[4])
    let after = try ensemble.removing(ids: [a]).ensemble
    #expect(throws: UnlearningError.unknownID(SampleID(1))) {
      try after.removing(ids: [b, SampleID(1)])
    }
    #expect(throws: UnlearningError.duplicateID(b)) { try after.removing(ids: [b, b]) }
    #expect(throws: UnlearningError.alreadyForgotten(a)) { try after.removing(ids: [b, a]) }
    #expect(throws: UnlearningError.nothingLeft) {
      try after.removing(ids: train.ids.filter { $0 != a })
    }
    let empty = try after.removing(ids: [])
    #expect(empty.ensemble.checkpoints == after.checkpoints)
    #expect(empty.report.shardsRetrained.isEmpty && empty.report.seconds == 0)
    #expect(after.removedIDs == [a])
    #expect(throws: UnlearningError.self) {
      try SISA.Ensemble.train(
        model: LogisticRegression(featureCount: 2), data: train, shardCount: 401, sliceCount: 1,
        layoutSeed: 0, regularization: 1e-2)
    }
  }

  @Test("Snapshot: JSON round trip with the data restores the ensemble; other data is refused")
  func snapshot() throws {
    let (train, test) = Scenario.Hospital.make(seed: 42)
    let ensemble = try SISA.Ensemble.train(
      model: MultilayerPerceptron(layerSizes: [2, 3, 1]), data: train, shardCount: 3,
      sliceCount: 2, layoutSeed: 5, regularization: 1e-3,
      trainer: .adam(Training.Adam(learningRate: 0.01, epochs: 20, batchSize: 32, seed: 2)),
      initializationSeed: 8, aggregation: .majorityVote)
    let (after, _) = try ensemble.removing(ids: [train.ids[10], train.ids[20]])
    let json = try JSONEncoder().encode(after.snapshot)
    let decoded = try JSONDecoder().decode(
      SISA.Snapshot<MultilayerPerceptron>.self, from: json)
    let restored = try SISA.Ensemble(snapshot: decoded, data: train)
    #expect(restored.checkpoints == after.checkpoints)
    #expect(restored.removedIDs == after.removedIDs)
    #expect(restored.layout == after.layout)
    #expect(restored.trainer == after.trainer)
    #expect(restored.aggregation == .majorityVote)
    #expect(restored.predictions(test.features) == after.predictions(test.features))
    // The restored ensemble keeps deleting exactly like the original.
    let next = try restored.removing(ids: [train.ids[30]]).ensemble
    let expected = try after.removing(ids: [train.ids[30]]).ensemble
    #expect(next.checkpoints == expected.checkpoints)
    #expect(throws: UnlearningError.self) {
      try SISA.Ensemble(snapshot: decoded, data: test)
    }
  }

  @Test("Training.Settings wraps the project's trainers, round-trips through JSON, trains alike")
  func trainerSettings() throws {
    struct Other: Trainer {
      func train<Model: TwiceDifferentiableModel>(_ objective: Objective<Model>, from: [Double]?)
        -> Training.Result
      { Training.Newton().train(objective, from: from) }
    }
    let adam = Training.Adam(learningRate: 0.02, epochs: 30, batchSize: 16, seed: 4)
    let settings: [Training.Settings] = [
      .newton(Training.Newton(gradientTolerance: 1e-11)),
      .lbfgs(Training.LBFGS(memory: 5, seed: 2)),
      .gradientDescent(Training.GradientDescent(epochs: 7)), .adam(adam),
    ]
    for setting in settings {
      #expect(Training.Settings(setting.trainer) == setting)
      let decoded = try JSONDecoder().decode(
        Training.Settings.self, from: try JSONEncoder().encode(setting))
      #expect(decoded == setting)
    }
    #expect(Training.Settings(Other()) == nil)
    #expect(Training.Settings(adam)?.seed == 4)
    let (train, _) = Scenario.Hospital.make(seed: 42)
    let objective = Objective(
      model: MultilayerPerceptron(layerSizes: [2, 3, 1]), features: train.features,
      targets: train.targets, regularization: 1e-3)
    #expect(
      Training.Settings.adam(adam).train(objective, from: nil).parameters
        == adam.train(objective, from: nil).parameters)
  }

  @Test("Sweep: S = 1 matches the monolithic model, one shard per single-id request")
  func sweep() throws {
    let (train, test) = Scenario.Hospital.make(seed: 42)
    let result = try SISA.sweep(
      model: LogisticRegression(featureCount: 2, fitsIntercept: true), train: train, test: test,
      regularization: 1e-2, trainer: .newton(Training.Newton()), shardCounts: [1, 4],
      sliceCount: 2, repeats: 2, seed: 3)
    #expect(result.rows.map(\.shardCount) == [1, 4])
    #expect(result.rows[0].ensembleAccuracy == result.monolithicAccuracy)
    #expect(result.rows.allSatisfy { $0.shardsRetrained == 1 })
    #expect(result.rows.allSatisfy { $0.unlearningSeconds > 0 && $0.trainingSeconds > 0 })
    #expect(result.retrainSeconds > 0)
  }
}

/// The shard sweep on the scenarios, printed (never asserted). Enabled with
/// `UNLEARN_SISA_SWEEP=1 swift test -c release --filter SISASweepBenchmark`.
@Suite(
  "SISASweepBenchmark",
  .enabled(if: ProcessInfo.processInfo.environment["UNLEARN_SISA_SWEEP"] != nil))
struct SISASweepBenchmark {
  static func print(_ title: String, _ sweep: SISA.Sweep) {
    Swift.print(
      "\(title): monolithic accuracy \(String(format: "%.4f", sweep.monolithicAccuracy)), "
        + "full retrain \(String(format: "%.4g", sweep.retrainSeconds)) s (median of \(sweep.repeats))"
    )
    Swift.print("  S   R   accuracy   train s   unlearn s   speed-up   shards   slices")
    for row in sweep.rows {
      Swift.print(
        String(
          format: "  %-3d %-3d %.4f     %-9.4g %-11.4g %-10.3g %-8.2g %.2g", row.shardCount,
          row.sliceCount, row.ensembleAccuracy, row.trainingSeconds, row.unlearningSeconds,
          sweep.retrainSeconds / row.unlearningSeconds, row.shardsRetrained, row.slicesReplayed))
    }
  }

  @Test("Hospital: logistic and MLP")
  func hospital() throws {
    let (train, test) = Scenario.Hospital.make(seed: 42)
    for r in [1, 4] {
      let logistic = try SISA.sweep(
        model: LogisticRegression(featureCount: 2, fitsIntercept: true), train: train, test: test,
        regularization: 1e-2, trainer: .newton(Training.Newton(gradientTolerance: 1e-10)),
        shardCounts: [1, 2, 4, 8, 16], sliceCount: r, repeats: 5, seed: 1)
      Self.print("hospital logistic (lambda 1e-2, Newton), R = \(r)", logistic)
    }
    for r in [1, 4] {
      let mlp = try SISA.sweep(
        model: MultilayerPerceptron(layerSizes: [2, 20, 1]), train: train, test: test,
        regularization: 1e-3,
        trainer: .lbfgs(Training.LBFGS(gradientTolerance: 1e-8, maximumIterations: 5000, seed: 0)),
        shardCounts: [1, 2, 4, 8, 16], sliceCount: r, repeats: 5, seed: 1)
      Self.print("hospital MLP 2-20-1 (lambda 1e-3, L-BFGS), R = \(r)", mlp)
    }
  }

  @Test("Fashion-MNIST: softmax, 10 classes")
  func fashionMNIST() throws {
    let scenario = Scenario.fashionMNIST(
      classes: Array(0..<10), trainLimit: 5_000, testLimit: 2_000, seed: 1)
    let (train, test) = try scenario.load()
    let sweep = try SISA.sweep(
      model: SoftmaxRegression(featureCount: 784, classCount: 10), train: train, test: test,
      regularization: 1e-4,
      trainer: .lbfgs(Training.LBFGS(gradientTolerance: 1e-5, maximumIterations: 1000)),
      shardCounts: [1, 2, 4, 8, 16], sliceCount: 1, repeats: 3, seed: 1)
    Self.print(
      "Fashion-MNIST softmax, 10 classes (5k train, 2k test, lambda 1e-4, L-BFGS to 1e-5 n)", sweep)
  }
}
