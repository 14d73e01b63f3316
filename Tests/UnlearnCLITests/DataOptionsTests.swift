import Foundation
import Testing
import UnlearnCLI

@Suite("Data options")
struct DataOptionsTests {
  static func runError(_ arguments: [String]) -> String? {
    do {
      var command = try Unlearn.parseAsRoot(arguments)
      try command.run()
      Issue.record("expected an error from \(arguments)")
      return nil
    } catch {
      return "\(error)"
    }
  }

  @Test("one Fashion-MNIST class is refused before any data is read")
  func singleFashionMNISTClass() throws {
    let message = try #require(
      Self.runError([
        "compare", "--dataset", "fashion-mnist", "--classes", "3", "--model", "softmax",
      ]))
    #expect(message.contains("--classes 3") && message.contains("at least 2 classes"))
    #expect(!message.contains("\n"))
    let twice = try #require(
      Self.runError(["compare", "--dataset", "fashion-mnist", "--classes", "3,3"]))
    #expect(twice.contains("listed twice"))
  }

  @Test("a one-class CSV and a semicolon CSV give one-line errors; --delimiter loads it")
  func csvThroughTheCommandLine() throws {
    let directory = NSTemporaryDirectory() + "unlearn-data-options-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let one = directory + "/one.csv"
    let oneText = "x,y,label\n" + (0..<20).map { "\($0),\($0 % 3),a\n" }.joined()
    try oneText.write(toFile: one, atomically: true, encoding: .utf8)
    let oneClass = try #require(
      Self.runError(["compare", "--dataset", "csv:" + one, "--model", "softmax", "--forget", "2"]))
    #expect(oneClass.contains("1 class") && oneClass.contains("at least 2"))
    #expect(!oneClass.contains("\n"))

    let semi = directory + "/semi.csv"
    let rows = (0..<40).map { "\($0 % 7);\($0 % 5);\($0 % 2 == 0 ? "a" : "b")\n" }
    let semiText = "x;y;label\n" + rows.joined()
    try semiText.write(toFile: semi, atomically: true, encoding: .utf8)
    let hint = try #require(
      Self.runError(["compare", "--dataset", "csv:" + semi, "--model", "logistic", "--forget", "2"])
    )
    #expect(hint.contains("looks semicolon-delimited; pass --delimiter ';'"))
    var command = try Unlearn.parseAsRoot([
      "compare", "--dataset", "csv:" + semi, "--delimiter", ";", "--model", "logistic",
      "--methods", "retrain,naive", "--forget", "2",
    ])
    try command.run()
    let bad = try #require(
      Self.runError(["compare", "--dataset", "csv:" + semi, "--delimiter", ";;", "--forget", "2"]))
    #expect(bad.contains("--delimiter"))
  }

  @Test("a folder given as --dataset csv:PATH is reported as a directory")
  func directoryDataset() throws {
    let message = try #require(
      Self.runError(["compare", "--dataset", "csv:" + NSTemporaryDirectory(), "--forget", "2"]))
    #expect(message.contains("is a directory"))
    #expect(!message.contains("no such file"))
  }
}
