import Foundation

/// A trained model on disk: versioned JSON, written atomically.
///
/// Holds the architecture, lambda, the parameters, the training summary, where the training
/// data comes from (and its fingerprint, checked before any removal), the ids removed so far,
/// and, for certified models, the certification state **including the secret perturbation `b`**.
/// ``publicCopy()`` drops `b` (and anything derived from it that must stay private) for
/// publication.
public struct ModelFile: Sendable, Codable, Equatable {
  /// The `format` field every model file carries.
  public static let formatName = "unlearn-model"
  /// The version this build writes and reads.
  public static let currentVersion = 1

  public var format: String = ModelFile.formatName
  public var version: Int = ModelFile.currentVersion
  public var model: ModelSpecification
  /// lambda (sum form: the regulariser is `(lambda / 2) n_R ||theta||^2`).
  public var regularization: Double
  public var parameters: [Double]
  public var training: TrainingResult
  public var scenario: Scenario
  /// ``Dataset/fingerprint`` of the full training set.
  public var dataFingerprint: String
  /// Ids removed since training, in removal order.
  public var removedIDs: [SampleID]
  /// Certified removal state, for certified models.
  public var certification: CertificationState?
  /// Seed of the trainer's initialisation (networks): a retrain uses the same seed.
  public var trainingSeed: UInt64?

  /// The state certified removal carries between calls.
  public struct CertificationState: Sendable, Codable, Equatable {
    public var privacy: PrivacyParameters
    /// `paper` or `exact-step`.
    public var accounting: String
    /// The secret loss perturbation `b`; `nil` in a public copy.
    public var perturbation: [Double]?
    /// Budget spent (paper accounting: running sum; exact-step: the current model's
    /// certified residual).
    public var spent: Double
    public var retrainCount: Int
    /// Seed for the next fresh `b` (so a budget-triggered retrain is reproducible).
    public var nextPerturbationSeed: UInt64

    public init(
      privacy: PrivacyParameters, accounting: String, perturbation: [Double]?, spent: Double,
      retrainCount: Int, nextPerturbationSeed: UInt64
    ) {
      self.privacy = privacy
      self.accounting = accounting
      self.perturbation = perturbation
      self.spent = spent
      self.retrainCount = retrainCount
      self.nextPerturbationSeed = nextPerturbationSeed
    }
  }

  public init(
    model: ModelSpecification, regularization: Double, parameters: [Double],
    training: TrainingResult,
    scenario: Scenario, dataFingerprint: String, removedIDs: [SampleID] = [],
    certification: CertificationState? = nil
  ) {
    self.model = model
    self.regularization = regularization
    self.parameters = parameters
    self.training = training
    self.scenario = scenario
    self.dataFingerprint = dataFingerprint
    self.removedIDs = removedIDs
    self.certification = certification
  }

  /// A copy safe to publish: without the secret perturbation `b`.
  public func publicCopy() -> ModelFile {
    var copy = self
    copy.certification?.perturbation = nil
    return copy
  }

  /// Writes pretty-printed JSON atomically (temporary file, then rename).
  public func write(to path: String) throws(ModelFileError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      let data = try encoder.encode(self)
      try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw .unwritable(path: path, reason: "\(error.localizedDescription)")
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
    guard header.version == currentVersion else {
      throw .unsupportedVersion(path: path, found: header.version ?? -1, supported: currentVersion)
    }
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
    if let b = file.certification?.perturbation, b.count != file.model.parameterCount {
      throw .corrupt(
        path: path,
        reason:
          "field \"certification.perturbation\" has \(b.count) entries, expected \(file.model.parameterCount)"
      )
    }
    if Set(file.removedIDs).count != file.removedIDs.count {
      throw .corrupt(path: path, reason: "field \"removedIDs\" lists an id twice")
    }
    return file
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
      return
        "\(path): model file version \(found) is not supported (this build reads version \(supported))"
    case .invalidField(let field, let reason): return "invalid \(field): \(reason)"
    case .dataMismatch(let path, let expected, let found):
      return
        "\(path): the training data has fingerprint \(found), but the model was trained on \(expected); refusing to remove from different data"
    }
  }
}
