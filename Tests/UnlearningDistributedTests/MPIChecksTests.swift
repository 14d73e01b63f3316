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
    let refused = try MPI.run(
      unlearn, ["export", "--public", "--model-file", seeded, "--out", release])
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("seeded generator"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: release))

    let privateFile = try ModelFile.read(from: system)
    #expect(privateFile.certification?.perturbationSource.isPrivate == true)
    let exported = try MPI.run(
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
    let run = try MPI.run(
      "/usr/bin/env",
      ["timeout", "120", "mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "1"]
        + arguments(a) + [":", "-np", "1"] + arguments(b))
    #expect(run.status != 0 && run.status != 124, "status \(run.status)")
    #expect(run.stderr.contains("read different data than rank 0"), "\(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }
}
