import Foundation
import Testing
import Unlearning

extension DataTests {
  // Serialized: one test sets UNLEARN_FASHION_MNIST_DIR, which the others read.
  @Suite("Scenario.FashionMNIST", .serialized)
  struct FashionMNISTTests {
    static let installed = Scenario.FashionMNIST.isAvailable()

    @Test(
      "training split: shapes, label counts, pinned first image",
      .enabled(if: installed, "Fashion-MNIST missing: apt-get install dataset-fashion-mnist"))
    func trainingSplit() throws {
      // (Its speed is measured by `unlearn bench`, not asserted here.)
      let train = try Scenario.FashionMNIST.load(split: .train, normalizeRows: false)
      #expect(train.count == 60_000 && train.featureCount == 784)
      #expect(train.classCount == 10 && train.classNames == Scenario.FashionMNIST.classNames)
      #expect(train.labelCounts == [Int](repeating: 6000, count: 10))
      #expect(Array(train.labels.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
      #expect(train.ids.first == 0 && train.ids.last == 59_999)
      // Pinned from the file: image 0 has pixel 96 = 1, 99 = 13, 100 = 73, (14, 12) = 237,
      // and its 784 pixels sum to 76247.
      let first = train.features.row(0)
      #expect(first[96] == 1.0 / 255 && first[99] == 13.0 / 255 && first[100] == 73.0 / 255)
      #expect(first[14 * 28 + 12] == 237.0 / 255 && first[0] == 0)
      #expect(abs(first.reduce(0, +) - 76247.0 / 255) < 1e-9)
      #expect(train.featureNames[14 * 28 + 12] == "pixel_14_12")
    }

    @Test(
      "test split: shapes and ids offset by 100000",
      .enabled(if: installed, "Fashion-MNIST missing: apt-get install dataset-fashion-mnist"))
    func testSplit() throws {
      let test = try Scenario.FashionMNIST.load(split: .test)
      #expect(test.count == 10_000 && test.featureCount == 784)
      #expect(Array(test.labels.prefix(6)) == [9, 2, 1, 1, 6, 1])
      #expect(test.ids.first == 100_000 && test.ids.last == 109_999)
      #expect(test.labelCounts == [Int](repeating: 1000, count: 10))
    }

    @Test(
      "two classes (0 vs 6): binary labels, 12000 rows, unit-norm rows",
      .enabled(if: installed, "Fashion-MNIST missing: apt-get install dataset-fashion-mnist"))
    func twoClasses() throws {
      let all = try Scenario.FashionMNIST.load(split: .train, normalizeRows: false)
      let pair = try Scenario.FashionMNIST.load(split: .train, classes: [0, 6])
      #expect(pair.count == 12_000 && pair.classCount == 2)
      #expect(pair.classNames == ["T-shirt/top", "Shirt"])
      #expect(pair.labelCounts == [6000, 6000])
      for norm in pair.features.rowNorms() { #expect(norm == 0 || abs(norm - 1) < 1e-12) }
      // Ids point back to the same images with the mapped label.
      for row in [0, 1, 5000, 11_999] {
        let id = pair.ids[row]
        let original = try #require(all.rowIndex(of: id))
        #expect(all.labels[original] == [0, 6][pair.labels[row]])
        let raw = all.features.row(original)
        let norm = raw.norm()
        #expect(
          pair.features.row(row).isApproximatelyEqual(
            to: raw.map { $0 / norm }, relativeTolerance: 1e-12))
      }
    }

    @Test(
      "seeded subsampling is deterministic and a subset",
      .enabled(if: installed, "Fashion-MNIST missing: apt-get install dataset-fashion-mnist"))
    func subsample() throws {
      let a = try Scenario.FashionMNIST.load(split: .test, classes: [0, 6], limit: 300, seed: 1)
      let b = try Scenario.FashionMNIST.load(split: .test, classes: [0, 6], limit: 300, seed: 1)
      let c = try Scenario.FashionMNIST.load(split: .test, classes: [0, 6], limit: 300, seed: 2)
      #expect(a == b && a.ids != c.ids)
      #expect(a.count == 300 && a.ids == a.ids.sorted())
      let full = try Scenario.FashionMNIST.load(split: .test, classes: [0, 6])
      #expect(Set(a.ids).isSubset(of: Set(full.ids)))
      #expect(try full.subset(ids: a.ids) == a.with(name: full.name))
    }

    @Test("a directory without the files names the package to install")
    func missingFiles() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let error = dataError {
        try Scenario.FashionMNIST.load(split: .train, directory: directory.path)
      }
      guard case .datasetNotInstalled(_, let file, let hint)? = error else {
        Issue.record("expected datasetNotInstalled, got \(String(describing: error))")
        return
      }
      #expect(file.hasPrefix(directory.path))
      #expect(hint.contains("apt-get install dataset-fashion-mnist"))
      #expect(error?.description.contains("apt-get install dataset-fashion-mnist") == true)
    }

    @Test("bad class selections are rejected", arguments: [[Int](), [0, 0], [3, 10], [-1]])
    func badClasses(classes: [Int]) {
      let error = dataError {
        try Scenario.FashionMNIST.load(split: .train, classes: classes, directory: "/nonexistent")
      }
      guard case .invalidArgument? = error else {
        Issue.record("expected invalidArgument, got \(String(describing: error))")
        return
      }
    }

    @Test(
      "a fake directory (path parameter), raw and gzip files, class selection and ids",
      arguments: [true, false])
    func fakeDirectory(compressed: Bool) throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      // Five 28 x 28 images: image k has pixel k set to 51 * k (image 0 is all black).
      var pixels = [UInt8](repeating: 0, count: 5 * 784)
      for k in 0..<5 { pixels[k * 784 + k] = UInt8(51 * k) }
      let suffix = compressed ? ".gz" : ""
      for split in ["train", "t10k"] {
        try CompressedFile.write(
          IDXReader.encode(IDXArray(dimensions: [5, 28, 28], values: pixels)),
          to: directory.file("\(split)-images-idx3-ubyte\(suffix)"), compressed: compressed)
        try CompressedFile.write(
          IDXReader.encode(IDXArray(dimensions: [5], values: [3, 7, 3, 1, 7])),
          to: directory.file("\(split)-labels-idx1-ubyte\(suffix)"), compressed: compressed)
      }
      #expect(Scenario.FashionMNIST.isAvailable(directory: directory.path))
      let d = try Scenario.FashionMNIST.load(
        split: .test, classes: [7, 3], directory: directory.path)
      #expect(d.ids == [100_000, 100_001, 100_002, 100_004])
      #expect(d.labels == [1, 0, 1, 0])
      #expect(d.classNames == ["Sneaker", "Dress"])
      #expect(d.features.row(0).allSatisfy { $0 == 0 })  // all-black image stays zero
      #expect(d.features[1, 1] == 1 && d.features[2, 2] == 1 && d.features[3, 4] == 1)
      let raw = try Scenario.FashionMNIST.load(
        split: .train, classes: [1], directory: directory.path, normalizeRows: false)
      #expect(raw.ids == [3] && raw.labels == [0] && raw.features[0, 3] == 153.0 / 255)
    }
  }
}

extension DataTests.FashionMNISTTests {
  @Test("UNLEARN_FASHION_MNIST_DIR overrides the default; the parameter overrides both")
  func environmentOverride() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    setenv(Scenario.FashionMNIST.environmentVariable, directory.path, 1)
    defer { unsetenv(Scenario.FashionMNIST.environmentVariable) }
    #expect(Scenario.FashionMNIST.resolvedDirectory() == directory.path)
    #expect(Scenario.FashionMNIST.resolvedDirectory("/elsewhere") == "/elsewhere")
    let error = dataError { try Scenario.FashionMNIST.load(split: .train) }
    guard case .datasetNotInstalled(_, let file, _)? = error else {
      Issue.record("expected datasetNotInstalled, got \(String(describing: error))")
      return
    }
    #expect(file.hasPrefix(directory.path))
    unsetenv(Scenario.FashionMNIST.environmentVariable)
    #expect(Scenario.FashionMNIST.resolvedDirectory() == Scenario.FashionMNIST.defaultDirectory)
  }
}

extension Dataset {
  fileprivate func with(name: String) -> Dataset {
    var copy = self
    copy.name = name
    return copy
  }
}
