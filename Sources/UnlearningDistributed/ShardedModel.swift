import Foundation
import LinearAlgebra
import Unlearning

/// The first MPI failure inside a model callback (the model protocol does not throw): later
/// results are poisoned with NaN, and the caller rethrows it after the computation.
final class CollectiveFailure: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: MPIError?

  var error: MPIError? { lock.withLock { stored } }

  func record(_ error: MPIError) { lock.withLock { if stored == nil { stored = error } } }

  func rethrow() throws(DistributedError) {
    if let error { throw .mpi(error) }
  }
}

/// A model whose data terms are summed over every rank's rows: the single-process trainers
/// (``Training/Newton``, ``Training/LBFGS``, ...) run unchanged on it, in lockstep on every rank.
///
/// Each rank's ``Objective`` holds only its shard of rows; this wrapper adds the other ranks'
/// contributions to every sum over rows: loss value, gradient, Hessian-vector product and the
/// dense Hessian (the local weighted Gram, then one all-reduce of `d x d`). Sums are
/// replicated bit for bit (``Communicator/allReduceSum(_:)-([Double])``), so every rank sees
/// the same iterates, line-search decisions and stopping test. Per-row quantities
/// (predictions, losses, per-sample gradients) stay local.
///
/// Cost per call: the base model's local work plus one replicated sum of `p + 1` (gradient),
/// `p` (HVP) or `p^2` (Hessian) doubles.
///
/// Use ``ShardedData/objective(model:regularization:weights:perturbation:)`` to build the
/// objective: its `effectiveCount` must be the global retained count.
public struct ShardedModel<Base: TwiceDifferentiableModel>: TwiceDifferentiableModel {
  /// The per-row model.
  public let base: Base
  /// The ranks whose rows are summed.
  public let communicator: Communicator
  let failure: CollectiveFailure

  /// Wraps `base`.
  public init(_ base: Base, communicator: Communicator) {
    self.base = base
    self.communicator = communicator
    self.failure = CollectiveFailure()
  }

  /// The first MPI error raised inside a callback, if any.
  public var collectiveError: MPIError? { failure.error }

  /// The base model's `p`.
  public var parameterCount: Int { base.parameterCount }
  /// The base model's `d`.
  public var featureCount: Int { base.featureCount }
  /// The base model's class count.
  public var outputClassCount: Int { base.outputClassCount }
  /// The base model's convexity.
  public var isConvex: Bool { base.isConvex }

  /// The base model's start (replicated: it depends only on the seed).
  public func initialParameters(seed: UInt64) -> [Double] { base.initialParameters(seed: seed) }

  /// Local rows only (`n_k x K`).
  public func probabilities(_ parameters: [Double], features: Matrix) -> Matrix {
    base.probabilities(parameters, features: features)
  }

  /// Local rows only.
  public func predictions(_ parameters: [Double], features: Matrix) -> [Int] {
    base.predictions(parameters, features: features)
  }

  /// Local rows only.
  public func losses(_ parameters: [Double], features: Matrix, targets: [Double]) -> [Double] {
    base.losses(parameters, features: features, targets: targets)
  }

  /// Local rows only.
  public func perSampleGradients(_ parameters: [Double], features: Matrix, targets: [Double])
    -> Matrix
  {
    base.perSampleGradients(parameters, features: features, targets: targets)
  }

  /// The replicated sum of `values` over ranks (NaN after a failure).
  func reduced(_ values: [Double]) -> [Double] {
    var out = values
    if failure.error == nil {
      do throws(MPIError) {
        try communicator.allReduceSum(&out)
        return out
      } catch {
        failure.record(error)
      }
    }
    return [Double](repeating: .nan, count: values.count)
  }

  /// Global: the sum over every rank's rows.
  public func lossValue(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> Double {
    reduced([
      base.lossValue(parameters, features: features, targets: targets, weights: weights)
    ])[0]
  }

  /// Global: one replicated sum of `p + 1` doubles.
  public func lossAndGradient(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> (value: Double, gradient: [Double]) {
    let (value, gradient) = base.lossAndGradient(
      parameters, features: features, targets: targets, weights: weights)
    let sums = reduced(gradient + [value])
    return (sums[parameterCount], Array(sums[0..<parameterCount]))
  }

  /// Global: the exact HVP, one replicated sum of `p` doubles.
  public func lossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double] {
    reduced(
      base.lossHessianVectorProduct(
        parameters, features: features, targets: targets, weights: weights, vector: vector))
  }

  /// Global: the base's prepared product, then one replicated sum per `apply`.
  public func preparedLossHessianVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> @Sendable ([Double]) -> [Double] {
    let local = base.preparedLossHessianVectorProduct(
      parameters, features: features, targets: targets, weights: weights)
    return { v in self.reduced(local(v)) }
  }

  /// Global: one replicated sum of `p` doubles.
  public func lossGaussNewtonVectorProduct(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?,
    vector: [Double]
  ) -> [Double] {
    reduced(
      base.lossGaussNewtonVectorProduct(
        parameters, features: features, targets: targets, weights: weights, vector: vector))
  }

  /// Global: the local dense Hessian (linear models: the weighted Gram, `O(n_k p^2)`), then one
  /// replicated sum of `p^2` doubles.
  public func lossHessian(
    _ parameters: [Double], features: Matrix, targets: [Double], weights: [Double]?
  ) -> Matrix {
    let local = base.lossHessian(
      parameters, features: features, targets: targets, weights: weights)
    return Matrix(rows: local.rows, columns: local.columns, elements: reduced(local.elements))
  }
}

extension ShardedData {
  /// The sum-form objective over every rank's rows: this rank's rows with a
  /// ``ShardedModel`` and the global retained count as `n_eff`.
  ///
  /// - Parameters:
  ///   - model: the per-row model.
  ///   - regularization: `lambda`.
  ///   - weights: this rank's row weights (`nil`: all ones).
  ///   - perturbation: `b` (replicated), or `nil`.
  /// - Throws: ``DistributedError/mpi(_:)`` (one sum for `n_eff`).
  public func objective<Base: TwiceDifferentiableModel>(
    model: Base, regularization: Double, weights: [Double]? = nil, perturbation: [Double]? = nil
  ) throws(DistributedError) -> Objective<ShardedModel<Base>> {
    let localCount = weights.map { $0.reduce(0, +) } ?? Double(local.count)
    let global = try mpi { () throws(MPIError) in try communicator.allReduceSum(localCount) }
    var objective = Objective(
      model: ShardedModel(model, communicator: communicator), features: local.features,
      targets: local.targets, weights: weights, regularization: regularization,
      perturbation: perturbation)
    objective.effectiveCount = global
    return objective
  }

  /// Trains `model` on every rank's rows with a single-process trainer (Newton: the Hessian
  /// is the all-reduced local weighted Gram; L-BFGS: the all-reduced gradient), in lockstep.
  /// The parameters are replicated on every rank and equal the single-process result up to
  /// round-off.
  ///
  /// - Parameters:
  ///   - model: the per-row model (e.g. ``LogisticRegression``).
  ///   - regularization: `lambda > 0`.
  ///   - weights: this rank's row weights (`nil`: all ones).
  ///   - perturbation: the certified-removal `b` (replicated), or `nil`.
  ///   - trainer: any ``Trainer``.
  ///   - start: the starting point (replicated), or `nil` for the model's own.
  /// - Returns: the trainer's result (its gradient norm is global).
  /// - Throws: ``DistributedError/mpi(_:)`` after a failed collective,
  ///   ``DistributedError/invalidArgument(_:)`` for `lambda <= 0` or a feature-count mismatch.
  public func train<Base: TwiceDifferentiableModel>(
    model: Base, regularization: Double, weights: [Double]? = nil,
    perturbation: [Double]? = nil, trainer: some Trainer, start: [Double]? = nil
  ) throws(DistributedError) -> Training.Result {
    guard regularization > 0, regularization.isFinite else {
      throw .invalidArgument("regularization must be > 0, got \(regularization)")
    }
    guard model.featureCount == featureCount else {
      throw .invalidArgument(
        "the model expects \(model.featureCount) features, the data has \(featureCount)")
    }
    let objective = try self.objective(
      model: model, regularization: regularization, weights: weights, perturbation: perturbation)
    let result = trainer.train(objective, from: start)
    try objective.model.failure.rethrow()
    return result
  }

  /// An upper bound on `||X||_2` of the whole data set from the all-reduced `d x d` Gram
  /// `X^T X` (largest eigenvalue by LAPACK, inflated by `1 + 1e-12` as
  /// ``Matrix/spectralNormUpperBound()`` does). Removing rows never increases it.
  ///
  /// Cost: `O(n_k d^2)` local `syrk`, one replicated sum of `d^2` doubles, `O(d^3)` eigen.
  /// - Throws: ``DistributedError/mpi(_:)``, ``DistributedError/invalidArgument(_:)`` when the
  ///   eigensolver fails.
  public func spectralNormUpperBound() throws(DistributedError) -> Double {
    var gram = local.features.weightedGram()
    try mpi { () throws(MPIError) in try communicator.allReduceSum(&gram) }
    do {
      let top = try SymmetricEigen.largestEigenvalue(of: gram)
      return Swift.max(top, 0).squareRoot() * (1 + 1e-12)
    } catch {
      throw .invalidArgument("spectral norm of the data failed: \(error)")
    }
  }

  /// Solves `H v = rhs` by conjugate gradient with exact distributed Hessian-vector products
  /// (`H` the objective's Hessian at `theta`: two local `gemv`s and one replicated sum of `p`
  /// doubles per iteration), optionally preconditioned.
  ///
  /// - Throws: ``DistributedError/mpi(_:)``.
  public func solve<Base: TwiceDifferentiableModel>(
    _ objective: Objective<ShardedModel<Base>>, at theta: [Double], rhs: [Double],
    solver: ConjugateGradient = ConjugateGradient(),
    preconditioner: (any Preconditioner)? = nil
  ) throws(DistributedError) -> IterativeSolution {
    let solution = solver.solve(
      objective.hessianOperator(at: theta), rhs, preconditioner: preconditioner)
    try objective.model.failure.rethrow()
    return solution
  }
}
