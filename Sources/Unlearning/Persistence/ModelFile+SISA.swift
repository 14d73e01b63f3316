import Foundation

extension ModelFile {
  /// The SISA part of a model file (format version 3): the layout, every shard's per-slice
  /// checkpoints and the settings a later deletion replays them with.
  ///
  /// The file's ``ModelFile/parameters`` are then ``SISA/Ensemble/averagedParameters`` (a
  /// summary; the ensemble's predictions aggregate the shards), ``ModelFile/removedIDs`` the
  /// ids forgotten so far (they stay in the layout and are never trained on), and
  /// ``ModelFile/trainingSeed`` the layout seed.
  public struct SISAState: Sendable, Codable, Equatable {
    /// The shard and slice of every training id (removed ids included).
    public var layout: SISA.Layout
    /// `checkpoints[s][r]`: shard `s`'s parameters after slice `r`, each of length `p`.
    /// No checkpoint was trained on a removed id.
    public var checkpoints: [[[Double]]]
    /// The optimiser of every slice.
    public var trainer: Training.Settings
    /// Shard `s` starts from the model's initial parameters with seed `initializationSeed + s`.
    public var initializationSeed: UInt64
    /// How the shards' outputs are combined.
    public var aggregation: SISA.Aggregation
  }

  /// The file of a SISA ensemble (format version 3).
  ///
  /// - Parameters:
  ///   - ensemble: the trained ensemble (its data is the full training set).
  ///   - scenario: where the data comes from.
  ///   - layoutSeed: the seed the layout was dealt with (recorded as ``trainingSeed``).
  ///   - training: what training the ensemble cost.
  ///   - removalOrder: the removed ids in removal order (default: ascending).
  /// - Throws: ``UnlearningError/unsupported(_:)`` for a model type a file cannot hold.
  public init<Model: TwiceDifferentiableModel>(
    ensemble: SISA.Ensemble<Model>, scenario: Scenario, layoutSeed: UInt64,
    training: TrainingSummary, removalOrder: [SampleID]? = nil
  ) throws(UnlearningError) {
    model = try ModelFile.Specification(ensemble.model)
    version = 3
    regularization = ensemble.regularization
    parameters = ensemble.averagedParameters
    self.training = training
    self.scenario = scenario
    dataFingerprint = ensemble.data.fingerprint
    removedIDs = removalOrder ?? ensemble.removedIDs.sorted()
    trainingSeed = layoutSeed
    perturbation = ensemble.perturbation
    certification = nil
    sisa = SISAState(
      layout: ensemble.layout, checkpoints: ensemble.checkpoints, trainer: ensemble.trainer,
      initializationSeed: ensemble.initializationSeed, aggregation: ensemble.aggregation)
  }

  /// Checks the SISA section's shapes (called by ``validate(path:)``).
  func validateSISA(path: String) throws(ModelFileError) {
    guard let sisa else {
      guard version != 3 else {
        throw .corrupt(path: path, reason: "a version 3 file needs its field \"sisa\"")
      }
      return
    }
    func bad(_ field: String, _ why: String) -> ModelFileError {
      .corrupt(path: path, reason: "field \"sisa.\(field)\" \(why)")
    }
    guard version == 3 else {
      throw .corrupt(path: path, reason: "field \"sisa\" needs format version 3")
    }
    guard certification == nil else {
      throw .corrupt(path: path, reason: "a SISA ensemble cannot carry a certification state")
    }
    let layout = sisa.layout
    let s = layout.shardCount, r = layout.sliceCount, p = model.parameterCount
    guard s >= 1, r >= 1, layout.slices.count == s, layout.slices.allSatisfy({ $0.count == r })
    else { throw bad("layout", "must have shardCount x sliceCount slices, both >= 1") }
    let ids = layout.ids
    guard Set(ids).count == ids.count else { throw bad("layout", "lists an id twice") }
    let known = Set(ids)
    if let stray = removedIDs.first(where: { !known.contains($0) }) {
      throw .corrupt(path: path, reason: "field \"removedIDs\": id \(stray) is not in the layout")
    }
    guard sisa.checkpoints.count == s,
      sisa.checkpoints.allSatisfy({ $0.count == r && $0.allSatisfy { $0.count == p } })
    else { throw bad("checkpoints", "must be \(s) x \(r) vectors of length \(p)") }
    for (k, shard) in sisa.checkpoints.enumerated() {
      for (j, checkpoint) in shard.enumerated() where !checkpoint.allSatisfy(\.isFinite) {
        throw bad("checkpoints", "shard \(k) slice \(j) has a non-finite entry")
      }
    }
  }
}

extension SISA.Ensemble {
  /// Rebuilds the ensemble a SISA model file describes, on its training data.
  ///
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` when the layout's ids are not the data's.
  init(
    state: ModelFile.SISAState, model: Model, data: Dataset, removedIDs: Set<SampleID>,
    regularization: Double, perturbation: [Double]?
  ) throws {
    let ids = state.layout.ids
    guard ids.count == data.count, ids.allSatisfy({ data.rowIndex(of: $0) != nil }) else {
      throw UnlearningError.invalidArgument(
        "the SISA layout's \(ids.count) ids are not the data's \(data.count) ids")
    }
    self.init(
      model: model, data: data, layout: state.layout, checkpoints: state.checkpoints,
      removedIDs: removedIDs, regularization: regularization, perturbation: perturbation,
      trainer: state.trainer, initializationSeed: state.initializationSeed,
      aggregation: state.aggregation)
  }
}

extension ModelFile {
  /// What a deletion from a SISA model file did.
  package struct SISARemoval: Sendable {
    /// The rewritten file.
    package var file: ModelFile
    /// The library's report (method `"sisa"`; `seconds` is the retraining time).
    package var report: RemovalReport
    /// Which shards were retrained and how many slices replayed.
    package var sisa: SISA.Report
  }

  /// Deletes `ids` from the SISA ensemble this file holds: every affected shard is retrained
  /// from its last checkpoint before the earliest affected slice, and every checkpoint at or
  /// after that slice is replaced, so no checkpoint of the returned file saw a forgotten row.
  ///
  /// - Parameters:
  ///   - ids: ids of the training data, retained, each named once.
  ///   - data: the full training set (its fingerprint must match).
  ///   - path: the file's path, for messages.
  /// - Throws: ``ModelFileError`` for a file that is not a SISA file or does not fit `data`,
  ///   ``UnlearningError`` for a bad request (nothing changes then).
  /// - Cost: the affected shards' replayed slice trainings, plus one gradient pass for the
  ///   report's residuals.
  package func removingFromSISA(ids: [SampleID], data: Dataset, path: String) throws
    -> SISARemoval
  {
    guard let sisa else {
      throw ModelFileError.invalidField("model file", "\(path) is not a SISA ensemble")
    }
    struct Remover: StateVisitor {
      var file: ModelFile
      var sisa: SISAState
      var ids: [SampleID]
      func visit<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) throws
        -> SISARemoval
      {
        let ensemble = try SISA.Ensemble(
          state: sisa, model: state.model, data: state.data, removedIDs: state.removedIDs,
          regularization: state.regularization, perturbation: state.perturbation)
        var after: SISA.Ensemble<Model>?
        var sisaReport = SISA.Report(
          forgottenCount: 0, shardsRetrained: [], slicesReplayed: 0, seconds: 0)
        let result = try UnlearningResult.run(method: "sisa", state: state, ids: ids) {
          removed, _ in
          let (next, report) = try ensemble.removing(ids: ids)
          after = next
          sisaReport = report
          var out = removed
          out.parameters = next.averagedParameters
          return UnlearningOutcome(
            state: out,
            notes: [
              "retrained \(report.shardsRetrained.count) of \(ensemble.shardCount) shards"
                + " (shard\(report.shardsRetrained.count == 1 ? "" : "s")"
                + " \(report.shardsRetrained.map(String.init).joined(separator: ", "));"
                + " \(report.slicesReplayed) slice trainings)",
              "parameters: the mean of the shards' parameters (predictions aggregate the shards)",
            ] + report.notes,
            details: [
              "shards": Double(ensemble.shardCount),
              "slices": Double(ensemble.layout.sliceCount),
              "shards retrained": Double(report.shardsRetrained.count),
              "slices replayed": Double(report.slicesReplayed),
            ])
        }
        var next = try ModelFile(
          ensemble: after ?? ensemble, scenario: file.scenario,
          layoutSeed: file.trainingSeed ?? 0, training: file.training,
          removalOrder: file.removedIDs + ids)
        next.training = file.training
        return SISARemoval(file: next, report: result.report, sisa: sisaReport)
      }
    }
    return try withState(data: data, path: path, Remover(file: self, sisa: sisa, ids: ids))
  }
}
