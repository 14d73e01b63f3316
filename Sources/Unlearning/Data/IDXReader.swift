/// An array read from an IDX file (the format of MNIST and Fashion-MNIST): unsigned bytes with
/// their dimensions, e.g. `[60000, 28, 28]` for images, `[60000]` for labels.
package struct IDXArray: Sendable, Equatable {
  /// The dimensions, outermost first (row-major, like the file).
  package var dimensions: [Int]
  /// The `dimensions.reduce(1, *)` values in row-major order.
  package var values: [UInt8]

  /// Creates an array; `values.count` must equal the product of `dimensions`.
  package init(dimensions: [Int], values: [UInt8]) {
    precondition(
      values.count == dimensions.reduce(1, *),
      "IDXArray: \(values.count) values for dimensions \(dimensions)")
    self.dimensions = dimensions
    self.values = values
  }
}

/// Reads IDX files, gzip-compressed or raw (decompression goes through zlib).
///
/// Format (big-endian): magic `0x00 0x00 type ndims`, then `ndims` 32-bit dimension sizes, then
/// the data. Only unsigned bytes (type `0x08`) are supported, which covers MNIST-style files:
/// labels have magic `0x00000801`, images `0x00000803`. Errors give the file and the byte offset
/// (into the decompressed stream) where the problem is.
package enum IDXReader {
  /// The magic number of a one-dimensional unsigned-byte file (labels).
  package static let labelsMagic: UInt32 = 0x0000_0801
  /// The magic number of a three-dimensional unsigned-byte file (images).
  package static let imagesMagic: UInt32 = 0x0000_0803

  /// Reads an unsigned-byte IDX file with any number of dimensions (1 to 255).
  ///
  /// - Throws: `DataError.fileNotFound`/`.unreadable` (I/O), `.badMagic` (not an unsigned-byte
  ///   IDX file, or not one of `expectedMagic` when given), `.truncated`, `.trailingBytes`.
  package static func read(path: String, expectedMagic: [UInt32]? = nil) throws(DataError)
    -> IDXArray
  {
    try parse(CompressedFile.readAll(path: path), file: path, expectedMagic: expectedMagic)
  }

  /// Reads an image file (magic `0x00000803`): `count x rows x columns` pixels.
  package static func readImages(path: String) throws(DataError) -> IDXArray {
    try read(path: path, expectedMagic: [imagesMagic])
  }

  /// Reads a label file (magic `0x00000801`): `count` labels.
  package static func readLabels(path: String) throws(DataError) -> IDXArray {
    try read(path: path, expectedMagic: [labelsMagic])
  }

  /// Parses the decompressed contents of an IDX file; `file` is only used in error messages.
  ///
  /// - Throws: as ``read(path:expectedMagic:)``.
  package static func parse(_ bytes: [UInt8], file: String, expectedMagic: [UInt32]? = nil)
    throws(DataError) -> IDXArray
  {
    func location(_ offset: Int) -> DataError.Location {
      DataError.Location(file: file, byteOffset: offset)
    }
    func word(at offset: Int) -> UInt32 {
      bytes[offset..<(offset + 4)].reduce(0) { ($0 << 8) | UInt32($1) }
    }
    guard bytes.count >= 4 else {
      if bytes.isEmpty { throw .emptyFile(path: file) }
      throw .truncated(location(bytes.count), expectedBytes: 4)
    }
    let magic = word(at: 0)
    let dimensionCount = Int(magic & 0xFF)
    let allowed = expectedMagic ?? [magic]
    guard magic >> 8 == 0x08, dimensionCount > 0, allowed.contains(magic) else {
      throw .badMagic(
        location(0), found: magic, expected: expectedMagic ?? [labelsMagic, imagesMagic])
    }
    let headerLength = 4 + 4 * dimensionCount
    guard bytes.count >= headerLength else {
      throw .truncated(location(bytes.count), expectedBytes: headerLength)
    }
    var dimensions = [Int]()
    var total = 1
    for k in 0..<dimensionCount {
      let size = Int(word(at: 4 + 4 * k))
      let (product, overflow) = total.multipliedReportingOverflow(by: size)
      guard !overflow, product <= Int(Int32.max) else {
        throw .malformedEntry(
          location(4 + 4 * k), entry: String(size), reason: "dimension sizes overflow")
      }
      dimensions.append(size)
      total = product
    }
    let expectedLength = headerLength + total
    guard bytes.count >= expectedLength else {
      throw .truncated(location(bytes.count), expectedBytes: expectedLength)
    }
    guard bytes.count == expectedLength else {
      throw .trailingBytes(location(expectedLength), count: bytes.count - expectedLength)
    }
    return IDXArray(dimensions: dimensions, values: Array(bytes[headerLength...]))
  }

  /// The bytes of an unsigned-byte IDX file holding `array` (the inverse of
  /// ``parse(_:file:expectedMagic:)``); write them with ``CompressedFile/write(_:to:compressed:)``.
  package static func encode(_ array: IDXArray) -> [UInt8] {
    precondition(
      !array.dimensions.isEmpty && array.dimensions.count < 256,
      "IDXReader: 1 to 255 dimensions")
    var bytes: [UInt8] = [0, 0, 0x08, UInt8(array.dimensions.count)]
    for size in array.dimensions {
      precondition(size >= 0 && size <= Int(UInt32.max), "IDXReader: dimension \(size)")
      let value = UInt32(size)
      bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
    }
    return bytes + array.values
  }
}
