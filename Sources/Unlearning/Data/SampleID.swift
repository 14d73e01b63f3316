import Foundation

/// The stable identity of one sample (for example one patient or one image).
///
/// Deletion requests name *people*, not row positions: a `SampleID` stays attached to its sample
/// through subsetting, splitting and removal, while row positions shift. Ids are never reused
/// within a data source (a removed id is simply absent afterwards).
///
/// Encoded in JSON as a plain integer (`17`, not `{"rawValue": 17}`), and written as an integer
/// literal in code:
///
/// ```swift
/// let forget: [SampleID] = [1003, 1017]
/// ```
public struct SampleID: Hashable, Comparable, Codable, Sendable, ExpressibleByIntegerLiteral,
  CustomStringConvertible
{
  /// The integer value of the id.
  public var rawValue: Int

  /// Creates the id `rawValue`.
  public init(_ rawValue: Int) { self.rawValue = rawValue }

  /// Creates the id `rawValue`.
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// Creates an id from an integer literal.
  public init(integerLiteral value: Int) { self.rawValue = value }

  /// Orders ids by their integer value.
  public static func < (lhs: SampleID, rhs: SampleID) -> Bool { lhs.rawValue < rhs.rawValue }

  /// The integer value, e.g. `1017`.
  public var description: String { String(rawValue) }

  /// Decodes a plain integer.
  public init(from decoder: any Decoder) throws {
    rawValue = try decoder.singleValueContainer().decode(Int.self)
  }

  /// Encodes as a plain integer.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}

extension SampleID {
  /// Parses a list of sample ids: one integer per line; blank lines and `#` comments are
  /// skipped, `\r\n` line endings and a UTF-8 byte-order mark are accepted.
  ///
  /// ```swift
  /// let ids = try SampleID.parseList(Array("1003\r\n# a comment\n1017\n".utf8), file: "ids.txt")
  /// // [1003, 1017]
  /// ```
  ///
  /// - Parameters:
  ///   - bytes: the file's contents (UTF-8).
  ///   - file: the name used in error messages.
  /// - Throws: `DataError.malformedEntry` naming the line of a token that is not an integer,
  ///   `.emptyFile` when there is no id.
  public static func parseList(_ bytes: [UInt8], file: String) throws(DataError) -> [SampleID] {
    var ids = [SampleID]()
    for (number, line) in TextRecords.lines(of: bytes) {
      let content =
        line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
      let text = TextRecords.trimmed(content)
      if text.isEmpty { continue }
      guard let value = Int(text) else {
        throw .malformedEntry(
          DataError.Location(file: file, line: number, column: 1), entry: String(text),
          reason: "not an integer sample id")
      }
      ids.append(SampleID(value))
    }
    guard !ids.isEmpty else { throw .emptyFile(path: file) }
    return ids
  }

  /// Reads a list of sample ids (see ``parseList(_:file:)``) from a file, plain or
  /// gzip-compressed, or from standard input when `path` is `-`.
  ///
  /// - Throws: `DataError.fileNotFound`, `.isDirectory`, `.unreadable`, and the errors of
  ///   ``parseList(_:file:)`` (standard input is named `<stdin>`).
  public static func readList(path: String) throws(DataError) -> [SampleID] {
    if path == "-" {
      let data = FileHandle.standardInput.readDataToEndOfFile()
      return try parseList([UInt8](data), file: "<stdin>")
    }
    return try parseList(CompressedFile.readAll(path: path), file: path)
  }
}
