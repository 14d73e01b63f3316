// MARK: - Selecting samples by id or position

extension Dataset {
  /// The rows at `positions` (0-based, in that order) as a new dataset; ids, labels and rows
  /// stay aligned. Cost: one copy of the selected rows, `O(positions.count * d)`.
  ///
  /// Positions are programmer-controlled: an out-of-range or repeated position is a
  /// precondition failure. Use ``subset(ids:)`` for user requests.
  public func rows(at positions: [Int]) -> Dataset {
    var seen = Set<Int>(minimumCapacity: positions.count)
    for position in positions {
      precondition(position >= 0 && position < count, "Dataset: row \(position) out of range")
      precondition(seen.insert(position).inserted, "Dataset: row \(position) selected twice")
    }
    return Dataset(
      validatedFeatures: features.rows(at: positions), labels: positions.map { labels[$0] },
      ids: positions.map { ids[$0] }, classCount: classCount, classNames: classNames,
      featureNames: featureNames, name: name)
  }

  /// The samples named by `ids`, in the order of the request.
  ///
  /// - Throws: `DataError.unknownID` or `.duplicateID(_:location:)` naming the offending id.
  public func subset(ids requested: [SampleID]) throws(DataError) -> Dataset {
    rows(at: try rowIndices(of: requested))
  }

  /// All samples except those named by `ids` ("D minus the forget set"), in their original order.
  ///
  /// - Throws: `DataError.unknownID` or `.duplicateID(_:location:)` naming the offending id.
  public func removing(ids removed: [SampleID]) throws(DataError) -> Dataset {
    let weights = try weights(removing: removed)
    return rows(at: weights.indices.filter { weights[$0] != 0 })
  }

  /// Per-row weights for the weighted objectives: `1` for kept rows, `0` for rows named by `ids`.
  ///
  /// Training with these weights equals training on ``removing(ids:)`` without copying the
  /// `n x d` feature matrix.
  ///
  /// - Throws: `DataError.unknownID` or `.duplicateID(_:location:)` naming the offending id.
  public func weights(removing removed: [SampleID]) throws(DataError) -> [Double] {
    var weights = [Double](repeating: 1, count: count)
    for row in try rowIndices(of: removed) { weights[row] = 0 }
    return weights
  }

  /// The split the command line's `--test-fraction` makes: `round(count * testFraction)` rows,
  /// drawn as in ``split(testCount:seed:)``, become the test set.
  ///
  /// - Parameters:
  ///   - testFraction: the share of rows in the test set, in `[0, 1)`.
  ///   - seed: the seed of the random choice.
  /// - Throws: ``DataError/invalidArgument(_:)`` when `testFraction` is outside `[0, 1)` or fewer
  ///   than 2 training rows would remain.
  public func split(testFraction: Double, seed: UInt64) throws(DataError) -> (
    train: Dataset, test: Dataset
  ) {
    guard testFraction >= 0, testFraction < 1 else {
      throw .invalidArgument("test fraction must be in [0, 1), got \(testFraction)")
    }
    let testCount = Int((Double(count) * testFraction).rounded())
    guard count - testCount >= 2 else {
      throw .invalidArgument("\(count) rows leave fewer than 2 for training")
    }
    return split(testCount: testCount, seed: seed)
  }

  /// A seeded random train/test split that partitions the samples.
  ///
  /// `testCount` rows are drawn uniformly without replacement (a partial Fisher-Yates shuffle
  /// driven by `SeededGenerator(seed:)`); both halves keep the original row order. The same
  /// seed gives the same split on every machine.
  ///
  /// - Parameters:
  ///   - testCount: size of the test part, in `0...count` (a precondition).
  ///   - seed: the seed of the random choice.
  /// - Returns: `train` (`count - testCount` rows) and `test`, named `"<name> (train)"` and
  ///   `"<name> (test)"`.
  public func split(testCount: Int, seed: UInt64) -> (train: Dataset, test: Dataset) {
    precondition(
      testCount >= 0 && testCount <= count,
      "Dataset: testCount \(testCount) outside 0...\(count)")
    var generator = SeededGenerator(seed: seed)
    let testRows = Set(RandomSampling.indices(choosing: testCount, from: count, using: &generator))
    var train = rows(at: (0..<count).filter { !testRows.contains($0) })
    var test = rows(at: (0..<count).filter { testRows.contains($0) })
    train.name = "\(name) (train)"
    test.name = "\(name) (test)"
    return (train, test)
  }
}

/// Seeded sampling without replacement (independent of the standard library's algorithms, so
/// that results are stable across Swift versions).
enum RandomSampling {
  /// A uniform integer in `0..<bound` (Lemire's multiply-shift with rejection; unbiased).
  static func index(below bound: Int, using generator: inout SeededGenerator) -> Int {
    precondition(bound > 0, "RandomSampling: empty range")
    let range = UInt64(bound)
    let threshold = (0 &- range) % range
    while true {
      let product = generator.next().multipliedFullWidth(by: range)
      if product.low >= threshold { return Int(product.high) }
    }
  }

  /// `k` distinct indices drawn uniformly from `0..<n`, in the order drawn
  /// (partial Fisher-Yates, `O(n)` memory).
  static func indices(choosing k: Int, from n: Int, using generator: inout SeededGenerator)
    -> [Int]
  {
    precondition(k >= 0 && k <= n, "RandomSampling: cannot choose \(k) of \(n)")
    var pool = Array(0..<n)
    for i in 0..<k {
      let j = i + index(below: n - i, using: &generator)
      pool.swapAt(i, j)
    }
    return Array(pool[0..<k])
  }
}
