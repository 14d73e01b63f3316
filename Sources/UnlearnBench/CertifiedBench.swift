import Foundation
import Unlearning

/// `bench --only certified`: sequential certified removal on Fashion-MNIST 0 vs 6 (n = 12,000,
/// d = 784, rows L2-normalised, lambda = 1e-3, sigma = 10, epsilon = 1, delta = 1e-4).
///
/// - Per accounting mode (paper, exact-step): 100 sequential single removals (seeded order) with
///   a fresh Cholesky factor per step (`.cholesky`) and with the default solver (the downdated
///   factor); median and mean seconds per request, passes over X per request, refreshes, spent
///   budget after the last removal, largest certified residual, and the relative parameter gap
///   between the two.
/// - The path `unlearn remove` takes: reading a certified model file and its data, then one
///   removal (the removal's own seconds, as its report states them, and the load separately).
/// - Seconds per Newton removal (``NewtonRemoval``) and per retrain (``Retrain``), and the
///   fast path's speedup over retrain.
/// - Removals before the first budget-triggered retrain over `removals` sequential
///   single removals (fast path), per mode, with the largest certificate issued.
/// - Peak resident memory (`VmHWM`).
package enum CertifiedBench {
  package static let lambda = 1e-3

  package static func run(repeats: Int, removals: Int, into report: inout BenchReport) throws {
    benchProgress("certified: loading Fashion-MNIST 0 vs 6")
    let data = try fashionMNISTPair()
    let model = LogisticRegression(featureCount: data.featureCount)
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 10)
    var order = SeededGenerator(seed: 2024)
    let ids = data.ids.shuffled(using: &order)
    let requests = 100

    var fastMedian = Double.nan
    for accounting in [CertifiedRemoval.Accounting.paper, .exactStep] {
      var finals: [String: (spent: Double, parameters: [Double])] = [:]
      for (label, solver) in [
        ("exact (.cholesky)", NewtonSolver.cholesky),
        ("fast (default: downdated factor)", .default),
      ] {
        benchProgress("certified: \(accounting.rawValue), \(label), training")
        // The same (seeded, non-private) b for both solvers, so their parameters compare.
        var state = try TrainedModel.trainCertified(
          model: model, data: data, regularization: lambda, privacy: privacy,
          accounting: accounting, solver: solver, perturbation: .reproducibleNotPrivate(seed: 7))
        let before = state.removalWorkCounters ?? CertifiedRemoval.WorkCounters()
        let method = CertifiedRemoval()
        benchProgress("certified: \(accounting.rawValue), \(label), \(requests) removals")
        var seconds = [Double]()
        var largest = 0.0
        var retrains = 0
        var refreshed = 0
        var ratios = [Double]()
        for id in ids.prefix(requests) {
          let result = try method.unlearn(state, forgetting: id)
          state = result.state
          seconds.append(result.report.seconds)
          guard let certificate = result.report.certificate else { continue }
          largest = max(largest, certificate.certifiedResidual)
          if certificate.retrained { retrains += 1 }
          if certificate.refreshed { refreshed += 1 }
          let charged = certificate.bound == .guo ? certificate.guoBound : certificate.tightBound
          ratios.append(certificate.solveInexactness / charged)
        }
        let spent = state.certification?.spent ?? .nan
        var figures: [String: Double] = [
          "mean s": seconds.reduce(0, +) / Double(seconds.count),
          "max s": seconds.max() ?? .nan,
          "spent after 100": spent,
          "largest certificate": largest,
          "retrains": Double(retrains),
          "budget": privacy.budget,
          "median inexactness / charged bound": medianOf(ratios),
        ]
        if let statistics = state.removalWorkCounters {
          figures["passes over X per request"] =
            Double(statistics.dataPasses - before.dataPasses) / Double(requests)
          figures["refreshes"] = Double(statistics.refreshes - before.refreshes)
          figures["refinement iterations"] = Double(statistics.refinementIterations)
          figures["requests with refresh"] = Double(refreshed)
        }
        finals[label] = (spent, state.parameters)
        if let exact = finals["exact (.cholesky)"], label != "exact (.cholesky)" {
          figures["spent / exact path's"] = spent / exact.spent
          figures["parameter gap to exact path (relative)"] =
            state.parameters.subtracting(exact.parameters).norm() / exact.parameters.norm()
        }
        let median = medianOf(seconds)
        if accounting == .paper && label.hasPrefix("fast") { fastMedian = median }
        report.rows.append(
          BenchRow(
            group: "certified",
            name: "\(accounting.rawValue): \(label), per single removal (\(requests) sequential)",
            medianSeconds: median, minimumSeconds: seconds.min() ?? .nan,
            maximumSeconds: seconds.max(), samples: requests,
            figures: figures))
      }
    }

    try kernels(data: data, into: &report)
    try commandLinePath(data: data, ids: Array(ids.prefix(repeats + 1)), into: &report)

    benchProgress("certified: Newton removal and retrain timings")
    let trained = try TrainedModel.trainCertified(
      model: model, data: data, regularization: lambda, privacy: privacy)
    var next = 0
    let newton = try timeMedian(repeats: repeats) {
      _ = try NewtonRemoval().unlearn(trained, forgetting: [ids[next % requests]])
      next += 1
    }
    report.rows.append(
      BenchRow(
        group: "certified", name: "Newton removal (NewtonRemoval, single id)",
        medianSeconds: newton.median, minimumSeconds: newton.minimum,
        maximumSeconds: newton.maximum, samples: repeats))
    let retrain = try timeMedian(repeats: repeats) {
      _ = try Retrain().unlearn(trained, forgetting: [ids[next % requests]])
      next += 1
    }
    report.rows.append(
      BenchRow(
        group: "certified", name: "retrain (Retrain, single id)", medianSeconds: retrain.median,
        minimumSeconds: retrain.minimum, maximumSeconds: retrain.maximum, samples: repeats,
        figures: ["fast path speedup (paper)": retrain.median / fastMedian]))

    for accounting in [CertifiedRemoval.Accounting.paper, .exactStep] {
      benchProgress(
        "certified: \(accounting.rawValue), \(removals) sequential removals (fast path)")
      var state = try TrainedModel.trainCertified(
        model: model, data: data, regularization: lambda, privacy: privacy,
        accounting: accounting)
      let method = CertifiedRemoval()
      var firstRetrain: Int?
      var largest = 0.0
      var seconds = [Double]()
      for (k, id) in ids.prefix(removals).enumerated() {
        let result = try method.unlearn(state, forgetting: id)
        state = result.state
        seconds.append(result.report.seconds)
        let certificate = result.report.certificate
        largest = max(largest, certificate?.certifiedResidual ?? 0)
        if certificate?.retrained == true && firstRetrain == nil { firstRetrain = k }
      }
      report.rows.append(
        BenchRow(
          group: "certified",
          name:
            "\(accounting.rawValue) (\(state.certification?.bound.rawValue ?? "-") bound): \(removals) sequential removals, default solver",
          medianSeconds: medianOf(seconds), minimumSeconds: seconds.min() ?? .nan,
          maximumSeconds: seconds.max(),
          samples: removals,
          figures: [
            "removals before first retrain": Double(firstRetrain ?? removals),
            "first retrain reached": firstRetrain == nil ? 0 : 1,
            "retrains": Double(state.certification?.retrainCount ?? 0),
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

  /// What `unlearn remove` does with a certified model file: read and validate the file, rebuild
  /// the state on the data (no recomputation of `||X||_2`: it is stored), then one removal, with
  /// OpenBLAS on one thread for the request as the command runs it. The
  /// removal's seconds are what its JSON report states; the load is reported separately.
  package static func commandLinePath(
    data: Dataset, ids: [SampleID], into report: inout BenchReport
  )
    throws
  {
    benchProgress("certified: the remove command's path (model file, then removal)")
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 10)
    let state = try TrainedModel.trainCertified(
      model: LogisticRegression(featureCount: data.featureCount), data: data,
      regularization: lambda, privacy: privacy)
    let directory = FileManager.default.temporaryDirectory.path
    let path = directory + "/unlearn-bench-\(getpid()).json"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try ModelFile(
      state: state,
      scenario: .fashionMNIST(classes: [0, 6], trainLimit: nil, testLimit: nil, seed: 0)
    ).write(to: path)
    var loads = [Double]()
    var removals = [Double]()
    struct Remove: StateVisitor {
      let id: SampleID
      func visit<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) throws -> (
        Double, Double
      ) {
        var prepared = state
        let start = DispatchTime.now().uptimeNanoseconds
        try prepared.prepareForRemoval()
        let prepare = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return (prepare, try CertifiedRemoval().unlearn(prepared, forgetting: id).report.seconds)
      }
    }
    var prepares = [Double]()
    for id in ids.dropLast() {
      let start = DispatchTime.now().uptimeNanoseconds
      let file = try ModelFile.read(from: path)
      loads.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
      // As `unlearn remove` serves a certified request: OpenBLAS on one thread (the fused pass
      // splits the rows over the cores itself).
      let (prepare, removal) = try BLASInfo.withThreadCount(1) {
        try file.withState(data: data, path: path, Remove(id: id))
      }
      prepares.append(prepare)
      removals.append(removal)
    }
    report.rows.append(
      BenchRow(
        group: "certified",
        name: "unlearn remove on a certified model file: the removal (as its report states it)",
        medianSeconds: medianOf(removals), minimumSeconds: removals.min() ?? .nan,
        maximumSeconds: removals.max(),
        samples: removals.count,
        figures: [
          "read + validate model file s (median)": medianOf(loads),
          "prepare caches on load s (median; 2 passes + Gram + Cholesky)": medianOf(prepares),
        ]))
  }

  /// Timings of the kernels of one fast request (one pass over X each).
  package static func kernels(data: Dataset, into report: inout BenchReport) throws {
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
        minimumSeconds: gemv.minimum, maximumSeconds: gemv.maximum, samples: 20,
        figures: [
          "X^T u (gemv) s": gemvT.median, "X [v1 v2] (dgemm 2 cols) s": gemm2.median,
          "X^T [u1 u2] (dgemm 2 cols) s": gemm2T.median,
          "X V, V d x 2 (dgemm) s": gemm2Tall.median, "X^T U, U n x 2 (dgemm) s": gemm2TWide.median,
          "GB/s (gemv)": Double(n * d * 8) / gemv.median / 1e9,
        ]))

  }

  package static func medianOf(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
  }

  /// `VmHWM` from `/proc/self/status` in MiB (NaN when unavailable).
  package static func peakResidentMebibytes() -> Double {
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
