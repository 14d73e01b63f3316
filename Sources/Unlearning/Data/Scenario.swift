/// Where a comparison's data comes from, in a form that can be stored in a model file and
/// loaded again (so `unlearn remove` can find the rows a model was trained on).
public enum Scenario: Sendable, Codable, Equatable, CustomStringConvertible {
  /// The built-in hospital: 500 synthetic patients, 400 train / 100 test (see
  /// ``Scenario/Hospital``).
  case hospital(seed: UInt64)
  /// Fashion-MNIST from the Debian package: the given classes (two classes give binary labels
  /// 0/1 in that order), pixel / 255 then unit-norm rows; optional seeded subsamples.
  case fashionMNIST(classes: [Int], trainLimit: Int?, testLimit: Int?, seed: UInt64)
  /// A CSV file with a header; `testFraction` of the rows (seeded) become the test set.
  /// `delimiter` is the field separator, one character (`nil`: a comma). `idColumn` names the
  /// column of integer sample ids (a header name, or a 0-based index written in digits); `nil`
  /// numbers the rows `0..<n` in file order.
  case csv(
    path: String, labelColumn: String, testFraction: Double, seed: UInt64, normalizeRows: Bool,
    delimiter: String? = nil, idColumn: String? = nil)
  /// A LIBSVM file; `testFraction` of the rows (seeded) become the test set.
  case libsvm(path: String, testFraction: Double, seed: UInt64, normalizeRows: Bool)
  /// The wrapped scenario with every feature standardised (``Dataset/Standardization``) by
  /// statistics fitted on its **training** rows and applied to both splits. The statistics
  /// are fitted once, on all training rows, and held fixed (`unlearn compare --sisa-shards
  /// --standardize`); a model file stores its own statistics instead, which every removal
  /// refits (``ModelFile/standardization``), and ``Comparison`` refits them for its retrains
  /// with ``Comparison/Configuration/standardizesFeatures``.
  indirect case standardized(Scenario)

  /// The default scenario of `unlearn compare`.
  public static let defaultHospital = Scenario.hospital(seed: 42)

  /// Loads the training and test sets.
  ///
  /// - Throws: `DataError` from the loaders (missing files name the package to install);
  ///   `.tooFewClasses` when the data has fewer than two classes (nothing to classify);
  ///   `.shapeMismatch` when the training and test images differ in size.
  public func load() throws(DataError) -> (train: Dataset, test: Dataset) {
    let (train, test) = try loadUnchecked()
    guard train.classCount >= 2 else {
      throw .tooFewClasses(name: train.name, classCount: train.classCount)
    }
    return (train, test)
  }

  private func loadUnchecked() throws(DataError) -> (train: Dataset, test: Dataset) {
    switch self {
    case .hospital(let seed):
      return Scenario.Hospital.make(seed: seed)
    case .fashionMNIST(let classes, let trainLimit, let testLimit, let seed):
      guard classes.count >= 2 else {
        throw .tooFewClasses(name: "Fashion-MNIST classes \(classes)", classCount: classes.count)
      }
      return try Scenario.FashionMNIST.loadSplits(
        classes: classes, trainLimit: trainLimit, testLimit: testLimit, seed: seed)
    case .csv(
      let path, let labelColumn, let testFraction, let seed, let normalize, let delimiter,
      let idColumn):
      let column: Dataset.CSV.Column = Self.column(labelColumn)
      let separator = delimiter ?? ","
      guard separator.count == 1, let character = separator.first, character != "\"",
        !character.isNewline
      else {
        throw .invalidArgument(
          "CSV delimiter \(DataError.quote(separator)) must be one character other than a "
            + "quote or a line break")
      }
      let all = try Dataset.CSV.load(
        path: path, labelColumn: column, idColumn: idColumn.map(Self.column),
        delimiter: character)
      return try Self.split(all, testFraction: testFraction, seed: seed, normalize: normalize)
    case .libsvm(let path, let testFraction, let seed, let normalize):
      let all = try Dataset.LIBSVM.load(path: path)
      return try Self.split(all, testFraction: testFraction, seed: seed, normalize: normalize)
    case .standardized(let inner):
      let (train, test) = try inner.loadUnchecked()
      let statistics = try Dataset.Standardization(fittedOn: train)
      return (try statistics.apply(to: train), try statistics.apply(to: test))
    }
  }

  /// A column named by header text, or by 0-based position when written in digits.
  private static func column(_ text: String) -> Dataset.CSV.Column {
    Int(text).map { .index($0) } ?? .name(text)
  }

  /// The data file of a CSV or LIBSVM scenario, `nil` for the built-in data sets.
  public var dataPath: String? {
    switch self {
    case .hospital, .fashionMNIST: return nil
    case .csv(let path, _, _, _, _, _, _), .libsvm(let path, _, _, _): return path
    case .standardized(let inner): return inner.dataPath
    }
  }

  /// The same scenario reading its file from `path` (data that was moved); the split,
  /// columns and preprocessing are unchanged.
  ///
  /// - Throws: `DataError.invalidArgument` for the built-in data sets, which have no file.
  public func relocated(to path: String) throws(DataError) -> Scenario {
    switch self {
    case .hospital, .fashionMNIST:
      throw .invalidArgument(
        "the model was trained on \(self), which has no data file to relocate")
    case .csv(_, let label, let fraction, let seed, let normalize, let delimiter, let id):
      return .csv(
        path: path, labelColumn: label, testFraction: fraction, seed: seed,
        normalizeRows: normalize, delimiter: delimiter, idColumn: id)
    case .libsvm(_, let fraction, let seed, let normalize):
      return .libsvm(path: path, testFraction: fraction, seed: seed, normalizeRows: normalize)
    case .standardized(let inner):
      return .standardized(try inner.relocated(to: path))
    }
  }

  private static func split(_ all: Dataset, testFraction: Double, seed: UInt64, normalize: Bool)
    throws(DataError) -> (train: Dataset, test: Dataset)
  {
    try (normalize ? all.normalizingRows() : all).split(testFraction: testFraction, seed: seed)
  }

  public var description: String {
    switch self {
    case .hospital(let seed):
      return "hospital (500 synthetic patients, 400 train / 100 test, seed \(seed))"
    case .fashionMNIST(let classes, let trainLimit, let testLimit, _):
      let names = classes.map { Scenario.FashionMNIST.classNames[$0] }.joined(separator: " vs ")
      let sub = [
        trainLimit.map { "train subsample \($0)" }, testLimit.map { "test subsample \($0)" },
      ].compactMap { $0 }
      return "Fashion-MNIST \(names)" + (sub.isEmpty ? "" : " (\(sub.joined(separator: ", ")))")
    case .csv(let path, let label, _, _, _, _, let id):
      return "CSV \(path) (label column \(label)\(id.map { ", id column \($0)" } ?? ""))"
    case .libsvm(let path, _, _, _): return "LIBSVM \(path)"
    case .standardized(let inner):
      return "\(inner), features standardised on its training rows"
    }
  }
}
