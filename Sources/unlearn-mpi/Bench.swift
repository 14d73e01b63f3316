import ArgumentParser
import Foundation
import LinearAlgebra
import Unlearning
import UnlearnCLI
import UnlearningDistributed

/// The JSON of `unlearn-mpi bench` (versioned).
struct BenchMPIOutput: Encodable {
  var schema = "unlearn-mpi.bench/2"
  var ranks: Int
  var rows: Int
  var features: Int
  var rowsPerRank: [Int]
  var blasThreads: Int
  var blasCore: String
  var collectives: [Collective]
  var training: Training
  var removal: Removal

  struct Collective: Encodable {
    /// "replicated" (reduce + broadcast, bitwise identical) or "MPI_Allreduce".
    var kind: String
    var doubles: Int
    var bytes: Int
    var medianSeconds: Double
  }

  struct Training: Encodable {
    var iterations: Int
    var seconds: Double
    var secondsPerIteration: Double
  }

  struct Removal: Encodable {
    /// The certified solver (`--solver`).
    var solver: String
    var requests: Int
    var medianSeconds: Double
    var meanSeconds: Double
    var medianBytesPerRequest: Int
    var retrains: Int
    var refreshes: Int
    /// Requests served by an `O(d^2)` step (amortised solver), which read no row of `X`.
    var cheapSteps: Int
    /// Passes over the local rows during the timed requests.
    var dataPasses: Int
  }
}

struct BenchMPI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time all-reduces, a training iteration and certified removals on synthetic shards.",
    discussion: """
      Each rank generates only its own rows of a synthetic logistic problem (rows of norm 1, ids 0..<n, sharded by id hash), so the data never exists in one place. Reports medians: the replicated all-reduce (reduce + broadcast) and MPI_Allreduce of d and d^2 doubles, seconds per Newton iteration of certified training, seconds and bytes per single-id certified removal (--solver, default downdated-factor; amortised: O(d^2) steps between exact ones, Docs/Math.md 6.10). b comes from a fixed seed here (a benchmark, not a private model).

      Example:
        OPENBLAS_CORETYPE=SkylakeX mpirun -np 2 unlearn-mpi bench --rows 20000 --features 200 --json bench-2.json
      """)

  @Option(help: "Rows n (global).")
  var rows: Int = 20000

  @Option(help: "Features d.")
  var features: Int = 200

  @Option(help: "Sequential single-id certified removals to time.")
  var removals: Int = 50

  @Option(help: "Repetitions of each collective.")
  var repeats: Int = 50

  @Option(
    help: ArgumentHelp(
      "Certified Newton solver of the removals (downdated-factor | amortised | cholesky | cg).",
      valueName: "solver"))
  var solver: SolverChoice = .downdatedFactor

  @Option(help: "Seed of the synthetic data and of the removal order.")
  var seed: UInt64 = 7

  @Option(help: "Write the results as JSON to this file (- for stdout).")
  var json: String?

  func validate() throws {
    guard rows >= 4, features >= 1, removals >= 1, repeats >= 1, removals < rows / 2 else {
      throw ValidationError(
        "need --rows >= 4, --features >= 1, 1 <= --removals < rows / 2, --repeats >= 1")
    }
  }

  /// Row `id` of the synthetic problem, from its own stream: features N(0, 1) scaled to norm 1,
  /// label Bernoulli(sigmoid(4 w^T x)) with a fixed direction `w`.
  static func row(_ id: Int, features d: Int, seed: UInt64, direction: [Double]) -> ([Double], Int)
  {
    var generator = SeededGenerator(seed: seed ^ (UInt64(id) &* 0x9e37_79b9_7f4a_7c15))
    var x = generator.normalVector(count: d)
    let norm = x.norm()
    if norm > 0 { x.scale(by: 1 / norm) }
    let p = 1 / (1 + Foundation.exp(-4 * x.dot(direction)))
    return (x, generator.nextUniform() < p ? 1 : 0)
  }

  func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1
      ? sorted[sorted.count / 2] : 0.5 * (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2])
  }

  func run() throws {
    let world = try worldCommunicator()
    var directionGenerator = SeededGenerator(seed: seed)
    var direction = directionGenerator.normalVector(count: features)
    direction.scale(by: 1 / Swift.max(direction.norm(), 1e-300))
    let mine = (0..<rows).filter {
      ShardedData.owner(of: SampleID($0), rankCount: world.size) == world.rank
    }
    var elements: [Double] = []
    elements.reserveCapacity(mine.count * features)
    var labels: [Int] = []
    for id in mine {
      let (x, y) = Self.row(id, features: features, seed: seed, direction: direction)
      elements += x
      labels.append(y)
    }
    let local = try runReportingErrors {
      try Dataset(
        features: Matrix(rows: mine.count, columns: features, elements: elements), labels: labels,
        ids: mine.map { SampleID($0) }, classCount: 2, name: "synthetic shard")
    }
    let shard = try agree(world) {
      try runReportingErrors { try ShardedData(local: local, communicator: world) }
    }
    progress(
      "bench on \(world.size) rank(s): n = \(rows), d = \(features), rows per rank \(shard.rankCounts), BLAS \(BLASInfo.coreName) x \(BLASInfo.threadCount)",
      world)

    // Collectives.
    var collectives: [BenchMPIOutput.Collective] = []
    for count in [features, features * features] {
      for kind in ["replicated", "MPI_Allreduce"] {
        var buffer = [Double](repeating: Double(world.rank + 1), count: count)
        var times: [Double] = []
        for _ in 0..<repeats {
          try runReportingErrors { try world.barrier() }
          let start = Communicator.wallTime
          try runReportingErrors {
            if kind == "replicated" {
              try world.allReduceSum(&buffer)
            } else {
              try world.nativeAllReduceSum(&buffer)
            }
          }
          times.append(Communicator.wallTime - start)
          buffer = [Double](repeating: Double(world.rank + 1), count: count)
        }
        // The slowest rank's median is the collective's cost.
        let slowest = try runReportingErrors { try world.allReduceMax(median(times)) }
        collectives.append(
          .init(kind: kind, doubles: count, bytes: 8 * count, medianSeconds: slowest))
      }
    }

    // Training.
    progress("certified training (Newton, all-reduced Gram)", world)
    let privacy = try runReportingErrors {
      try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 10)
    }
    try runReportingErrors { try world.barrier() }
    let trainStart = Communicator.wallTime
    var state = try agree(world) {
      try runReportingErrors {
        try ShardedCertifiedModel.trainCertified(
          model: LogisticRegression(featureCount: features), data: shard, regularization: 1e-3,
          privacy: privacy, solver: solver.solver, perturbation: .reproducibleNotPrivate(seed: seed)
        )
      }
    }
    let trainSeconds = Communicator.wallTime - trainStart
    let iterations = state.training.iterations

    // Removals: the same random ids on every rank.
    progress("\(removals) sequential single-id certified removals (\(solver.rawValue))", world)
    var order = SeededGenerator(seed: seed &+ 1)
    var chosen = Set<Int>()
    while chosen.count < removals { chosen.insert(Int(order.next() % UInt64(rows))) }
    var seconds: [Double] = []
    var bytes: [Int] = []
    var cheapSteps = 0
    let passesBefore = state.removalWorkCounters.dataPasses
    for id in chosen.sorted() {
      try runReportingErrors { try world.barrier() }
      let start = Communicator.wallTime
      let result = try agree(world) { try runReportingErrors { try state.remove([SampleID(id)]) } }
      seconds.append(Communicator.wallTime - start)
      bytes.append(result.bytesCommunicated)
      if result.report.details["O(d^2) steps"] != nil { cheapSteps += 1 }
    }
    let output = BenchMPIOutput(
      ranks: world.size, rows: rows, features: features, rowsPerRank: shard.rankCounts,
      blasThreads: BLASInfo.threadCount, blasCore: BLASInfo.coreName, collectives: collectives,
      training: .init(
        iterations: iterations, seconds: trainSeconds,
        secondsPerIteration: trainSeconds / Double(Swift.max(iterations, 1))),
      removal: .init(
        solver: solver.rawValue, requests: removals, medianSeconds: median(seconds),
        meanSeconds: seconds.reduce(0, +) / Double(seconds.count),
        medianBytesPerRequest: bytes.sorted()[bytes.count / 2],
        retrains: state.certification.retrainCount,
        refreshes: state.removalWorkCounters.refreshes, cheapSteps: cheapSteps,
        dataPasses: state.removalWorkCounters.dataPasses - passesBefore))
    func ms(_ s: Double) -> String { String(format: "%.3f ms", s * 1e3) }
    say(
      "unlearn-mpi bench: \(world.size) rank(s), n = \(rows), d = \(features), BLAS \(BLASInfo.coreName) x \(BLASInfo.threadCount) thread(s)",
      world)
    for c in collectives {
      say("  \(c.kind) sum of \(c.doubles) doubles (\(c.bytes) B): \(ms(c.medianSeconds))", world)
    }
    say(
      "  certified training: \(iterations) Newton iterations, \(ms(trainSeconds)) total, \(ms(output.training.secondsPerIteration)) per iteration",
      world)
    say(
      "  certified removal (1 id, \(solver.rawValue)): median \(ms(output.removal.medianSeconds)), mean \(ms(output.removal.meanSeconds)), \(output.removal.medianBytesPerRequest) B sent per request by rank 0; \(output.removal.refreshes) refreshes, \(output.removal.retrains) retrains, \(cheapSteps) O(d^2) steps, \(output.removal.dataPasses) passes over the shard",
      world)
    if let json {
      _ = try onRoot(world) {
        try runReportingErrors { try writeJSONAtomically(output, to: json) }
        return []
      }
    }
  }
}
