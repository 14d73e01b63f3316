extension Influence {
  /// One test example: its feature row and target (class index as an exact double, or a real
  /// value for regression).
  public struct TestPoint: Sendable, Codable, Equatable {
    /// The `d` features.
    public var features: [Double]
    /// The target.
    public var target: Double

    /// Creates a test point.
    public init(features: [Double], target: Double) {
      self.features = features
      self.target = target
    }
  }
}

/// Influence functions (Koh & Liang 2017) of a trained model, **mean form** (Docs/Math.md section 4).
///
/// With the trained parameters `theta`, sample weights `w_i` (1, or 0 for rows already removed),
/// `n_eff = sum_i w_i` and the **mean-form** Hessian
///
///     H_J = (1/n_eff) sum_i w_i hess loss_i(theta) + lambda I      (H_sum = n_eff H_J),
///
/// plus an optional damping `mu` (non-convex models: `H_J + mu I`, reported in every result):
/// - ``parameterChange(removing:)``: `theta_{-F} - theta ~= (1/n_eff) H_J^{-1} sum_{z in F} w_z r_z`
///   (first order; a group is the sum of its members);
/// - ``influences(on:)`` / ``testLossChanges(testFeatures:testTargets:)``: the predicted change
///   in test loss if each training sample is removed, `(w_z / n_eff) grad loss_test^T H_J^{-1} r_z`
///   for all `n` samples from ONE IHVP `s_test = H_J^{-1} grad loss_test` per test point and one
///   pass over the data (linear models: one `gemv` `X s_test` scaled by `ell'(z_i)`; other
///   models: per-sample gradients in blocks of ``blockSize`` rows);
/// - ``selfInfluences()``: `r_z^T H_J^{-1} r_z` (direct solver: `||L^{-1} r_z||^2` for a block
///   of samples per `dtrsm`);
/// - ``topInfluences(on:count:)``: the most helpful and most harmful samples.
///
/// `r_z` is `grad loss_z` under ``Influence/Regularization/fixed`` (the default; Koh & Liang) and
/// `grad loss_z + lambda theta` under ``Influence/Regularization/rescaled``.
///
/// **Sign convention** everywhere: "predicted change in test loss if the sample is removed";
/// positive means the sample was helping that test point.
///
/// The IHVP solver is fitted once at construction (``fittedSolver``; Cholesky factor, Jacobi
/// diagonal or LiSSA scale) and reused by every query. A `Sendable` value.
public struct InfluenceFunctions<Model: TwiceDifferentiableModel>: Sendable {
  /// The training objective at which influences are taken (model, data, weights, `lambda`).
  public let objective: Objective<Model>
  /// The trained parameters `theta` (length `p`).
  public let parameters: [Double]
  /// The id of every training row (length `n`).
  public let ids: [SampleID]
  /// How removal treats the regulariser (fixes `r_z`).
  public let removalRegularization: Influence.Regularization
  /// Rows per block in the passes over the data that need per-sample gradients.
  public let blockSize: Int
  /// The IHVP solver, fitted to `H_J + damping I` once.
  public let fittedSolver: Influence.IHVPSolver.Fitted

  let rowByID: [SampleID: Int]

  /// Prepares influence functions for a trained model and fits the IHVP solver.
  ///
  /// Cost: the solver's fit (direct on a linear model: `O(n p^2 + p^3 / 3)`).
  ///
  /// - Parameters:
  ///   - model: the model.
  ///   - parameters: the trained `theta` (length `p`); influences are first-order around it,
  ///     so train to a small gradient norm.
  ///   - features: `n x d` training features.
  ///   - targets: `n` training targets.
  ///   - ids: `n` unique ids (default `0..<n`).
  ///   - regularization: `lambda > 0` of the training objective.
  ///   - weights: `n` non-negative weights (0 = already removed), or `nil` for all ones.
  ///   - damping: `mu >= 0` added to `H_J` (needed when the Hessian is indefinite, e.g. MLPs).
  ///   - solver: the IHVP solver (default ``Influence/IHVPSolver/direct``).
  ///   - removalRegularization: see ``Influence/Regularization`` (default `.fixed`).
  ///   - blockSize: rows per block of per-sample gradients (memory `blockSize x p`).
  /// - Throws: ``UnlearningError/invalidArgument(_:)``, ``UnlearningError/invalidArgument(_:)``,
  ///   ``UnlearningError/unknownID(_:)`` or ``UnlearningError/duplicateID(_:)`` (duplicate id), and the solver's fit errors.
  public init(
    model: Model, parameters: [Double], features: Matrix, targets: [Double], ids: [SampleID]? = nil,
    regularization: Double, weights: [Double]? = nil, damping: Double = 0,
    solver: Influence.IHVPSolver = .direct,
    removalRegularization: Influence.Regularization = .fixed,
    blockSize: Int = 1024
  ) throws(UnlearningError) {
    let n = features.rows
    guard features.columns == model.featureCount else {
      throw .invalidArgument(
        "shape mismatch: features have \(features.columns) columns, the model expects \(model.featureCount)"
      )
    }
    guard targets.count == n else {
      throw .invalidArgument("shape mismatch: \(targets.count) targets for \(n) rows")
    }
    guard parameters.count == model.parameterCount else {
      throw .invalidArgument(
        "shape mismatch: \(parameters.count) parameters, the model has \(model.parameterCount)")
    }
    guard regularization >= 0, regularization.isFinite else {
      throw .invalidArgument("regularization \(regularization) must be finite and >= 0")
    }
    guard blockSize >= 1 else { throw .invalidArgument("blockSize \(blockSize) must be >= 1") }
    if let weights {
      guard weights.count == n else {
        throw .invalidArgument("shape mismatch: \(weights.count) weights for \(n) rows")
      }
      if let bad = weights.firstIndex(where: { !($0 >= 0 && $0.isFinite) }) {
        throw .invalidArgument("weight \(weights[bad]) of row \(bad) must be finite and >= 0")
      }
    }
    let ids = ids ?? (0..<n).map { SampleID($0) }
    guard ids.count == n else {
      throw .invalidArgument("shape mismatch: \(ids.count) ids for \(n) rows")
    }
    var rowByID: [SampleID: Int] = [:]
    rowByID.reserveCapacity(n)
    for (row, id) in ids.enumerated() {
      guard rowByID.updateValue(row, forKey: id) == nil else {
        throw .duplicateID(id)
      }
    }
    let objective = Objective(
      model: model, features: features, targets: targets, weights: weights,
      regularization: regularization)
    self.objective = objective
    self.parameters = parameters
    self.ids = ids
    self.removalRegularization = removalRegularization
    self.blockSize = blockSize
    self.rowByID = rowByID
    self.fittedSolver = try solver.fit(objective, at: parameters, damping: damping)
  }

  /// Prepares influence functions on a ``Dataset`` (targets = labels), optionally with some
  /// ids already removed (weight 0). See the main initializer.
  ///
  /// - Throws: as the main initializer; ``UnlearningError/unknownID(_:)`` or ``UnlearningError/duplicateID(_:)`` for an unknown removed id.
  public init(
    model: Model, parameters: [Double], dataset: Dataset, regularization: Double,
    removed: [SampleID] = [], damping: Double = 0, solver: Influence.IHVPSolver = .direct,
    removalRegularization: Influence.Regularization = .fixed, blockSize: Int = 1024
  ) throws(UnlearningError) {
    let weights: [Double]?
    do {
      weights = removed.isEmpty ? nil : try dataset.weights(removing: removed)
    } catch {
      switch error {
      case .unknownID(let id): throw .unknownID(id)
      case .duplicateID(let id, _): throw .duplicateID(id)
      default: throw .invalidArgument(error.description)
      }
    }
    try self.init(
      model: model, parameters: parameters, features: dataset.features, targets: dataset.targets,
      ids: dataset.ids, regularization: regularization, weights: weights, damping: damping,
      solver: solver, removalRegularization: removalRegularization, blockSize: blockSize)
  }

  /// `n`, the number of training rows (removed ones included, with weight 0).
  public var sampleCount: Int { objective.features.rows }
  /// `n_eff = sum_i w_i`, the `n` of every mean-form formula.
  public var effectiveCount: Double { objective.effectiveCount }
  /// The damping `mu` added to `H_J`.
  public var damping: Double { fittedSolver.damping }

  // MARK: - Parameter change

  /// The predicted parameter change from removing the samples `ids` (a group: the sum of their
  /// first-order effects):
  ///
  ///     theta_{-F} - theta ~= (1/n_eff) (H_J + damping I)^{-1} sum_{z in F} w_z r_z
  ///
  /// (mean-form `H_J`; equivalently `H_sum^{-1} sum w_z r_z`). Cost: `|F|` per-sample gradients
  /// and one IHVP.
  ///
  /// - Parameter ids: the samples to remove (distinct, present).
  /// - Throws: ``UnlearningError/unknownID(_:)`` or ``UnlearningError/duplicateID(_:)`` for an unknown or repeated id,
  ///   ``UnlearningError/solverDiverged(method:iterations:reason:)``.
  public func parameterChange(removing ids: [SampleID]) throws(UnlearningError)
    -> Influence.ParameterChange
  {
    let rows = try rowIndices(of: ids)
    let scoring = Stopwatch()
    var rhs = [Double](repeating: 0, count: objective.parameterCount)
    if !rows.isEmpty {
      let gradients = removalGradients(rows: rows)
      let w = rows.map { objective.weights?[$0] ?? 1 }
      rhs = gradients.multiply(w, transposed: true)
    }
    rhs.scale(by: 1 / effectiveCount)
    let scoringSeconds = scoring.seconds
    let solving = Stopwatch()
    let solution = fittedSolver.solve(rhs)
    let ihvpSeconds = solving.seconds
    let diagnostics = try diagnostics(of: solution)
    return Influence.ParameterChange(
      removed: ids, change: solution.solution, ihvp: diagnostics,
      timing: Influence.Timing(
        fitSeconds: fittedSolver.fitSeconds, ihvpSeconds: ihvpSeconds,
        scoringSeconds: scoringSeconds))
  }

  // MARK: - Test-loss influences

  /// The predicted change in the loss of `testPoint` if each training sample is removed:
  /// `values[i] = (w_i / n_eff) grad loss_test^T (H_J + damping I)^{-1} r_i` (mean form;
  /// positive = sample `i` was helping the test point). One IHVP, then one pass over the data.
  ///
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` for a wrong feature count,
  ///   ``UnlearningError/solverDiverged(method:iterations:reason:)``.
  public func influences(on testPoint: Influence.TestPoint) throws(UnlearningError)
    -> Influence.Scores
  {
    let features = Matrix(rows: 1, columns: testPoint.features.count, elements: testPoint.features)
    return try testLossChanges(testFeatures: features, testTargets: [testPoint.target])[0]
  }

  /// The predicted change in each test point's loss if each training sample is removed, for
  /// `m` test points at once: `m` IHVPs (direct: one multi-right-hand-side solve), then one
  /// pass over the training data (linear models: one `gemm` `X~ S` with `S = [s_1 ... s_m]`).
  ///
  /// Result `j` holds `(w_i / n_eff) grad loss_{test j}^T (H_J + damping I)^{-1} r_i` for every
  /// training row `i` (mean form; positive = sample `i` was helping test point `j`).
  ///
  /// - Parameters:
  ///   - testFeatures: `m x d`.
  ///   - testTargets: `m` targets.
  /// - Throws: ``UnlearningError/invalidArgument(_:)``,
  ///   ``UnlearningError/solverDiverged(method:iterations:reason:)``.
  public func testLossChanges(testFeatures: Matrix, testTargets: [Double]) throws(UnlearningError)
    -> [Influence.Scores]
  {
    guard testFeatures.columns == objective.model.featureCount else {
      throw .invalidArgument(
        "shape mismatch: test features have \(testFeatures.columns) columns, the model expects \(objective.model.featureCount)"
      )
    }
    guard testTargets.count == testFeatures.rows else {
      throw .invalidArgument(
        "shape mismatch: \(testTargets.count) test targets for \(testFeatures.rows) test rows")
    }
    let m = testFeatures.rows
    if m == 0 { return [] }
    let solving = Stopwatch()
    let testGradients = objective.model.perSampleGradients(
      parameters, features: testFeatures, targets: testTargets)
    let (directions, solutions) = fittedSolver.solve(testGradients.transposed())
    let ihvpSeconds = solving.seconds
    var diagnostics: [Influence.IHVPSolver.Diagnostics] = []
    for solution in solutions { diagnostics.append(try self.diagnostics(of: solution)) }
    let scoring = Stopwatch()
    var products = removalGradientProducts(directions)  // n x m
    var factors = objective.weights ?? [Double](repeating: 1, count: sampleCount)
    factors.scale(by: 1 / effectiveCount)
    products.scaleRows(by: factors)
    let values = m == 1 ? [products.elements] : (0..<m).map { products.column($0) }
    let scoringSeconds = scoring.seconds
    let timing = Influence.Timing(
      fitSeconds: fittedSolver.fitSeconds, ihvpSeconds: ihvpSeconds / Double(m),
      scoringSeconds: scoringSeconds / Double(m))
    return (0..<m).map { j in
      Influence.Scores(ids: ids, values: values[j], ihvp: diagnostics[j], timing: timing)
    }
  }

  /// The `count` most helpful (largest positive predicted change in test loss when removed) and
  /// most harmful (most negative) training samples for `testPoint`. Cost: ``influences(on:)``
  /// plus a sort, `O(n log n)`.
  ///
  /// - Throws: as ``influences(on:)``; ``UnlearningError/invalidArgument(_:)`` for a
  ///   negative count.
  public func topInfluences(on testPoint: Influence.TestPoint, count: Int) throws(UnlearningError)
    -> Influence.Ranking
  {
    guard count >= 0 else { throw .invalidArgument("count \(count) must be >= 0") }
    let scores = try influences(on: testPoint)
    let order = scores.values.indices.sorted { scores.values[$0] > scores.values[$1] }
    let helpful = order.prefix(count).filter { scores.values[$0] > 0 }
    let harmful = order.reversed().prefix(count).filter { scores.values[$0] < 0 }
    func entries(_ rows: [Int]) -> [Influence.Ranking.Entry] {
      rows.map { Influence.Ranking.Entry(id: ids[$0], value: scores.values[$0]) }
    }
    return Influence.Ranking(helpful: entries(helpful), harmful: entries(harmful), scores: scores)
  }

  // MARK: - Self-influence

  /// The self-influence `r_z^T (H_J + damping I)^{-1} r_z` of every training row (mean-form
  /// `H_J`, unweighted; length `n`, aligned with ``ids``). Non-negative whenever
  /// `H_J + damping I` is positive definite.
  ///
  /// Cost: direct solver `||L^{-1} r_z||^2` for ``blockSize`` rows per `dtrsm`
  /// (`n p^2` flops in all); iterative solvers one IHVP per row (`n` solves).
  public func selfInfluences() -> [Double] {
    var out: [Double] = []
    out.reserveCapacity(sampleCount)
    var start = 0
    while start < sampleCount {
      let end = Swift.min(start + blockSize, sampleCount)
      out.append(
        contentsOf: fittedSolver.quadraticForms(removalGradients(rows: Array(start..<end))))
      start = end
    }
    return out
  }

  // MARK: - Internals

  func rowIndices(of requested: [SampleID]) throws(UnlearningError) -> [Int] {
    var seen = Set<SampleID>()
    var rows: [Int] = []
    rows.reserveCapacity(requested.count)
    for id in requested {
      guard let row = rowByID[id] else { throw .unknownID(id) }
      guard seen.insert(id).inserted else { throw .duplicateID(id) }
      rows.append(row)
    }
    return rows
  }

  func diagnostics(of solution: IterativeSolution) throws(UnlearningError)
    -> Influence.IHVPSolver.Diagnostics
  {
    if solution.diverged {
      throw .solverDiverged(
        method: fittedSolver.solver.name, iterations: solution.iterations,
        reason: fittedSolver.lissaScale.map {
          "scale \($0) is below lambda_max / 2 or the estimate blew up"
        }
          ?? "the operator is not positive definite or overflowed")
    }
    return Influence.IHVPSolver.Diagnostics(
      solver: fittedSolver.solver.name, damping: damping, iterations: solution.iterations,
      relativeResidual: solution.relativeResidual, converged: solution.converged)
  }
}
