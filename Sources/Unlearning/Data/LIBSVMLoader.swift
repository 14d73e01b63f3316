extension Dataset {
  /// Loads the sparse LIBSVM / SVMlight text format: one sample per line,
  /// `label index:value index:value ...`, indices 1-based and increasing, absent features 0.
  ///
  /// ```swift
  /// // data.svm:
  /// // +1 1:0.5 3:-1.25
  /// // -1 2:1    # a comment
  /// let data = try LIBSVMLoader.load(path: "data.svm")
  /// // 2 x 3 features; labels [1, 0]; classes ["-1", "+1"]; ids [0, 1]
  /// ```
  ///
  /// Text after `#` is a comment; blank lines are skipped; gzip-compressed files are accepted.
  /// Rows get ids `0..<n` in file order. Feature names are unknown (empty). Errors name the file,
  /// the 1-based line and the 1-based token number (the label is token 1).
  public enum LIBSVM {
    /// Reads a LIBSVM file into a dense ``Dataset``.
    ///
    /// - Parameters:
    ///   - path: the file (plain or gzip-compressed).
    ///   - featureCount: the number of features `d`; an index above it is an error. `nil` uses the
    ///     largest index in the file.
    ///   - classes: the declared class list (see ``Dataset/CSV``); without it the distinct labels
    ///     are sorted numerically (so `-1` becomes class 0 and `+1` class 1) and numbered.
    ///   - name: the dataset's name; defaults to the path.
    ///   - memoryLimit: the largest dense feature matrix to allocate, in bytes; `nil` is the
    ///     physical memory.
    /// - Throws: `DataError.fileNotFound`, `.isDirectory`, `.unreadable`, `.emptyFile`,
    ///   `.malformedEntry` (a token that is not `index:value`, an index below 1, not increasing
    ///   or above `featureCount`), `.notANumber`, `.nonFinite`, `.labelOutsideClasses`,
    ///   `.noFeatures` (no index in the file and no `featureCount`, or `featureCount` 0),
    ///   `.tooLarge` (the dense `n x d` matrix would overflow or exceed the physical memory;
    ///   checked before it is allocated).
    public static func load(
      path: String, featureCount: Int? = nil, classes: [String]? = nil, name: String? = nil,
      memoryLimit: UInt64? = nil
    ) throws(DataError) -> Dataset {
      if let featureCount, featureCount < 0 {
        throw .invalidArgument("featureCount \(featureCount) is negative")
      }
      var rawLabels = [(text: String, location: DataError.Location)]()
      var entries = [[(index: Int, value: Double)]]()
      var largestIndex = 0
      var largestIndexLocation = DataError.Location(file: path)
      for (number, line) in TextRecords.lines(of: try CompressedFile.readAll(path: path)) {
        let content =
          line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
          .first ?? ""
        let tokens = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let labelToken = tokens.first else { continue }
        rawLabels.append(
          (String(labelToken), DataError.Location(file: path, line: number, column: 1)))
        var row = [(index: Int, value: Double)]()
        var previous = 0
        for (position, token) in tokens.enumerated().dropFirst() {
          let location = DataError.Location(file: path, line: number, column: position + 1)
          let parts = token.split(separator: ":", omittingEmptySubsequences: false)
          guard parts.count == 2 else {
            throw .malformedEntry(location, entry: String(token), reason: "expected index:value")
          }
          guard let index = Int(parts[0]), index >= 1 else {
            throw .malformedEntry(
              location, entry: String(token), reason: "the index must be an integer >= 1")
          }
          guard index > previous else {
            throw .malformedEntry(
              location, entry: String(token), reason: "indices must be increasing")
          }
          if let featureCount, index > featureCount {
            throw .malformedEntry(
              location, entry: String(token),
              reason: "index exceeds the feature count \(featureCount)")
          }
          previous = index
          if index > largestIndex {
            largestIndex = index
            largestIndexLocation = location
          }
          row.append((index, try TextRecords.number(parts[1], at: location)))
        }
        entries.append(row)
      }
      guard !entries.isEmpty else { throw .emptyFile(path: path) }
      let d = featureCount ?? largestIndex
      guard d > 0 else { throw .noFeatures(path: path) }
      // The dense matrix is checked before it is allocated: one index of 10^8 would otherwise
      // ask for n * 800 MB, and an index near Int.max would overflow the size.
      try DenseAllocation.check(
        rows: entries.count, columns: d,
        at: featureCount == nil ? largestIndexLocation : DataError.Location(file: path),
        what: featureCount == nil ? "feature index \(d)" : "featureCount \(d)",
        limit: memoryLimit)
      var features = Matrix(rows: entries.count, columns: d)
      for (row, sparse) in entries.enumerated() {
        for (index, value) in sparse { features[row, index - 1] = value }
      }
      let (labels, classNames) = try TextRecords.encodeLabels(rawLabels, declared: classes)
      return try Dataset(
        features: features, labels: labels, classCount: classNames.count, classNames: classNames,
        name: name ?? path)
    }
  }
}
