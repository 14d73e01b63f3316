import Foundation

/// Checks the size of a dense matrix of doubles before it is allocated, so that a hostile or
/// mistaken input (a LIBSVM index of 10^8, a dimension of 2^62) gives an error instead of an
/// arithmetic overflow or an allocation the machine cannot satisfy.
enum DenseAllocation {
  /// The largest dense matrix a loader may allocate, in bytes: the physical memory.
  static var byteLimit: UInt64 { ProcessInfo.processInfo.physicalMemory }

  /// The bytes of a `rows x columns` matrix of doubles, or `nil` when that overflows `Int`.
  static func bytes(rows: Int, columns: Int) -> Int? {
    guard rows >= 0, columns >= 0 else { return nil }
    let (cells, overflow) = rows.multipliedReportingOverflow(by: columns)
    guard !overflow else { return nil }
    let (bytes, overflow2) = cells.multipliedReportingOverflow(by: MemoryLayout<Double>.stride)
    return overflow2 ? nil : bytes
  }

  /// Throws unless a `rows x columns` matrix of doubles fits in ``byteLimit``.
  ///
  /// - Parameters:
  ///   - location: where the size comes from (e.g. the token holding the largest index).
  ///   - what: what sets the size, for the message (e.g. `"feature index 100000000"`).
  ///   - limit: the limit in bytes; `nil` is ``byteLimit``.
  /// - Throws: `DataError.tooLarge`.
  static func check(
    rows: Int, columns: Int, at location: DataError.Location, what: String, limit: UInt64? = nil
  ) throws(DataError) {
    let limit = limit ?? byteLimit
    let limitName = limit == byteLimit ? "the physical memory" : "the memory limit"
    guard let bytes = bytes(rows: rows, columns: columns) else {
      throw .tooLarge(
        location,
        reason: "\(what) makes a dense \(rows) x \(columns) matrix whose size overflows")
    }
    guard UInt64(bytes) <= limit else {
      throw .tooLarge(
        location,
        reason:
          "\(what) makes a dense \(rows) x \(columns) matrix of \(gibibytes(UInt64(bytes))), "
          + "more than \(limitName) (\(gibibytes(limit)))")
    }
  }

  static func gibibytes(_ bytes: UInt64) -> String {
    String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
  }
}
