/// A labelled data set whose samples carry stable ids.
///
/// - `features`: an `n x d` row-major `Matrix`; row `i` is sample `i`.
/// - `labels`: `n` class indices in `0..<classCount` (binary tasks use `{0, 1}`).
/// - `ids`: `n` unique ``SampleID``s. Deletion requests name ids, never row positions; ids stay
///   attached to their rows through ``subset(ids:)``, ``removing(ids:)`` and
///   ``split(testCount:seed:)``.
/// - `classNames` (always `classCount` names; `"0"`, `"1"`, ... when unknown) and
///   `featureNames` (`d` names, or empty when unknown).
///
/// A `Dataset` is a validated value: the initializer checks that the shapes agree, every feature
/// is finite, every label is in range and no id repeats, so code holding a `Dataset` can rely on
/// it. Copies share storage until mutated (copy-on-write from `Array`). Looking up a row by id
/// costs `O(1)` (a dictionary built once, `O(n)`, at construction).
public struct Dataset: Sendable, Equatable {
  /// The `count x featureCount` feature matrix, one sample per row.
  public let features: Matrix
  /// The class index of each row, in `0..<classCount`.
  public let labels: [Int]
  /// The stable id of each row; unique.
  public let ids: [SampleID]
  /// The number of classes `K`; labels lie in `0..<K`.
  public let classCount: Int
  /// A name for each class (`classCount` entries).
  public var classNames: [String]
  /// A name for each feature column (`featureCount` entries), or empty when unknown.
  public var featureNames: [String]
  /// A short human-readable name for the data set (e.g. `"hospital (train)"`).
  public var name: String

  /// Row position of each id.
  let rowByID: [SampleID: Int]

  /// Creates a validated dataset.
  ///
  /// Cost: `O(n d)` to check finiteness, `O(n)` to index the ids.
  ///
  /// - Parameters:
  ///   - features: `n x d` matrix, one sample per row.
  ///   - labels: `n` class indices.
  ///   - ids: `n` unique ids; `nil` numbers the rows `0..<n`.
  ///   - classCount: the number of classes; `nil` takes `classNames.count` if names are given,
  ///     else `max(labels) + 1` (pass it explicitly when a class may be absent from the rows).
  ///   - classNames: one name per class; `nil` names them `"0"`, `"1"`, ...
  ///   - featureNames: `d` names, or empty when unknown.
  ///   - name: a short description of the data set.
  /// - Throws: `DataError.shapeMismatch` when counts disagree,
  ///   `.nonFiniteFeature(row:column:)` for NaN or infinity,
  ///   `.labelOutOfRange(row:label:classCount:)`, `.duplicateID(_:location:)` (location `nil`).
  public init(
    features: Matrix, labels: [Int], ids: [SampleID]? = nil, classCount: Int? = nil,
    classNames: [String]? = nil, featureNames: [String] = [], name: String = "dataset"
  ) throws(DataError) {
    let n = features.rows
    guard labels.count == n else {
      throw .shapeMismatch("\(labels.count) labels for \(n) feature rows")
    }
    let ids = ids ?? (0..<n).map { SampleID($0) }
    guard ids.count == n else {
      throw .shapeMismatch("\(ids.count) ids for \(n) feature rows")
    }
    let classCount = classCount ?? classNames?.count ?? ((labels.max() ?? -1) + 1)
    guard classCount >= 0 else { throw .invalidArgument("classCount \(classCount) is negative") }
    let classNames = classNames ?? (0..<classCount).map { String($0) }
    guard classNames.count == classCount else {
      throw .shapeMismatch("\(classNames.count) class names for \(classCount) classes")
    }
    guard featureNames.isEmpty || featureNames.count == features.columns else {
      throw .shapeMismatch(
        "\(featureNames.count) feature names for \(features.columns) feature columns")
    }
    let d = features.columns
    let firstNonFinite: Int? = features.elements.withUnsafeBufferPointer { buffer in
      for k in buffer.indices where !buffer[k].isFinite { return k }
      return nil
    }
    if let k = firstNonFinite { throw .nonFiniteFeature(row: k / d, column: k % d) }
    for (row, label) in labels.enumerated() where label < 0 || label >= classCount {
      throw .labelOutOfRange(row: row, label: label, classCount: classCount)
    }
    var rowByID = [SampleID: Int](minimumCapacity: n)
    for (row, id) in ids.enumerated() {
      guard rowByID.updateValue(row, forKey: id) == nil else {
        throw .duplicateID(id, location: nil)
      }
    }
    self.init(
      validatedFeatures: features, labels: labels, ids: ids, classCount: classCount,
      classNames: classNames, featureNames: featureNames, name: name, rowByID: rowByID)
  }

  /// Assembles a dataset from parts already known to be valid (rows of a valid dataset).
  init(
    validatedFeatures features: Matrix, labels: [Int], ids: [SampleID], classCount: Int,
    classNames: [String], featureNames: [String], name: String, rowByID: [SampleID: Int]? = nil
  ) {
    self.features = features
    self.labels = labels
    self.ids = ids
    self.classCount = classCount
    self.classNames = classNames
    self.featureNames = featureNames
    self.name = name
    if let rowByID {
      self.rowByID = rowByID
    } else {
      var index = [SampleID: Int](minimumCapacity: ids.count)
      for (row, id) in ids.enumerated() { index[id] = row }
      self.rowByID = index
    }
  }

  /// The number of samples `n`.
  public var count: Int { features.rows }

  /// The number of features `d` per sample.
  public var featureCount: Int { features.columns }

  /// Whether the dataset has no samples.
  public var isEmpty: Bool { count == 0 }

  /// The labels as `Double`s (`0.0`, `1.0`, ...): the targets the models consume.
  public var targets: [Double] { labels.map { Double($0) } }

  /// How many rows carry each label: `classCount` counts.
  public var labelCounts: [Int] {
    var counts = [Int](repeating: 0, count: classCount)
    for label in labels { counts[label] += 1 }
    return counts
  }

  /// The row position of `id`, or `nil` if the dataset has no such sample. `O(1)`.
  public func rowIndex(of id: SampleID) -> Int? { rowByID[id] }

  /// The row positions of `ids`, in the order of the request. `O(ids.count)`.
  ///
  /// - Throws: `DataError.unknownID` for an id not in the dataset, `.duplicateID(_:location:)`
  ///   (location `nil`) for an id requested twice.
  public func rowIndices(of ids: [SampleID]) throws(DataError) -> [Int] {
    var seen = Set<SampleID>(minimumCapacity: ids.count)
    var rows = [Int]()
    rows.reserveCapacity(ids.count)
    for id in ids {
      guard let row = rowByID[id] else { throw .unknownID(id) }
      guard seen.insert(id).inserted else { throw .duplicateID(id, location: nil) }
      rows.append(row)
    }
    return rows
  }

  /// Whether the two datasets hold the same samples, labels, classes and names.
  public static func == (lhs: Dataset, rhs: Dataset) -> Bool {
    lhs.ids == rhs.ids && lhs.labels == rhs.labels && lhs.classCount == rhs.classCount
      && lhs.features == rhs.features && lhs.classNames == rhs.classNames
      && lhs.featureNames == rhs.featureNames && lhs.name == rhs.name
  }
}

extension Dataset: CustomStringConvertible {
  /// A one-line summary, e.g. `hospital (train): 400 samples x 2 features, 2 classes`.
  public var description: String {
    "\(name): \(count) samples x \(featureCount) features, \(classCount) classes"
  }
}
