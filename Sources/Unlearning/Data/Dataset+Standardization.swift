// MARK: - Per-feature standardisation (fitted on rows, so refitted after removal)

extension Dataset {
  /// Per-feature standardisation statistics: `x_j -> (x_j - mean_j) / scale_j`.
  ///
  /// Unlike ``normalizingRows()``, these statistics are **fitted on rows**: they depend on
  /// every row they were fitted on, including rows that may later be forgotten. A model
  /// that keeps statistics fitted on forgotten rows still carries information about them, so
  /// a retrain must refit them on the retained rows (``init(fittedOn:excluding:)``), and
  /// approximate removal methods that keep the stored statistics must say so.
  ///
  /// Conventions:
  /// - `means[j]` is the mean of feature `j` over the `rowCount` fitted rows.
  /// - `scales[j]` is the population standard deviation (divide by `n`, not `n - 1`) of
  ///   feature `j`, except for **constant features**: when the standard deviation is at most
  ///   ``constantTolerance`` `* max(1, |mean_j|)`, the feature is only centred and
  ///   `scales[j] = 1`. So no scale is 0 and standardised data never holds NaN or infinity.
  ///
  /// Stored in a ``ModelFile`` (field `standardization`) and in a ``PublicRelease``: the
  /// statistics are part of the model, since its parameters act on standardised features.
  public struct Standardization: Sendable, Codable, Equatable {
    /// The mean of each feature over the fitted rows (`d` entries).
    public var means: [Double]
    /// The divisor of each feature: its population standard deviation, 1 for a constant
    /// feature (`d` positive entries).
    public var scales: [Double]
    /// The number of rows the statistics were fitted on.
    public var rowCount: Int

    /// A feature whose standard deviation is at most `constantTolerance * max(1, |mean|)` is
    /// treated as constant (centred, scale 1): `1e-12`, far above the round-off of a mean
    /// of equal values and far below any real spread.
    public static let constantTolerance = 1e-12

    /// Statistics from their fields.
    ///
    /// - Throws: `DataError.shapeMismatch` when the lengths differ, `.invalidArgument` for a
    ///   non-finite mean, a scale that is not positive and finite, or a negative row count.
    public init(means: [Double], scales: [Double], rowCount: Int) throws(DataError) {
      guard means.count == scales.count else {
        throw .shapeMismatch("standardization: \(means.count) means for \(scales.count) scales")
      }
      if let j = means.firstIndex(where: { !$0.isFinite }) {
        throw .invalidArgument("standardization: mean \(j) is not finite")
      }
      if let j = scales.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
        throw .invalidArgument("standardization: scale \(j) must be positive and finite")
      }
      guard rowCount >= 0 else {
        throw .invalidArgument("standardization: row count \(rowCount) is negative")
      }
      self.means = means
      self.scales = scales
      self.rowCount = rowCount
    }

    /// Fits the statistics on the rows of `data` whose ids are not in `excluded` (a retrain
    /// passes the removed ids, so forgotten rows contribute nothing).
    ///
    /// Two passes (the mean by one `dgemv`, then the squared deviations), so the variance is
    /// not the cancellation-prone `E[x^2] - E[x]^2`. Cost: `O(n d)`, one `n_R x d` copy only
    /// when ids are excluded.
    ///
    /// - Throws: `DataError.invalidArgument` when no row is left to fit on, `.unknownID` for an
    ///   excluded id that is not in `data`.
    public init(fittedOn data: Dataset, excluding excluded: [SampleID] = []) throws(DataError) {
      let rows = excluded.isEmpty ? data : try data.removing(ids: excluded)
      let (n, d) = (rows.count, rows.featureCount)
      guard n > 0 else {
        throw .invalidArgument("standardization needs at least one row to fit on, got none")
      }
      let means = rows.features.multiply(
        [Double](repeating: 1, count: n), transposed: true, alpha: 1 / Double(n))
      var squares = [Double](repeating: 0, count: d)
      rows.features.elements.withUnsafeBufferPointer { x in
        squares.withUnsafeMutableBufferPointer { s in
          for i in 0..<n {
            let row = i * d
            for j in 0..<d {
              let deviation = x[row + j] - means[j]
              s[j] += deviation * deviation
            }
          }
        }
      }
      let scales = (0..<d).map { j -> Double in
        let deviation = (squares[j] / Double(n)).squareRoot()
        return deviation <= Self.constantTolerance * max(1, abs(means[j])) ? 1 : deviation
      }
      try self.init(means: means, scales: scales, rowCount: n)
    }

    /// The number of features `d`.
    public var featureCount: Int { means.count }

    /// `data` with every feature standardised: `(x_ij - means[j]) / scales[j]`. Ids, labels
    /// and names are unchanged.
    ///
    /// An elementwise affine map over one `n x d` copy (no BLAS routine applies a per-column
    /// shift and scale). Cost: `O(n d)`.
    ///
    /// - Throws: `DataError.shapeMismatch` when `data` has a different feature count.
    public func apply(to data: Dataset) throws(DataError) -> Dataset {
      let (n, d) = (data.count, data.featureCount)
      guard d == featureCount else {
        throw .shapeMismatch(
          "standardization fitted on \(featureCount) features, the data has \(d)")
      }
      var elements = data.features.elements
      let inverse = scales.map { 1 / $0 }
      elements.withUnsafeMutableBufferPointer { x in
        for i in 0..<n {
          let row = i * d
          for j in 0..<d { x[row + j] = (x[row + j] - means[j]) * inverse[j] }
        }
      }
      return Dataset(
        validatedFeatures: Matrix(rows: n, columns: d, elements: elements), labels: data.labels,
        ids: data.ids, classCount: data.classCount, classNames: data.classNames,
        featureNames: data.featureNames, name: data.name, rowByID: data.rowByID)
    }
  }

  /// The dataset with every feature standardised by `statistics` (see
  /// ``Standardization/apply(to:)``). Cost: `O(n d)`, one copy.
  ///
  /// - Throws: `DataError.shapeMismatch` when the feature counts differ.
  public func standardized(by statistics: Standardization) throws(DataError) -> Dataset {
    try statistics.apply(to: self)
  }
}
