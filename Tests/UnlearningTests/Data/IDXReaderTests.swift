import Foundation
import Testing
import Unlearning

extension DataTests {
  @Suite("IDXReader")
  struct IDXReaderTests {
    /// Three 2 x 3 images whose pixel (k, r, c) is `40 k + 7 r + c + 1`, and labels 2, 0, 9.
    static let images = IDXArray(
      dimensions: [3, 2, 3],
      values: (0..<18).map { (k: Int) -> UInt8 in
        let image = k / 6
        let row = k % 6 / 3
        let column = k % 3
        return UInt8(40 * image + 7 * row + column + 1)
      })
    static let labels = IDXArray(dimensions: [3], values: [2, 0, 9])

    @Test("encodes the documented header bytes")
    func headerBytes() {
      let bytes = IDXReader.encode(Self.images)
      #expect(Array(bytes[0..<16]) == [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3])
      #expect(Array(bytes[16...]) == Self.images.values)
      #expect(IDXReader.encode(Self.labels) == [0, 0, 8, 1, 0, 0, 0, 3, 2, 0, 9])
    }

    @Test("round-trips known pixels through gzip and raw files", arguments: [true, false])
    func roundTrip(compressed: Bool) throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let imagePath = directory.file(compressed ? "images.gz" : "images")
      let labelPath = directory.file(compressed ? "labels.gz" : "labels")
      try CompressedFile.write(IDXReader.encode(Self.images), to: imagePath, compressed: compressed)
      try CompressedFile.write(IDXReader.encode(Self.labels), to: labelPath, compressed: compressed)
      let raw = try CompressedFile.readAll(path: imagePath)
      #expect(raw.count == 16 + 18)
      let images = try IDXReader.readImages(path: imagePath)
      #expect(images.dimensions == [3, 2, 3])
      #expect(images.values[0] == 1 && images.values[5] == 10 && images.values[17] == 90)
      #expect(images == Self.images)
      #expect(try IDXReader.readLabels(path: labelPath).values == [2, 0, 9])
      #expect(try IDXReader.read(path: labelPath) == Self.labels)
    }

    @Test("gzip files are really compressed (starts with the gzip magic)")
    func gzipOnDisk() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let path = directory.file("zeros.gz")
      try CompressedFile.write([UInt8](repeating: 0, count: 100_000), to: path, compressed: true)
      let raw = try Data(contentsOf: URL(fileURLWithPath: path))
      #expect(raw.prefix(2) == Data([0x1f, 0x8b]))
      #expect(raw.count < 1000)
      #expect(try CompressedFile.readAll(path: path) == [UInt8](repeating: 0, count: 100_000))
    }

    @Test("wrong magic names the file and byte 0")
    func wrongMagic() throws {
      let labelBytes = IDXReader.encode(Self.labels)
      let error = dataError {
        try IDXReader.parse(labelBytes, file: "labels.idx", expectedMagic: [IDXReader.imagesMagic])
      }
      #expect(
        error
          == .badMagic(
            DataError.Location(file: "labels.idx", byteOffset: 0), found: 0x801, expected: [0x803]))
      #expect(
        error?.description == "labels.idx: byte 0: bad magic number 0x00000801, expected 0x00000803"
      )
      // Not an unsigned-byte file at all (type 0x0D = float).
      let floats: [UInt8] = [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]
      #expect(
        dataError { try IDXReader.parse(floats, file: "f.idx") }
          == .badMagic(
            DataError.Location(file: "f.idx", byteOffset: 0), found: 0x0D01,
            expected: [0x801, 0x803]))
    }

    @Test("truncated data and headers report where the file ends", arguments: [33, 20, 15, 2])
    func truncated(length: Int) throws {
      let bytes = Array(IDXReader.encode(Self.images).prefix(length))
      let expected = length < 4 ? 4 : length < 16 ? 16 : 34
      #expect(
        dataError { try IDXReader.parse(bytes, file: "x.idx") }
          == .truncated(
            DataError.Location(file: "x.idx", byteOffset: length), expectedBytes: expected))
    }

    @Test("a truncated file on disk, raw and gzip")
    func truncatedFiles() throws {
      let directory = try TemporaryDirectory()
      defer { directory.remove() }
      let bytes = IDXReader.encode(Self.images)
      let rawPath = directory.file("short")
      try CompressedFile.write(Array(bytes.prefix(30)), to: rawPath, compressed: false)
      #expect(
        dataError { try IDXReader.readImages(path: rawPath) }
          == .truncated(DataError.Location(file: rawPath, byteOffset: 30), expectedBytes: 34))
      // A gzip stream cut short: zlib reports it, the error names the file.
      let gzPath = directory.file("full.gz")
      var noise = SeededGenerator(seed: 1)
      let big = IDXArray(
        dimensions: [4000], values: (0..<4000).map { _ in UInt8(truncatingIfNeeded: noise.next()) })
      try CompressedFile.write(IDXReader.encode(big), to: gzPath, compressed: true)
      let compressed = try Data(contentsOf: URL(fileURLWithPath: gzPath))
      let cutPath = directory.file("cut.gz")
      try compressed.prefix(compressed.count / 2).write(to: URL(fileURLWithPath: cutPath))
      let error = dataError { try IDXReader.readLabels(path: cutPath) }
      switch error {
      case .unreadable(let path, _)?:
        #expect(path == cutPath)
      case .truncated(let location, _)?:
        #expect(location.file == cutPath)
      default:
        Issue.record("expected unreadable or truncated, got \(String(describing: error))")
      }
    }

    @Test("trailing bytes, empty and missing files")
    func otherErrors() throws {
      let bytes = IDXReader.encode(Self.labels) + [7, 7]
      #expect(
        dataError { try IDXReader.parse(bytes, file: "l.idx") }
          == .trailingBytes(DataError.Location(file: "l.idx", byteOffset: 11), count: 2))
      #expect(dataError { try IDXReader.parse([], file: "e.idx") } == .emptyFile(path: "e.idx"))
      #expect(
        dataError { try IDXReader.read(path: "/nonexistent/x.idx") }
          == .fileNotFound(path: "/nonexistent/x.idx"))
    }
  }
}
