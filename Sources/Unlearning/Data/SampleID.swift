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
