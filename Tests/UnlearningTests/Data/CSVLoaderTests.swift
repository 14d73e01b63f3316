import Testing
import Unlearning

extension DataTests {
  @Suite("Dataset.CSV")
  struct CSVLoaderTests {
    @Test("loads features, sorted string labels, names and an id column")
    func wellFormed() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write(
        """
        id,age,"glucose, fasting",outcome
        7, 51,162,diabetic\r
        9,38,97.5,healthy

        3,-1e1,0x10,diabetic
        """, to: "patients.csv")
      let d = try Dataset.CSV.load(path: path, labelColumn: "outcome", idColumn: "id")
      #expect(d.ids == [7, 9, 3])
      #expect(d.featureNames == ["age", "glucose, fasting"])
      #expect(d.features == Matrix(rows: 3, columns: 2, elements: [51, 162, 38, 97.5, -10, 16]))
      #expect(d.classNames == ["diabetic", "healthy"])
      #expect(d.labels == [0, 1, 0])
      #expect(d.name == path)
    }

    @Test("numeric labels sort numerically; label column by index; default ids 0..<n")
    func numericLabels() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write("y,a\n10,1\n-1,2\n2,3\n10,4\n", to: "n.csv")
      let d = try Dataset.CSV.load(path: path, labelColumn: 0)
      #expect(d.classNames == ["-1", "2", "10"])
      #expect(d.labels == [2, 0, 1, 2])
      #expect(d.ids == [0, 1, 2, 3])
      #expect(d.features.elements == [1, 2, 3, 4])
    }

    @Test("declared classes fix the numbering; a label outside them is an error")
    func declaredClasses() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write("a,y\n1,yes\n2,no\n", to: "d.csv")
      let d = try Dataset.CSV.load(path: path, labelColumn: "y", classes: ["yes", "no", "maybe"])
      #expect(d.labels == [0, 1] && d.classCount == 3 && d.classNames == ["yes", "no", "maybe"])
      let bad = try directory.write("a,y\n1,yes\n2,no\n3,perhaps\n", to: "bad.csv")
      let error = dataError {
        try Dataset.CSV.load(path: bad, labelColumn: "y", classes: ["yes", "no"])
      }
      #expect(
        error
          == .labelOutsideClasses(
            DataError.Location(file: bad, line: 4, column: 2), label: "perhaps",
            classes: ["yes", "no"]))
      #expect(
        error?.description
          == "\(bad):4:2: label \"perhaps\" is not one of the declared classes [yes, no]")
      let numeric = try directory.write("a,y\n1,1.0\n2,0\n", to: "num.csv")
      #expect(
        try Dataset.CSV.load(path: numeric, labelColumn: "y", classes: ["0", "1"]).labels == [1, 0])
    }

    /// Malformed files: (contents, expected error with its line and column given the path).
    static let malformed: [(String, String, @Sendable (String) -> DataError)] = [
      (
        "ragged", "a,b,y\n1,2,0\n1,0\n",
        { .raggedRow(DataError.Location(file: $0, line: 3), expected: 3, found: 2) }
      ),
      (
        "not a number", "a,b,y\n1,2,0\n3,abc,1\n",
        { .notANumber(DataError.Location(file: $0, line: 3, column: 2), field: "abc") }
      ),
      (
        "empty field", "a,b,y\n1,,0\n",
        { .notANumber(DataError.Location(file: $0, line: 2, column: 2), field: "") }
      ),
      (
        "NaN", "a,b,y\n1,2,0\n\n4,nan,1\n",
        { .nonFinite(DataError.Location(file: $0, line: 4, column: 2), field: "nan") }
      ),
      (
        "infinity", "a,b,y\n-inf,2,0\n",
        { .nonFinite(DataError.Location(file: $0, line: 2, column: 1), field: "-inf") }
      ),
      (
        "overflow", "a,b,y\n1e400,2,0\n",
        { .nonFinite(DataError.Location(file: $0, line: 2, column: 1), field: "1e400") }
      ),
      ("empty file", "", { .emptyFile(path: $0) }),
      ("blank file", "\n  \n", { .emptyFile(path: $0) }),
      ("header only", "a,b,y\n", { .emptyFile(path: $0) }),
      ("missing column", "a,b,label\n1,2,0\n", { .missingColumn(path: $0, column: "\"y\"") }),
      (
        "duplicate id", "id,b,y\n4,2,0\n5,2,0\n4,3,1\n",
        { .duplicateID(4, location: DataError.Location(file: $0, line: 4, column: 1)) }
      ),
      (
        "non-integer id", "id,b,y\n4,2,0\n5.5,2,0\n",
        {
          .malformedEntry(
            DataError.Location(file: $0, line: 3, column: 1), entry: "5.5",
            reason: "a sample id must be an integer")
        }
      ),
      (
        "unterminated quote", "a,b,y\n1,\"2,0\n",
        {
          .malformedEntry(
            DataError.Location(file: $0, line: 2, column: 2), entry: "2,0",
            reason: "unterminated quoted field")
        }
      ),
    ]

    @Test("malformed files throw a typed error with file, line and column", arguments: 0..<13)
    func malformedFiles(caseIndex: Int) throws {
      let (name, contents, expected) = Self.malformed[caseIndex]
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write(contents, to: "bad.csv")
      let idColumn: Dataset.CSV.Column? = contents.hasPrefix("id,") ? "id" : nil
      let error = dataError {
        try Dataset.CSV.load(path: path, labelColumn: "y", idColumn: idColumn)
      }
      #expect(error == expected(path), "case \(name)")
      #expect(
        error?.description.hasPrefix(path) == true, "case \(name): \(String(describing: error))")
    }

    @Test("the error line reads like a compiler diagnostic")
    func description() {
      let error = DataError.notANumber(
        DataError.Location(file: "data.csv", line: 12, column: 3), field: "abc")
      #expect(error.description == "data.csv:12:3: field \"abc\" is not a number")
      #expect(error.location?.line == 12 && error.location?.column == 3)
    }

    @Test("a missing file")
    func missingFile() {
      #expect(
        dataError { try Dataset.CSV.load(path: "/nonexistent/d.csv", labelColumn: 0) }
          == .fileNotFound(path: "/nonexistent/d.csv"))
    }

    @Test("gzip-compressed CSV and other delimiters")
    func compressedAndDelimiter() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = directory.file("d.csv.gz")
      try CompressedFile.write(Array("x;y;label\n1;2;b\n3;4;a\n".utf8), to: path, compressed: true)
      let d = try Dataset.CSV.load(path: path, labelColumn: "label", delimiter: ";")
      #expect(
        d.features.elements == [1, 2, 3, 4] && d.labels == [1, 0] && d.classNames == ["a", "b"])
    }
  }
}
