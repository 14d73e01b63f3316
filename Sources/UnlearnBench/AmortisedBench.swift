import Foundation
import Unlearning

/// `bench --only amortised`: certified removal below one pass over the data (Docs/Math.md 6.10)
/// on Fashion-MNIST 0 vs 6 (n = 12,000, d = 784, rows L2-normalised, lambda = 1e-3, sigma = 10,
/// epsilon = 1, delta = 1e-4).
///
/// The same `requests` sequential single removals (seeded order, the same seeded `b`) with the
/// `O(d^2)` steps (`.downdatedFactor(.amortised)`, exact step at 0.9 of the budget, and the
/// same with the exact step at 0.5)
/// and with today's fast path (the default solver, one fused pass per request), in the same run
/// and interleaved request by request; wall-clock seconds per request around
/// ``CertifiedRemoval/unlearn(_:forgetting:)``, exact steps, refreshes (refactors), retrains,
/// uncertified releases, and at the end the residual recomputed from the data against the last
/// certificate. Then one retrain of the same size for reference, and the peak resident memory
/// of the process (run the group alone for a figure of its own).
///
/// Notes for reading the figures: an `O(d^2)` request writes no `d x d` array. It is one forward
/// substitution with the factor for `Delta` and the removed row together (one read of it), a
/// Woodbury correction for the rows removed since the last fold (`O(k d)`), one back
/// substitution (`dtrsv`), and two `dsymv` on the upper triangles of `H~` and `G_R`: four reads
/// of a 2.5 MB triangle at d = 784. Every 32 removed rows a fold subtracts them from `H~` and
/// `G_R` (two `dsyrk`) and refactors `H~` (`dpotrf`), counted in "folds". An exact step is two
/// passes over `X` (75 MB each, split over the cores). The threaded `dsymv` waits for
/// OpenBLAS's second thread, which on a machine loaded by other processes can cost
/// milliseconds: compare the paths within one run, and say how loaded the machine was.
package enum AmortisedBench {
  package static func run(requests: Int, into report: inout BenchReport) throws {
    benchProgress("amortised: loading Fashion-MNIST 0 vs 6")
    let data = try fashionMNISTPair()
    let model = LogisticRegression(featureCount: data.featureCount)
    let lambda = CertifiedBench.lambda
    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 10)
    var order = SeededGenerator(seed: 2024)
    let ids = Array(data.ids.shuffled(using: &order).prefix(requests))

    var perRequest: [String: Double] = [:]
    var last: TrainedModel<LogisticRegression>?
    let paths: [(key: String, label: String, solver: NewtonSolver)] = [
      (
        "O(d^2)",
        "O(d^2) steps, exact step at 0.9 of the budget (downdatedFactor(.amortised), the default)",
        .downdatedFactor(.amortised)
      ),
      (
        "O(d^2), 0.5", "O(d^2) steps, exact step at 0.5 of the budget (budgetFraction 0.5)",
        .downdatedFactor(
          CertifiedRemoval.FastRemovalPolicy(
            amortisedSteps: CertifiedRemoval.AmortisedStepPolicy(budgetFraction: 0.5)))
      ),
      (
        "fused", "today's fast path: one fused pass per request (downdatedFactor(.default))",
        .default
      ),
    ]
    struct Run {
      var state: TrainedModel<LogisticRegression>
      var before: CertifiedRemoval.WorkCounters
      var seconds: [Double] = []
      var work: [Double] = []
      /// Seconds of the requests served by an O(d^2) step alone.
      var cheap: [Double] = []
      var exact = 0
      var refreshed = 0
      var uncertified = 0
      var largest = 0.0
    }
    var runs: [Run] = []
    for path in paths {
      benchProgress("amortised: \(path.label), training")
      let state = try TrainedModel.trainCertified(
        model: model, data: data, regularization: lambda, privacy: privacy, solver: path.solver,
        perturbation: .reproducibleNotPrivate(seed: 7))
      runs.append(
        Run(state: state, before: state.removalWorkCounters ?? CertifiedRemoval.WorkCounters()))
    }
    // The paths take turns request by request, so that a changing machine load hits them alike.
    benchProgress("amortised: \(requests) sequential removals per path, interleaved")
    for id in ids {
      for p in runs.indices {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try CertifiedRemoval().unlearn(runs[p].state, forgetting: id)
        runs[p].seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        runs[p].work.append(result.report.seconds)
        runs[p].state = result.state
        guard let certificate = result.report.certificate else { continue }
        if certificate.residualMeasured {
          runs[p].exact += 1
        } else {
          runs[p].cheap.append(runs[p].seconds.last ?? .nan)
        }
        if certificate.refreshed { runs[p].refreshed += 1 }
        if !certificate.isCertified { runs[p].uncertified += 1 }
        runs[p].largest = max(runs[p].largest, certificate.certifiedResidual)
      }
    }
    for (path, run) in zip(paths, runs) {
      perRequest[path.key] = run.seconds.reduce(0, +) / Double(requests)
    }
    for (path, run) in zip(paths, runs) {
      let total = run.seconds.reduce(0, +)
      let counters = run.state.removalWorkCounters ?? CertifiedRemoval.WorkCounters()
      var figures: [String: Double] = [
        "amortised s per request (total / requests)": total / Double(requests),
        "total s": total,
        "removal work s per request (report seconds, mean)":
          run.work.reduce(0, +) / Double(requests),
        "removal work s per request (report seconds, median)": CertifiedBench.medianOf(run.work),
        "max s": run.seconds.max() ?? .nan,
        "O(d^2) requests": Double(run.cheap.count),
        "requests with a pass over X (exact steps)": Double(run.exact),
        "requests with a refactor": Double(run.refreshed),
        "folds of pending rows": Double(counters.folds - run.before.folds),
        "passes over X": Double(counters.dataPasses - run.before.dataPasses),
        "retrains": Double(run.state.certification?.retrainCount ?? 0),
        "uncertified releases": Double(run.uncertified),
        "largest certificate": run.largest,
        "budget": privacy.budget,
        "final certificate": run.state.certification?.spent ?? .nan,
        "final residual from scratch": residualFromScratch(run.state),
      ]
      if !run.cheap.isEmpty {
        figures["O(d^2) request s (median)"] = CertifiedBench.medianOf(run.cheap)
      }
      if path.key != "fused", let fused = perRequest["fused"], let own = perRequest[path.key] {
        figures["speedup over the fused path (amortised, same run)"] = fused / own
      }
      report.rows.append(
        BenchRow(
          group: "amortised",
          name:
            "amortised certified removal: \(path.label), \(requests) sequential single removals",
          medianSeconds: CertifiedBench.medianOf(run.seconds),
          minimumSeconds: run.seconds.min() ?? .nan, maximumSeconds: run.seconds.max(),
          samples: requests, figures: figures))
      last = run.state
    }

    benchProgress("amortised: one retrain for reference")
    if let state = last {
      let start = DispatchTime.now().uptimeNanoseconds
      let removed = Set(ids)
      let spare = data.ids.first { !removed.contains($0) } ?? data.ids[0]
      _ = try Retrain().unlearn(state, forgetting: [spare])
      let retrain = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
      report.rows.append(
        BenchRow(
          group: "amortised", name: "amortised certified removal: retrain (Retrain, one id)",
          medianSeconds: retrain, minimumSeconds: retrain, maximumSeconds: retrain, samples: 1,
          figures: [
            "O(d^2) path speedup over retrain": retrain / (perRequest["O(d^2)"] ?? .nan),
            "fused path speedup over retrain": retrain / (perRequest["fused"] ?? .nan),
          ]))
    }
    report.rows.append(
      BenchRow(
        group: "amortised",
        name: "amortised certified removal: peak resident memory (VmHWM, whole process)",
        medianSeconds: 0, minimumSeconds: 0, samples: 1,
        figures: ["MiB": CertifiedBench.peakResidentMebibytes()]))
  }

  /// `||grad L_b(theta; R)||` recomputed from the data at the state's parameters.
  static func residualFromScratch(_ state: TrainedModel<LogisticRegression>) -> Double {
    let objective = Objective(
      model: state.model, features: state.data.features,
      targets: state.data.labels.map(Double.init), weights: state.weights,
      regularization: state.regularization, perturbation: state.perturbation)
    return objective.gradient(at: state.parameters).norm()
  }
}
