import Foundation
import LinearAlgebra
import Unlearning

/// SISA (``SISA/Ensemble``: `S` shards of `R` slices, per-slice checkpoints) over MPI ranks:
/// shard `s` is trained, kept and retrained by rank `s mod size` (``owner(ofShard:rankCount:)``).
///
/// **Layout.** The layout is the library's ``SISA/Layout/init(ids:shardCount:sliceCount:seed:)``
/// dealt over every id of the sharded data **in ascending order**, so it does not depend on how
/// the rows were spread over ranks (a hash split or pre-split files) nor on the rank count; it
/// equals the single-process ensemble's layout when that one is built from the ascending ids
/// (for example CSV row numbers after a seeded split).
///
/// **Rows.** The rows of the row-sharded data are redistributed once, at construction: every
/// rank sends each row (`d + 2` doubles: id, label, features) to the rank owning its SISA shard
/// (one `MPI_Gatherv` per destination rank), so each rank holds exactly the rows of its shards.
/// Each rank then runs the library's ``SISA/Ensemble`` on its rows with the global layout in
/// which the other ranks' shards are left empty (an empty shard costs nothing and never
/// votes): shard `s` is trained by the same code on the same rows in the same order as by one
/// process, so the checkpoints equal single-process SISA's to round-off (in practice bit for
/// bit).
///
/// **Deletion** (``removing(ids:)``): the request is validated on replicated data (the global
/// layout and removed ids), identically on every rank; each rank retrains only its affected
/// shards from their last unaffected checkpoint; the report combines the ranks' (one small
/// all-gather). Ranks that own no affected shard do no training.
///
/// ``snapshot()`` gathers every shard's checkpoints (`S R p` doubles) so that rank 0 can write
/// one file; ``init(snapshot:data:)`` redistributes the rows and rebuilds each rank's part.
public struct ShardedSISA<Model: TwiceDifferentiableModel & Codable>: Sendable {
  /// The communicator.
  public let communicator: Communicator
  /// The global layout (removed ids stay in it; see ``removedIDs``).
  public let layout: SISA.Layout
  /// The ids removed so far, on every rank.
  public private(set) var removedIDs: Set<SampleID>
  /// The sharded data's fingerprint (``ShardedData/fingerprint``).
  public let dataFingerprint: String
  /// This rank's ensemble: the global layout with other ranks' shards emptied, on the rows of
  /// this rank's shards; `nil` when the rank owns no shard (more ranks than shards).
  public private(set) var local: SISA.Ensemble<Model>?
  /// The shard and slice of every id (replicated).
  let locations: [SampleID: (shard: Int, slice: Int)]

  /// The rank that trains shard `s`: `s mod rankCount`.
  public static func owner(ofShard s: Int, rankCount: Int) -> Int {
    precondition(rankCount >= 1, "rankCount must be >= 1")
    return s % rankCount
  }

  /// The shards this rank owns, ascending.
  public var ownedShards: [Int] {
    (0..<layout.shardCount).filter {
      Self.owner(ofShard: $0, rankCount: communicator.size) == communicator.rank
    }
  }

  /// Trains the ensemble over the ranks.
  ///
  /// - Parameters:
  ///   - model: the model of every shard.
  ///   - data: the row-sharded training data (any split over ranks).
  ///   - shardCount: `1 <= S <= n`.
  ///   - sliceCount: `R >= 1`.
  ///   - layoutSeed: seeds the layout.
  ///   - regularization: `lambda > 0` per retained row of each slice objective.
  ///   - trainer: the slice optimiser (deterministic).
  ///   - initializationSeed: shard `s` starts from seed `initializationSeed + s`.
  ///   - aggregation: the aggregation rule.
  /// - Throws: ``DistributedError/invalidArgument(_:)`` for bad counts (on every rank) or
  ///   carrying a library error's text, ``DistributedError/mpi(_:)``.
  /// - Cost: one all-gather of the `n` ids, one redistribution of the rows (`n (d + 2)`
  ///   doubles in all), then the owned shards' `R` slice trainings each, in parallel over ranks.
  public static func train(
    model: Model, data: ShardedData, shardCount: Int, sliceCount: Int, layoutSeed: UInt64,
    regularization: Double, trainer: Training.Settings = .newton(Training.Newton()),
    initializationSeed: UInt64 = 0, aggregation: SISA.Aggregation = .averagedProbabilities
  ) throws(DistributedError) -> ShardedSISA {
    guard shardCount >= 1, sliceCount >= 1 else {
      throw .invalidArgument(
        "shard and slice counts must be >= 1, got \(shardCount) and \(sliceCount)")
    }
    guard shardCount <= data.globalCount else {
      throw .invalidArgument(
        "\(shardCount) shards for \(data.globalCount) rows would leave a shard empty")
    }
    let ids = try allIDs(data)
    let layout = SISA.Layout(
      ids: ids, shardCount: shardCount, sliceCount: sliceCount, seed: layoutSeed)
    let rows = try redistribute(data, layout: layout)
    var sharded = ShardedSISA(
      communicator: data.communicator, layout: layout, removedIDs: [],
      dataFingerprint: data.fingerprint, local: nil, locations: layout.locations)
    let owned = sharded.ownedShards
    if !owned.isEmpty {
      sharded.local = try library {
        try SISA.Ensemble.train(
          model: model, data: rows, layout: localLayout(layout, owned: owned),
          regularization: regularization, trainer: trainer,
          initializationSeed: initializationSeed, aggregation: aggregation)
      }
    }
    return sharded
  }

  /// Rebuilds the ensemble of `snapshot` (global layout and every shard's checkpoints, as
  /// ``snapshot()`` gives them) on the row-sharded data it was trained on.
  ///
  /// - Throws: ``DistributedError/dataMismatch(expected:found:)`` when the data's fingerprint
  ///   is not the snapshot's, ``DistributedError/invalidArgument(_:)`` for inconsistent shapes
  ///   (on every rank), ``DistributedError/mpi(_:)``.
  /// - Cost: as the redistribution of ``train(model:data:shardCount:sliceCount:layoutSeed:regularization:trainer:initializationSeed:aggregation:)``;
  ///   no training.
  public init(snapshot: SISA.Snapshot<Model>, data: ShardedData) throws(DistributedError) {
    guard snapshot.dataFingerprint == data.fingerprint else {
      throw .dataMismatch(expected: snapshot.dataFingerprint, found: data.fingerprint)
    }
    let layout = snapshot.layout
    let p = snapshot.model.parameterCount
    guard layout.ids.count == data.globalCount,
      snapshot.checkpoints.count == layout.shardCount,
      snapshot.checkpoints.allSatisfy({
        $0.count == layout.sliceCount && $0.allSatisfy { $0.count == p }
      })
    else {
      throw .invalidArgument(
        "the snapshot's layout or checkpoints do not fit \(data.globalCount) rows and \(p) parameters"
      )
    }
    let ids = try Self.allIDs(data)
    guard ids == layout.ids.sorted() else {
      throw .invalidArgument("the snapshot's layout does not hold the data's ids")
    }
    let rows = try Self.redistribute(data, layout: layout)
    communicator = data.communicator
    self.layout = layout
    removedIDs = Set(snapshot.removedIDs)
    dataFingerprint = data.fingerprint
    locations = layout.locations
    let owned = ownedShards
    guard !owned.isEmpty else { return }
    let ownedSet = Set(owned)
    var part = snapshot
    part.layout = Self.localLayout(layout, owned: owned)
    part.removedIDs = snapshot.removedIDs.filter {
      locations[$0].map { ownedSet.contains($0.shard) } ?? false
    }
    part.dataFingerprint = rows.fingerprint
    local = try Self.library { try SISA.Ensemble(snapshot: part, data: rows) }
  }

  init(
    communicator: Communicator, layout: SISA.Layout, removedIDs: Set<SampleID>,
    dataFingerprint: String, local: SISA.Ensemble<Model>?,
    locations: [SampleID: (shard: Int, slice: Int)]
  ) {
    self.communicator = communicator
    self.layout = layout
    self.removedIDs = removedIDs
    self.dataFingerprint = dataFingerprint
    self.local = local
    self.locations = locations
  }

  /// Runs a library call, turning its error into ``DistributedError/invalidArgument(_:)`` (the
  /// library's one-line text).
  static func library<T>(_ body: () throws -> T) throws(DistributedError) -> T {
    do {
      return try body()
    } catch {
      throw .invalidArgument(String(describing: error))
    }
  }

  /// `layout` with the slices of every shard not in `owned` emptied.
  static func localLayout(_ layout: SISA.Layout, owned: [Int]) -> SISA.Layout {
    let keep = Set(owned)
    return SISA.Layout(
      slices: layout.slices.enumerated().map { s, shard in
        keep.contains(s) ? shard : shard.map { _ in [] }
      })
  }

  /// Every rank's ids, ascending (one all-gather of `n` 64-bit words, sent as their bits).
  static func allIDs(_ data: ShardedData) throws(DistributedError) -> [SampleID] {
    let mine = data.local.ids.map { Double(bitPattern: UInt64(bitPattern: Int64($0.rawValue))) }
    let all = try mpi { () throws(MPIError) in try data.communicator.allGather(mine) }
    return all.flatMap { $0 }.map { SampleID(Int(Int64(bitPattern: $0.bitPattern))) }.sorted()
  }

  /// The rows of this rank's SISA shards, gathered from every rank (one `MPI_Gatherv` per
  /// destination rank; each row travels once as `d + 2` doubles: id bits, label, features).
  static func redistribute(_ data: ShardedData, layout: SISA.Layout) throws(DistributedError)
    -> Dataset
  {
    let world = data.communicator
    let local = data.local
    let d = local.featureCount
    let locations = layout.locations
    var outgoing = [[Int]](repeating: [], count: world.size)
    for (i, id) in local.ids.enumerated() {
      guard let location = locations[id] else {
        throw .invalidArgument("sample id \(id) is not in the SISA layout")
      }
      outgoing[owner(ofShard: location.shard, rankCount: world.size)].append(i)
    }
    var received: [[Double]] = []
    for destination in 0..<world.size {
      let rows = outgoing[destination]
      var packed = [Double]()
      packed.reserveCapacity(rows.count * (d + 2))
      local.features.elements.withUnsafeBufferPointer { x in
        for i in rows {
          packed.append(Double(bitPattern: UInt64(bitPattern: Int64(local.ids[i].rawValue))))
          packed.append(Double(local.labels[i]))
          packed.append(contentsOf: x[(i * d)..<((i + 1) * d)])
        }
      }
      let gathered = try mpi { () throws(MPIError) in
        try world.gather(packed, root: destination)
      }
      if destination == world.rank { received = gathered }
    }
    let flat = received.flatMap { $0 }
    let count = flat.count / (d + 2)
    var ids = [SampleID]()
    var labels = [Int]()
    var elements = [Double]()
    ids.reserveCapacity(count)
    labels.reserveCapacity(count)
    elements.reserveCapacity(count * d)
    for k in 0..<count {
      let base = k * (d + 2)
      ids.append(SampleID(Int(Int64(bitPattern: flat[base].bitPattern))))
      labels.append(Int(flat[base + 1]))
      elements.append(contentsOf: flat[(base + 2)..<(base + 2 + d)])
    }
    return try library {
      try Dataset(
        features: Matrix(rows: count, columns: d, elements: elements), labels: labels, ids: ids,
        classCount: local.classCount, classNames: local.classNames,
        featureNames: local.featureNames, name: "\(local.name) (SISA shards of rank \(world.rank))"
      )
    }
  }

  // MARK: - Deletion

  /// The ensemble without `ids`: each rank retrains its affected shards from the checkpoint
  /// before their earliest affected slice (the library's ``SISA/Ensemble/removing(ids:)``).
  ///
  /// - Parameter ids: ids of the training data, retained, each named once.
  /// - Returns: the new ensemble and the combined report (shards retrained on any rank, slices
  ///   replayed summed over ranks, the slowest rank's seconds).
  /// - Throws: ``DistributedError/unlearning(_:)`` with the library's ``UnlearningError``
  ///   (unknown, duplicate or already forgotten id, nothing left), on every rank before any
  ///   work; ``DistributedError/invalidArgument(_:)`` when a rank's retraining fails (on every
  ///   rank); ``DistributedError/mpi(_:)``. Nothing changes on error.
  /// - Cost: the affected shards' replayed slice trainings on their owners, then one
  ///   all-gather of a few numbers per rank.
  public func removing(ids: [SampleID]) throws(DistributedError) -> (
    ensemble: ShardedSISA, report: SISA.Report
  ) {
    var seen = Set<SampleID>(minimumCapacity: ids.count)
    for id in ids {
      guard locations[id] != nil else {
        throw .unlearning(.unknownID(id))
      }
      guard seen.insert(id).inserted else {
        throw .unlearning(.duplicateID(id))
      }
      guard !removedIDs.contains(id) else {
        throw .unlearning(.alreadyForgotten(id))
      }
    }
    guard ids.count < layout.ids.count - removedIDs.count else {
      throw .unlearning(.nothingLeft)
    }
    let start = Communicator.wallTime
    var next = self
    next.removedIDs.formUnion(ids)
    var mine = SISA.Report(
      forgottenCount: ids.count, shardsRetrained: [], slicesReplayed: 0, seconds: 0)
    var failure: String?
    if let ensemble = local {
      let owned = Set(ownedShards)
      let localIDs = ids.filter { id in locations[id].map { owned.contains($0.shard) } ?? false }
      do {
        if localIDs.count == ensemble.retainedCount && !localIDs.isEmpty {
          // Every row of this rank's shards goes: each shard falls back to its initial
          // parameters, as the library does for a shard with no retained row.
          var part = ensemble.snapshot
          part.removedIDs = (Set(part.removedIDs).union(localIDs)).sorted()
          for s in owned {
            part.checkpoints[s] = Array(
              repeating: ensemble.model.initialParameters(
                seed: ensemble.initializationSeed &+ UInt64(s)), count: layout.sliceCount)
          }
          var earliest = [Int: Int]()
          for id in localIDs {
            if let location = locations[id] {
              earliest[location.shard] = Swift.min(
                earliest[location.shard] ?? location.slice, location.slice)
            }
          }
          next.local = try SISA.Ensemble(snapshot: part, data: ensemble.data)
          mine.shardsRetrained = earliest.keys.sorted()
          mine.slicesReplayed = earliest.values.reduce(0) { $0 + layout.sliceCount - $1 }
        } else {
          let (after, report) = try ensemble.removing(ids: localIDs)
          next.local = after
          mine = report
        }
      } catch {
        failure = String(describing: error)
      }
    }
    // Every rank learns the others' outcome (so a failure stops all of them) and the totals.
    var summary = [
      failure == nil ? 0.0 : 1.0, Double(mine.slicesReplayed), Double(mine.notes.count),
    ]
    summary += mine.shardsRetrained.map(Double.init)
    let all = try mpi { () throws(MPIError) in try communicator.allGather(summary) }
    if let bad = all.firstIndex(where: { $0[0] != 0 }) {
      throw .invalidArgument(
        "rank \(bad) could not retrain its shards" + (failure.map { ": \($0)" } ?? ""))
    }
    let seconds = try mpi { () throws(MPIError) in
      try communicator.allReduceMax(Communicator.wallTime - start)
    }
    let report = SISA.Report(
      forgottenCount: ids.count,
      shardsRetrained: all.flatMap { $0.dropFirst(3).map { Int($0) } }.sorted(),
      slicesReplayed: all.reduce(0) { $0 + Int($1[1]) }, seconds: seconds,
      notes: mine.notes)
    return (next, report)
  }

  // MARK: - Gathering

  /// The global snapshot (every shard's checkpoints from its owner; layout, removed ids and
  /// settings) on every rank that owns a shard (rank 0 always does: it owns shard 0), `nil` on
  /// the others. Every rank must call it (a collective).
  ///
  /// - Throws: ``DistributedError/mpi(_:)``.
  /// - Cost: one all-gather of `S R p` doubles in all, and the local data's fingerprint
  ///   (`O(n_k d)`).
  public func snapshot() throws(DistributedError) -> SISA.Snapshot<Model>? {
    var mine: [Double] = []
    if let local {
      for s in ownedShards { for checkpoint in local.checkpoints[s] { mine += checkpoint } }
    }
    let all = try mpi { () throws(MPIError) in try communicator.allGather(mine) }
    guard var snapshot = local?.snapshot else { return nil }
    fill(&snapshot, from: all)
    return snapshot
  }

  func fill(_ snapshot: inout SISA.Snapshot<Model>, from all: [[Double]]) {
    let p = snapshot.model.parameterCount
    let r = layout.sliceCount
    var checkpoints = [[[Double]]](repeating: [], count: layout.shardCount)
    for rank in 0..<communicator.size {
      var offset = 0
      for s in stride(from: rank, to: layout.shardCount, by: communicator.size) {
        checkpoints[s] = (0..<r).map { k in
          Array(all[rank][(offset + k * p)..<(offset + (k + 1) * p)])
        }
        offset += r * p
      }
    }
    snapshot.checkpoints = checkpoints
    snapshot.layout = layout
    snapshot.removedIDs = removedIDs.sorted()
    snapshot.dataFingerprint = dataFingerprint
  }
}
