import Foundation

/// SISA training (Bourtoule et al., "Machine Unlearning", IEEE S&P 2021) behind the shared
/// ``Unlearner`` contract.
///
/// SISA's product is an ensemble, not one parameter vector: its primary API is
/// ``SISA/Ensemble`` (train once with ``ensemble(for:)``, then ``SISA/Ensemble/removing(ids:)``
/// per request, predict with ``SISA/Ensemble/predictions(_:)``). This conformance exists so
/// SISA runs through the same validation, timing and report frame as every other method:
///
/// 1. the request is validated against `state` exactly as by the other unlearners;
/// 2. the ensemble is trained on `state`'s data, removed ids and hyper-parameters
///    (model, `lambda`, `b`) with this value's shard, slice, seed and trainer settings; this
///    is the deployment cost SISA pays up front, so it is **not** in the report's `seconds`
///    (it is in `details["ensemble training seconds"]`);
/// 3. the deletion runs on the ensemble (timed: the report's `seconds`), and the details give
///    `"shards retrained"` and `"slices replayed"`.
///
/// **What `state.parameters` means.** The returned state is the input with the ids marked
/// removed and `parameters` = ``SISA/Ensemble/averagedParameters`` of the ensemble after the
/// deletion: with `S = 1` exactly the (re)trained shard, i.e. a retrain to the trainer's
/// tolerance; for `S > 1` and convex linear models the one-shot averaging estimator (close to,
/// but not, the aggregate the ensemble serves); for networks not meaningful. Quote SISA's
/// accuracy from the ensemble (or ``sweep(model:train:test:regularization:trainer:shardCounts:sliceCount:forgetCount:repeats:seed:aggregation:progress:)``), not
/// from `state.parameters`. `state.training` is left as it was.
public struct SISA: Unlearner {
  /// `S >= 1`. Default 4.
  public var shardCount: Int
  /// `R >= 1` slices per shard. Default 4.
  public var sliceCount: Int
  /// Seeds the shard and slice assignment. Default 0.
  public var seed: UInt64
  /// Shard `s` starts from the model's initial parameters with seed `initializationSeed + s`.
  /// Default 0.
  public var initializationSeed: UInt64
  /// The optimiser of every slice (default ``Training/Newton`` with its defaults; use L-BFGS or
  /// Adam for networks).
  public var trainer: Training.Settings
  /// The aggregation rule (default averaged probabilities).
  public var aggregation: SISA.Aggregation

  /// Creates the method.
  ///
  /// - Parameters:
  ///   - shardCount: `S >= 1`.
  ///   - sliceCount: `R >= 1`.
  ///   - seed: seed of the assignment.
  ///   - initializationSeed: seed of shard 0's initial parameters (shard `s`: `+ s`).
  ///   - trainer: the slice optimiser.
  ///   - aggregation: averaged probabilities or majority vote.
  public init(
    shardCount: Int = 4, sliceCount: Int = 4, seed: UInt64 = 0, initializationSeed: UInt64 = 0,
    trainer: Training.Settings = .newton(Training.Newton()),
    aggregation: SISA.Aggregation = .averagedProbabilities
  ) {
    precondition(shardCount >= 1 && sliceCount >= 1, "SISA: S and R must be >= 1")
    self.shardCount = shardCount
    self.sliceCount = sliceCount
    self.seed = seed
    self.initializationSeed = initializationSeed
    self.trainer = trainer
    self.aggregation = aggregation
  }

  /// `"sisa"`.
  public var name: String { "sisa" }

  /// The ensemble of `state`: its data (layout over every id of `state.data`), removed ids,
  /// model, `lambda` and `b`, with this value's settings.
  ///
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` (e.g. more shards than rows).
  public func ensemble<Model: TwiceDifferentiableModel>(for state: TrainedModel<Model>) throws
    -> SISA.Ensemble<Model>
  {
    try SISA.Ensemble.train(
      model: state.model, data: state.data, shardCount: shardCount, sliceCount: sliceCount,
      layoutSeed: seed, removedIDs: state.removedIDs, regularization: state.regularization,
      perturbation: state.perturbation, trainer: trainer, initializationSeed: initializationSeed,
      aggregation: aggregation)
  }

  /// Trains the ensemble of `state` (untimed), then deletes `ids` from it (timed).
  ///
  /// - Throws: ``UnlearningError`` on a bad request (before any training), or
  ///   ``UnlearningError/invalidArgument(_:)`` from ``ensemble(for:)``.
  public func unlearn<Model: TwiceDifferentiableModel>(
    _ state: TrainedModel<Model>, forgetting ids: [SampleID]
  ) throws -> UnlearningResult<Model> {
    let rows = try state.rowsToForget(ids)
    var prepared: SISA.Ensemble<Model>?
    var trainingSeconds = 0.0
    if !rows.isEmpty {
      let stopwatch = Stopwatch()
      prepared = try ensemble(for: state)
      trainingSeconds = stopwatch.seconds
    }
    return try UnlearningResult.run(method: name, state: state, ids: ids) { removed, _ in
      guard let prepared else { return UnlearningOutcome(state: removed) }
      let (after, report) = try prepared.removing(ids: ids)
      var next = removed
      next.parameters = after.averagedParameters
      return UnlearningOutcome(
        state: next,
        notes: [
          "parameters: the mean of the shards' parameters (the ensemble's own prediction aggregates"
            + " probabilities or votes; quote SISA's accuracy from SISA.Ensemble)"
        ] + report.notes,
        details: [
          "shards": Double(shardCount), "slices": Double(sliceCount),
          "shards retrained": Double(report.shardsRetrained.count),
          "slices replayed": Double(report.slicesReplayed),
          "ensemble training seconds": trainingSeconds,
        ])
    }
  }
}

// MARK: - Shard sweep

extension SISA {
  /// The result of a SISA shard sweep against one monolithic model (``sweep(model:train:test:regularization:trainer:shardCounts:sliceCount:forgetCount:repeats:seed:aggregation:progress:)``).
  public struct Sweep: Sendable, Hashable, Codable {
    /// One shard count `S`.
    public struct Row: Sendable, Hashable, Codable {
      /// `S`.
      public var shardCount: Int
      /// `R`.
      public var sliceCount: Int
      /// Test accuracy of the aggregated ensemble (fraction).
      public var ensembleAccuracy: Double
      /// The accuracy cost: monolithic minus ensemble test accuracy (fraction; positive means
      /// the ensemble is worse).
      public var accuracyCost: Double
      /// Wall-clock seconds to train the ensemble once.
      public var trainingSeconds: Double
      /// Median over the repeats of the deletion's seconds (``SISA/Report/seconds``).
      public var unlearningSeconds: Double
      /// The fastest and slowest repeat (seconds): the spread of ``unlearningSeconds``.
      public var unlearningSecondsRange: ClosedRange<Double>
      /// The median full retrain over the median deletion: ``Sweep/retrainSeconds`` /
      /// ``unlearningSeconds``.
      public var speedup: Double
      /// Mean over the repeats of the number of shards retrained.
      public var shardsRetrained: Double
      /// Mean over the repeats of the number of slices replayed.
      public var slicesReplayed: Double
    }

    /// Test accuracy of one model trained on all training rows with the same trainer.
    public var monolithicAccuracy: Double
    /// Median over the repeats of the seconds of a full retrain of the monolithic model on the
    /// retained rows (``Retrain`` with the same trainer).
    public var retrainSeconds: Double
    /// The fastest and slowest retrain (seconds).
    public var retrainSecondsRange: ClosedRange<Double>
    /// Ids forgotten per request.
    public var forgetCount: Int
    /// Requests timed per shard count.
    public var repeats: Int
    /// One row per shard count, in the order requested.
    public var rows: [Row]
  }
}

extension SISA {
  /// For every `S` in `shardCounts`: the test accuracy of the SISA aggregate against one
  /// monolithic model, and the time of a deletion against a full retrain.
  ///
  /// Each repeat `k` draws `forgetCount` training ids (seeded by `seed` and `k`, the same ids
  /// for every `S`) and deletes them from a freshly trained ensemble (timing only the
  /// deletion); the monolithic model is retrained from scratch on the same retained rows.
  /// Times are medians over the repeats. Layouts use seed `seed`.
  ///
  /// - Parameters:
  ///   - model: the model (monolithic and every shard).
  ///   - train: training rows.
  ///   - test: held-out rows.
  ///   - regularization: `lambda > 0`.
  ///   - trainer: optimiser of the monolithic model, its retrain and every slice.
  ///   - shardCounts: e.g. `[1, 2, 4, 8, 16]`.
  ///   - sliceCount: `R` (default 1).
  ///   - forgetCount: ids per request (default 1).
  ///   - repeats: requests per shard count (default 3).
  ///   - seed: seeds layouts and forget sets.
  ///   - aggregation: the ensemble's rule.
  ///   - progress: receives one line per shard count (the CLI prints them on stderr).
  /// - Throws: ``UnlearningError`` from training or deletion.
  /// - Cost: per `S`, one ensemble training and `repeats` deletions; plus one monolithic
  ///   training and `repeats` retrains.
  public static func sweep<Model: TwiceDifferentiableModel>(
    model: Model, train: Dataset, test: Dataset, regularization: Double,
    trainer: Training.Settings, shardCounts: [Int] = [1, 2, 4, 8, 16], sliceCount: Int = 1,
    forgetCount: Int = 1, repeats: Int = 3, seed: UInt64 = 0,
    aggregation: SISA.Aggregation = .averagedProbabilities,
    progress: (String) -> Void = { _ in }
  ) throws -> Sweep {
    guard repeats >= 1, forgetCount >= 1, forgetCount < train.count else {
      throw UnlearningError.invalidArgument(
        "need repeats >= 1 and 1 <= forgetCount < \(train.count)")
    }
    let monolithic = try TrainedModel.train(
      model: model, data: train, regularization: regularization, trainer: trainer)
    let monolithicAccuracy = Metrics.accuracy(
      predictions: model.predictions(monolithic.parameters, features: test.features),
      labels: test.labels)
    let requests: [[SampleID]] = (0..<repeats).map { k in
      var generator = SeededGenerator(seed: seed &+ 0x51_5A_0000 &+ UInt64(k))
      return RandomSampling.indices(choosing: forgetCount, from: train.count, using: &generator)
        .map { train.ids[$0] }
    }
    let retrain = Retrain(trainer: trainer, seed: trainer.seed)
    let retrainTimes = try requests.map {
      try retrain.unlearn(monolithic, forgetting: $0).report.seconds
    }
    let retrainSeconds = median(retrainTimes)
    var rows: [Sweep.Row] = []
    for s in shardCounts {
      progress("SISA sweep: S = \(s), R = \(sliceCount): training the ensemble")
      let stopwatch = Stopwatch()
      let ensemble = try SISA.Ensemble.train(
        model: model, data: train, shardCount: s, sliceCount: sliceCount, layoutSeed: seed,
        regularization: regularization, trainer: trainer, aggregation: aggregation)
      let trainingSeconds = stopwatch.seconds
      let reports = try requests.map { try ensemble.removing(ids: $0).report }
      let times = reports.map(\.seconds)
      let accuracy = ensemble.accuracy(on: test)
      let unlearningSeconds = median(times)
      rows.append(
        Sweep.Row(
          shardCount: s, sliceCount: sliceCount, ensembleAccuracy: accuracy,
          accuracyCost: monolithicAccuracy - accuracy, trainingSeconds: trainingSeconds,
          unlearningSeconds: unlearningSeconds,
          unlearningSecondsRange: range(times),
          speedup: retrainSeconds / Swift.max(unlearningSeconds, 1e-9),
          shardsRetrained: mean(reports.map { Double($0.shardsRetrained.count) }),
          slicesReplayed: mean(reports.map { Double($0.slicesReplayed) })))
    }
    return Sweep(
      monolithicAccuracy: monolithicAccuracy, retrainSeconds: retrainSeconds,
      retrainSecondsRange: range(retrainTimes), forgetCount: forgetCount,
      repeats: repeats, rows: rows)
  }

  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let m = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[m] : 0.5 * (sorted[m - 1] + sorted[m])
  }

  /// `min...max` of `values` (`nan...nan` when empty).
  static func range(_ values: [Double]) -> ClosedRange<Double> {
    (values.min() ?? .nan)...(values.max() ?? .nan)
  }

  static func mean(_ values: [Double]) -> Double {
    values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
  }
}
