import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Why a file could not be written safely.
public enum FileSafetyError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The write failed.
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case .writeFailed(let path, let reason): return "\(path): cannot write (\(reason))"
    }
  }
}

/// Atomic, private file writes.
public enum SecureFile {
  /// Writes `data` to `path` atomically with permission `mode` from the first byte.
  public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o600)
    throws(FileSafetyError)
  {
    let directory = (path as NSString).deletingLastPathComponent
    let base = (path as NSString).lastPathComponent
    var template = Array(
      ((directory.isEmpty ? "." : directory) + "/." + base + ".tmp-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
      throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
    }
    let temporary = String(cString: template)
    fchmod(fd, mode)
    let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    fsync(fd)
    close(fd)
    guard written == data.count, rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw .writeFailed(path: path, reason: reason)
    }
  }
}
