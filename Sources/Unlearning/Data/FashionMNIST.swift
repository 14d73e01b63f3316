import Foundation

extension Scenario {
  /// Fashion-MNIST (Xiao et al., 2017): 28 x 28 greyscale images of clothing in ten classes,
  /// 60,000 for training and 10,000 for testing, read from the Debian package
  /// `dataset-fashion-mnist` (install with `apt-get install dataset-fashion-mnist`).
  ///
  /// ```swift
  /// let train = try FashionMNIST.load(split: .train, classes: [0, 6])  // T-shirt/top vs Shirt
  /// // 12000 x 784, labels 0 (T-shirt/top) / 1 (Shirt), rows of unit norm
  /// ```
  ///
  /// Preprocessing is per sample only (pixel / 255, then optionally each row scaled to unit L2
  /// norm, which certified removal needs: `||x|| <= 1`), so removing a sample never changes
  /// another sample's features.
  ///
  /// Ids: training image `i` has id `i` (0..<60000), test image `i` has id `100000 + i`, so
  /// ids from the two splits never clash.
  public enum FashionMNIST {
    /// Which file pair to read.
    public enum Split: String, Sendable, CaseIterable, Codable {
      /// The 60,000 training images (`train-*`).
      case train
      /// The 10,000 test images (`t10k-*`).
      case test

      /// The file name prefix of the split (`train` or `t10k`).
      public var filePrefix: String { self == .train ? "train" : "t10k" }

      /// The id of the first image of the split (0 or ``Scenario/FashionMNIST/testIDOffset``).
      public var firstID: Int { self == .train ? 0 : Scenario.FashionMNIST.testIDOffset }
    }

    /// The names of the ten classes, indexed by the original label.
    public static let classNames = [
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Image height and width in pixels.
    public static let imageSide = 28

    /// The id of test image 0; test image `i` has id `testIDOffset + i`.
    public static let testIDOffset = 100_000

    /// Where the Debian package installs the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// The environment variable that overrides ``defaultDirectory``.
    public static let environmentVariable = "UNLEARN_FASHION_MNIST_DIR"

    /// The Debian package that ships the data.
    public static let packageName = "dataset-fashion-mnist"

    /// The directory to read: `directory` if given, else `$UNLEARN_FASHION_MNIST_DIR` if set and
    /// non-empty, else ``defaultDirectory``.
    public static func resolvedDirectory(_ directory: String? = nil) -> String {
      if let directory { return directory }
      if let fromEnvironment = ProcessInfo.processInfo.environment[environmentVariable],
        !fromEnvironment.isEmpty
      {
        return fromEnvironment
      }
      return defaultDirectory
    }

    /// The paths of the image and label files of `split` in `directory`: the `.gz` file when it
    /// exists, else the uncompressed one; `nil` for a file that is missing in both forms.
    public static func filePaths(split: Split, directory: String? = nil) -> (
      images: String?, labels: String?
    ) {
      let base = resolvedDirectory(directory)
      func find(_ stem: String) -> String? {
        let path = (base as NSString).appendingPathComponent("\(split.filePrefix)-\(stem)")
        for candidate in [path + ".gz", path]
        where FileManager.default.fileExists(atPath: candidate) {
          return candidate
        }
        return nil
      }
      return (find("images-idx3-ubyte"), find("labels-idx1-ubyte"))
    }

    /// Whether all four files are present (in `directory`, or the resolved default).
    public static func isAvailable(directory: String? = nil) -> Bool {
      Split.allCases.allSatisfy { split in
        let paths = filePaths(split: split, directory: directory)
        return paths.images != nil && paths.labels != nil
      }
    }

    /// Loads one split as a ``Dataset``.
    ///
    /// Cost: reading and decompressing the files (about 0.3 s for the training split in release
    /// builds), then `O(n * 784)` to convert the selected images.
    ///
    /// - Parameters:
    ///   - split: `.train` (60,000 images) or `.test` (10,000).
    ///   - classes: original labels (0...9) to keep, in the order that defines the new labels:
    ///     `[0, 6]` keeps T-shirts (label 0) and shirts (label 1); `nil` keeps all ten classes
    ///     with their original labels.
    ///   - directory: the directory holding the files; `nil` uses ``resolvedDirectory(_:)``.
    ///   - normalizeRows: scale each row (after pixel / 255) to unit L2 norm; all-black images
    ///     stay zero. Default `true`, as certified removal needs `||x|| <= 1`.
    ///   - limit: keep a seeded uniform random sample of at most this many of the selected
    ///     images (in file order); `nil` keeps all.
    ///   - seed: the seed of that subsample.
    /// - Throws: `DataError.datasetNotInstalled` naming the package when a file is missing,
    ///   `.invalidArgument` for bad classes or limit, the `IDXReader` errors for corrupt files,
    ///   `.shapeMismatch` when image and label counts differ, `.noFeatures` for images of
    ///   0 pixels.
    public static func load(
      split: Split, classes: [Int]? = nil, directory: String? = nil, normalizeRows: Bool = true,
      limit: Int? = nil, seed: UInt64 = 42
    ) throws(DataError) -> Dataset {
      let classes = classes ?? Array(0..<10)
      guard !classes.isEmpty, Set(classes).count == classes.count,
        classes.allSatisfy({ (0..<10).contains($0) })
      else {
        throw .invalidArgument("Fashion-MNIST classes must be distinct values in 0...9: \(classes)")
      }
      if let limit, limit < 0 { throw .invalidArgument("limit \(limit) is negative") }

      let paths = filePaths(split: split, directory: directory)
      let base = resolvedDirectory(directory)
      let hint =
        "install it with `apt-get install \(packageName)`, or set \(environmentVariable)"
      guard let imagesPath = paths.images else {
        throw .datasetNotInstalled(
          name: "Fashion-MNIST",
          missingFile: (base as NSString).appendingPathComponent(
            "\(split.filePrefix)-images-idx3-ubyte.gz"), installHint: hint)
      }
      guard let labelsPath = paths.labels else {
        throw .datasetNotInstalled(
          name: "Fashion-MNIST",
          missingFile: (base as NSString).appendingPathComponent(
            "\(split.filePrefix)-labels-idx1-ubyte.gz"), installHint: hint)
      }

      let labelFile = try IDXReader.readLabels(path: labelsPath)
      let imageFile = try IDXReader.readImages(path: imagesPath)
      let imageCount = imageFile.dimensions[0]
      let pixelCount = imageFile.dimensions[1] * imageFile.dimensions[2]
      guard pixelCount > 0 else { throw .noFeatures(path: imagesPath) }
      guard labelFile.dimensions[0] == imageCount else {
        throw .shapeMismatch(
          "\(labelsPath) has \(labelFile.dimensions[0]) labels, \(imagesPath) has \(imageCount) images"
        )
      }

      var newLabel = [Int](repeating: -1, count: 256)
      for (position, original) in classes.enumerated() { newLabel[original] = position }
      for (index, label) in labelFile.values.enumerated() where label > 9 {
        throw .labelOutsideClasses(
          DataError.Location(file: labelsPath, byteOffset: 8 + index), label: String(label),
          classes: classNames)
      }
      var selected = labelFile.values.indices.filter { newLabel[Int(labelFile.values[$0])] >= 0 }
      if let limit, limit < selected.count {
        var generator = SeededGenerator(seed: seed)
        let chosen = RandomSampling.indices(
          choosing: limit, from: selected.count, using: &generator)
        selected = chosen.sorted().map { selected[$0] }
      }

      var elements = [Double](repeating: 0, count: selected.count * pixelCount)
      imageFile.values.withUnsafeBufferPointer { pixels in
        elements.withUnsafeMutableBufferPointer { out in
          for (row, image) in selected.enumerated() {
            let source = image * pixelCount
            let target = row * pixelCount
            var sumOfSquares = 0.0
            for k in 0..<pixelCount {
              let value = Double(pixels[source + k]) / 255
              out[target + k] = value
              sumOfSquares += value * value
            }
            if normalizeRows && sumOfSquares > 0 {
              let scale = 1 / sumOfSquares.squareRoot()
              for k in 0..<pixelCount { out[target + k] *= scale }
            }
          }
        }
      }
      let side = imageFile.dimensions[2]
      let featureNames = (0..<pixelCount).map { "pixel_\($0 / side)_\($0 % side)" }
      let classText =
        classes.count == 10 ? "" : " " + classes.map(String.init).joined(separator: "v")
      return Dataset(
        validatedFeatures: Matrix(rows: selected.count, columns: pixelCount, elements: elements),
        labels: selected.map { newLabel[Int(labelFile.values[$0])] },
        ids: selected.map { SampleID(split.firstID + $0) }, classCount: classes.count,
        classNames: classes.map { classNames[$0] }, featureNames: featureNames,
        name: "fashion-mnist\(classText) (\(split.rawValue))")
    }

    /// Loads the training and the test split together (rows of unit norm), checking that their
    /// images have the same size.
    ///
    /// The test subsample is drawn with seed `seed &+ 1`.
    ///
    /// - Throws: as ``load(split:classes:directory:normalizeRows:limit:seed:)``, and
    ///   `.shapeMismatch` naming both image files when their image sizes differ.
    public static func loadSplits(
      classes: [Int]? = nil, directory: String? = nil, trainLimit: Int? = nil,
      testLimit: Int? = nil, seed: UInt64 = 42
    ) throws(DataError) -> (train: Dataset, test: Dataset) {
      let train = try load(
        split: .train, classes: classes, directory: directory, normalizeRows: true,
        limit: trainLimit, seed: seed)
      let test = try load(
        split: .test, classes: classes, directory: directory, normalizeRows: true,
        limit: testLimit, seed: seed &+ 1)
      guard train.featureCount == test.featureCount else {
        let files = [Split.train, .test].map {
          filePaths(split: $0, directory: directory).images ?? $0.filePrefix
        }
        throw .shapeMismatch(
          "\(files[0]) has images of \(train.featureCount) pixels, \(files[1]) of "
            + "\(test.featureCount); training and test images must have the same size")
      }
      return (train, test)
    }
  }
}
