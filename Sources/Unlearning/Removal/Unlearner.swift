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

extension Unlearner {
  /// Forgets one sample: `unlearn(state, forgetting: [id])`.
  public func unlearn<Model: TwiceDifferentiableModel>(
    _ state: TrainedModel<Model>, forgetting id: SampleID
  ) throws -> UnlearningResult<Model> {
    try unlearn(state, forgetting: [id])
  }
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
  /// The certificate, for certified removal.
  var certificate: RemovalCertificate? = nil
  /// The residual after removal when the method measured it exactly itself (else the frame
  /// computes it).
  var residual: Double? = nil
  /// The residual before removal, when the method measured it.
  var trainingResidual: Double? = nil
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
    if rows.isEmpty {
      let trainingResidual = state.gradientResidualNorm()
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
        gradientResidualNorm: outcome.residual ?? outcome.state.gradientResidualNorm(),
        trainingResidualNorm: outcome.trainingResidual ?? state.gradientResidualNorm(),
        notes: outcome.notes, details: outcome.details, certificate: outcome.certificate))
  }
}
