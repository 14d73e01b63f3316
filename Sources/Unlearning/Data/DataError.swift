/// Everything that can be wrong with input data, with the place where it was found.
///
/// Loaders never crash on bad input: they throw one of these. The ``description`` is a single
/// readable line in the compiler style, e.g.
///
/// ```
/// data.csv:12:3: field "abc" is not a number
/// train-images-idx3-ubyte.gz: byte 0: bad magic number 0x00000801, expected 0x00000803
/// ```
///
/// Row and column numbers of in-memory datasets (``nonFiniteFeature(row:column:)``,
/// ``labelOutOfRange(row:label:classCount:)``) are 0-based indices; line and field numbers of
/// files (``DataError/Location``) are 1-based, as editors show them.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file does not exist.
  case fileNotFound(path: String)
  /// The path names a folder where a file is expected.
  case isDirectory(path: String)
  /// A data set that is installed by a system package is missing; `installHint` says how to
  /// install it (e.g. `apt-get install dataset-fashion-mnist`).
  case datasetNotInstalled(name: String, missingFile: String, installHint: String)
  /// The file exists but could not be read or decompressed (`reason` from the OS or zlib).
  case unreadable(path: String, reason: String)
  /// The file (or its data section, after a header) holds no samples.
  case emptyFile(path: String)
  /// A line has a different number of fields than the header.
  case raggedRow(DataError.Location, expected: Int, found: Int)
  /// A field that must be numeric is not a number (empty fields included).
  case notANumber(DataError.Location, field: String)
  /// A numeric field is NaN or infinite.
  case nonFinite(DataError.Location, field: String)
  /// A field has the wrong shape, e.g. a LIBSVM token that is not `index:value`.
  case malformedEntry(DataError.Location, entry: String, reason: String)
  /// A label is not one of the declared classes.
  case labelOutsideClasses(DataError.Location, label: String, classes: [String])
  /// A requested column (by name or 0-based index) does not exist in the file's header.
  case missingColumn(path: String, column: String)
  /// A sample id occurs twice: in a file's id column, in a dataset, or in a request.
  case duplicateID(SampleID, location: DataError.Location?)
  /// A requested sample id is not in the dataset.
  case unknownID(SampleID)
  /// An IDX file does not start with an expected magic number.
  case badMagic(DataError.Location, found: UInt32, expected: [UInt32])
  /// A binary file ends early: `location.byteOffset` is where it ended, `expectedBytes` the
  /// length its header announced.
  case truncated(DataError.Location, expectedBytes: Int)
  /// A binary file has `count` bytes after the data its header announced.
  case trailingBytes(DataError.Location, count: Int)
  /// Parts of a dataset disagree in size (features, labels, ids, names).
  case shapeMismatch(String)
  /// Feature `(row, column)` (0-based) of an in-memory dataset is NaN or infinite.
  case nonFiniteFeature(row: Int, column: Int)
  /// The label of row `row` (0-based) is outside `0..<classCount`.
  case labelOutOfRange(row: Int, label: Int, classCount: Int)
  /// An argument is out of its valid range (e.g. an unknown class index).
  case invalidArgument(String)
  /// The data would not fit: its dense size overflows or exceeds the physical memory.
  case tooLarge(DataError.Location, reason: String)
  /// The file holds samples but no feature columns.
  case noFeatures(path: String)
  /// The file does not parse with the delimiter given, and looks delimited by `likely`
  /// (`;` or a tab); `problem` is what went wrong with the delimiter given.
  case suspectedDelimiter(path: String, problem: String, likely: Character)
  /// A classification task with fewer than two classes (`name` is the data set or option).
  case tooFewClasses(name: String, classCount: Int)

  /// The file location of the problem, when it concerns a place in a file.
  public var location: DataError.Location? {
    switch self {
    case .raggedRow(let l, _, _), .notANumber(let l, _), .nonFinite(let l, _),
      .malformedEntry(let l, _, _), .labelOutsideClasses(let l, _, _), .badMagic(let l, _, _),
      .truncated(let l, _), .trailingBytes(let l, _), .tooLarge(let l, _):
      return l
    case .duplicateID(_, let l):
      return l
    case .fileNotFound(let path), .unreadable(let path, _), .emptyFile(let path),
      .missingColumn(let path, _), .isDirectory(let path), .noFeatures(let path),
      .suspectedDelimiter(let path, _, _):
      return DataError.Location(file: path)
    case .datasetNotInstalled(_, let file, _):
      return DataError.Location(file: file)
    case .unknownID, .shapeMismatch, .nonFiniteFeature, .labelOutOfRange, .invalidArgument,
      .tooFewClasses:
      return nil
    }
  }

  /// One readable line: `place: what is wrong`.
  public var description: String {
    switch self {
    case .fileNotFound(let path):
      return "\(path): no such file"
    case .isDirectory(let path):
      return "\(path): is a directory, not a data file"
    case .datasetNotInstalled(let name, let file, let hint):
      return "\(file): \(name) is not installed (\(hint))"
    case .unreadable(let path, let reason):
      return "\(path): cannot read file: \(reason)"
    case .emptyFile(let path):
      return "\(path): file has no data rows"
    case .raggedRow(let l, let expected, let found):
      return "\(l): row has \(found) fields, expected \(expected)"
    case .notANumber(let l, let field):
      return "\(l): field \(quoted(field)) is not a number"
    case .nonFinite(let l, let field):
      return "\(l): field \(quoted(field)) is not finite"
    case .malformedEntry(let l, let entry, let reason):
      return "\(l): malformed entry \(quoted(entry)): \(reason)"
    case .labelOutsideClasses(let l, let label, let classes):
      return "\(l): label \(quoted(label)) is not one of the declared classes "
        + "[\(classes.joined(separator: ", "))]"
    case .missingColumn(let path, let column):
      return "\(path): no column \(column) in the header"
    case .duplicateID(let id, let l):
      return (l.map { "\($0): " } ?? "") + "duplicate sample id \(id)"
    case .unknownID(let id):
      return "unknown sample id \(id)"
    case .badMagic(let l, let found, let expected):
      let list = expected.map(hex).joined(separator: " or ")
      return "\(l): bad magic number \(hex(found)), expected \(list)"
    case .truncated(let l, let expected):
      return "\(l): file is truncated (header announces \(expected) bytes)"
    case .trailingBytes(let l, let count):
      return "\(l): \(count) unexpected bytes after the data"
    case .shapeMismatch(let message):
      return "shape mismatch: \(message)"
    case .nonFiniteFeature(let row, let column):
      return "feature (\(row), \(column)) is not finite"
    case .labelOutOfRange(let row, let label, let classCount):
      return "label \(label) of row \(row) is outside 0..<\(classCount)"
    case .invalidArgument(let message):
      return "invalid argument: \(message)"
    case .tooLarge(let l, let reason):
      return "\(l): \(reason)"
    case .noFeatures(let path):
      return "\(path): no feature columns (every sample needs at least one feature)"
    case .suspectedDelimiter(let path, let problem, let likely):
      let (name, option) = likely == "\t" ? ("tab", "'\\t'") : ("\(likely)", "'\(likely)'")
      let kind = likely == ";" ? "semicolon" : name
      return "\(path): \(problem); the file looks \(kind)-delimited; pass --delimiter \(option)"
    case .tooFewClasses(let name, let classCount):
      return "\(name): \(classCount) class\(classCount == 1 ? "" : "es"); "
        + "a classifier needs at least 2"
    }
  }
}

/// `text` in double quotes, with quotes, backslashes and control characters escaped, so a
/// message stays on one line whatever the file holds (`"a\rb"` prints as `"a\\rb"`).
private func quoted(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"", "\\": out += "\\" + String(scalar)
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFEFF:
      out += "\\u{" + String(scalar.value, radix: 16) + "}"
    default: out.unicodeScalars.append(scalar)
    }
  }
  out.append("\"")
  return out
}

extension DataError {
  /// `text` quoted and escaped as in the messages.
  static func quote(_ text: String) -> String { quoted(text) }
}

private func hex(_ value: UInt32) -> String {
  let digits = String(value, radix: 16)
  return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
