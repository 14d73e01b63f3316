import Foundation
import Testing
import Unlearning

extension DataTests {
  /// Inputs that used to trap (overflow, precondition, huge allocation) or gave misleading
  /// messages: each must give a typed one-line error naming the place.
  @Suite("Hostile input")
  struct HostileInputTests {
    /// Writes a Fashion-MNIST-style split (`count` images of `rows x columns`, labels `k % 10`).
    static func writeSplit(
      _ split: Scenario.FashionMNIST.Split, count: Int, rows: Int, columns: Int,
      in directory: String
    ) throws {
      let images = IDXArray(
        dimensions: [count, rows, columns],
        values: (0..<(count * rows * columns)).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) })
      let labels = IDXArray(dimensions: [count], values: (0..<count).map { UInt8($0 % 10) })
      let base = (directory as NSString).appendingPathComponent(split.filePrefix)
      try CompressedFile.write(
        IDXReader.encode(images), to: base + "-images-idx3-ubyte.gz", compressed: true)
      try CompressedFile.write(
        IDXReader.encode(labels), to: base + "-labels-idx1-ubyte.gz", compressed: true)
    }

    static func expectOneLine(
      _ error: DataError?, sourceLocation: SourceLocation = #_sourceLocation
    ) {
      guard let error else { return }
      #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
      #expect(!error.description.contains("\r"), sourceLocation: sourceLocation)
    }

    @Test("Fashion-MNIST train and test images of different sizes are an error")
    func fashionMNISTSizeMismatch() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      try Self.writeSplit(.train, count: 20, rows: 4, columns: 4, in: directory.path)
      try Self.writeSplit(.test, count: 10, rows: 3, columns: 4, in: directory.path)
      let error = dataError {
        try Scenario.FashionMNIST.loadSplits(classes: [0, 1], directory: directory.path)
      }
      guard case .shapeMismatch(let message) = error else {
        Issue.record("expected shapeMismatch, got \(String(describing: error))")
        return
      }
      #expect(message.contains("train-images-idx3-ubyte.gz"))
      #expect(message.contains("t10k-images-idx3-ubyte.gz"))
      #expect(message.contains("16") && message.contains("12"))
      Self.expectOneLine(error)
      // Equal sizes load.
      try Self.writeSplit(.test, count: 10, rows: 4, columns: 4, in: directory.path)
      let (train, test) = try Scenario.FashionMNIST.loadSplits(
        classes: [0, 1], directory: directory.path)
      #expect(train.featureCount == 16 && test.featureCount == 16)
      #expect(train.count == 4 && test.count == 2)
    }

    @Test("IDX images of zero pixels are an error, not a zero-feature dataset")
    func idxZeroFeatures() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      try Self.writeSplit(.train, count: 5, rows: 0, columns: 28, in: directory.path)
      let error = dataError {
        try Scenario.FashionMNIST.load(split: .train, directory: directory.path)
      }
      #expect(error == .noFeatures(path: directory.file("train-images-idx3-ubyte.gz")))
    }

    @Test("a LIBSVM index of Int64.max is an error, not an overflow")
    func libsvmHugeIndex() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write("+1 1:0.5\n-1 2:1 9223372036854775807:3\n", to: "big.svm")
      let error = dataError { try Dataset.LIBSVM.load(path: path) }
      guard case .tooLarge(let location, let reason) = error else {
        Issue.record("expected tooLarge, got \(String(describing: error))")
        return
      }
      #expect(location == DataError.Location(file: path, line: 2, column: 3))
      #expect(reason.contains("overflow"))
      Self.expectOneLine(error)
      // The same through an explicit feature count.
      let small = try directory.write("+1 1:0.5\n-1 2:1\n", to: "small.svm")
      guard case .tooLarge = dataError({ try Dataset.LIBSVM.load(path: small, featureCount: .max) })
      else {
        Issue.record("featureCount Int.max must be tooLarge")
        return
      }
    }

    @Test("a LIBSVM index of 10^8 is refused before the dense matrix is allocated")
    func libsvmIndexBeyondMemory() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      // Enough rows that n x 10^8 doubles exceed the physical memory of this machine.
      let rows = Int(ProcessInfo.processInfo.physicalMemory / 800_000_000) + 1
      var text = ""
      for k in 0..<rows { text += (k % 2 == 0 ? "+1" : "-1") + " 1:1 100000000:2\n" }
      let path = try directory.write(text, to: "wide.svm")
      let error = dataError { try Dataset.LIBSVM.load(path: path) }
      guard case .tooLarge(let location, let reason) = error else {
        Issue.record("expected tooLarge, got \(String(describing: error))")
        return
      }
      #expect(location == DataError.Location(file: path, line: 1, column: 3))
      #expect(reason.contains("100000000") && reason.contains("physical memory"))
    }

    @Test("zero-feature CSV and LIBSVM files are errors")
    func zeroFeatures() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let csv = try directory.write("label\na\nb\n", to: "labels.csv")
      #expect(
        dataError { try Dataset.CSV.load(path: csv, labelColumn: "label") }
          == .noFeatures(path: csv))
      let withID = try directory.write("id,label\n1,a\n2,b\n", to: "ids.csv")
      #expect(
        dataError { try Dataset.CSV.load(path: withID, labelColumn: "label", idColumn: "id") }
          == .noFeatures(path: withID))
      let svm = try directory.write("+1\n-1 # no features\n", to: "labels.svm")
      #expect(dataError { try Dataset.LIBSVM.load(path: svm) } == .noFeatures(path: svm))
      let sized = try directory.write("+1 1:2\n-1\n", to: "sized.svm")
      #expect(
        dataError { try Dataset.LIBSVM.load(path: sized, featureCount: 0) } != nil)
    }

    @Test("CSV and id files with CRLF endings and a byte-order mark load")
    func crlfAndBOM() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let csv = try directory.write(
        "\u{FEFF}id,x,label\r\n1,0.5,a\r\n2,1.5,b\r\n", to: "bom.csv")
      let data = try Dataset.CSV.load(path: csv, labelColumn: "label", idColumn: "id")
      #expect(data.ids == [1, 2])
      #expect(data.featureNames == ["x"])
      #expect(data.classNames == ["a", "b"])
      #expect(data.features.elements == [0.5, 1.5])

      let ids = try directory.write("\u{FEFF}1003\r\n# comment\r\n\r\n1017\r\n", to: "ids.txt")
      #expect(try SampleID.readList(path: ids) == [1003, 1017])
      // A bad id names its line, and the message shows no raw carriage return.
      let bad = try directory.write("1003\r\n10x7\r\n", to: "bad.txt")
      let error = dataError { try SampleID.readList(path: bad) }
      #expect(
        error
          == .malformedEntry(
            DataError.Location(file: bad, line: 2, column: 1), entry: "10x7",
            reason: "not an integer sample id"))
      let empty = try directory.write("# nothing\r\n", to: "empty.txt")
      #expect(dataError { try SampleID.readList(path: empty) } == .emptyFile(path: empty))
    }

    @Test("a lone carriage return inside a field is escaped in messages")
    func rawCarriageReturnNeverPrinted() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let csv = try directory.write("x,label\r\n1\r2,a\r\n", to: "cr.csv")
      let error = dataError { try Dataset.CSV.load(path: csv, labelColumn: "label") }
      #expect(
        error == .notANumber(DataError.Location(file: csv, line: 2, column: 1), field: "1\r2"))
      #expect(error?.description.contains("\"1\\r2\"") == true)
      Self.expectOneLine(error)
    }

    @Test("a semicolon-delimited CSV gets a hint, and loads with the delimiter")
    func semicolonHint() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write("x;y;label\n1;2;a\n3;4;b\n", to: "semi.csv")
      let error = dataError { try Dataset.CSV.load(path: path, labelColumn: "label") }
      #expect(
        error
          == .suspectedDelimiter(
            path: path, problem: "no column \"label\" in the header", likely: ";"))
      #expect(
        error?.description.contains("looks semicolon-delimited; pass --delimiter ';'") == true)
      let byIndex = dataError { try Dataset.CSV.load(path: path, labelColumn: 0) }
      guard case .suspectedDelimiter(_, _, ";") = byIndex else {
        Issue.record("expected a semicolon hint, got \(String(describing: byIndex))")
        return
      }
      let data = try Dataset.CSV.load(path: path, labelColumn: "label", delimiter: ";")
      #expect(data.features.elements == [1, 2, 3, 4])
      // Through the scenario, as the command line passes it.
      let scenario = Scenario.csv(
        path: path, labelColumn: "label", testFraction: 0, seed: 1, normalizeRows: false,
        delimiter: ";")
      let (train, _) = try scenario.load()
      #expect(train.count == 2 && train.featureCount == 2)
    }

    @Test("a duplicated label header and an empty label cell are errors naming the field")
    func labelColumnProblems() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let twice = try directory.write("label,x,label\na,1,b\n", to: "twice.csv")
      let error = dataError { try Dataset.CSV.load(path: twice, labelColumn: "label") }
      guard case .malformedEntry(let location, "label", _) = error else {
        Issue.record("expected malformedEntry, got \(String(describing: error))")
        return
      }
      #expect(location == DataError.Location(file: twice, line: 1, column: 3))

      let empty = try directory.write("x,label\n1,a\n2,\n3,b\n", to: "empty-label.csv")
      let emptyError = dataError { try Dataset.CSV.load(path: empty, labelColumn: "label") }
      guard case .malformedEntry(let where_, _, let reason) = emptyError else {
        Issue.record("expected malformedEntry, got \(String(describing: emptyError))")
        return
      }
      #expect(where_ == DataError.Location(file: empty, line: 3, column: 2))
      #expect(reason.contains("empty"))
      let quotedEmpty = try directory.write("x,label\n1,a\n2,\"  \"\n", to: "quoted.csv")
      #expect(dataError { try Dataset.CSV.load(path: quotedEmpty, labelColumn: "label") } != nil)
    }

    @Test("a folder given as a data file is reported as a directory")
    func directoryAsFile() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      #expect(
        dataError { try Dataset.CSV.load(path: directory.path, labelColumn: "label") }
          == .isDirectory(path: directory.path))
      #expect(
        dataError { try Dataset.LIBSVM.load(path: directory.path) }
          == .isDirectory(path: directory.path))
      #expect(
        dataError { try IDXReader.read(path: directory.path) }
          == .isDirectory(path: directory.path))
      #expect(
        dataError { try SampleID.readList(path: directory.path) }
          == .isDirectory(path: directory.path))
      #expect(
        DataError.isDirectory(path: "/x").description == "/x: is a directory, not a data file")
    }

    @Test("one class is an error for classification scenarios and softmax models")
    func singleClass() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = try directory.write("x,label\n1,a\n2,a\n3,a\n4,a\n", to: "one.csv")
      let scenario = Scenario.csv(
        path: path, labelColumn: "label", testFraction: 0.25, seed: 1, normalizeRows: false)
      guard case .tooFewClasses(_, 1) = dataError({ try scenario.load() }) else {
        Issue.record("a one-class CSV must be tooFewClasses")
        return
      }
      let fashion = Scenario.fashionMNIST(classes: [3], trainLimit: 10, testLimit: 10, seed: 1)
      guard case .tooFewClasses(_, 1) = dataError({ try fashion.load() }) else {
        Issue.record("one Fashion-MNIST class must be tooFewClasses")
        return
      }
      #expect(
        dataError { try SoftmaxRegression(validatingFeatureCount: 4, classCount: 1) }
          == .tooFewClasses(name: "softmax regression", classCount: 1))
      #expect(try SoftmaxRegression(validatingFeatureCount: 4, classCount: 3).parameterCount == 12)
      #expect(
        dataError { try SoftmaxRegression(validatingFeatureCount: .max, classCount: 3) } != nil)
    }

    @Test("MLP layer sizes that overflow the parameter count are an error")
    func mlpSizes() throws {
      #expect(try MultilayerPerceptron.validateLayerSizes([2, 20, 1]) == 81)
      #expect(try MultilayerPerceptron(validatingLayerSizes: [3, 4, 2]).parameterCount == 26)
      for sizes in [[2, 1 << 62, 1], [Int.max, 1], [2, Int.max], [1 << 40, 1 << 40, 1]] {
        guard
          case .invalidArgument(let message) = dataError({
            try MultilayerPerceptron.validateLayerSizes(sizes)
          })
        else {
          Issue.record("\(sizes) must be invalid")
          continue
        }
        #expect(message.contains("overflow") || message.contains("memory"))
      }
      #expect(dataError { try MultilayerPerceptron.validateLayerSizes([2]) } != nil)
      #expect(dataError { try MultilayerPerceptron.validateLayerSizes([2, 0, 1]) } != nil)
      #expect(dataError { try MultilayerPerceptron.validateLayerSizes([2, -3, 1]) } != nil)
      #expect(
        dataError {
          try MultilayerPerceptron.validateLayerSizes([10, 10, 1], maximumParameterCount: 100)
        }
          != nil)
    }
  }
}
