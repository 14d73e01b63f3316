import Foundation

/// What may be published of a model: a whitelist, and a different type from the private
/// ``ModelFile`` so that one can never be used where the other is required.
///
/// Holds the model kind and shape, the current parameters, lambda, the feature standardisation
/// the parameters act on (when the model has one: it is part of the model), and for certified
/// models `epsilon`, `delta`, `sigma` and the budget. Nothing else: no `b`, no earlier parameters, no
/// training summary, no removed ids, no budget spent, no certificates, no data path, seed or
/// fingerprint.
public struct PublicRelease: Sendable, Codable, Equatable {
  /// The `format` field of every release.
  public static let formatName = "unlearn-public-model"
  /// The newest version this build writes and reads: 2 adds `standardization`. A release
  /// without standardisation is still written as version 1.
  public static let currentVersion = 2

  /// ``formatName``.
  public var format: String = PublicRelease.formatName
  /// ``currentVersion``.
  public var version: Int = 1
  /// The architecture.
  public var model: ModelFile.Specification
  /// The current parameters.
  public var parameters: [Double]
  /// lambda.
  public var regularization: Double
  /// The privacy guarantee of a certified model, else `nil`.
  public var privacy: Guarantee?
  /// The per-feature standardisation the parameters act on (version 2), else `nil`: apply
  /// `(x_j - means[j]) / scales[j]` to every feature before the model.
  public var standardization: Dataset.Standardization?

  /// The published privacy parameters.
  public struct Guarantee: Sendable, Codable, Equatable {
    /// `epsilon`.
    public var epsilon: Double
    /// `delta`.
    public var delta: Double
    /// The standard deviation of `b`'s entries.
    public var sigma: Double
    /// The gradient-residual budget `epsilon'` every released model stays within.
    public var budget: Double
  }

  /// The release of a private state.
  ///
  /// - Throws: ``ModelFileError/invalidField(_:_:)`` when the state's `b` came from the seeded,
  ///   non-private source (its certificate is void, so it must not be published as certified),
  ///   or when its standardisation may have been fitted on forgotten rows
  ///   (``ModelFile/standardizationFitsRetainedRows`` is not `true`: the statistics with the
  ///   retained data would reveal the forgotten rows' features).
  public init(_ file: ModelFile) throws(ModelFileError) {
    model = file.model
    parameters = file.parameters
    regularization = file.regularization
    if let s = file.standardization {
      switch file.standardizationFitsRetainedRows {
      case true?: break
      case false?:
        throw .invalidField(
          "standardization.rowCount",
          "the statistics were fitted on \(s.rowCount) rows, but the model retains \((file.trainingRowCount ?? 0) - file.removedIDs.count): they include forgotten rows, refusing to publish"
        )
      case nil:
        throw .invalidField(
          "standardization.rowCount",
          "the file has \(file.removedIDs.count) removed ids and was written before removals refitted the statistics, so they may include forgotten rows; refusing to publish"
        )
      }
      standardization = s
      version = 2
    }
    if let c = file.certification {
      guard c.perturbationSource.isPrivate else {
        throw .invalidField(
          "certification.perturbationSource",
          "b was drawn from a seeded generator (tests only): the certificate is void, refusing to publish"
        )
      }
      privacy = Guarantee(
        epsilon: c.privacy.epsilon, delta: c.privacy.delta, sigma: c.privacy.sigma,
        budget: c.budget)
    }
  }

  /// Writes the release atomically, readable by everyone (mode 0644).
  public func write(to path: String) throws(ModelFileError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      try SecureFile.writeAtomically(try encoder.encode(self), to: path, mode: 0o644)
    } catch {
      throw .unwritable(path: path, reason: "\(error)")
    }
  }

  /// Reads a release.
  ///
  /// - Throws: ``ModelFileError`` naming the file and field; a private model file is refused
  ///   (its `format` differs).
  public static func read(from path: String) throws(ModelFileError) -> PublicRelease {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .unreadable(path: path, reason: "no such file or not readable")
    }
    struct Header: Decodable { var format: String? }
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
    do {
      let release = try JSONDecoder().decode(PublicRelease.self, from: data)
      try release.model.validate()
      guard release.parameters.count == release.model.parameterCount else {
        throw ModelFileError.corrupt(
          path: path, reason: "field \"parameters\" has the wrong length")
      }
      return release
    } catch let error as ModelFileError {
      throw error
    } catch {
      throw .corrupt(path: path, reason: "\(error)")
    }
  }
}
