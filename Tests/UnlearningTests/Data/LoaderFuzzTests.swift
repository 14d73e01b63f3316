import Foundation
import PropertyBased
import Testing
import Unlearning

extension DataTests {
  /// Random bytes and random mutations of valid files, fed to every loader: each must return a
  /// valid dataset or throw a `DataError` (the loaders' typed throws make any other error
  /// impossible); a trap would end the test process.
  @Suite("Loader fuzzing")
  struct LoaderFuzzTests {
    /// The largest dense matrix a fuzzed LIBSVM file may allocate (a mutated index of 10^9
    /// must be refused, not allocated).
    static let memoryLimit: UInt64 = 64 << 20

    static let validCSV = Array(
      """
      id,age,"glucose, fasting",label
      7,51,162,diabetic
      9,38,97.5,healthy\r
      3,-1e1,0x10,diabetic
      11,"40",1.5e2,healthy
      """.utf8)

    static let validLIBSVM = Array(
      """
      +1 1:0.5 3:-1.25
      -1 2:1    # a comment
      +1 1:2 2:3 4:1e-3
      -1 4:7
      """.utf8)

    static let validImages = IDXReader.encode(
      IDXArray(dimensions: [3, 2, 2], values: (0..<12).map { UInt8($0 * 20) }))
    static let validLabels = IDXReader.encode(IDXArray(dimensions: [3], values: [0, 6, 1]))

    /// Fragments a mutation may insert: delimiters, line breaks, quotes, signs, numbers at the
    /// edges of the integer and floating-point ranges, an index of 10^8, a BOM.
    static let fragments: [[UInt8]] =
      [
        ",", ";", "\n", "\r", "\r\n", "\"", ":", "#", "-", "+", " ", "\t", "0", "9", "e", ".",
        "nan", "inf", "1e999", "-1e-999", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "100000000", "1000000000", "\u{FEFF}", "label", "id", "",
      ].map { Array($0.utf8) } + [
        [0x00], [0xFF], [0xFF, 0xFF, 0xFF, 0xFF], [0x00, 0x00, 0x08, 0x03],
      ]

    /// Applies mutations encoded as 64-bit words: the low byte picks the kind, the next bits
    /// the position and the payload.
    static func mutate(_ input: [UInt8], with words: [UInt64]) -> [UInt8] {
      var bytes = input
      for word in words {
        let kind = Int(word & 0x7)
        let position = bytes.isEmpty ? 0 : Int((word >> 8) & 0xFFFF) % (bytes.count + 1)
        let payload = Int((word >> 24) & 0xFFFF)
        switch kind {
        case 0 where position < bytes.count:  // flip bits
          bytes[position] ^= UInt8(truncatingIfNeeded: payload | 1)
        case 1:  // insert a fragment
          bytes.insert(contentsOf: fragments[payload % fragments.count], at: position)
        case 2 where position < bytes.count:  // delete a run
          bytes.removeSubrange(position..<min(bytes.count, position + 1 + payload % 8))
        case 3 where position < bytes.count:  // duplicate a run
          let run = bytes[position..<min(bytes.count, position + 1 + payload % 16)]
          bytes.insert(contentsOf: run, at: position)
        case 4:  // truncate
          bytes.removeSubrange(position...)
        case 5 where position < bytes.count:  // overwrite a byte
          bytes[position] = UInt8(truncatingIfNeeded: payload)
        default:  // insert a random byte
          bytes.insert(UInt8(truncatingIfNeeded: payload), at: position)
        }
      }
      return bytes
    }

    /// The invariants every dataset a loader returns must satisfy.
    static func expectValid(_ data: Dataset, sourceLocation: SourceLocation = #_sourceLocation) {
      #expect(data.featureCount > 0, sourceLocation: sourceLocation)
      #expect(
        data.features.elements.count == data.count * data.featureCount,
        sourceLocation: sourceLocation)
      let finite = data.features.elements.allSatisfy { $0.isFinite }
      #expect(finite, sourceLocation: sourceLocation)
      #expect(data.labels.count == data.count && data.ids.count == data.count)
      #expect(data.labels.allSatisfy { (0..<data.classCount).contains($0) })
      #expect(Set(data.ids).count == data.count, sourceLocation: sourceLocation)
      #expect(data.classNames.count == data.classCount, sourceLocation: sourceLocation)
    }

    /// Error messages stay on one line.
    static func expectOneLine(_ error: DataError, sourceLocation: SourceLocation = #_sourceLocation)
    {
      #expect(
        !error.description.contains("\n") && !error.description.contains("\r"),
        "\(error)", sourceLocation: sourceLocation)
    }

    /// Writes `bytes` plain and gzip-compressed and runs `load` on both.
    static func feed(
      _ bytes: [UInt8], name: String, in directory: TemporaryDirectory,
      _ load: (String) throws(DataError) -> Dataset
    ) throws {
      for compressed in [false, true] {
        let path = directory.file(compressed ? name + ".gz" : name)
        try CompressedFile.write(bytes, to: path, compressed: compressed)
        do {
          expectValid(try load(path))
        } catch {
          expectOneLine(error)
        }
      }
    }

    static let mutations = Gen.uint64().array(of: 1...6)

    @Test("mutated CSV files load or give a DataError")
    func csv() async throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      await propertyCheck(count: 200, input: Self.mutations, Gen.bool) { words, byIndex in
        let bytes = Self.mutate(Self.validCSV, with: words)
        try Self.feed(bytes, name: "data.csv", in: directory) { path throws(DataError) in
          byIndex
            ? try Dataset.CSV.load(path: path, labelColumn: 3)
            : try Dataset.CSV.load(path: path, labelColumn: "label", idColumn: "id")
        }
      }
    }

    @Test("mutated LIBSVM files load or give a DataError")
    func libsvm() async throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      await propertyCheck(count: 200, input: Self.mutations) { words in
        let bytes = Self.mutate(Self.validLIBSVM, with: words)
        try Self.feed(bytes, name: "data.svm", in: directory) { path throws(DataError) in
          try Dataset.LIBSVM.load(path: path, memoryLimit: Self.memoryLimit)
        }
      }
    }

    @Test("mutated IDX image and label files read or give a DataError")
    func idx() async throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      await propertyCheck(count: 200, input: Self.mutations, Gen.bool) { words, images in
        let bytes = Self.mutate(images ? Self.validImages : Self.validLabels, with: words)
        for compressed in [false, true] {
          let path = directory.file(compressed ? "data.idx.gz" : "data.idx")
          try CompressedFile.write(bytes, to: path, compressed: compressed)
          do {
            let array = try IDXReader.read(path: path)
            #expect(array.values.count == array.dimensions.reduce(1, *))
          } catch let error as DataError {
            Self.expectOneLine(error)
          } catch {
            Issue.record("not a DataError: \(error)")
          }
        }
        // The same bytes as a Fashion-MNIST training split (with valid labels or images).
        let split = directory.file("split")
        try FileManager.default.createDirectory(atPath: split, withIntermediateDirectories: true)
        try CompressedFile.write(
          images ? bytes : Self.validImages,
          to: (split as NSString).appendingPathComponent("train-images-idx3-ubyte"),
          compressed: false)
        try CompressedFile.write(
          images ? Self.validLabels : bytes,
          to: (split as NSString).appendingPathComponent("train-labels-idx1-ubyte"),
          compressed: false)
        do {
          Self.expectValid(try Scenario.FashionMNIST.load(split: .train, directory: split))
        } catch let error as DataError {
          Self.expectOneLine(error)
        } catch {
          Issue.record("not a DataError: \(error)")
        }
      }
    }

    @Test("random bytes given to every loader and the id reader")
    func randomBytes() async throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      await propertyCheck(count: 200, input: Gen.uint8().array(of: 0...300)) { bytes in
        try Self.feed(bytes, name: "random.csv", in: directory) { path throws(DataError) in
          try Dataset.CSV.load(path: path, labelColumn: 0)
        }
        try Self.feed(bytes, name: "random.svm", in: directory) { path throws(DataError) in
          try Dataset.LIBSVM.load(path: path, memoryLimit: Self.memoryLimit)
        }
        do {
          let array = try IDXReader.parse(bytes, file: "random.idx")
          #expect(array.values.count == array.dimensions.reduce(1, *))
        } catch let error as DataError {
          Self.expectOneLine(error)
        } catch {
          Issue.record("not a DataError: \(error)")
        }
        do {
          let ids = try SampleID.parseList(bytes, file: "random.txt")
          #expect(!ids.isEmpty)
        } catch let error as DataError {
          Self.expectOneLine(error)
        } catch {
          Issue.record("not a DataError: \(error)")
        }
      }
    }

    @Test("the unmutated inputs load, so mutations start from valid files")
    func unmutatedInputsLoad() throws {
      // The fuzz targets start from files that load; otherwise every case would only test
      // the first error path.
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let csv = directory.file("valid.csv")
      try CompressedFile.write(Self.validCSV, to: csv, compressed: false)
      #expect(try Dataset.CSV.load(path: csv, labelColumn: "label", idColumn: "id").count == 4)
      let svm = directory.file("valid.svm")
      try CompressedFile.write(Self.validLIBSVM, to: svm, compressed: true)
      #expect(try Dataset.LIBSVM.load(path: svm).featureCount == 4)
      #expect(try IDXReader.parse(Self.validImages, file: "x").dimensions == [3, 2, 2])
      // And a mutation does change the bytes.
      #expect(Self.mutate(Self.validCSV, with: [1 | (5 << 8) | (3 << 24)]) != Self.validCSV)
    }
  }
}
