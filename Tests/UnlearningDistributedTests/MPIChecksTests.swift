import Foundation
import LinearAlgebra
import Testing
import Unlearning

/// The privacy marking of `--reproducible-not-private-seed` and the refusals that must reach
/// every rank (one readable line, non-zero exit, no rank left waiting).
@Suite(.serialized)
struct MPIChecksTests {
  typealias MPI = MPIEquivalenceTests

  /// The `unlearn` executable of this build (built with the package).
  static func unlearnBinary() throws -> String {
    let mpi = try #require(MPI.binary(), "build the package first (swift build -c release)")
    let candidate = URL(fileURLWithPath: mpi).deletingLastPathComponent()
      .appendingPathComponent("unlearn").path
    return try #require(
      FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil,
      "build unlearn first (swift build -c release)")
  }

  static func run(_ executable: String, _ arguments: [String]) throws -> MPI.Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_NUM_THREADS"] = "1"
    environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
    process.environment = environment
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return MPI.Run(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  /// A state trained with a seeded `b` records the seeded source: the library's release and
  /// `unlearn export --public` refuse it; the same training with the system generator is
  /// private and exports.
  @Test func reproducibleSeedIsMarkedNotPrivate() throws {
    let directory = try MPI.scratch("not-private")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let csv = directory + "/data.csv"
    try MPI.writeData(rows: 60, features: 3, seed: 9, to: csv)
    let seeded = directory + "/seeded.json"
    let system = directory + "/system.json"
    let common = ["train", "--dataset", "csv:\(csv)", "--normalize-rows", "--certified"]
    try MPI.succeed(
      2, common + ["--sigma", "1", "--reproducible-not-private-seed", "3", "--out", seeded])
    try MPI.succeed(2, common + ["--sigma", "1", "--out", system])

    let file = try ModelFile.read(from: seeded)
    let certification = try #require(file.certification)
    #expect(certification.perturbationSource == .reproducibleNotPrivate(seed: 3))
    #expect(!certification.perturbationSource.isPrivate)
    #expect(throws: ModelFileError.self) { try PublicRelease(file) }
    let unlearn = try Self.unlearnBinary()
    let release = directory + "/release.json"
    let refused = try Self.run(
      unlearn, ["export", "--public", "--model-file", seeded, "--out", release])
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("seeded generator"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: release))

    let privateFile = try ModelFile.read(from: system)
    #expect(privateFile.certification?.perturbationSource.isPrivate == true)
    let exported = try Self.run(
      unlearn, ["export", "--public", "--model-file", system, "--out", release])
    #expect(exported.status == 0, "\(exported.stderr)")
    #expect(FileManager.default.fileExists(atPath: release))
  }

  /// Ranks that read different data at the same step (here: rank 1 is given another file, by
  /// mpirun's per-rank argument lists) are refused on every rank, before any training.
  @Test func ranksWithDifferentDataAreRefused() throws {
    let directory = try MPI.scratch("mismatch")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let a = directory + "/a.csv"
    let b = directory + "/b.csv"
    try MPI.writeData(rows: 40, features: 3, seed: 1, to: a)
    try MPI.writeData(rows: 40, features: 3, seed: 2, to: b)
    let executable = try #require(MPI.binary(), "build unlearn-mpi first")
    let out = directory + "/state.json"
    func arguments(_ path: String) -> [String] {
      [executable, "train", "--dataset", "csv:\(path)", "--normalize-rows", "--out", out]
    }
    let run = try Self.run(
      "/usr/bin/env",
      ["timeout", "120", "mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "1"]
        + arguments(a) + [":", "-np", "1"] + arguments(b))
    #expect(run.status != 0 && run.status != 124, "status \(run.status)")
    #expect(run.stderr.contains("read different data than rank 0"), "\(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  /// The sharded solver takes exact steps only: `--solver amortised` is refused on every rank
  /// (not served with other certificates than one process would give).
  @Test func amortisedSolverIsRefused() throws {
    let directory = try MPI.scratch("amortised")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let csv = directory + "/data.csv"
    try MPI.writeData(rows: 40, features: 3, seed: 4, to: csv)
    let out = directory + "/state.json"
    let run = try MPI.mpirun(
      2,
      [
        "train", "--dataset", "csv:\(csv)", "--normalize-rows", "--certified", "--sigma", "1",
        "--solver", "amortised", "--out", out,
      ], timeout: 120)
    #expect(run.status != 0 && run.status != 124, "status \(run.status)")
    #expect(run.stderr.contains("amortised O(d^2) steps"), "\(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }
}
