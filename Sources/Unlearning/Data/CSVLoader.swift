extension Dataset {
  /// Loads a comma-separated file with a header row: one column of labels, optionally one of
  /// integer sample ids, and numeric features in all the other columns.
  ///
  /// ```swift
  /// // data.csv:
  /// // id,age,glucose,outcome
  /// // 7,51,162,diabetic
  /// // 9,38,97,healthy
  /// let data = try CSVLoader.load(path: "data.csv", labelColumn: "outcome", idColumn: "id")
  /// // 2 x 2 features [age, glucose]; classes ["diabetic", "healthy"]; ids [7, 9]
  /// ```
  ///
  /// Fields may be double-quoted (`"a, b"`, with `""` for a quote); spaces around fields are
  /// ignored; blank lines are skipped; `\r\n` line endings, a UTF-8 byte-order mark and
  /// gzip-compressed files are accepted.
  /// Labels are mapped to classes `0..<K` in sorted order (see ``load(path:labelColumn:idColumn:classes:delimiter:name:)``).
  /// Errors name the file, the 1-based line and the 1-based field number.
  public enum CSV {
    /// A column of the file, by header name or by 0-based position.
    public enum Column: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
      CustomStringConvertible
    {
      /// The column whose header is this name.
      case name(String)
      /// The column at this 0-based position.
      case index(Int)

      /// A column by name.
      public init(stringLiteral value: String) { self = .name(value) }
      /// A column by 0-based position.
      public init(integerLiteral value: Int) { self = .index(value) }

      /// `"name"` or `#index`.
      public var description: String {
        switch self {
        case .name(let name): return "\"\(name)\""
        case .index(let index): return "#\(index)"
        }
      }
    }

    /// Reads a CSV file into a ``Dataset``.
    ///
    /// - Parameters:
    ///   - path: the file (plain or gzip-compressed).
    ///   - labelColumn: the label column, by name or 0-based index.
    ///   - idColumn: an optional column of integer sample ids; without it, rows get ids
    ///     `0..<n` in file order.
    ///   - classes: the declared class list: label `l` becomes the index of `l` in it (a label
    ///     outside it is an error). Without it, the distinct labels are sorted (numerically if all
    ///     are numbers) and numbered `0..<K`, and their texts become the class names.
    ///   - delimiter: the field separator (`","`; use `";"` or `"\t"` for other dialects).
    ///   - name: the dataset's name; defaults to the path.
    /// - Throws: `DataError.fileNotFound`, `.isDirectory`, `.unreadable`, `.emptyFile` (no header
    ///   or no rows), `.missingColumn`, `.suspectedDelimiter` (the header is one field holding
    ///   `;` or a tab), `.noFeatures` (no column left besides the label and id), `.raggedRow`,
    ///   `.notANumber`, `.nonFinite`, `.malformedEntry` (unterminated quote, non-integer id, empty
    ///   label, the label or id column's name twice in the header), `.labelOutsideClasses`,
    ///   `.duplicateID`.
    public static func load(
      path: String, labelColumn: Column, idColumn: Column? = nil, classes: [String]? = nil,
      delimiter: Character = ",", name: String? = nil
    ) throws(DataError) -> Dataset {
      let lines = TextRecords.lines(of: try CompressedFile.readAll(path: path))
        .filter { !TextRecords.trimmed($0.text).isEmpty }
      guard let headerLine = lines.first else { throw .emptyFile(path: path) }
      let header = try fields(of: headerLine.text, line: headerLine.number, file: path, delimiter)
      // A header that is one field holding another common delimiter is a dialect mismatch.
      let likelyDelimiter: Character? =
        header.count == 1
        ? [";", "\t"].first { $0 != delimiter && headerLine.text.contains($0) } : nil
      func position(of column: Column) throws(DataError) -> Int {
        switch column {
        case .name(let name):
          guard let index = header.firstIndex(of: name) else {
            if let likelyDelimiter {
              throw .suspectedDelimiter(
                path: path, problem: "no column \(DataError.quote(name)) in the header",
                likely: likelyDelimiter)
            }
            throw .missingColumn(path: path, column: column.description)
          }
          if let second = header[(index + 1)...].firstIndex(of: name) {
            throw .malformedEntry(
              DataError.Location(file: path, line: headerLine.number, column: second + 1),
              entry: name,
              reason: "the column name appears twice in the header (also field \(index + 1))")
          }
          return index
        case .index(let index):
          guard index >= 0 && index < header.count else {
            throw .missingColumn(path: path, column: column.description)
          }
          return index
        }
      }
      let labelPosition = try position(of: labelColumn)
      let idPosition: Int? = try idColumn.map { column throws(DataError) in try position(of: column)
      }
      if let idPosition, idPosition == labelPosition {
        throw .invalidArgument("the label and id columns are the same column \(labelPosition)")
      }
      let featurePositions = header.indices.filter { $0 != labelPosition && $0 != idPosition }
      guard lines.count > 1 else { throw .emptyFile(path: path) }
      guard !featurePositions.isEmpty else {
        if let likelyDelimiter {
          throw .suspectedDelimiter(
            path: path, problem: "the header has a single field", likely: likelyDelimiter)
        }
        throw .noFeatures(path: path)
      }

      var elements = [Double]()
      elements.reserveCapacity((lines.count - 1) * featurePositions.count)
      var rawLabels = [(text: String, location: DataError.Location)]()
      var ids = [SampleID]()
      var idLines = [SampleID: Int]()
      for (number, text) in lines.dropFirst() {
        let row = try fields(of: text, line: number, file: path, delimiter)
        guard row.count == header.count else {
          throw .raggedRow(
            DataError.Location(file: path, line: number), expected: header.count, found: row.count)
        }
        func location(_ position: Int) -> DataError.Location {
          DataError.Location(file: path, line: number, column: position + 1)
        }
        for position in featurePositions {
          elements.append(try TextRecords.number(Substring(row[position]), at: location(position)))
        }
        let label = String(TextRecords.trimmed(Substring(row[labelPosition])))
        guard !label.isEmpty else {
          throw .malformedEntry(
            location(labelPosition), entry: row[labelPosition], reason: "the label is empty")
        }
        rawLabels.append((label, location(labelPosition)))
        if let idPosition {
          let field = row[idPosition]
          guard let value = Int(TextRecords.trimmed(Substring(field))) else {
            throw .malformedEntry(
              location(idPosition), entry: field, reason: "a sample id must be an integer")
          }
          let id = SampleID(value)
          guard idLines.updateValue(number, forKey: id) == nil else {
            throw .duplicateID(id, location: location(idPosition))
          }
          ids.append(id)
        }
      }
      let (labels, classNames) = try TextRecords.encodeLabels(rawLabels, declared: classes)
      return try Dataset(
        features: Matrix(rows: labels.count, columns: featurePositions.count, elements: elements),
        labels: labels, ids: idPosition == nil ? nil : ids, classCount: classNames.count,
        classNames: classNames, featureNames: featurePositions.map { header[$0] },
        name: name ?? path)
    }

    /// Splits one line into fields, honouring double quotes.
    static func fields(
      of line: Substring, line number: Int, file: String, _ delimiter: Character
    ) throws(DataError) -> [String] {
      var fields = [String]()
      var current = ""
      var inQuotes = false
      var wasQuoted = false
      var characters = line.makeIterator()
      while let character = characters.next() {
        if inQuotes {
          if character == "\"" {
            // A doubled quote inside quotes is a literal quote; a single one ends the quoting.
            if let next = characters.next() {
              if next == "\"" {
                current.append("\"")
              } else {
                inQuotes = false
                if next == delimiter {
                  fields.append(current)
                  current = ""
                  wasQuoted = false
                } else {
                  current.append(next)
                }
              }
            } else {
              inQuotes = false
            }
          } else {
            current.append(character)
          }
        } else if character == delimiter {
          fields.append(wasQuoted ? current : String(TextRecords.trimmed(Substring(current))))
          current = ""
          wasQuoted = false
        } else if character == "\"" && TextRecords.trimmed(Substring(current)).isEmpty {
          inQuotes = true
          wasQuoted = true
          current = ""
        } else {
          current.append(character)
        }
      }
      if inQuotes {
        throw .malformedEntry(
          DataError.Location(file: file, line: number, column: fields.count + 1), entry: current,
          reason: "unterminated quoted field")
      }
      fields.append(wasQuoted ? current : String(TextRecords.trimmed(Substring(current))))
      return fields
    }
  }
}
