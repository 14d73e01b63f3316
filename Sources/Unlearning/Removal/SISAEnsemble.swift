extension SISA {
  /// The seeded assignment of sample ids to the shards and slices of a SISA ensemble
  /// (Bourtoule et al., "Machine Unlearning", IEEE S&P 2021).
  ///
  /// The ids are shuffled by a `SeededGenerator` (a Fisher-Yates permutation) and dealt round
  /// robin to the `S` shards (shard sizes differ by at most one); each shard's ids, in dealt
  /// order, are cut into `R` contiguous slices of near-equal size (`floor(r m / R) ..<
  /// floor((r + 1) m / R)` for a shard of `m` ids; a shard with fewer than `R` ids has empty
  /// slices). The same ids, counts and seed give the same layout on every machine.
  ///
  /// A value: ``removing(_:)`` returns the layout with ids deleted and everything else (order,
  /// shard and slice of every other id) unchanged, which is the layout of "SISA trained on
  /// `D \ F` with the same assignment".
  public struct Layout: Sendable, Hashable, Codable {
    /// `S >= 1`, the number of shards.
    public let shardCount: Int
    /// `R >= 1`, the number of slices per shard.
    public let sliceCount: Int
    /// `slices[s][r]`: the ids of slice `r` of shard `s`, in training order.
    public let slices: [[[SampleID]]]

    /// Deals `ids` to `shardCount` shards of `sliceCount` slices.
    ///
    /// - Parameters:
    ///   - ids: the sample ids (unique; a precondition).
    ///   - shardCount: `S >= 1`.
    ///   - sliceCount: `R >= 1`.
    ///   - seed: seeds the shuffle.
    /// - Cost: `O(n)`.
    public init(ids: [SampleID], shardCount: Int, sliceCount: Int, seed: UInt64) {
      precondition(shardCount >= 1 && sliceCount >= 1, "SISA.Layout: S and R must be >= 1")
      precondition(Set(ids).count == ids.count, "SISA.Layout: ids must be unique")
      var generator = SeededGenerator(seed: seed)
      let order = RandomSampling.indices(choosing: ids.count, from: ids.count, using: &generator)
      var shards = [[SampleID]](repeating: [], count: shardCount)
      for (k, position) in order.enumerated() { shards[k % shardCount].append(ids[position]) }
      self.shardCount = shardCount
      self.sliceCount = sliceCount
      self.slices = shards.map { shard in
        let m = shard.count
        return (0..<sliceCount).map { r in
          Array(shard[(r * m / sliceCount)..<((r + 1) * m / sliceCount)])
        }
      }
    }

    /// A layout from explicit slices (`slices[s][r]`, at least one shard and one slice, every
    /// shard with the same number of slices, ids unique: preconditions).
    public init(slices: [[[SampleID]]]) {
      precondition(!slices.isEmpty && !slices[0].isEmpty, "SISA.Layout: need S, R >= 1")
      precondition(
        slices.allSatisfy { $0.count == slices[0].count }, "SISA.Layout: ragged slice counts")
      let all = slices.flatMap { $0.flatMap { $0 } }
      precondition(Set(all).count == all.count, "SISA.Layout: ids must be unique")
      self.shardCount = slices.count
      self.sliceCount = slices[0].count
      self.slices = slices
    }

    /// Every id of the layout, shard by shard and slice by slice.
    public var ids: [SampleID] { slices.flatMap { $0.flatMap { $0 } } }

    /// The shard and slice of every id. `O(n)`.
    public var locations: [SampleID: (shard: Int, slice: Int)] {
      var out = [SampleID: (shard: Int, slice: Int)]()
      for (s, shard) in slices.enumerated() {
        for (r, slice) in shard.enumerated() { for id in slice { out[id] = (s, r) } }
      }
      return out
    }

    /// The same layout without `ids` (ids not in the layout are ignored). `O(n)`.
    public func removing(_ ids: Set<SampleID>) -> SISA.Layout {
      SISA.Layout(
        slices: slices.map { shard in shard.map { slice in slice.filter { !ids.contains($0) } } })
    }
  }
}

extension SISA {
  /// How the shards' outputs are combined into one prediction.
  public enum Aggregation: String, Sendable, Hashable, Codable, CaseIterable {
    /// The mean of the shards' class probabilities; the prediction is its argmax (Bourtoule et
    /// al. 2021 report it as the better rule when shards are small).
    case averagedProbabilities
    /// Each shard votes for its argmax class; the most votes win (ties: the lowest class index).
    /// ``SISA/Ensemble/probabilities(_:)`` then gives the vote shares.
    case majorityVote
  }
}

extension SISA {
  /// What a SISA deletion did.
  public struct Report: Sendable, Hashable, Codable {
    /// How many ids the request removed.
    public var forgottenCount: Int
    /// The shards that were retrained (ascending).
    public var shardsRetrained: [Int]
    /// Slice trainings replayed, summed over the retrained shards (a shard whose earliest
    /// affected slice is `r` replays `R - r` slices).
    public var slicesReplayed: Int
    /// Wall-clock seconds of the retraining (validation excluded).
    public var seconds: Double
    /// Anything a user should know (slice trainings that did not reach their tolerance).
    public var notes: [String]

    /// Creates a report.
    public init(
      forgottenCount: Int, shardsRetrained: [Int], slicesReplayed: Int, seconds: Double,
      notes: [String] = []
    ) {
      self.forgottenCount = forgottenCount
      self.shardsRetrained = shardsRetrained
      self.slicesReplayed = slicesReplayed
      self.seconds = seconds
      self.notes = notes
    }
  }
}

extension SISA {
  /// A SISA ensemble (Sharded, Isolated, Sliced, Aggregated; Bourtoule et al., "Machine
  /// Unlearning", IEEE S&P 2021): `S` copies of one model, copy `s` trained only on shard `s` of
  /// the data, incrementally slice by slice, with a parameter checkpoint after every slice.
  ///
  /// **Training.** Slice `r` of shard `s` minimises the sum-form objective (``Objective``: data
  /// term, `(lambda / 2) n ||theta||^2` with `n` the rows of slices `0...r` of that shard, and `b`
  /// when given) over the retained rows of slices `0...r`, warm-started from the checkpoint after
  /// slice `r - 1` (slice 0 from ``TwiceDifferentiableModel/initialParameters(seed:)`` with seed
  /// `initializationSeed + s`). A slice with no retained rows of its own keeps the previous
  /// checkpoint (slice 0: the initial parameters). Rows are copied out in layout order
  /// (`O(n_s d)` per slice), so forgotten rows are never read.
  ///
  /// **Deletion** (``removing(ids:)``): each affected shard restarts from the checkpoint before
  /// its earliest affected slice and replays the later slices; other shards are untouched. With a
  /// deterministic trainer the result equals, to round-off (in practice bit for bit), the
  /// ensemble trained from the start on `D \ F` with ``SISA/Layout/removing(_:)`` of the same
  /// layout. Cost: the affected shards' slice trainings only, at most `S R` trainer runs on at
  /// most `n / S` rows each.
  ///
  /// **Prediction.** ``probabilities(_:)`` and ``predictions(_:)`` aggregate the shards that
  /// hold at least one retained row (``activeShards``) by ``aggregation``. Cost: one forward
  /// pass per active shard.
  ///
  /// A value type; ``SISA/Snapshot`` is the `Codable` part (everything but the data) for model files.
  public struct Ensemble<Model: TwiceDifferentiableModel>: Sendable {
    /// The model shared by every shard.
    public let model: Model
    /// Every training row ever seen (removed ones included); the layout's ids are exactly its
    /// ids.
    public let data: Dataset
    /// The shard and slice assignment (removed ids stay in it; see ``removedIDs``).
    public let layout: SISA.Layout
    /// `checkpoints[s][r]`: the parameters of shard `s` after slice `r` (each of length `p`).
    public private(set) var checkpoints: [[[Double]]]
    /// The ids removed so far.
    public private(set) var removedIDs: Set<SampleID>
    /// `lambda > 0`, the L2 strength per retained row of each slice objective.
    public let regularization: Double
    /// The loss perturbation `b` added to every slice objective, or `nil` (default).
    public let perturbation: [Double]?
    /// The optimiser of every slice.
    public let trainer: Training.Settings
    /// Shard `s` starts from the model's initial parameters with seed
    /// `initializationSeed + s` (networks; convex linear models start at zero).
    public let initializationSeed: UInt64
    /// How shard outputs are combined (default ``SISA/Aggregation/averagedProbabilities``).
    public var aggregation: SISA.Aggregation
    /// The slice trainings of the last training or deletion that did not reach their tolerance
    /// (one line each); empty when all converged.
    public internal(set) var unconvergedSlices: [String] = []

    /// Trains an ensemble on `data` with an explicit layout.
    ///
    /// - Parameters:
    ///   - model: the model of every shard.
    ///   - data: all rows; its ids must be exactly the layout's ids.
    ///   - layout: the shard and slice assignment.
    ///   - removedIDs: ids of `data` already removed (never trained on); default none.
    ///   - regularization: `lambda > 0`.
    ///   - perturbation: `b` (length `p`) or `nil`.
    ///   - trainer: the optimiser of every slice (default ``Training/Newton``).
    ///   - initializationSeed: shard `s` starts from seed `initializationSeed + s`.
    ///   - aggregation: the aggregation rule.
    /// - Throws: ``UnlearningError/invalidArgument(_:)`` for mismatched ids or shapes, `lambda <=
    ///   0`, or a data set with no retained row.
    /// - Cost: `S R` trainer runs; slice `r` of a shard of `m` rows trains on `(r + 1) m / R` rows.
    public static func train(
      model: Model, data: Dataset, layout: SISA.Layout, removedIDs: Set<SampleID> = [],
      regularization: Double, perturbation: [Double]? = nil,
      trainer: Training.Settings = .newton(Training.Newton()), initializationSeed: UInt64 = 0,
      aggregation: SISA.Aggregation = .averagedProbabilities
    ) throws -> Self {
      guard regularization > 0, regularization.isFinite else {
        throw UnlearningError.invalidArgument("regularization must be > 0, got \(regularization)")
      }
      guard model.featureCount == data.featureCount else {
        throw UnlearningError.invalidArgument(
          "the model expects \(model.featureCount) features, the data has \(data.featureCount)")
      }
      if let perturbation, perturbation.count != model.parameterCount {
        throw UnlearningError.invalidArgument(
          "perturbation has \(perturbation.count) entries, the model has \(model.parameterCount) parameters"
        )
      }
      let layoutIDs = layout.ids
      guard layoutIDs.count == data.count, layoutIDs.allSatisfy({ data.rowIndex(of: $0) != nil })
      else {
        throw UnlearningError.invalidArgument(
          "the layout's \(layoutIDs.count) ids are not the data's \(data.count) ids")
      }
      guard removedIDs.allSatisfy({ data.rowIndex(of: $0) != nil }) else {
        throw UnlearningError.invalidArgument("removed ids must be ids of the data")
      }
      guard removedIDs.count < data.count else {
        throw UnlearningError.invalidArgument("no retained row to train on")
      }
      var ensemble = Self(
        model: model, data: data, layout: layout, checkpoints: [], removedIDs: removedIDs,
        regularization: regularization, perturbation: perturbation, trainer: trainer,
        initializationSeed: initializationSeed, aggregation: aggregation)
      var checkpoints: [[[Double]]] = []
      var notes: [String] = []
      for s in 0..<layout.shardCount {
        let trained = ensemble.trainShard(s, fromSlice: 0, checkpoints: [])
        checkpoints.append(trained.checkpoints)
        notes += trained.notes
      }
      ensemble.checkpoints = checkpoints
      ensemble.unconvergedSlices = notes
      return ensemble
    }

    /// Trains an ensemble with a fresh seeded layout of `data`'s ids
    /// (``SISA/Layout/init(ids:shardCount:sliceCount:seed:)``); other parameters as in
    /// ``train(model:data:layout:removedIDs:regularization:perturbation:trainer:initializationSeed:aggregation:)``.
    ///
    /// - Throws: also ``UnlearningError/invalidArgument(_:)`` when `shardCount` exceeds the
    ///   number of rows (a shard would be empty) or `S`, `R < 1`.
    public static func train(
      model: Model, data: Dataset, shardCount: Int, sliceCount: Int, layoutSeed: UInt64,
      removedIDs: Set<SampleID> = [], regularization: Double, perturbation: [Double]? = nil,
      trainer: Training.Settings = .newton(Training.Newton()), initializationSeed: UInt64 = 0,
      aggregation: SISA.Aggregation = .averagedProbabilities
    ) throws -> Self {
      guard shardCount >= 1, sliceCount >= 1 else {
        throw UnlearningError.invalidArgument(
          "shard and slice counts must be >= 1, got \(shardCount) and \(sliceCount)")
      }
      guard shardCount <= data.count else {
        throw UnlearningError.invalidArgument(
          "\(shardCount) shards for \(data.count) rows would leave a shard empty")
      }
      let layout = SISA.Layout(
        ids: data.ids, shardCount: shardCount, sliceCount: sliceCount, seed: layoutSeed)
      return try train(
        model: model, data: data, layout: layout, removedIDs: removedIDs,
        regularization: regularization, perturbation: perturbation, trainer: trainer,
        initializationSeed: initializationSeed, aggregation: aggregation)
    }

    init(
      model: Model, data: Dataset, layout: SISA.Layout, checkpoints: [[[Double]]],
      removedIDs: Set<SampleID>, regularization: Double, perturbation: [Double]?,
      trainer: Training.Settings, initializationSeed: UInt64, aggregation: SISA.Aggregation
    ) {
      self.model = model
      self.data = data
      self.layout = layout
      self.checkpoints = checkpoints
      self.removedIDs = removedIDs
      self.regularization = regularization
      self.perturbation = perturbation
      self.trainer = trainer
      self.initializationSeed = initializationSeed
      self.aggregation = aggregation
    }

    // MARK: - Training kernel

    /// The retained row positions of slices `0...r` of shard `s`, in layout order.
    func retainedRows(shard s: Int, throughSlice r: Int) -> [Int] {
      var rows: [Int] = []
      for slice in layout.slices[s][0...r] {
        for id in slice where !removedIDs.contains(id) {
          if let row = data.rowIndex(of: id) { rows.append(row) }
        }
      }
      return rows
    }

    /// Whether slice `r` of shard `s` has a retained row.
    func sliceHasRetainedRow(shard s: Int, slice r: Int) -> Bool {
      layout.slices[s][r].contains { !removedIDs.contains($0) }
    }

    /// Trains slices `first..<R` of shard `s` from the checkpoint before `first` (the initial
    /// parameters when `first == 0`); `checkpoints` holds the shard's checkpoints `0..<first`.
    func trainShard(_ s: Int, fromSlice first: Int, checkpoints: [[Double]]) -> (
      checkpoints: [[Double]], runs: Int, notes: [String]
    ) {
      var out = Array(checkpoints[0..<first])
      var theta =
        first == 0
        ? model.initialParameters(seed: initializationSeed &+ UInt64(s)) : checkpoints[first - 1]
      var runs = 0
      var notes: [String] = []
      for r in first..<layout.sliceCount {
        if sliceHasRetainedRow(shard: s, slice: r) {
          let rows = retainedRows(shard: s, throughSlice: r)
          let objective = Objective(
            model: model, features: data.features.rows(at: rows),
            targets: rows.map { Double(data.labels[$0]) }, regularization: regularization,
            perturbation: perturbation)
          let result = trainer.train(objective, from: theta)
          runs += 1
          if !result.converged {
            notes.append(
              "shard \(s) slice \(r): residual \(result.gradientNorm) > tolerance \(result.gradientTolerance)"
            )
          }
          theta = result.parameters
        }
        out.append(theta)
      }
      return (out, runs, notes)
    }

    // MARK: - Deletion

    /// The ensemble without `ids`: every affected shard retrained from the checkpoint before its
    /// earliest affected slice, later slices replayed; the receiver is unchanged.
    ///
    /// - Parameter ids: ids of ``data``, retained, each named once.
    /// - Returns: the new ensemble and what was retrained. An empty request returns the ensemble
    ///   unchanged and a report with no shard retrained.
    /// - Throws: ``UnlearningError/unknownID(_:)``, ``UnlearningError/duplicateID(_:)``,
    ///   ``UnlearningError/alreadyForgotten(_:)`` naming the first offending id;
    ///   ``UnlearningError/nothingLeft`` when no row would remain. Nothing changes on error.
    /// - Cost: the affected shards' replayed slice trainings.
    public func removing(ids: [SampleID]) throws -> (ensemble: Self, report: SISA.Report) {
      var seen = Set<SampleID>(minimumCapacity: ids.count)
      for id in ids {
        guard data.rowIndex(of: id) != nil else { throw UnlearningError.unknownID(id) }
        guard seen.insert(id).inserted else { throw UnlearningError.duplicateID(id) }
        guard !removedIDs.contains(id) else { throw UnlearningError.alreadyForgotten(id) }
      }
      if ids.isEmpty {
        return (
          self, SISA.Report(forgottenCount: 0, shardsRetrained: [], slicesReplayed: 0, seconds: 0)
        )
      }
      guard ids.count < data.count - removedIDs.count else { throw UnlearningError.nothingLeft }
      let stopwatch = Stopwatch()
      let locations = layout.locations
      var earliest = [Int: Int]()
      for id in ids {
        guard let location = locations[id] else { continue }
        earliest[location.shard] = Swift.min(
          earliest[location.shard] ?? location.slice, location.slice)
      }
      var next = self
      next.removedIDs.formUnion(ids)
      var replayed = 0
      var notes: [String] = []
      for (s, r) in earliest.sorted(by: { $0.key < $1.key }) {
        let trained = next.trainShard(s, fromSlice: r, checkpoints: checkpoints[s])
        next.checkpoints[s] = trained.checkpoints
        replayed += layout.sliceCount - r
        notes += trained.notes
      }
      next.unconvergedSlices = notes
      let report = SISA.Report(
        forgottenCount: ids.count, shardsRetrained: earliest.keys.sorted(),
        slicesReplayed: replayed,
        seconds: stopwatch.seconds, notes: notes)
      return (next, report)
    }

    // MARK: - Prediction

    /// `S`.
    public var shardCount: Int { layout.shardCount }

    /// The shards holding at least one retained row (ascending); only they vote.
    public var activeShards: [Int] {
      (0..<layout.shardCount).filter { s in
        layout.slices[s].contains { slice in slice.contains { !removedIDs.contains($0) } }
      }
    }

    /// The number of retained rows. `O(n)`.
    public var retainedCount: Int { data.count - removedIDs.count }

    /// The final parameters of every shard (its last checkpoint), `S` vectors of length `p`.
    public var shardParameters: [[Double]] { checkpoints.map { $0[$0.count - 1] } }

    /// The mean of the active shards' final parameters. For convex linear models this is the
    /// one-shot parameter-averaging estimator (Zhang, Duchi & Wainwright 2013) and, with `S = 1`,
    /// the shard's parameters themselves; for networks it has no meaning (the hidden units of
    /// different shards are not aligned), use ``predictions(_:)``.
    public var averagedParameters: [Double] {
      let active = activeShards
      var mean = [Double](repeating: 0, count: model.parameterCount)
      for s in active { mean.add(shardParameters[s]) }
      mean.scale(by: 1 / Double(Swift.max(active.count, 1)))
      return mean
    }

    /// Aggregated class probabilities, `n x outputClassCount` (rows sum to 1): the mean of the
    /// active shards' probabilities, or their vote shares under ``SISA/Aggregation/majorityVote``.
    /// Regression models (one output): the `n x 1` mean of the shards' predictions, whatever the
    /// rule.
    ///
    /// - Parameter features: `n x d`.
    public func probabilities(_ features: Matrix) -> Matrix {
      let active = activeShards
      let k = model.outputClassCount
      var total = Matrix(rows: features.rows, columns: k)
      let parameters = shardParameters
      for s in active {
        if k == 1 || aggregation == .averagedProbabilities {
          total.add(model.probabilities(parameters[s], features: features))
        } else {
          let votes = model.predictions(parameters[s], features: features)
          for (i, c) in votes.enumerated() where c >= 0 && c < k { total[i, c] += 1 }
        }
      }
      total.scale(by: 1 / Double(Swift.max(active.count, 1)))
      return total
    }

    /// The aggregated prediction of every row: the argmax of ``probabilities(_:)`` (ties: the
    /// lowest class index); regression models: the mean prediction rounded to an integer.
    public func predictions(_ features: Matrix) -> [Int] {
      let p = probabilities(features)
      if model.outputClassCount == 1 {
        return p.elements.map { Int(Swift.max(Swift.min($0.rounded(), 9.0e18), -9.0e18)) }
      }
      return (0..<p.rows).map { i in
        var best = 0
        for c in 1..<Swift.max(p.columns, 1) where p[i, c] > p[i, best] { best = c }
        return best
      }
    }

    /// The fraction of `data`'s rows whose aggregated prediction equals the label.
    public func accuracy(on data: Dataset) -> Double {
      Metrics.accuracy(predictions: predictions(data.features), labels: data.labels)
    }
  }
}

// MARK: - Persistence

extension SISA {
  /// Everything of a ``SISA/Ensemble`` except its data (which a model file reloads from its
  /// scenario), with the data's ``Dataset/fingerprint`` to check it against: `Codable`,
  /// parameters as `[[Double]]` checkpoints per shard.
  public struct Snapshot<Model: TwiceDifferentiableModel & Codable>: Sendable, Codable {
    /// The model.
    public var model: Model
    /// ``Dataset/fingerprint`` of the training data.
    public var dataFingerprint: String
    /// The layout.
    public var layout: SISA.Layout
    /// `checkpoints[s][r]`.
    public var checkpoints: [[[Double]]]
    /// The removed ids, ascending.
    public var removedIDs: [SampleID]
    /// `lambda`.
    public var regularization: Double
    /// `b` or `nil`.
    public var perturbation: [Double]?
    /// The slice optimiser.
    public var trainer: Training.Settings
    /// The initialisation seed.
    public var initializationSeed: UInt64
    /// The aggregation rule.
    public var aggregation: SISA.Aggregation
  }
}

extension SISA.Ensemble where Model: Codable {
  /// The `Codable` part of the ensemble. Cost: `O(n d)` for the fingerprint.
  public var snapshot: SISA.Snapshot<Model> {
    SISA.Snapshot(
      model: model, dataFingerprint: data.fingerprint, layout: layout, checkpoints: checkpoints,
      removedIDs: removedIDs.sorted(), regularization: regularization, perturbation: perturbation,
      trainer: trainer, initializationSeed: initializationSeed, aggregation: aggregation)
  }

  /// Rebuilds an ensemble from a snapshot and its training data.
  ///
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` when the data's fingerprint, the
  ///   layout's ids or the checkpoint shapes do not match.
  public init(snapshot: SISA.Snapshot<Model>, data: Dataset) throws {
    guard data.fingerprint == snapshot.dataFingerprint else {
      throw UnlearningError.invalidArgument(
        "the data's fingerprint \(data.fingerprint) is not the ensemble's \(snapshot.dataFingerprint)"
      )
    }
    let layout = snapshot.layout
    guard layout.ids.count == data.count, layout.ids.allSatisfy({ data.rowIndex(of: $0) != nil })
    else { throw UnlearningError.invalidArgument("the layout's ids are not the data's ids") }
    let p = snapshot.model.parameterCount
    guard snapshot.checkpoints.count == layout.shardCount,
      snapshot.checkpoints.allSatisfy({
        $0.count == layout.sliceCount && $0.allSatisfy { $0.count == p }
      })
    else {
      throw UnlearningError.invalidArgument(
        "checkpoints must be \(layout.shardCount) x \(layout.sliceCount) vectors of length \(p)")
    }
    self.init(
      model: snapshot.model, data: data, layout: layout, checkpoints: snapshot.checkpoints,
      removedIDs: Set(snapshot.removedIDs), regularization: snapshot.regularization,
      perturbation: snapshot.perturbation, trainer: snapshot.trainer,
      initializationSeed: snapshot.initializationSeed, aggregation: snapshot.aggregation)
  }
}
