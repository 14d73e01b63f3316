import CZlib
import Foundation

/// Whole-file byte I/O through zlib: reads gzip-compressed and plain files alike (zlib passes
/// uncompressed input through unchanged), and writes either form.
///
/// Reading uses 4 MiB `gzread` chunks into one growing buffer, so a 26 MB `.gz` (47 MB of
/// pixels) reads in a fraction of a second.
package enum CompressedFile {
  /// The full (decompressed) contents of the file at `path`.
  ///
  /// - Throws: `DataError.fileNotFound` if there is no such file, `.isDirectory` for a folder,
  ///   `.unreadable` if it cannot be opened or its gzip stream is corrupt or truncated (the
  ///   reason comes from zlib).
  package static func readAll(path: String) throws(DataError) -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw .fileNotFound(path: path)
    }
    guard !isDirectory.boolValue else { throw .isDirectory(path: path) }
    guard let file = gzopen(path, "rb") else {
      throw .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    defer { gzclose(file) }
    let chunk = 1 << 22
    _ = gzbuffer(file, UInt32(1 << 20))
    var bytes = [UInt8]()
    var filled = 0
    while true {
      if bytes.count < filled + chunk {
        bytes.append(contentsOf: repeatElement(0, count: max(chunk, bytes.count)))
      }
      let read = bytes.withUnsafeMutableBytes { buffer -> Int32 in
        gzread(file, buffer.baseAddress.map { $0 + filled }, UInt32(chunk))
      }
      if read < 0 { throw .unreadable(path: path, reason: zlibMessage(file)) }
      if read == 0 { break }
      filled += Int(read)
    }
    var status: Int32 = Z_OK
    _ = gzerror(file, &status)
    if status != Z_OK && status != Z_STREAM_END {
      throw .unreadable(path: path, reason: zlibMessage(file))
    }
    bytes.removeSubrange(filled...)
    return bytes
  }

  /// Writes `bytes` to `path`, gzip-compressed when `compressed` is true, replacing any file.
  ///
  /// - Throws: `DataError.unreadable` (with the reason) if the file cannot be written.
  package static func write(_ bytes: [UInt8], to path: String, compressed: Bool) throws(DataError) {
    guard compressed else {
      guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        throw .unreadable(path: path, reason: "cannot create file")
      }
      return
    }
    guard let file = gzopen(path, "wb") else {
      throw .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    var offset = 0
    while offset < bytes.count {
      let length = min(1 << 22, bytes.count - offset)
      let written = bytes.withUnsafeBytes { buffer -> Int32 in
        gzwrite(file, buffer.baseAddress.map { $0 + offset }, UInt32(length))
      }
      if written <= 0 {
        let reason = zlibMessage(file)
        gzclose(file)
        throw .unreadable(path: path, reason: reason)
      }
      offset += Int(written)
    }
    guard gzclose(file) == Z_OK else { throw .unreadable(path: path, reason: "gzclose failed") }
  }

  private static func zlibMessage(_ file: gzFile) -> String {
    var status: Int32 = Z_OK
    guard let message = gzerror(file, &status) else { return "zlib error \(status)" }
    let text = String(cString: message)
    return text.isEmpty ? "zlib error \(status)" : text
  }
}
