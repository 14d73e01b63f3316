/// A method that makes a ``TrainedModel`` forget some of its training samples.
///
/// Every conformer validates the request before doing anything (unknown, duplicate or
/// already-forgotten ids throw ``UnlearningError`` naming the id, and the input is untouched),
/// returns the state unchanged bit for bit for an empty request, and reports what it did in a
/// ``RemovalReport`` (sum-form gradient residuals, `b` included).
public protocol Unlearner: Sendable {
  /// A short, stable name for tables and JSON (e.g. `"newton"`, `"retrain"`).
  var name: String { get }

  /// Forgets the samples named by `ids`.
  ///
  /// - Parameters:
  ///   - state: the trained model (not modified: a value type).
  ///   - ids: the ids to forget; each must be in `state.data`, retained, and named once.
  /// - Returns: the new state (`ids` have weight 0) and a report.
  /// - Throws: ``UnlearningError`` (validation, or a numerical failure of the method).
  func unlearn<Model: TwiceDifferentiableModel>(
    _ state: TrainedModel<Model>, forgetting ids: [SampleID]
  ) throws -> UnlearningResult<Model>
}

/// The outcome of an unlearning request: the new state and what was done.
public struct UnlearningResult<Model: TwiceDifferentiableModel>: Sendable {
  /// The state after forgetting (removed rows have weight 0).
  public var state: TrainedModel<Model>
  /// What the method did, with residuals and timings.
  public var report: RemovalReport

  /// Creates a result.
  public init(state: TrainedModel<Model>, report: RemovalReport) {
    self.state = state
    self.report = report
  }
}

/// What a method body returns to ``UnlearningResult/run(method:state:ids:body:)``.
struct UnlearningOutcome<Model: TwiceDifferentiableModel> {
  var state: TrainedModel<Model>
  var notes: [String] = []
  var details: [String: Double] = [:]
}

extension UnlearningResult {
  /// The shared frame of every unlearner: validation, the empty-request shortcut, timing,
  /// and the residuals of the report.
  ///
  /// `body` receives the state with the forgotten rows already weighted 0 (parameters
  /// unchanged) and the forgotten row positions.
  static func run(
    method: String, state: TrainedModel<Model>, ids: [SampleID],
    body: (TrainedModel<Model>, [Int]) throws -> UnlearningOutcome<Model>
  ) throws -> UnlearningResult {
    let rows = try state.rowsToForget(ids)
    let trainingResidual = state.gradientResidualNorm()
    if rows.isEmpty {
      return UnlearningResult(
        state: state,
        report: RemovalReport(
          method: method, forgottenCount: 0, seconds: 0, gradientResidualNorm: trainingResidual,
          trainingResidualNorm: trainingResidual, notes: ["empty request: nothing changed"]))
    }
    let stopwatch = Stopwatch()
    let outcome = try body(state.removing(rows: rows), rows)
    let seconds = stopwatch.seconds
    return UnlearningResult(
      state: outcome.state,
      report: RemovalReport(
        method: method, forgottenCount: rows.count, seconds: seconds,
        gradientResidualNorm: outcome.state.gradientResidualNorm(),
        trainingResidualNorm: trainingResidual, notes: outcome.notes, details: outcome.details))
  }
}
