/// Helpers shared by the text loaders (CSV, LIBSVM): line splitting, numbers, class labels.
enum TextRecords {
  /// The lines of `bytes` (UTF-8; `\n` or `\r\n` endings; a leading byte-order mark is
  /// skipped) with their 1-based numbers.
  static func lines(of bytes: [UInt8]) -> [(number: Int, text: Substring)] {
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    let body = bytes.starts(with: bom) ? bytes[3...] : bytes[...]
    let text = String(decoding: body, as: UTF8.self)
    var result = [(number: Int, text: Substring)]()
    for (index, slice) in text.utf8.split(
      separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false
    ).enumerated() {
      var line = Substring(slice)
      if line.utf8.last == UInt8(ascii: "\r") { line = Substring(line.utf8.dropLast()) }
      result.append((index + 1, line))
    }
    return result
  }

  /// `text` without leading and trailing spaces and tabs.
  static func trimmed(_ text: Substring) -> Substring {
    let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let start = text.firstIndex(where: { !isBlank($0) }) else {
      return text[text.endIndex...]
    }
    guard let last = text.lastIndex(where: { !isBlank($0) }) else { return text[start...] }
    return text[start...last]
  }

  /// Parses a finite number.
  /// - Throws: `.notANumber` for text that is not a number, `.nonFinite` for NaN or infinity.
  static func number(_ field: Substring, at location: DataError.Location) throws(DataError)
    -> Double
  {
    let text = trimmed(field)
    guard let value = Double(String(text)) else {
      throw .notANumber(location, field: String(field))
    }
    guard value.isFinite else { throw .nonFinite(location, field: String(field)) }
    return value
  }

  /// Maps raw label texts to class indices.
  ///
  /// Without `declared` classes, the distinct labels are sorted (numerically when every label
  /// is a finite number, so `-1 < 1 < 10`; else as strings) and numbered `0..<K`; the class
  /// names are the labels as first written. With `declared`, label `l` gets the index of the
  /// declared name equal to it (or numerically equal, so `1.0` matches `1`), and any other
  /// label is an error.
  static func encodeLabels(
    _ raw: [(text: String, location: DataError.Location)], declared: [String]?
  ) throws(DataError) -> (labels: [Int], classNames: [String]) {
    func numeric(_ text: String) -> Double? {
      guard let value = Double(text), value.isFinite else { return nil }
      return value
    }
    if let declared {
      let declaredValues = declared.map(numeric)
      var labels = [Int]()
      labels.reserveCapacity(raw.count)
      for (text, location) in raw {
        if let index = declared.firstIndex(of: text) {
          labels.append(index)
        } else if let value = numeric(text),
          let index = declaredValues.firstIndex(where: { $0 == value })
        {
          labels.append(index)
        } else {
          throw .labelOutsideClasses(location, label: text, classes: declared)
        }
      }
      return (labels, declared)
    }
    let values = raw.map { numeric($0.text) }
    if values.allSatisfy({ $0 != nil }) {
      var firstSpelling = [Double: String]()
      for (index, value) in values.enumerated() {
        if let value, firstSpelling[value] == nil { firstSpelling[value] = raw[index].text }
      }
      let sorted = firstSpelling.keys.sorted()
      let classOf = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
      return (
        values.map { value in value.flatMap { classOf[$0] } ?? 0 },
        sorted.map { firstSpelling[$0] ?? "" }
      )
    }
    let sorted = Set(raw.map(\.text)).sorted()
    let classOf = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
    return (raw.map { classOf[$0.text] ?? 0 }, sorted)
  }
}
