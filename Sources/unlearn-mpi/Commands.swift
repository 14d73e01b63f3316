import ArgumentParser
import Foundation
import LinearAlgebra
import Unlearning
import UnlearnCLI
import UnlearningDistributed

/// `unlearn-mpi`: the row-sharded commands, run under `mpirun`.
struct UnlearnMPI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "unlearn-mpi",
    abstract:
      "Certified training, removal, influence and audit on row-sharded data over MPI; SISA over ranks.",
    discussion: """
      Run under mpirun; every rank loads the data set and keeps its shard of rows (rows are assigned by a hash of the sample id, so shards do not depend on row order), or, when the path contains {rank} (--dataset 'csv:data.part-{rank}.csv'), reads only its own part (pre-split files: training rows only; ids from --id-column or the part's offset). Parameters, the secret b, the d x d factor and the certification state are replicated on every rank; only rank 0 reads requests and writes files. Model files have the format of `unlearn` (binary logistic regression without intercept). With train --method sisa, shard s of a SISA ensemble lives on rank s mod size; rank 0 writes one SISA file.

      Examples:
        mpirun -np 4 unlearn-mpi train --dataset fashion-mnist --classes 0,6 --certified --sigma 10 --out fm.json
        mpirun -np 4 unlearn-mpi remove --model-file fm.json --forget-ids ids.txt --one-at-a-time --out fm.json
        mpirun -np 4 unlearn-mpi audit --model-file fm.json
        mpirun -np 4 unlearn-mpi train --dataset csv:data.csv --normalize-rows --method sisa --shards 8 --slices 4 --out sisa.json
        mpirun -np 4 unlearn-mpi bench --rows 20000 --features 200
      """,
    subcommands: [TrainMPI.self, RemoveMPI.self, InfluenceMPI.self, AuditMPI.self, BenchMPI.self]
  )
}

// MARK: - train

struct TrainMPI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train binary logistic regression on sharded data and write a model file.",
    discussion: """
      Examples:
        mpirun -np 4 unlearn-mpi train --certified --epsilon 1 --delta 1e-4 --sigma 1 --out certified.json
        mpirun -np 2 unlearn-mpi train --dataset csv:data.csv --normalize-rows --certified --budget 0.5 --out state.json
        mpirun -np 4 unlearn-mpi train --dataset 'csv:data.part-{rank}.csv' --id-column id --normalize-rows --certified --out parts.json
        mpirun -np 4 unlearn-mpi train --dataset csv:data.csv --normalize-rows --method sisa --shards 8 --slices 4 --out sisa.json

      SISA (--method sisa): the layout deals the ascending ids (seed --seed); every row is sent once to the rank owning its shard; each slice is Newton to gradient norm 1e-10; rank 0 gathers every checkpoint and writes one file (mode 0600, no ledger).

      Newton's method with the Hessian from the all-reduced local weighted Gram matrices (certified: to gradient norm 1e-10 n; plain: the `unlearn train` default). With --certified, b is drawn on rank 0 from the system's cryptographic generator and broadcast; the file (mode 0600) records the sharded data's fingerprint.
      """
  )

  @OptionGroup var data: DataOptions

  @Option(
    help: "L2 strength lambda per sample (objective: sum of losses + lambda n / 2 ||theta||^2).")
  var lambda: Double = 1e-3

  @Flag(help: "Train for certified removal: loss perturbation b ~ N(0, sigma^2 I).")
  var certified = false

  @Option(
    help:
      "newton (one model; certified with --certified) | sisa (--shards S x --slices R, shard s on rank s mod size)."
  )
  var method: String = "newton"

  @Option(help: "SISA: the number of shards S (1 <= S <= training rows).")
  var shards: Int = 4

  @Option(help: "SISA: the number of slices R per shard.")
  var slices: Int = 4

  @OptionGroup var privacyOptions: PrivacyOptions

  @Option(help: "Seed of the data split and initialisation (never of b).")
  var seed: UInt64 = 42

  @Option(help: "The model file to write (atomically, mode 0600; rank 0 writes it).")
  var out: String

  @Option(
    name: .customLong("reproducible-not-private-seed"),
    help: ArgumentHelp(
      "Tests only: draw b from this seed. NOT PRIVATE: such a model refuses to be published.",
      visibility: .hidden))
  var reproducibleSeed: UInt64?

  func validate() throws {
    guard lambda > 0, lambda.isFinite else { throw ValidationError("--lambda must be positive") }
    guard ["newton", "sisa"].contains(method) else {
      throw ValidationError("--method must be newton or sisa")
    }
    guard method != "sisa" || !certified else {
      throw ValidationError("--method sisa trains an uncertified ensemble: drop --certified")
    }
    guard shards >= 1, slices >= 1 else {
      throw ValidationError("--shards and --slices must be at least 1")
    }
  }

  func run() throws {
    let world = try worldCommunicator()
    _ = try onRoot(world) {
      _ = try runReportingErrors { try SecureFile.checkOutputs(inputs: [], outputs: [out]) }
      return []
    }
    let scenario = try data.scenario(seed: seed)
    let loaded = try LoadedData(scenario, world: world)
    let shard = loaded.shard
    guard shard.local.classCount == 2 else {
      throw CLIError(
        "unlearn-mpi trains binary logistic regression; the data has \(shard.local.classCount) classes"
      )
    }
    if method == "sisa" {
      try trainSISA(
        data: loaded, shards: shards, slices: slices, lambda: lambda, seed: seed, out: out,
        world: world)
      return
    }
    let model = LogisticRegression(featureCount: shard.featureCount)
    progress("training logistic regression on \(shard.globalCount) samples", world)
    let file: ModelFile
    if certified {
      let privacy = try privacyOptions.privacy()
      let state = try agree(world) {
        try runReportingErrors {
          try ShardedCertifiedModel.trainCertified(
            model: model, data: shard, regularization: lambda, privacy: privacy,
            accounting: privacyOptions.accounting, solver: privacyOptions.solver.solver,
            trainer: Training.Newton(gradientTolerance: 1e-10, seed: seed),
            perturbation: reproducibleSeed.map { .reproducibleNotPrivate(seed: $0) } ?? .system)
        }
      }
      file = try makeModelFile(
        state, scenario: scenario, trainingSeed: seed, fingerprint: shard.fingerprint)
    } else {
      let spec = ModelFile.Specification.logistic(
        featureCount: shard.featureCount, fitsIntercept: false)
      let result = try agree(world) {
        try runReportingErrors {
          try shard.train(
            model: model, regularization: lambda, trainer: spec.defaultTrainer(seed: seed))
        }
      }
      let local = TrainedModel(
        model: model, parameters: result.parameters, data: shard.local,
        regularization: lambda, training: result)
      var plain = try runReportingErrors {
        try ModelFile(state: local, scenario: scenario, trainingSeed: seed)
      }
      plain.dataFingerprint = shard.fingerprint
      file = plain
    }
    _ = try onRoot(world) {
      try runReportingErrors { try StateStore.create(file, at: out) }
      return []
    }
    let t = file.training
    say(
      "trained \(file.model) on \(world.size) rank(s): \(t.iterations) iterations\(t.converged ? "" : " - NOT converged"), \(String(format: "%.3f", t.seconds)) s",
      world)
    if let c = file.certification {
      say(
        "certified: epsilon \(c.privacy.epsilon), delta \(c.privacy.delta), sigma \(c.privacy.sigma), budget \(c.budget), spent \(c.spent) (\(c.accounting.rawValue) accounting, \(c.solver.name) solver)",
        world)
    }
    say(
      "wrote \(out) (private, mode 0600) and its deletion ledger \(StateStore(path: out).ledgerPath)",
      world)
  }
}

// MARK: - remove

/// The JSON report of `unlearn-mpi remove`.
struct RemoveMPIOutput: Encodable {
  var schema = "unlearn-mpi.remove/1"
  var ranks: Int
  var rowsPerRank: [Int]
  /// One entry per request, in order.
  var requests: [Request]
  /// Seconds to read the file and data, shard it and build the solver cache.
  var loadSeconds: Double

  struct Request: Encodable {
    var ids: [SampleID]
    var report: RemovalReport
    /// Bytes rank 0 sent in collectives during the request.
    var bytesCommunicated: Int
  }
}

struct RemoveMPI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "remove",
    abstract:
      "Certified or SISA removal from a saved model on sharded data; write the new model file.",
    discussion: """
      Examples:
        mpirun -np 4 unlearn-mpi remove --model-file certified.json --forget-ids ids.txt --out certified.json --json report.json
        mpirun -np 4 unlearn-mpi remove --model-file certified.json --forget-ids stream.txt --one-at-a-time --out certified.json

      A SISA file (train --method sisa): each request retrains only the affected shards, each on the rank that owns it, from their last unaffected checkpoint; rank 0 gathers the checkpoints and writes the file.

      Certified: the owner rank of each id supplies its row; the Newton step is one local fused pass per rank and one all-reduce of d-vectors; the factor downdates are replicated, and the certificate is identical on every rank (and equal, up to round-off, to what `unlearn remove` computes on one process). Each request runs under the state's lock, is recorded in the deletion ledger, and the report is written before the model file. With --one-at-a-time every id is its own request (a stream of removals sharing one load and one solver cache).
      """
  )

  @Option(name: .customLong("model-file"), help: "The model file to remove from.")
  var modelFile: String

  @Option(
    name: .customLong("forget-ids"),
    help: "File of sample ids to forget (one integer per line; # comments; - for stdin).")
  var forgetIDs: String

  @Flag(help: "Serve every id as its own sequential request.")
  var oneAtATime = false

  @Option(help: "certified | sisa (default: what the model file holds).")
  var method: String?

  func validate() throws {
    if let method, !["certified", "sisa"].contains(method) {
      throw ValidationError("--method must be certified or sisa")
    }
  }

  @Option(help: "The updated model file to write (atomically; may equal --model-file).")
  var out: String

  @Option(help: "Write the removal reports (and certificates) as JSON to this file (- for stdout).")
  var json: String?

  @Option(help: "Seconds to wait for another request holding the model file's lock.")
  var lockTimeout: Double = 60

  func run() throws {
    let world = try worldCommunicator()
    let loadStart = Communicator.wallTime
    let idBytes = try onRoot(world) {
      let inputs = [modelFile == out ? nil : modelFile, forgetIDs == "-" ? nil : forgetIDs]
      _ = try runReportingErrors {
        try SecureFile.checkOutputs(
          inputs: inputs.compactMap { $0 }, outputs: [out, json].compactMap { $0 })
      }
      let ids = try readIDs(forgetIDs)
      return Array(ids.map(\.rawValue).map(String.init).joined(separator: "\n").utf8)
    }
    let ids = String(decoding: idBytes, as: UTF8.self).split(separator: "\n").compactMap {
      Int($0).map { SampleID($0) }
    }
    let bytes = try readBytes(modelFile, world)
    let isSISA = SISAModelFile.isSISA(bytes)
    if let method, method != (isSISA ? "sisa" : "certified") {
      throw CLIError(
        "\(modelFile) holds \(isSISA ? "a SISA ensemble" : "a certified model"): --method \(method) does not apply"
      )
    }
    if isSISA {
      try removeSISA(
        bytes, path: modelFile, requests: oneAtATime ? ids.map { [$0] } : [ids], out: out,
        json: json, world: world)
      return
    }
    let first = try readModelFile(modelFile, world)
    let data = try LoadedData(first.scenario, world: world)
    var state = try agree(world) { try certifiedState(first, data: data, path: modelFile) }
    let loadSeconds = Communicator.wallTime - loadStart
    let requests = oneAtATime ? ids.map { [$0] } : [ids]
    var output = RemoveMPIOutput(
      ranks: world.size, rowsPerRank: data.shard.rankCounts, requests: [],
      loadSeconds: loadSeconds)
    for (index, request) in requests.enumerated() {
      let source = index == 0 ? modelFile : out
      let result = try serve(
        request, from: source, state: &state, data: data, world: world,
        last: index == requests.count - 1, output: &output)
      let report = result.report
      say(
        "removed \(report.forgottenCount) sample(s) by certified removal in \(String(format: "%.4f", report.seconds)) s on \(world.size) rank(s); gradient residual \(String(format: "%.3g", report.gradientResidualNorm)) (sum form, retained data)",
        world)
      if let c = report.certificate { say("certificate: \(c)", world) }
    }
    say("wrote \(out) and appended to \(StateStore(path: out).ledgerPath)", world)
  }

  /// One request under the lock held by rank 0: rank 0 broadcasts the current file, every
  /// rank removes, rank 0 writes the report and commits; then rank 0 broadcasts the outcome.
  func serve(
    _ ids: [SampleID], from path: String, state: inout ShardedCertifiedModel<LogisticRegression>,
    data: LoadedData, world: Communicator, last: Bool, output: inout RemoveMPIOutput
  ) throws -> ShardedRemovalResult {
    func work(_ file: ModelFile) throws -> (ModelFile, ShardedRemovalResult) {
      if file.parameters != state.parameters || file.removedIDs != state.removedIDs
        || file.certification != state.certification
      {
        state = try agree(world) { try certifiedState(file, data: data, path: path) }
      }
      var next = state
      let result = try agree(world) { try runReportingErrors { try next.remove(ids) } }
      state = next
      let updated = try makeModelFile(
        state, scenario: file.scenario, trainingSeed: file.trainingSeed,
        fingerprint: file.dataFingerprint)
      return (updated, result)
    }
    if world.isRoot {
      var started = false
      var outcome: ShardedRemovalResult?
      var failure: String?
      do {
        outcome = try StateStore(path: path).update(writingTo: out, timeout: lockTimeout) {
          file in
          started = true
          _ = try runReportingErrors { try world.broadcast([0] + Array(file.encoded()), root: 0) }
          let (updated, result) = try work(file)
          output.requests.append(
            .init(ids: ids, report: result.report, bytesCommunicated: result.bytesCommunicated))
          if last, let json { try writeJSONAtomically(output, to: json) }
          return (
            StateStore.Update(
              file: updated, ids: ids, method: "certified",
              certificate: result.report.certificate), result
          )
        }
      } catch {
        failure = describe(error)
      }
      if !started {
        _ = try runReportingErrors {
          try world.broadcast([1] + Array((failure ?? "no request").utf8), root: 0)
        }
      } else {
        let status: [UInt8] = failure.map { [1] + Array($0.utf8) } ?? [0]
        _ = try runReportingErrors { try world.broadcast(status, root: 0) }
      }
      if let failure { throw CLIError(failure) }
      guard let outcome else { throw CLIError("internal error: no outcome") }
      return outcome
    }
    let go = try runReportingErrors { try world.broadcast([], root: 0) }
    if go.first != 0 { throw CLIError(String(decoding: go.dropFirst(), as: UTF8.self)) }
    var outcome: ShardedRemovalResult?
    do {
      outcome = try work(try decodeModelFile(Array(go.dropFirst())))
        .1
    } catch {
      outcome = nil
    }
    let status = try runReportingErrors { try world.broadcast([], root: 0) }
    if status.first != 0 { throw CLIError(String(decoding: status.dropFirst(), as: UTF8.self)) }
    guard let outcome else { throw CLIError("internal error: rank \(world.rank) failed") }
    return outcome
  }
}

// MARK: - influence

struct InfluenceMPI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "influence",
    abstract: "Rank every rank's training samples by their influence on one test point's loss.",
    discussion: """
      Value = predicted change in the test point's loss if the training sample is removed (mean-form objective, first order; positive = the sample was helping). Each rank scores its rows with one gemv; the top entries are gathered.

      Example:
        mpirun -np 4 unlearn-mpi influence --model-file certified.json --test-index 3 --top 10
      """
  )

  @Option(name: .customLong("model-file"), help: "The model file.")
  var modelFile: String

  @Option(help: "Row of the test set (0-based) whose loss is explained.")
  var testIndex: Int

  @Option(help: "How many helpful and harmful samples to list.")
  var top: Int = 10

  @Option(help: "IHVP solver: direct | cg.")
  var solver: String = "direct"

  @Option(help: "Damping added to the Hessian.")
  var damping: Double = 0

  @Option(help: "Write the ranking as JSON to this file.")
  var json: String?

  func validate() throws {
    guard ["direct", "cg"].contains(solver) else {
      throw ValidationError("--solver must be direct or cg")
    }
    guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    guard testIndex >= 0 else { throw ValidationError("--test-index must be >= 0") }
    guard damping >= 0 else { throw ValidationError("--damping must be >= 0") }
  }

  func run() throws {
    let world = try worldCommunicator()
    let file = try readModelFile(modelFile, world)
    let data = try LoadedData(file.scenario, world: world)
    try agree(world) { try data.check(file, path: modelFile) }
    guard case .logistic(let d, false) = file.model else {
      throw CLIError(
        "\(modelFile): unlearn-mpi influence needs logistic regression without intercept")
    }
    guard testIndex < data.test.count else {
      throw CLIError("--test-index \(testIndex): the test set has \(data.test.count) rows")
    }
    var weights = [Double](repeating: 1, count: data.shard.local.count)
    for id in file.removedIDs {
      if let row = data.shard.local.rowIndex(of: id) { weights[row] = 0 }
    }
    let point = Influence.TestPoint(
      features: data.test.features.row(testIndex), target: data.test.targets[testIndex])
    let ranking = try agree(world) {
      try runReportingErrors {
        try data.shard.topInfluences(
          model: LogisticRegression(featureCount: d), parameters: file.parameters,
          regularization: file.regularization, weights: weights, on: point, count: top,
          solver: solver == "cg" ? .conjugateGradient(tolerance: 1e-10) : .direct,
          damping: damping)
      }
    }
    say(
      "influence on test sample \(data.test.ids[testIndex]) over \(world.size) rank(s), solver \(ranking.ihvp.solver)",
      world)
    let table = renderInfluenceRanking(
      helpful: ranking.helpful, harmful: ranking.harmful, timing: ranking.timing)
    say(String(table.dropLast()), world)
    if let json {
      _ = try onRoot(world) {
        struct Output: Encodable {
          var schema = "unlearn-mpi.influence/1"
          var ranks: Int
          var testID: SampleID
          var ranking: ShardedInfluenceRanking
        }
        try runReportingErrors {
          try writeJSONAtomically(
            Output(ranks: world.size, testID: data.test.ids[testIndex], ranking: ranking), to: json)
        }
        return []
      }
    }
  }
}

// MARK: - audit

struct AuditMPI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Verify a model file against its ledger and recompute its residual on sharded data.",
    discussion: """
      Example:
        mpirun -np 4 unlearn-mpi audit --model-file certified.json

      Rank 0 checks the ledger (hash chain, the state is its last entry, removed ids); then every rank recomputes the gradient residual of its rows with b and one all-reduce gives the true residual, which must be at most the certified residual, itself at most the budget.
      """)

  @Option(name: .customLong("model-file"), help: "The private model file to audit.")
  var modelFile: String

  @Flag(help: "Repair what an interrupted request left behind (rank 0), then audit.")
  var repair = false

  func run() throws {
    let world = try worldCommunicator()
    let ledgerReport = try onRoot(world) {
      let store = StateStore(path: modelFile)
      var lines: [String] = []
      if repair {
        let done = try runReportingErrors { try store.repair() }
        lines += done.map { "repaired: \($0.rawValue)" }
        if done.isEmpty { lines.append("nothing to repair") }
      }
      let audit = store.audit(data: nil)
      lines += audit.findings.map(\.description)
      if let failed = audit.findings.first(where: { !$0.passed }) {
        throw CLIError(
          (lines + ["\(modelFile): audit failed: \(failed.check): \(failed.detail)"])
            .joined(separator: "\n"))
      }
      return Array(lines.joined(separator: "\n").utf8)
    }
    say(String(decoding: ledgerReport, as: UTF8.self), world)
    let file = try readModelFile(modelFile, world)
    guard let certification = file.certification else {
      say("not a certified model: no residual to check\naudit passed", world)
      return
    }
    let data = try LoadedData(file.scenario, world: world)
    let state = try agree(world) { try certifiedState(file, data: data, path: modelFile) }
    let truth = try agree(world) { try runReportingErrors { try state.gradientResidualNorm() } }
    let passed = truth <= certification.spent && certification.spent <= certification.budget
    say(
      "\(passed ? "ok  " : "FAIL") residual: \(truth) <= \(certification.spent) <= \(certification.budget) (recomputed on \(world.size) rank(s), b included)",
      world)
    guard passed else { throw CLIError("\(modelFile): audit failed: residual") }
    say("audit passed", world)
  }
}
