extension DataError {
  /// Where in an input file a problem was found, for error messages.
  ///
  /// Text formats (CSV, LIBSVM) report a 1-based `line` and, when one field is at fault, a 1-based
  /// `column` counted in *fields* (the n-th comma-separated value of a CSV line, the n-th
  /// whitespace-separated token of a LIBSVM line, the label being token 1). Binary formats (IDX)
  /// report a 0-based `byteOffset` into the decompressed stream.
  ///
  /// The description follows the compiler convention: `data.csv:12:3`, `data.csv:12`,
  /// `train-images-idx3-ubyte.gz: byte 16`, or just the path.
  public struct Location: Sendable, Hashable, CustomStringConvertible {
    /// The path of the file, as it was given to the loader.
    public var file: String
    /// The 1-based line number (text formats).
    public var line: Int?
    /// The 1-based field number within ``line`` (text formats).
    public var column: Int?
    /// The 0-based byte offset into the (decompressed) contents (binary formats).
    public var byteOffset: Int?

    /// Creates a location; leave unknown parts `nil`.
    public init(file: String, line: Int? = nil, column: Int? = nil, byteOffset: Int? = nil) {
      self.file = file
      self.line = line
      self.column = column
      self.byteOffset = byteOffset
    }

    /// `file:line:column`, `file:line`, `file: byte N` or `file`.
    public var description: String {
      var text = file
      if let line {
        text += ":\(line)"
        if let column { text += ":\(column)" }
      }
      if let byteOffset { text += ": byte \(byteOffset)" }
      return text
    }
  }
}
