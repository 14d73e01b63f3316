import Foundation
import Unlearning

/// How the command line chooses the trainer and the solver of Newton steps and inverse
/// Hessian-vector products: by parameter count `p` and the memory the machine has free.
///
/// A dense `p x p` Hessian (and its Cholesky factor, and a working copy) is built only when
/// `p <= denseParameterLimit` and three such matrices fit in half the available memory;
/// otherwise training runs L-BFGS and Newton steps and IHVPs run conjugate gradient on
/// Hessian-vector products, which need `O(p)` memory beyond the data. A 30 x 40,000 CSV
/// (a 12.8 GB Hessian) therefore trains by L-BFGS.
enum EngineChoice {
  /// The largest parameter count that gets a dense Hessian.
  static let denseParameterLimit = 5000

  /// Bytes of memory available now (`MemAvailable` of `/proc/meminfo`; the physical memory
  /// where that cannot be read).
  static var availableBytes: UInt64 {
    if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
      let kib = line.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) })
    {
      return kib * 1024
    }
    return ProcessInfo.processInfo.physicalMemory
  }

  /// Bytes of one dense `p x p` matrix of doubles, or `nil` when that overflows.
  static func denseBytes(parameterCount p: Int) -> UInt64? {
    let (cells, overflow) = p.multipliedReportingOverflow(by: p)
    guard !overflow, cells >= 0 else { return nil }
    let (bytes, overflow2) = UInt64(cells).multipliedReportingOverflow(by: 8)
    return overflow2 ? nil : bytes
  }

  /// Whether a dense Hessian of `p` parameters is allowed (see the type's documentation).
  static func denseFits(parameterCount p: Int, available: UInt64 = availableBytes) -> Bool {
    guard p <= denseParameterLimit, let bytes = denseBytes(parameterCount: p) else { return false }
    return 3 * bytes <= available / 2
  }

  /// "a dense Hessian would need 12.8 GB" for the messages.
  static func denseSize(parameterCount p: Int) -> String {
    guard let bytes = denseBytes(parameterCount: p) else { return "more bytes than exist" }
    let b = Double(bytes)
    if b >= 1e9 { return String(format: "%.1f GB", b / 1e9) }
    if b >= 1e6 { return String(format: "%.0f MB", b / 1e6) }
    return String(format: "%.0f kB", b / 1e3)
  }

  /// The trainer for `spec`, and one line saying which and why.
  ///
  /// - Throws: `CLIError` when even L-BFGS (about `2m + 8` vectors of length `p`, `m = 20`)
  ///   would not fit in half the available memory.
  static func trainer(for spec: ModelFile.Specification, seed: UInt64) throws -> (
    trainer: any Trainer, description: String
  ) {
    let p = spec.parameterCount
    let (vectors, overflow) = p.multipliedReportingOverflow(by: 48 * 8)
    guard !overflow, UInt64(vectors) <= availableBytes / 2 else {
      throw CLIError(
        "\(spec): \(p) parameters; even L-BFGS needs about 48 vectors of that length "
          + "(\(String(format: "%.1f GB", Double(p) * 48 * 8 / 1e9))), more than half the free memory"
      )
    }
    let library = spec.defaultTrainer(seed: seed)
    guard library is Training.Newton, !denseFits(parameterCount: p) else {
      let name = library is Training.Newton ? "Newton (dense \(p) x \(p) Hessian)" : "L-BFGS"
      return (library, "trainer: \(name), \(p) parameters")
    }
    return (
      Training.LBFGS(memory: 20, gradientTolerance: 1e-9, maximumIterations: 20_000, seed: seed),
      "trainer: L-BFGS, \(p) parameters (a dense Hessian would need \(denseSize(parameterCount: p)); "
        + "the limit is \(denseParameterLimit) parameters and 3 matrices in half the free memory)"
    )
  }

  /// The solver of Newton removal steps for `p` parameters: a dense factor when it fits,
  /// else conjugate gradient on Hessian-vector products.
  static func newtonSolver(parameterCount p: Int) -> NewtonSolver {
    denseFits(parameterCount: p)
      ? .cholesky : .conjugateGradient(tolerance: 1e-10, maximumIterations: 500)
  }
}
