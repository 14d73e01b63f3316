import Foundation
import LinearAlgebra
import Unlearning

/// How the distributed influence scoring solves `H_J s = grad loss_test`.
public enum ShardedIHVPSolver: Sendable, Equatable {
  /// The all-reduced `d x d` mean-form Hessian, factored by Cholesky on every rank.
  case direct
  /// Conjugate gradient on exact distributed Hessian-vector products (one all-reduce of `d`
  /// doubles per iteration), to the given relative residual.
  case conjugateGradient(tolerance: Double)
}

/// The most helpful and most harmful training rows of every rank for one test point.
public struct ShardedInfluenceRanking: Sendable, Codable, Equatable {
  /// Rows with positive values, largest first (removing them raises the test loss most).
  public var helpful: [Influence.Ranking.Entry]
  /// Rows with negative values, most negative first.
  public var harmful: [Influence.Ranking.Entry]
  /// The IHVP's diagnostics (`solver` is `direct` or `cg`).
  public var ihvp: Influence.IHVPSolver.Diagnostics
  /// Seconds: the IHVP (Hessian or CG included) and the local scoring pass plus the gather.
  public var timing: Influence.Timing
}

extension ShardedData {
  /// Influence of every training row on one test point's loss, ranked (collective; the
  /// result is identical on every rank), for a binary GLM without intercept (e.g.
  /// ``LogisticRegression``):
  /// `value_i = (w_i / n_eff) grad loss_test^T (H_J + damping I)^{-1} grad loss_i` with the
  /// mean-form `H_J = (1/n_eff) sum_i w_i hess loss_i + lambda I` (Docs/Math.md section 4;
  /// the same convention as ``InfluenceFunctions/topInfluences(on:count:)``: positive = the
  /// row was helping that test point).
  ///
  /// Work: the IHVP `s` (direct: local weighted Gram, one all-reduce of `d^2`, Cholesky; or
  /// CG), then one local `gemv` `X_k s` scaled by `ell'(z_i)` (`O(n_k d)`), a local top-`count`
  /// selection and an all-gather of at most `4 count` numbers per rank.
  ///
  /// - Parameters:
  ///   - model: the model (no intercept).
  ///   - parameters: `theta` (replicated).
  ///   - regularization: `lambda`.
  ///   - weights: this rank's weights (0 = removed; `nil`: all ones).
  ///   - testPoint: the test features and target.
  ///   - count: how many helpful and harmful rows to return.
  ///   - solver: ``ShardedIHVPSolver``.
  ///   - damping: `mu >= 0` added to `H_J`.
  /// - Throws: ``DistributedError``.
  public func topInfluences<Model: GeneralizedLinearModel>(
    model: Model, parameters: [Double], regularization: Double, weights: [Double]? = nil,
    on testPoint: Influence.TestPoint, count: Int, solver: ShardedIHVPSolver = .direct,
    damping: Double = 0
  ) throws(DistributedError) -> ShardedInfluenceRanking {
    guard !model.fitsIntercept else {
      throw .unsupported("distributed influence needs a model without intercept")
    }
    guard testPoint.features.count == featureCount, parameters.count == featureCount else {
      throw .invalidArgument(
        "test point has \(testPoint.features.count) features, parameters \(parameters.count), the data \(featureCount)"
      )
    }
    guard count >= 0, damping >= 0 else {
      throw .invalidArgument("count \(count) and damping \(damping) must be >= 0")
    }
    let x = local.features
    let w = weights ?? [Double](repeating: 1, count: local.count)
    let n = try mpi { () throws(MPIError) in try communicator.allReduceSum(w.reduce(0, +)) }
    let ihvpStart = DispatchTime.now().uptimeNanoseconds
    let z = x.multiply(parameters)
    let derivatives = model.lossDerivatives(linearPredictors: z, targets: local.targets)
    var curvature = derivatives.second
    for i in curvature.indices { curvature[i] = w[i] == 0 ? 0 : w[i] * curvature[i] / n }
    let testZ = testPoint.features.dot(parameters)
    let testFirst = model.lossDerivatives(
      linearPredictors: [testZ], targets: [testPoint.target]
    ).first[0]
    let testGradient = testPoint.features.scaled(by: testFirst)
    let shift = regularization + damping
    var diagnostics: Influence.IHVPSolver.Diagnostics
    var s: [Double]
    switch solver {
    case .direct:
      var hessian = x.weightedGram(weights: curvature)
      try mpi { () throws(MPIError) in try communicator.allReduceSum(&hessian) }
      hessian.addToDiagonal(shift)
      let factor: Cholesky
      do {
        factor = try Cholesky(hessian)
      } catch {
        throw .notPositiveDefinite("the mean-form Hessian could not be factored: \(error)")
      }
      s = factor.solve(testGradient)
      diagnostics = Influence.IHVPSolver.Diagnostics(
        solver: "direct", damping: damping, iterations: 0, relativeResidual: nil,
        converged: true)
    case .conjugateGradient(let tolerance):
      let failure = CollectiveFailure()
      let communicator = communicator
      let op = ClosureOperator(dimension: featureCount) { p in
        var u = x.multiply(p)
        for i in u.indices { u[i] *= curvature[i] }
        var hp = x.multiply(u, transposed: true)
        if failure.error == nil {
          do throws(MPIError) { try communicator.allReduceSum(&hp) } catch { failure.record(error) }
        }
        if failure.error != nil { return [Double](repeating: .nan, count: hp.count) }
        hp.add(p, scaledBy: shift)
        return hp
      }
      let solution = ConjugateGradient(tolerance: tolerance).solve(op, testGradient)
      try failure.rethrow()
      s = solution.solution
      diagnostics = Influence.IHVPSolver.Diagnostics(
        solver: "cg", damping: damping, iterations: solution.iterations,
        relativeResidual: solution.relativeResidual, converged: solution.converged)
    }
    let ihvpSeconds = Double(DispatchTime.now().uptimeNanoseconds - ihvpStart) * 1e-9
    let scoringStart = DispatchTime.now().uptimeNanoseconds
    var values = x.multiply(s)
    for i in values.indices {
      values[i] = w[i] == 0 ? 0 : w[i] / n * derivatives.first[i] * values[i]
    }
    let order = values.indices.sorted { values[$0] > values[$1] }
    let helpful = order.prefix(count).filter { values[$0] > 0 }
    let harmful = order.reversed().prefix(count).filter { values[$0] < 0 }
    var payload: [Double] = [Double(helpful.count)]
    for i in helpful + harmful {
      payload.append(Double(local.ids[i].rawValue))
      payload.append(values[i])
    }
    let parts = try mpi { () throws(MPIError) in try communicator.allGather(payload) }
    var allHelpful: [Influence.Ranking.Entry] = []
    var allHarmful: [Influence.Ranking.Entry] = []
    for part in parts {
      let helpfulCount = Int(part[0])
      for k in 0..<((part.count - 1) / 2) {
        let entry = Influence.Ranking.Entry(
          id: SampleID(Int(part[1 + 2 * k])), value: part[2 + 2 * k])
        if k < helpfulCount { allHelpful.append(entry) } else { allHarmful.append(entry) }
      }
    }
    allHelpful.sort { $0.value > $1.value || ($0.value == $1.value && $0.id < $1.id) }
    allHarmful.sort { $0.value < $1.value || ($0.value == $1.value && $0.id < $1.id) }
    let scoringSeconds = Double(DispatchTime.now().uptimeNanoseconds - scoringStart) * 1e-9
    return ShardedInfluenceRanking(
      helpful: Array(allHelpful.prefix(count)), harmful: Array(allHarmful.prefix(count)),
      ihvp: diagnostics,
      timing: Influence.Timing(
        fitSeconds: 0, ihvpSeconds: ihvpSeconds, scoringSeconds: scoringSeconds))
  }
}
