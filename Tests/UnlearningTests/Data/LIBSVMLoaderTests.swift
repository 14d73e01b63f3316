import Testing
import Unlearning

extension DataTests {
  @Suite("Dataset.LIBSVM")
  struct LIBSVMLoaderTests {
    @Test("sparse lines become dense rows; -1/+1 labels map to 0/1")
    func wellFormed() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write(
        """
        # a comment line
        +1 1:0.5 3:-1.25
        -1 2:1    # trailing comment

        -1\t4:2e-1
        """, to: "d.svm")
      let d = try Dataset.LIBSVM.load(path: path)
      #expect(d.count == 3 && d.featureCount == 4)
      #expect(d.features.elements == [0.5, 0, -1.25, 0, 0, 1, 0, 0, 0, 0, 0, 0.2])
      #expect(d.labels == [1, 0, 0] && d.classNames == ["-1", "+1"])
      #expect(d.ids == [0, 1, 2])
      #expect(d.featureNames.isEmpty)
    }

    @Test("declared feature count and classes")
    func declared() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write("3 1:1\n1 2:1\n", to: "d.svm")
      let d = try Dataset.LIBSVM.load(path: path, featureCount: 5, classes: ["1", "2", "3"])
      #expect(d.featureCount == 5 && d.labels == [2, 0] && d.classCount == 3)
      let bad = try directory.write("3 1:1\n7 2:1\n", to: "bad.svm")
      #expect(
        dataError { try Dataset.LIBSVM.load(path: bad, classes: ["1", "2", "3"]) }
          == .labelOutsideClasses(
            DataError.Location(file: bad, line: 2, column: 1), label: "7", classes: ["1", "2", "3"])
      )
      #expect(
        dataError { try Dataset.LIBSVM.load(path: path, featureCount: 1) }
          == .malformedEntry(
            DataError.Location(file: path, line: 2, column: 2), entry: "2:1",
            reason: "index exceeds the feature count 1"))
    }

    static let malformed: [(String, String, @Sendable (String) -> DataError)] = [
      (
        "no colon", "1 1:2\n0 3\n",
        {
          .malformedEntry(
            DataError.Location(file: $0, line: 2, column: 2), entry: "3",
            reason: "expected index:value")
        }
      ),
      (
        "zero index", "1 0:2\n",
        {
          .malformedEntry(
            DataError.Location(file: $0, line: 1, column: 2), entry: "0:2",
            reason: "the index must be an integer >= 1")
        }
      ),
      (
        "decreasing", "1 1:2 4:1 3:1\n",
        {
          .malformedEntry(
            DataError.Location(file: $0, line: 1, column: 4), entry: "3:1",
            reason: "indices must be increasing")
        }
      ),
      (
        "not a number", "1 1:2\n1 1:x\n",
        { .notANumber(DataError.Location(file: $0, line: 2, column: 2), field: "x") }
      ),
      (
        "NaN", "1 1:2 2:NaN\n",
        { .nonFinite(DataError.Location(file: $0, line: 1, column: 3), field: "NaN") }
      ),
      (
        "infinity", "1 1:inf\n",
        { .nonFinite(DataError.Location(file: $0, line: 1, column: 2), field: "inf") }
      ),
      ("empty", "", { .emptyFile(path: $0) }),
      ("comments only", "# nothing\n\n", { .emptyFile(path: $0) }),
    ]

    @Test("malformed files throw a typed error with file, line and token", arguments: 0..<8)
    func malformedFiles(caseIndex: Int) throws {
      let (name, contents, expected) = Self.malformed[caseIndex]
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write(contents, to: "bad.svm")
      let error = dataError { try Dataset.LIBSVM.load(path: path) }
      #expect(error == expected(path), "case \(name)")
    }
  }
}
