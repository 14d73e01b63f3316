import Foundation

/// A trained model's private state on disk: versioned JSON, mapping one-to-one onto a
/// ``TrainedModel`` plus where its training data comes from. Version 2 holds one model;
/// version 3 adds the ``SISAState`` of a SISA ensemble (field `sisa`); version 4 is one model
/// on standardised features (field `standardization`, the ``Dataset/Standardization`` its
/// parameters act on). All three are read; a file without standardisation is still written
/// as version 2, so older builds read it, and older builds refuse version 4 rather than
/// apply its parameters to unstandardised features.
///
/// Holds the architecture, lambda, the current parameters, a training summary that describes
/// no earlier parameters, the data reference (scenario and fingerprint, checked before any
/// removal), the ids removed so far, the seed of the trainer's initialisation, and for
/// certified models the secret perturbation `b` and the ``CertifiedRemoval/State``. Keep it
/// private (files are written 0600).
public struct ModelFile: Sendable, Codable, Equatable {
  /// The `format` field every model file carries.
  public static let formatName = "unlearn-model"
  /// The newest version this build writes and reads (4: stored feature standardisation).
  public static let currentVersion = 4
  /// The version of a file of one model with stored feature standardisation.
  public static let standardizedVersion = 4
  /// The oldest version this build reads (2: one model). Files of one model are still
  /// written as version 2.
  public static let oldestReadableVersion = 2

  /// ``formatName``.
  public var format: String = ModelFile.formatName
  /// 2 for one model, 3 for a SISA ensemble, 4 for one model with ``standardization``.
  public var version: Int = ModelFile.oldestReadableVersion
  /// The architecture.
  public var model: ModelFile.Specification
  /// lambda (sum form: the regulariser is `(lambda / 2) n_R ||theta||^2`).
  public var regularization: Double
  /// The current parameters `theta` (length `model.parameterCount`).
  public var parameters: [Double]
  /// How the model was last (re)trained (nothing that describes earlier parameters).
  public var training: TrainingSummary
  /// Where the training data comes from.
  public var scenario: Scenario
  /// ``Dataset/fingerprint`` of the full training set as loaded from ``scenario``, before any
  /// standardisation.
  public var dataFingerprint: String
  /// The per-feature standardisation the parameters act on (version 4), else `nil`: the
  /// loaded features are mapped by it before the model sees them, for training rows and test
  /// rows alike. Fitted on the retained rows: every removal (`unlearn remove`, any method)
  /// refits it on the rows it keeps and re-expresses the parameters on the refitted statistics
  /// (``Specification/reexpressing(_:from:to:)``), so it holds nothing of a forgotten row.
  public var standardization: Dataset.Standardization?
  /// The number of rows of the full training set as ``scenario`` loads it (before any
  /// removal), recorded with a ``standardization`` so that a reader can tell whether the
  /// statistics cover only the retained rows (``standardizationFitsRetainedRows``); `nil` in
  /// files without standardisation and in standardised files of older builds.
  public var trainingRowCount: Int?
  /// Ids removed since training, in removal order.
  public var removedIDs: [SampleID]
  /// Seed of the trainer's initialisation (networks): a retrain uses the same seed.
  public var trainingSeed: UInt64?
  /// The secret loss perturbation `b` of a certified model (stacked over heads), else `nil`.
  public var perturbation: [Double]?
  /// The certification state of a certified model, else `nil`.
  public var certification: CertifiedRemoval.State?
  /// The layout and checkpoints of a SISA ensemble (version 3), else `nil`.
  public var sisa: SISAState?

  /// What a model file keeps of a training run: no parameters and no objective value (both
  /// would describe a model trained on data that may since have been forgotten).
  public struct TrainingSummary: Sendable, Codable, Equatable {
    /// The optimiser, e.g. `"newton"`.
    public var method: String
    /// Its iterations.
    public var iterations: Int
    /// Whether it reached its tolerance.
    public var converged: Bool
    /// Wall-clock seconds.
    public var seconds: Double

    /// The summary of a training run.
    public init(_ result: Training.Result) {
      method = result.method
      iterations = result.iterations
      converged = result.converged
      seconds = result.seconds
    }

    /// A summary from its fields (e.g. of a SISA ensemble: its slice trainings).
    public init(method: String, iterations: Int, converged: Bool, seconds: Double) {
      self.method = method
      self.iterations = iterations
      self.converged = converged
      self.seconds = seconds
    }
  }

  /// The file of a trained state.
  ///
  /// - Parameters:
  ///   - state: the trained state (model, parameters, weights; certification state if any).
  ///   - scenario: where the training data comes from, so later commands can load it again.
  ///   - trainingSeed: the seed of the trainer's initialisation (networks; a retrain reuses it).
  ///   - removalOrder: the ids removed so far, in request order, or `nil` for none.
  ///   - standardization: the statistics `state.data` was standardised with (the file is then
  ///     version 4), or `nil`.
  ///   - dataFingerprint: the fingerprint of the training set as ``scenario`` loads it, when
  ///     `state.data` is not that (standardised data); `nil`: `state.data.fingerprint`.
  /// - Throws: ``UnlearningError/unsupported(_:)`` for a model type a file cannot hold;
  ///   ``UnlearningError/invalidArgument(_:)`` when `standardization` is given without the
  ///   raw data's fingerprint or does not fit the model's features.
  public init<Model: TwiceDifferentiableModel>(
    state: TrainedModel<Model>, scenario: Scenario, trainingSeed: UInt64? = nil,
    removalOrder: [SampleID]? = nil, standardization: Dataset.Standardization? = nil,
    dataFingerprint: String? = nil
  ) throws(UnlearningError) {
    model = try ModelFile.Specification(state.model)
    regularization = state.regularization
    parameters = state.parameters
    training = TrainingSummary(state.training)
    self.scenario = scenario
    if let standardization {
      guard dataFingerprint != nil else {
        throw .invalidArgument(
          "a standardised model file needs the fingerprint of the unstandardised data")
      }
      guard standardization.featureCount == state.data.featureCount else {
        throw .invalidArgument(
          "standardization has \(standardization.featureCount) features, the data \(state.data.featureCount)"
        )
      }
      version = ModelFile.standardizedVersion
      trainingRowCount = state.data.count
    }
    self.dataFingerprint = dataFingerprint ?? state.data.fingerprint
    self.standardization = standardization
    removedIDs = removalOrder ?? state.removedIDs.sorted()
    self.trainingSeed = trainingSeed
    perturbation = state.perturbation
    certification = state.certification
  }

  /// Rebuilds the state on `data` (the full training set as ``scenario`` loads it; its
  /// fingerprint must match) and hands it to `visitor` with the concrete model type. A
  /// standardised file maps `data` by its stored ``standardization`` first (one `n x d`
  /// copy). Nothing is recomputed: the certification state is used as stored.
  ///
  /// - Throws: ``ModelFileError/dataMismatch(path:expected:found:)`` (with `path` as given),
  ///   ``ModelFileError/invalidField(_:_:)`` when the data does not fit the model (features,
  ///   classes, removed ids), and whatever `visitor` throws.
  package func withState<Visitor: StateVisitor>(
    data: Dataset, path: String, _ visitor: Visitor
  ) throws -> Visitor.Output {
    guard data.fingerprint == dataFingerprint else {
      throw ModelFileError.dataMismatch(
        path: path, expected: dataFingerprint, found: data.fingerprint)
    }
    try checkFits(data)
    let modelData = try standardization.map { try $0.apply(to: data) } ?? data
    return try model.accept(StateBuilder(file: self, data: modelData, visitor: visitor))
  }

  /// Checks that `data` (the training set as ``scenario`` loads it) fits the model: feature
  /// count, class count, and every removed id present. Cost: `O(removed)`.
  ///
  /// - Throws: ``ModelFileError/invalidField(_:_:)`` naming the field that does not fit.
  package func checkFits(_ data: Dataset) throws(ModelFileError) {
    guard data.featureCount == model.featureCount else {
      throw ModelFileError.invalidField(
        "model.featureCount",
        "the model expects \(model.featureCount) features, the data has \(data.featureCount)")
    }
    switch model {
    case .softmax(_, let k), .oneVsRest(_, let k):
      guard k == data.classCount else {
        throw ModelFileError.invalidField(
          "model.classCount", "the model has \(k) classes, the data has \(data.classCount)")
      }
    case .logistic:
      guard data.classCount == 2 else {
        throw ModelFileError.invalidField(
          "model", "logistic regression needs 2 classes, the data has \(data.classCount)")
      }
    default: break
    }
    for id in removedIDs where data.rowIndex(of: id) == nil {
      throw ModelFileError.invalidField("removedIDs", "id \(id) is not in the training data")
    }
  }

  /// The file's bytes: pretty-printed JSON with sorted keys.
  public func encoded() throws(ModelFileError) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      return try encoder.encode(self)
    } catch {
      throw .unwritable(path: "-", reason: "\(error)")
    }
  }

  /// Writes pretty-printed JSON atomically (temporary file, then rename), private: mode 0600.
  public func write(to path: String) throws(ModelFileError) {
    do {
      try SecureFile.writeAtomically(encoded(), to: path, mode: 0o600)
    } catch let error as ModelFileError {
      throw error
    } catch {
      throw .unwritable(path: path, reason: "\(error)")
    }
  }

  /// Reads and validates a model file.
  ///
  /// - Throws: ``ModelFileError`` naming the file and the field: unreadable, not JSON, wrong
  ///   format or version, inconsistent shapes, non-finite parameters.
  public static func read(from path: String) throws(ModelFileError) -> ModelFile {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw .unreadable(
        path: path,
        reason: FileManager.default.fileExists(atPath: path) ? "cannot read" : "no such file")
    }
    // Check the header first so a wrong version gets a precise message.
    struct Header: Decodable { var format: String?; var version: Int? }
    guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
      throw .corrupt(path: path, reason: "not a JSON object")
    }
    guard header.format == formatName else {
      throw .corrupt(
        path: path,
        reason:
          "field \"format\" is \(header.format.map { "\"\($0)\"" } ?? "missing"), expected \"\(formatName)\""
      )
    }
    guard let version = header.version,
      (oldestReadableVersion...currentVersion).contains(version)
    else {
      throw .unsupportedVersion(path: path, found: header.version ?? -1, supported: currentVersion)
    }
    let file = try decode(data, path: path)
    try file.validate(path: path)
    return file
  }

  static func decode(_ data: Data, path: String) throws(ModelFileError) -> ModelFile {
    let file: ModelFile
    do {
      file = try JSONDecoder().decode(ModelFile.self, from: data)
    } catch let DecodingError.keyNotFound(key, context) {
      throw .corrupt(
        path: path,
        reason:
          "missing field \"\((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))\""
      )
    } catch let DecodingError.typeMismatch(_, context) {
      throw .corrupt(
        path: path,
        reason:
          "field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
      )
    } catch let DecodingError.dataCorrupted(context) {
      throw .corrupt(
        path: path,
        reason:
          "field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": \(context.debugDescription)"
      )
    } catch {
      throw .corrupt(path: path, reason: "\(error)")
    }
    return file
  }

  /// Checks every field: shapes, finiteness, the certification state and `b`.
  func validate(path: String) throws(ModelFileError) {
    let file = self
    do {
      try file.model.validate()
    } catch {
      throw .corrupt(path: path, reason: error.description)
    }
    guard file.parameters.count == file.model.parameterCount else {
      throw .corrupt(
        path: path,
        reason:
          "field \"parameters\" has \(file.parameters.count) entries, the model needs \(file.model.parameterCount)"
      )
    }
    if let bad = file.parameters.firstIndex(where: { !$0.isFinite }) {
      throw .corrupt(path: path, reason: "field \"parameters\" entry \(bad) is not finite")
    }
    guard file.regularization > 0, file.regularization.isFinite else {
      throw .corrupt(
        path: path, reason: "field \"regularization\" must be positive, got \(file.regularization)")
    }
    if let b = file.perturbation {
      guard b.count == file.model.parameterCount else {
        throw .corrupt(
          path: path,
          reason:
            "field \"perturbation\" has \(b.count) entries, expected \(file.model.parameterCount)")
      }
      if let bad = b.firstIndex(where: { !$0.isFinite }) {
        throw .corrupt(path: path, reason: "field \"perturbation\" entry \(bad) is not finite")
      }
    }
    if Set(file.removedIDs).count != file.removedIDs.count {
      throw .corrupt(path: path, reason: "field \"removedIDs\" lists an id twice")
    }
    try file.validateSISA(path: path)
    if file.version == ModelFile.standardizedVersion && file.standardization == nil {
      throw .corrupt(
        path: path,
        reason:
          "a version \(ModelFile.standardizedVersion) file needs its field \"standardization\"")
    }
    if let s = file.standardization {
      do {
        _ = try Dataset.Standardization(means: s.means, scales: s.scales, rowCount: s.rowCount)
      } catch {
        throw .corrupt(path: path, reason: "field \"standardization\": \(error.description)")
      }
      guard s.featureCount == file.model.featureCount else {
        throw .corrupt(
          path: path,
          reason:
            "field \"standardization\" has \(s.featureCount) features, the model \(file.model.featureCount)"
        )
      }
      guard file.certification == nil, file.sisa == nil else {
        throw .corrupt(
          path: path,
          reason:
            "field \"standardization\" cannot go with a certified model or a SISA ensemble")
      }
      if let n = file.trainingRowCount, s.rowCount > n || file.removedIDs.count >= n {
        throw .corrupt(
          path: path,
          reason:
            "field \"trainingRowCount\" (\(n)) is below the statistics' rows (\(s.rowCount)) or the removed ids (\(file.removedIDs.count))"
        )
      }
      guard file.version == ModelFile.standardizedVersion else {
        throw .corrupt(
          path: path,
          reason:
            "field \"standardization\" needs version \(ModelFile.standardizedVersion), got \(file.version)"
        )
      }
    }
    if let c = file.certification {
      func bad(_ field: String, _ why: String) -> ModelFileError {
        .corrupt(path: path, reason: "field \"certification.\(field)\" \(why)")
      }
      guard file.model.isCertifiable else {
        throw .corrupt(
          path: path, reason: "a \(file.model.kind) model cannot carry a certification state")
      }
      guard file.perturbation != nil else {
        throw .corrupt(
          path: path,
          reason: "field \"perturbation\" is missing: a certified state needs its secret b")
      }
      do {
        _ = try PrivacyParameters(
          epsilon: c.privacy.epsilon, delta: c.privacy.delta, sigma: c.privacy.sigma)
      } catch {
        throw bad("privacy", "is invalid: \(error)")
      }
      let heads: Int
      if case .oneVsRest(_, let k) = file.model { heads = k } else { heads = 1 }
      guard c.headSpent.count == heads else {
        throw bad("headSpent", "has \(c.headSpent.count) entries, expected \(heads)")
      }
      guard c.headSpent.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
        throw bad("headSpent", "must be finite and >= 0")
      }
      guard c.spent <= c.budget else {
        throw bad("headSpent", "exceeds the budget \(c.budget): the state is not certified")
      }
      guard c.spectralNorm > 0, c.spectralNorm.isFinite else {
        throw bad("spectralNorm", "must be positive and finite")
      }
      guard c.maximumSteps >= 1 else { throw bad("maximumSteps", "must be >= 1") }
      guard c.retrainCount >= 0, c.perturbationDraws >= 1 else {
        throw bad("retrainCount", "or perturbationDraws is out of range")
      }
      do {
        try c.solver.validate()
      } catch {
        throw bad("solver", "is invalid: \(error)")
      }
    }
  }
}

/// Errors reading or writing model files: one readable line each.
public enum ModelFileError: Error, Equatable, Sendable, CustomStringConvertible {
  case unreadable(path: String, reason: String)
  case unwritable(path: String, reason: String)
  case corrupt(path: String, reason: String)
  case unsupportedVersion(path: String, found: Int, supported: Int)
  case invalidField(String, String)
  /// The data loaded for this model is not the data it was trained on.
  case dataMismatch(path: String, expected: String, found: String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason): return "\(path): cannot read model file (\(reason))"
    case .unwritable(let path, let reason): return "\(path): cannot write model file (\(reason))"
    case .corrupt(let path, let reason): return "\(path): corrupt model file: \(reason)"
    case .unsupportedVersion(let path, let found, let supported):
      if found == 1 {
        return
          "\(path): model file version 1 is not supported (this build reads version \(supported), which stores the certification state); retrain it with `unlearn train`"
      }
      return
        "\(path): model file version \(found) is not supported (this build reads versions \(ModelFile.oldestReadableVersion) to \(supported))"
    case .invalidField(let field, let reason): return "invalid \(field): \(reason)"
    case .dataMismatch(let path, let expected, let found):
      return
        "\(path): the training data has fingerprint \(found), but the model was trained on \(expected); refusing to remove from different data"
    }
  }
}

/// Generic code over "whatever state a model file describes": ``ModelFile/withState(data:path:_:)``
/// calls ``visit(_:)`` with the concrete model type.
package protocol StateVisitor {
  /// What the visit returns.
  associatedtype Output
  /// Called with the rebuilt state.
  func visit<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) throws -> Output
}

private struct StateBuilder<Visitor: StateVisitor>: ModelVisitor {
  let file: ModelFile
  let data: Dataset
  let visitor: Visitor

  func visit<Model: TwiceDifferentiableModel>(_ model: Model) throws -> Visitor.Output {
    let t = file.training
    let state = TrainedModel(
      model: model, parameters: file.parameters, data: data, removedIDs: Set(file.removedIDs),
      regularization: file.regularization, perturbation: file.perturbation,
      training: Training.Result(
        parameters: file.parameters, iterations: t.iterations, gradientNorm: .nan,
        gradientTolerance: .nan, objectiveValue: .nan, seconds: t.seconds, converged: t.converged,
        method: t.method),
      certification: file.certification)
    return try visitor.visit(state)
  }
}
