// swift-tools-version:6.0
import Foundation
import PackageDescription

/// Whether Open MPI's C interface is installed (its pkg-config file `ompi-c.pc`, Debian:
/// libopenmpi-dev). The MPI targets (`UnlearningDistributed`, `unlearn-mpi` and their tests)
/// exist only then, so the core library and the default CLI build on machines without MPI.
/// `UNLEARN_MPI=0` leaves them out, `UNLEARN_MPI=1` forces them in.
let hasMPI: Bool = {
  switch ProcessInfo.processInfo.environment["UNLEARN_MPI"] {
  case "0": return false
  case "1": return true
  default: break
  }
  let configured = (ProcessInfo.processInfo.environment["PKG_CONFIG_PATH"] ?? "")
    .split(separator: ":").map(String.init)
  let standard = [
    "/usr/lib/x86_64-linux-gnu/pkgconfig", "/usr/lib/aarch64-linux-gnu/pkgconfig",
    "/usr/lib/pkgconfig", "/usr/lib64/pkgconfig", "/usr/share/pkgconfig",
    "/usr/local/lib/pkgconfig", "/opt/homebrew/lib/pkgconfig",
  ]
  return (configured + standard).contains {
    FileManager.default.fileExists(atPath: $0 + "/ompi-c.pc")
  }
}()

let package = Package(
  name: "unlearn",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
    .library(name: "Unlearning", targets: ["Unlearning"]),
    .executable(name: "unlearn", targets: ["unlearn"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    // `swift package generate-documentation` (DocC; build-time only, links into no product).
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    // C interfaces (system libraries; Debian: liblapacke-dev libopenblas-dev zlib1g-dev).
    .systemLibrary(
      name: "CLAPACK",
      pkgConfig: "lapacke",
      providers: [.apt(["liblapacke-dev", "libopenblas-dev"])]
    ),
    // SHA-256 of the deletion ledger: OpenSSL's libcrypto (Debian: libssl-dev).
    .systemLibrary(
      name: "COpenSSL",
      pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev"])]
    ),
    .systemLibrary(
      name: "CZlib",
      pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]
    ),

    // Layer 1: dense linear algebra on BLAS/LAPACK.
    .target(name: "LinearAlgebra", dependencies: ["CLAPACK"]),

    // Layer 2: data, models, training, influence, removal, certification, evaluation.
    .target(
      name: "Unlearning",
      dependencies: [
        "LinearAlgebra",
        "CZlib",
        .product(name: "RealModule", package: "swift-numerics"),
        "COpenSSL",
      ]
    ),

    // The executable-notebook runner behind `unlearn notebook` (parse, build, run, check).
    .target(name: "NotebookRunner"),

    // The kernel benchmarks behind `unlearn bench` (medians, same-run ratios, JSON).
    .target(name: "UnlearnBench", dependencies: ["Unlearning"]),

    // Layer 3: the command tree (a library so tests can run commands in-process) and the binary.
    .target(
      name: "UnlearnCLI",
      dependencies: [
        "Unlearning",
        "NotebookRunner",
        "UnlearnBench",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "unlearn", dependencies: ["UnlearnCLI"]),

    // Shared test helpers: generators, finite differences, naive reference kernels.
    .target(name: "TestSupport", dependencies: ["Unlearning"], path: "Tests/TestSupport"),
    .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra", "TestSupport"]),
    .testTarget(
      name: "UnlearningTests",
      dependencies: [
        "Unlearning", "TestSupport",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
    .testTarget(
      name: "UnlearnCLITests",
      // "unlearn": the crash-safety tests kill the real binary mid-request.
      dependencies: ["UnlearnCLI", "NotebookRunner", "TestSupport", "unlearn"]),
  ]
)

if hasMPI {
  package.products += [
    .library(name: "UnlearningDistributed", targets: ["UnlearningDistributed"]),
    .executable(name: "unlearn-mpi", targets: ["unlearn-mpi"]),
  ]
  package.targets += [
    // Open MPI's C interface with a shim for its macro handles (Debian: libopenmpi-dev).
    .systemLibrary(
      name: "CMPI",
      pkgConfig: "ompi-c",
      providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
    ),
    // Row-sharded training, certified removal and influence over MPI (replicated d-sized state).
    .target(name: "UnlearningDistributed", dependencies: ["CMPI", "Unlearning", "LinearAlgebra"]),
    // The MPI command line, run under mpirun; shares option groups with `unlearn`.
    .executableTarget(
      name: "unlearn-mpi",
      dependencies: [
        "UnlearningDistributed", "UnlearnCLI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "UnlearningDistributedTests",
      // "unlearn-mpi": the tests run the real binary under mpirun -np 1, 2, 4.
      dependencies: ["Unlearning", "TestSupport", "unlearn-mpi"]
    ),
  ]
}
