import Foundation
import Unlearning

/// `bench --only certified`: sequential certified removal on Fashion-MNIST 0 vs 6 (n = 12,000,
/// d = 784, rows L2-normalised, lambda = 1e-3, sigma = 10, epsilon = 1, delta = 1e-4), issue 9
/// and issue 11.
///
/// - Per accounting mode (paper, exact-step): 100 sequential single removals (seeded order) with
///   the exact path (`.direct`: fresh Hessian and Cholesky per request) and the fast path
///   (`.fastSequential`, default policy); median and mean seconds per request, passes over X per
///   request, refreshes, spent budget after the last removal, largest certified residual, and
///   the relative parameter gap between the two paths.
/// - Seconds per Newton removal (``NewtonRemoval``) and per retrain (``Retrain``), and the
///   fast path's speedup over retrain.
/// - Issue 11: removals before the first budget-triggered retrain over `removals` sequential
///   single removals (fast path), per mode, with the largest certificate issued.
/// - Peak resident memory (`VmHWM`).
enum CertifiedBench {
  static let lambda = 1e-3

  static func run(repeats: Int, removals: Int, into report: inout BenchReport) throws {
    benchProgress("certified: loading Fashion-MNIST 0 vs 6")
    let data = try fashionMNISTPair()
    let model = LogisticRegression(featureCount: data.featureCount)
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 10)
    var order = SeededGenerator(seed: 2024)
    let ids = data.ids.shuffled(using: &order)
    let requests = 100

    var fastMedian = Double.nan
    for accounting in [BudgetAccounting.paper, .exactStep] {
      var finals: [String: (spent: Double, parameters: [Double])] = [:]
      for (label, solver) in [
        ("exact (.direct)", CertifiedRemovalSolver.direct),
        ("fast (.fastSequential)", .fastSequential(.default)),
      ] {
        benchProgress("certified: \(accounting.rawValue), \(label), training")
        var remover = try CertifiedRemover(
          model: model, data: data, regularization: lambda, privacy: privacy,
          accounting: accounting, solver: solver, seed: 7)
        let passesBefore = remover.fastStatistics?.dataPasses ?? 0
        let refreshesBefore = remover.fastStatistics?.refreshes ?? 0
        benchProgress("certified: \(accounting.rawValue), \(label), \(requests) removals")
        var seconds = [Double]()
        var largest = 0.0
        var retrains = 0
        var refreshed = 0
        var ratios = [Double]()
        for id in ids.prefix(requests) {
          let start = DispatchTime.now().uptimeNanoseconds
          let certificate = try remover.remove([id])
          seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
          largest = max(largest, certificate.certifiedResidual)
          if certificate.retrained { retrains += 1 }
          if certificate.refreshed { refreshed += 1 }
          let charged = remover.bound == .guo ? certificate.guoBound : certificate.tightBound
          ratios.append(certificate.solveInexactness / charged)
        }
        var figures: [String: Double] = [
          "mean s": seconds.reduce(0, +) / Double(seconds.count),
          "max s": seconds.max() ?? .nan,
          "spent after 100": remover.spent,
          "largest certificate": largest,
          "retrains": Double(retrains),
          "budget": privacy.budget,
          "median inexactness / charged bound": medianOf(ratios),
        ]
        if let statistics = remover.fastStatistics {
          figures["passes over X per request"] =
            Double(statistics.dataPasses - passesBefore) / Double(requests)
          figures["refreshes"] = Double(statistics.refreshes - refreshesBefore)
          figures["refinement iterations"] = Double(statistics.refinementIterations)
          figures["requests with refresh"] = Double(refreshed)
        }
        finals[label] = (remover.spent, remover.state.parameters)
        if let exact = finals["exact (.direct)"], label != "exact (.direct)" {
          figures["spent / exact path's"] = remover.spent / exact.spent
          figures["parameter gap to exact path (relative)"] =
            remover.state.parameters.subtracting(exact.parameters).norm() / exact.parameters.norm()
        }
        let median = medianOf(seconds)
        if accounting == .paper && label.hasPrefix("fast") { fastMedian = median }
        report.rows.append(
          BenchRow(
            group: "certified",
            name: "\(accounting.rawValue): \(label), per single removal (\(requests) sequential)",
            medianSeconds: median, minimumSeconds: seconds.min() ?? .nan, samples: requests,
            figures: figures))
      }
    }

    try kernels(data: data, into: &report)

    benchProgress("certified: Newton removal and retrain timings")
    let trained = try CertifiedRemover(
      model: model, data: data, regularization: lambda, privacy: privacy, solver: .direct, seed: 7
    ).state
    var next = 0
    let newton = try timeMedian(repeats: repeats) {
      _ = try NewtonRemoval().unlearn(trained, forgetting: [ids[next % requests]])
      next += 1
    }
    report.rows.append(
      BenchRow(
        group: "certified", name: "Newton removal (NewtonRemoval, single id)",
        medianSeconds: newton.median, minimumSeconds: newton.minimum, samples: repeats))
    let retrain = try timeMedian(repeats: repeats) {
      _ = try Retrain().unlearn(trained, forgetting: [ids[next % requests]])
      next += 1
    }
    report.rows.append(
      BenchRow(
        group: "certified", name: "retrain (Retrain, single id)", medianSeconds: retrain.median,
        minimumSeconds: retrain.minimum, samples: repeats,
        figures: ["fast path speedup (paper)": retrain.median / fastMedian]))

    for accounting in [BudgetAccounting.paper, .exactStep] {
      benchProgress(
        "certified: \(accounting.rawValue), \(removals) sequential removals (fast path)")
      var remover = try CertifiedRemover(
        model: model, data: data, regularization: lambda, privacy: privacy,
        accounting: accounting, solver: .fastSequential(.default), seed: 7)
      var firstRetrain: Int?
      var largest = 0.0
      var seconds = [Double]()
      for (k, id) in ids.prefix(removals).enumerated() {
        let start = DispatchTime.now().uptimeNanoseconds
        let certificate = try remover.remove([id])
        seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        largest = max(largest, certificate.certifiedResidual)
        if certificate.retrained && firstRetrain == nil { firstRetrain = k }
      }
      report.rows.append(
        BenchRow(
          group: "certified",
          name:
            "\(accounting.rawValue) (\(remover.bound.rawValue) bound): \(removals) sequential removals, fast path",
          medianSeconds: medianOf(seconds), minimumSeconds: seconds.min() ?? .nan,
          samples: removals,
          figures: [
            "removals before first retrain": Double(firstRetrain ?? removals),
            "first retrain reached": firstRetrain == nil ? 0 : 1,
            "retrains": Double(remover.retrainCount),
            "largest certificate": largest,
            "budget": privacy.budget,
            "total s": seconds.reduce(0, +),
          ]))
    }
    report.rows.append(
      BenchRow(
        group: "certified", name: "peak resident memory (VmHWM, whole bench process)",
        medianSeconds: 0, minimumSeconds: 0, samples: 1,
        figures: ["MiB": peakResidentMebibytes()]))
  }

  /// Timings of the kernels of one fast request (one pass over X each).
  static func kernels(data: Dataset, into report: inout BenchReport) throws {
    benchProgress("certified: kernels")
    let (n, d) = (data.count, data.featureCount)
    var g = SeededGenerator(seed: 3)
    let v = g.normalVector(count: d)
    let u = g.normalVector(count: n)
    let x = data.features
    let gemv = timeMedian(repeats: 20) { _ = x.multiply(v) }
    let gemvT = timeMedian(repeats: 20) { _ = x.multiply(u, transposed: true) }
    let twoColumns = Matrix(rows: 2, columns: d, elements: v + v)
    let gemm2 = timeMedian(repeats: 20) { _ = Matrix.product(twoColumns, x, transposeB: true) }
    let twoRows = Matrix(rows: 2, columns: n, elements: u + u)
    let gemm2T = timeMedian(repeats: 20) { _ = Matrix.product(twoRows, x) }
    let tall = Matrix(rows: d, columns: 2, elements: v + v)
    let gemm2Tall = timeMedian(repeats: 20) { _ = Matrix.product(x, tall) }
    let wide = Matrix(rows: n, columns: 2, elements: u + u)
    let gemm2TWide = timeMedian(repeats: 20) { _ = Matrix.product(x, wide, transposeA: true) }
    report.rows.append(
      BenchRow(
        group: "certified", name: "one pass over X (12000x784): X v (gemv)",
        medianSeconds: gemv.median,
        minimumSeconds: gemv.minimum, samples: 20,
        figures: [
          "X^T u (gemv) s": gemvT.median, "X [v1 v2] (dgemm 2 cols) s": gemm2.median,
          "X^T [u1 u2] (dgemm 2 cols) s": gemm2T.median,
          "X V, V d x 2 (dgemm) s": gemm2Tall.median, "X^T U, U n x 2 (dgemm) s": gemm2TWide.median,
          "GB/s (gemv)": Double(n * d * 8) / gemv.median / 1e9,
        ]))

  }

  static func medianOf(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
  }

  /// `VmHWM` from `/proc/self/status` in MiB (NaN when unavailable).
  static func peakResidentMebibytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
      return .nan
    }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      if fields.count >= 2, let kib = Double(fields[1]) { return kib / 1024 }
    }
    return .nan
  }
}
