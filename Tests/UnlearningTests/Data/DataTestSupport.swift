import Foundation
import Testing
import Unlearning

/// The parent suite of the data-layer tests (`swift test --filter DataTests` runs them all).
@Suite("Data")
enum DataTests {}

/// A fresh temporary directory for one test; files are written into it with ``write(_:to:)``.
struct TemporaryDirectory {
  let path: String

  init() throws {
    path = (NSTemporaryDirectory() as NSString).appendingPathComponent(
      "unlearn-data-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  /// Writes `text` (UTF-8) to `name` in the directory and returns its path.
  func write(_ text: String, to name: String) throws -> String {
    let file = (path as NSString).appendingPathComponent(name)
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    return file
  }

  /// The path of `name` in the directory.
  func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

  func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` and returns the `DataError` it throws, recording an issue if it throws nothing.
func dataError<T>(
  sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> DataError? {
  do {
    _ = try body()
    Issue.record("expected a DataError, got a value", sourceLocation: sourceLocation)
    return nil
  } catch let error as DataError {
    return error
  } catch {
    Issue.record("expected a DataError, got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}
