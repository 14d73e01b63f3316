import Foundation
import LinearAlgebra
import Unlearning
import UnlearnCLI
import UnlearningDistributed

/// The world communicator of this process (MPI is initialised on first use).
func worldCommunicator() throws -> Communicator {
  try runReportingErrors { try Communicator.world() }
}

/// One line for any error.
func describe(_ error: any Error) -> String {
  String(describing: error)
}

/// Prints on rank 0 only (results go to standard output once, not once per rank).
func say(_ text: String, _ world: Communicator) {
  if world.isRoot { print(text) }
}

/// A progress line on standard error, rank 0 only.
func progress(_ text: String, _ world: Communicator) {
  if world.isRoot { progressLine(text) }
}

/// Runs `body` on every rank; when it fails on any rank, every rank throws the first failing
/// rank's message (so no rank is left waiting in a later collective).
func agree<T>(_ world: Communicator, _ body: () throws -> T) throws -> T {
  var result: T?
  var message = ""
  do {
    result = try body()
  } catch {
    message = describe(error)
  }
  let flags = try runReportingErrors { try world.allGather([result == nil ? 1 : 0]) }
  if let first = flags.firstIndex(where: { $0[0] != 0 }) {
    let bytes = try runReportingErrors { try world.broadcast(Array(message.utf8), root: first) }
    throw CLIError(String(decoding: bytes, as: UTF8.self))
  }
  guard let result else { throw CLIError("internal error: no result") }
  return result
}

/// Runs `body` on rank 0 only and hands its bytes to every rank, or throws its error's
/// message on every rank.
func onRoot(_ world: Communicator, _ body: () throws -> [UInt8]) throws -> [UInt8] {
  var message: [UInt8] = [0]
  if world.isRoot {
    do {
      message += try body()
    } catch {
      message = [1] + Array(describe(error).utf8)
    }
  }
  let received = try runReportingErrors { try world.broadcast(message, root: 0) }
  guard let status = received.first else { throw CLIError("internal error: empty broadcast") }
  if status != 0 { throw CLIError(String(decoding: received.dropFirst(), as: UTF8.self)) }
  return Array(received.dropFirst())
}

/// Loads a scenario on every rank and keeps this rank's shard; also the whole training set's
/// single-process fingerprint, so that model files written by `unlearn` are accepted too.
struct LoadedData {
  var scenario: Scenario
  var shard: ShardedData
  var fullFingerprint: String
  var test: Dataset

  init(_ scenario: Scenario, world: Communicator) throws {
    self.scenario = scenario
    if let template = scenario.dataPath, template.contains(partPlaceholder) {
      progress("loading the pre-split parts \(template) on \(world.size) rank(s)", world)
      let parts = try loadParts(scenario, template: template, world: world)
      shard = parts
      fullFingerprint = parts.fingerprint
      test = try runReportingErrors {
        try Dataset(
          features: Matrix(rows: 0, columns: parts.featureCount), labels: [],
          classCount: parts.local.classCount, classNames: parts.local.classNames,
          name: "no test set (pre-split parts hold training rows)")
      }
      progress(
        "\(parts.globalCount) rows x \(parts.featureCount) features in \(world.size) parts: \(parts.rankCounts.map(String.init).joined(separator: " / ")) rows per rank",
        world)
      return
    }
    progress("loading \(scenario) on \(world.size) rank(s)", world)
    let (train, test) = try agree(world) { try runReportingErrors { try scenario.load() } }
    self.test = test
    fullFingerprint = train.fingerprint
    // Every rank must have read the same data (a file rewritten between two ranks' reads, or
    // different files on different nodes, would silently mix two data sets).
    let reference = try runReportingErrors {
      try world.broadcast(Array(train.fingerprint.utf8), root: 0)
    }
    let fingerprint = fullFingerprint
    try agree(world) {
      let expected = String(decoding: reference, as: UTF8.self)
      guard fingerprint == expected else {
        throw CLIError(
          "rank \(world.rank) read different data than rank 0 (fingerprint \(fingerprint), rank 0: \(expected)): every rank must read the same file"
        )
      }
    }
    shard = try runReportingErrors { try ShardedData(sharding: train, communicator: world) }
    progress(
      "sharded \(shard.globalCount) rows x \(shard.featureCount) features by sample id: \(shard.rankCounts.map(String.init).joined(separator: " / ")) rows per rank",
      world)
  }

  /// Refuses a model file whose fingerprint is neither the sharded nor the single-process one.
  func check(_ file: ModelFile, path: String) throws {
    guard file.dataFingerprint == shard.fingerprint || file.dataFingerprint == fullFingerprint
    else {
      throw CLIError(
        ModelFileError.dataMismatch(
          path: path, expected: file.dataFingerprint, found: shard.fingerprint
        ).description)
    }
  }
}

/// Reads a model file on rank 0 and hands it to every rank.
func readModelFile(_ path: String, _ world: Communicator) throws -> ModelFile {
  let bytes = try onRoot(world) { Array(try ModelFile.read(from: path).encoded()) }
  return try decodeModelFile(bytes)
}

func decodeModelFile(_ bytes: [UInt8]) throws -> ModelFile {
  do {
    return try JSONDecoder().decode(ModelFile.self, from: Data(bytes))
  } catch {
    throw CLIError("internal error: the model file did not survive the broadcast: \(error)")
  }
}

/// The training summary as a result (the file keeps no parameters or objective value).
func trainingResult(_ summary: ModelFile.TrainingSummary, parameters: [Double]) -> Training.Result {
  Training.Result(
    parameters: parameters, iterations: summary.iterations, gradientNorm: .nan,
    gradientTolerance: .nan, objectiveValue: .nan, seconds: summary.seconds,
    converged: summary.converged, method: summary.method)
}

/// The certified state a model file describes, on the sharded data.
func certifiedState(_ file: ModelFile, data: LoadedData, path: String) throws
  -> ShardedCertifiedModel<LogisticRegression>
{
  try data.check(file, path: path)
  guard case .logistic(let d, false) = file.model, d == data.shard.featureCount else {
    throw CLIError(
      "\(path): unlearn-mpi serves binary logistic regression without intercept on \(data.shard.featureCount) features; this file holds \(file.model)"
    )
  }
  guard let certification = file.certification, let b = file.perturbation else {
    throw CLIError("\(path): not a certified model (train it with --certified)")
  }
  return try runReportingErrors {
    try ShardedCertifiedModel(
      model: LogisticRegression(featureCount: d), data: data.shard,
      regularization: file.regularization, parameters: file.parameters, perturbation: b,
      certification: certification, removedIDs: file.removedIDs,
      training: trainingResult(file.training, parameters: file.parameters))
  }
}

/// The model file of a sharded state (rank 0's shard carries the model; the fingerprint and
/// removal order are the global ones).
func makeModelFile(
  _ state: ShardedCertifiedModel<LogisticRegression>, scenario: Scenario, trainingSeed: UInt64?,
  fingerprint: String
) throws -> ModelFile {
  let local = TrainedModel(
    model: state.model, parameters: state.parameters, data: state.data.local,
    removedIDs: Set(state.removedIDs), regularization: state.regularization,
    perturbation: state.perturbation, training: state.training,
    certification: state.certification)
  var file = try ModelFile(
    state: local, scenario: scenario, trainingSeed: trainingSeed, removalOrder: state.removedIDs)
  file.dataFingerprint = fingerprint
  return file
}
