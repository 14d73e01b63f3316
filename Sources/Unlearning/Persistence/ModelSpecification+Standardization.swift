// MARK: - Re-expressing parameters on refitted standardisation statistics

extension ModelFile.Specification {
  /// Parameters re-expressed on new standardisation statistics (see
  /// ``reexpressing(_:from:to:)``).
  public struct Reexpression: Sendable, Equatable {
    /// The parameters acting on features standardised by the new statistics (length
    /// ``ModelFile/Specification/parameterCount``, the same layout as the input).
    public var parameters: [Double]
    /// The constant each output's linear predictor lost because the model has no bias to
    /// absorb it: one entry per row of the first affine layer (1 for logistic regression, `K`
    /// for softmax and one-vs-rest), empty when a bias absorbed the shift exactly (an
    /// intercept, every MLP). With `c` these entries, the re-expressed model's linear
    /// predictors on any row are the original's minus `c` (to round-off); for softmax only
    /// `c - mean(c)` changes probabilities.
    public var droppedShifts: [Double]
    /// `max_k ||W_k|| * ||D^{-1} (mu' - mu)||`, the Cauchy-Schwarz bound on every
    /// `|droppedShifts[k]|` (`W_k` row `k` of the first layer's weights before re-expression,
    /// `D = diag(scales)` of the old statistics); 0 when the shift was absorbed.
    public var droppedShiftBound: Double

    /// Whether the re-expressed model predicts exactly (to round-off) what the original did.
    public var isExact: Bool { droppedShifts.isEmpty }
  }

  /// Re-expresses `parameters`, fitted on features standardised by `old`
  /// (`z = (x - mu) / s`), so that they act on features standardised by `new`
  /// (`z' = (x - mu') / s'`).
  ///
  /// Since `z = diag(s' / s) z' + D^{-1} (mu' - mu)` with `D = diag(s)`, the first affine layer
  /// `W z + b` equals `W' z' + b'` with `W' = W diag(s' / s)` and
  /// `b' = b + W D^{-1} (mu' - mu)`. Every later layer is unchanged. Models with a bias on
  /// their first layer (logistic or ridge with an intercept, every MLP) are re-expressed
  /// exactly; models without one (logistic and ridge without intercept, softmax,
  /// one-vs-rest) cannot absorb the shift: the weights are still rescaled, and the lost
  /// constants are reported in ``Reexpression/droppedShifts`` (a removal that follows, e.g. a
  /// Newton step on the full retained gradient, corrects them).
  ///
  /// Layouts: the first layer's weights are the first `r x d` parameters, row-major (`r` = 1
  /// for logistic and ridge, `K` for softmax and one-vs-rest heads, the first hidden width for
  /// an MLP); the bias is the intercept (`parameters[d]`) or the MLP's first bias vector.
  ///
  /// Cost: `O(r d)`: one `gemv` for the shift and one pass scaling the weight columns.
  ///
  /// - Throws: ``UnlearningError/invalidArgument(_:)`` when the specification is not
  ///   buildable, `parameters` has the wrong length or a non-finite entry, or either set of
  ///   statistics has a different feature count from the model.
  public func reexpressing(
    _ parameters: [Double], from old: Dataset.Standardization, to new: Dataset.Standardization
  ) throws(UnlearningError) -> Reexpression {
    do {
      try validate()
    } catch {
      throw .invalidArgument("cannot re-express parameters: \(error.description)")
    }
    let d = featureCount
    guard parameters.count == parameterCount else {
      throw .invalidArgument(
        "re-expression: \(parameters.count) parameters, the \(kind) model has \(parameterCount)")
    }
    if let bad = parameters.firstIndex(where: { !$0.isFinite }) {
      throw .invalidArgument("re-expression: parameter \(bad) is not finite")
    }
    guard old.featureCount == d, new.featureCount == d else {
      throw .invalidArgument(
        "re-expression: the \(kind) model has \(d) features, the statistics \(old.featureCount) and \(new.featureCount)"
      )
    }
    // The first affine layer: `rows x d` weights at offset 0, and where its bias lives.
    let rows: Int
    let biasOffset: Int?
    switch self {
    case .logistic(_, let intercept), .ridge(_, let intercept):
      rows = 1
      biasOffset = intercept ? d : nil
    case .softmax(_, let k), .oneVsRest(_, let k):
      rows = k
      biasOffset = nil
    case .multilayerPerceptron(let sizes, _):
      rows = sizes[1]
      biasOffset = sizes[1] * d
    }
    let shiftInScaledUnits = (0..<d).map { (new.means[$0] - old.means[$0]) / old.scales[$0] }
    let weights = Matrix(rows: rows, columns: d, elements: Array(parameters[0..<(rows * d)]))
    let shifts = weights.multiply(shiftInScaledUnits)
    let ratios = (0..<d).map { new.scales[$0] / old.scales[$0] }
    var result = parameters
    result.withUnsafeMutableBufferPointer { p in
      for i in 0..<rows {
        for j in 0..<d { p[i * d + j] *= ratios[j] }
      }
      if let biasOffset {
        for i in 0..<rows { p[biasOffset + i] += shifts[i] }
      }
    }
    guard biasOffset == nil else {
      return Reexpression(parameters: result, droppedShifts: [], droppedShiftBound: 0)
    }
    let shiftNorm = shiftInScaledUnits.norm()
    let largestRow =
      (0..<rows).map { i in
        Array(parameters[(i * d)..<((i + 1) * d)]).norm()
      }.max() ?? 0
    return Reexpression(
      parameters: result, droppedShifts: shifts, droppedShiftBound: largestRow * shiftNorm)
  }
}

extension ModelFile {
  /// Whether the stored ``standardization`` was fitted on exactly the rows the model retains
  /// (the training rows minus ``removedIDs``), so that it holds nothing of a forgotten row.
  ///
  /// - `true`: no standardisation; or no removal yet; or the file records
  ///   ``trainingRowCount`` and `standardization.rowCount == trainingRowCount -
  ///   removedIDs.count` (every removal since this check exists refits the statistics).
  /// - `false`: the statistics were fitted on more rows than the model retains.
  /// - `nil`: a file with removals written before ``trainingRowCount`` was recorded: it cannot
  ///   tell (such builds kept the statistics through approximate removals).
  ///
  /// Cost: `O(1)`.
  public var standardizationFitsRetainedRows: Bool? {
    guard let s = standardization, !removedIDs.isEmpty else { return true }
    guard let n = trainingRowCount else { return nil }
    return s.rowCount == n - removedIDs.count
  }
}
