// MARK: - Per-sample preprocessing (never fitted on the data)

extension Dataset {
  /// The largest Euclidean row norm `max_i ||x_i||_2` (0 for an empty dataset).
  ///
  /// Certified removal (Guo et al.) assumes `||x_i|| <= 1`; check it with this.
  public var maximumRowNorm: Double { features.rowNorms().max() ?? 0 }

  /// The dataset with every row scaled to unit Euclidean norm; all-zero rows stay zero.
  ///
  /// Per-sample, so it leaks nothing about other samples and needs no refitting after removal.
  /// Cost: `O(n d)`.
  public func normalizingRows() -> Dataset {
    var scaled = features
    scaled.scaleRows(by: features.rowNorms().map { $0 > 0 ? 1 / $0 : 0 })
    return Dataset(
      validatedFeatures: scaled, labels: labels, ids: ids, classCount: classCount,
      classNames: classNames, featureNames: featureNames, name: name, rowByID: rowByID)
  }

  /// The dataset with an extra last column equal to `value` in every row (an intercept term),
  /// named `"intercept"` when feature names are known. Cost: one copy, `O(n d)`.
  ///
  /// Note that the column adds `value^2` to every squared row norm.
  public func appendingConstantFeature(_ value: Double = 1) -> Dataset {
    precondition(value.isFinite, "Dataset: constant feature must be finite")
    let d = featureCount
    var elements = [Double]()
    elements.reserveCapacity(count * (d + 1))
    features.elements.withUnsafeBufferPointer { buffer in
      for i in 0..<count {
        elements.append(contentsOf: buffer[(i * d)..<((i + 1) * d)])
        elements.append(value)
      }
    }
    return Dataset(
      validatedFeatures: Matrix(rows: count, columns: d + 1, elements: elements), labels: labels,
      ids: ids, classCount: classCount, classNames: classNames,
      featureNames: featureNames.isEmpty ? [] : featureNames + ["intercept"], name: name,
      rowByID: rowByID)
  }
}
