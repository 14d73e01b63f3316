import Foundation
import Testing
import Unlearning

#if canImport(Glibc)
  import Glibc
#endif

/// A fresh directory under the system temporary directory, removed afterwards.
func withScratchDirectory<T>(_ body: (String) throws -> T) throws -> T {
  let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("secure-file-tests-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
  defer { try? FileManager.default.removeItem(atPath: directory) }
  return try body(directory)
}

/// The permission bits of `path` (following links).
func permissions(_ path: String) -> mode_t {
  var info = stat()
  guard stat(path, &info) == 0 else { return 0o7777 }
  return info.st_mode & 0o7777
}

/// The process umask is global: tests that change it run one at a time.
let umaskGate = NSLock()

/// Runs `body` with the process umask set to `mask`, restoring it afterwards.
func withUmask<T>(_ mask: mode_t, _ body: () throws -> T) rethrows -> T {
  umaskGate.lock()
  defer { umaskGate.unlock() }
  let previous = umask(mask)
  defer { umask(previous) }
  return try body()
}

@Suite("Secure file writes")
struct SecureFileTests {
  @Test("writes the bytes with permission 0600 even under umask 0")
  func privateUnderUmaskZero() throws {
    try withScratchDirectory { directory in
      let path = directory + "/model.json"
      try withUmask(0) {
        try SecureFile.writeAtomically(Data("secret".utf8), to: path)
      }
      #expect(FileManager.default.contents(atPath: path) == Data("secret".utf8))
      #expect(permissions(path) == 0o600)
      #expect(SecureFile.strayTemporaryFiles(for: path).isEmpty)
    }
  }

  @Test("overwriting a 0644 file leaves 0600; mode 0644 is honoured under umask 077")
  func overwriteModes() throws {
    try withScratchDirectory { directory in
      let path = directory + "/model.json"
      #expect(FileManager.default.createFile(atPath: path, contents: Data("old".utf8)))
      chmod(path, 0o644)
      try withUmask(0) { try SecureFile.writeAtomically(Data("new".utf8), to: path) }
      #expect(permissions(path) == 0o600)
      #expect(FileManager.default.contents(atPath: path) == Data("new".utf8))
      try withUmask(0o077) {
        try SecureFile.writeAtomically(Data("public".utf8), to: path, mode: 0o644)
      }
      #expect(permissions(path) == 0o644)
      #expect(FileManager.default.contents(atPath: path) == Data("public".utf8))
    }
  }

  @Test("the temporary file is 0600 from its creation, before any byte is written")
  func temporaryFileIsPrivateFromTheStart() throws {
    try withScratchDirectory { directory in
      let path = directory + "/model.json"
      var seen: mode_t = 0
      var temporaryName = ""
      try withUmask(0) {
        try SecureFile.writeAtomically(
          Data("x".utf8), to: path, mode: 0o600,
          beforeRename: { temporary in
            seen = permissions(temporary)
            temporaryName = (temporary as NSString).lastPathComponent
          })
      }
      #expect(seen == 0o600)
      #expect(temporaryName.hasPrefix(".model.json.tmp-"))
      #expect(temporaryName.count == ".model.json.tmp-".count + 12)
    }
  }

  @Test("a device, directory, FIFO or link to one is refused before anything is written")
  func nonRegularTargetsRefused() throws {
    #expect(throws: FileSafetyError.notRegularFile(path: "/dev/null", kind: "character device")) {
      try SecureFile.writeAtomically(Data("x".utf8), to: "/dev/null")
    }
    #expect(SecureFile.strayTemporaryFiles(for: "/dev/null").isEmpty)
    try withScratchDirectory { directory in
      let sub = directory + "/sub"
      try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
      #expect(throws: FileSafetyError.notRegularFile(path: sub, kind: "directory")) {
        try SecureFile.writeAtomically(Data("x".utf8), to: sub)
      }
      let fifo = directory + "/pipe"
      #expect(mkfifo(fifo, 0o600) == 0)
      #expect(throws: FileSafetyError.notRegularFile(path: fifo, kind: "FIFO")) {
        try SecureFile.writeAtomically(Data("x".utf8), to: fifo)
      }
      let linkToDirectory = directory + "/link-to-dir"
      #expect(symlink(sub, linkToDirectory) == 0)
      #expect(
        throws: FileSafetyError.notRegularFile(
          path: linkToDirectory, kind: "symbolic link to a directory")
      ) {
        try SecureFile.writeAtomically(Data("x".utf8), to: linkToDirectory)
      }
      let linkToDevice = directory + "/link-to-null"
      #expect(symlink("/dev/null", linkToDevice) == 0)
      #expect(throws: FileSafetyError.self) {
        try SecureFile.writeAtomically(Data("x".utf8), to: linkToDevice)
      }
      let dangling = directory + "/dangling"
      #expect(symlink(directory + "/nowhere", dangling) == 0)
      #expect(
        throws: FileSafetyError.notRegularFile(path: dangling, kind: "dangling symbolic link")
      ) {
        try SecureFile.writeAtomically(Data("x".utf8), to: dangling)
      }
      let names = try FileManager.default.contentsOfDirectory(atPath: directory)
      #expect(names.allSatisfy { !$0.contains(".tmp-") }, "\(names)")
      #expect(FileManager.default.fileExists(atPath: directory + "/nowhere") == false)
    }
  }

  @Test("a link to a regular file is followed: the target is replaced, the link kept")
  func linkToRegularFileFollowed() throws {
    try withScratchDirectory { directory in
      let target = directory + "/v3.json"
      let link = directory + "/current.json"
      #expect(FileManager.default.createFile(atPath: target, contents: Data("old".utf8)))
      #expect(symlink("v3.json", link) == 0)
      try SecureFile.writeAtomically(Data("new".utf8), to: link)
      #expect(FileManager.default.contents(atPath: target) == Data("new".utf8))
      let destination = try FileManager.default.destinationOfSymbolicLink(atPath: link)
      #expect(destination == "v3.json")
    }
  }

  @Test("a parent that is a regular file fails cleanly (works as root too)")
  func parentIsRegularFile() throws {
    try withScratchDirectory { directory in
      let file = directory + "/plain"
      #expect(FileManager.default.createFile(atPath: file, contents: Data()))
      let path = file + "/model.json"
      #expect(throws: FileSafetyError.directoryMissing(path: path, directory: file)) {
        try SecureFile.writeAtomically(Data("x".utf8), to: path)
      }
      let names = try FileManager.default.contentsOfDirectory(atPath: directory)
      #expect(names == ["plain"])
      #expect(
        throws: FileSafetyError.directoryMissing(
          path: directory + "/missing/model.json", directory: directory + "/missing")
      ) {
        try SecureFile.writeAtomically(Data("x".utf8), to: directory + "/missing/model.json")
      }
    }
  }

  @Test("a failed rename removes the temporary file and leaves the target alone")
  func failedRenameRemovesTemporary() throws {
    try withScratchDirectory { directory in
      let path = directory + "/model.json"
      var temporaryPath = ""
      // The target turns into a directory after the checks: rename(2) fails with EISDIR, even
      // for root.
      #expect(throws: FileSafetyError.ioFailed(path: path, operation: "rename", errno: EISDIR)) {
        try SecureFile.writeAtomically(
          Data("x".utf8), to: path, mode: 0o600,
          beforeRename: { temporary in
            temporaryPath = temporary
            try? FileManager.default.createDirectory(
              atPath: path, withIntermediateDirectories: false)
          })
      }
      #expect(!temporaryPath.isEmpty)
      #expect(!FileManager.default.fileExists(atPath: temporaryPath))
      #expect(SecureFile.strayTemporaryFiles(for: path).isEmpty)
      var isDirectory: ObjCBool = false
      #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory))
      #expect(isDirectory.boolValue)
    }
  }

  @Test("strayTemporaryFiles finds only this file's temporary names")
  func strayTemporaryFiles() throws {
    try withScratchDirectory { directory in
      let path = directory + "/model.json"
      for name in [
        ".model.json.tmp-AbC123xyZ789", ".model.json.tmp-short", ".other.json.tmp-AbC123xyZ789",
        ".model.json.tmp-AbC123xyZ78.", "model.json",
      ] {
        #expect(FileManager.default.createFile(atPath: directory + "/" + name, contents: Data()))
      }
      #expect(
        SecureFile.strayTemporaryFiles(for: path) == [directory + "/.model.json.tmp-AbC123xyZ789"])
      #expect(SecureFile.strayTemporaryFiles(for: directory + "/missing/x").isEmpty)
    }
  }

  @Test("8 concurrent writers: the file holds exactly one complete version, no strays")
  func concurrentWriters() throws {
    try withScratchDirectory { directory in
      let path = directory + "/model.json"
      let versions = (0..<8).map { writer in
        Data(String(repeating: "writer \(writer);", count: 20_000).utf8)
      }
      let failures = LockedCounter()
      DispatchQueue.concurrentPerform(iterations: 8) { writer in
        for _ in 0..<5 {
          do {
            try SecureFile.writeAtomically(versions[writer], to: path)
          } catch {
            failures.increment()
          }
        }
      }
      #expect(failures.value == 0)
      let contents = FileManager.default.contents(atPath: path)
      #expect(contents.map { versions.contains($0) } == true)
      #expect(permissions(path) == 0o600)
      #expect(SecureFile.strayTemporaryFiles(for: path).isEmpty)
    }
  }

  @Test("error descriptions are one line naming the path and the reason")
  func descriptions() {
    let errors: [(FileSafetyError, [String])] = [
      (.collision(output: "out.csv", other: "in.csv", otherIsInput: true), ["out.csv", "input"]),
      (.notRegularFile(path: "/dev/null", kind: "character device"), ["/dev/null", "device"]),
      (.directoryMissing(path: "a/b", directory: "a"), ["a/b", "does not exist"]),
      (.directoryNotWritable(path: "a/b", directory: "a"), ["not writable"]),
      (
        .lockTimeout(path: "m.json", lockFile: "/x/m.json.lock", seconds: 30),
        ["m.json.lock", "another request", "30 s"]
      ),
      (
        .ioFailed(path: "m.json", operation: "write", errno: ENOSPC),
        ["write failed", "m.json", "No space left"]
      ),
      (.standardOutputRepeated, ["standard output"]),
    ]
    for (error, fragments) in errors {
      let text = error.description
      #expect(!text.contains("\n"))
      #expect(!text.contains("Error Domain"))
      for fragment in fragments {
        #expect(text.contains(fragment), "'\(text)' lacks '\(fragment)'")
      }
    }
  }
}

/// A thread-safe counter for concurrency tests.
final class LockedCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0

  func increment() {
    lock.lock()
    count += 1
    lock.unlock()
  }

  var value: Int {
    lock.lock()
    defer { lock.unlock() }
    return count
  }
}

@Suite("Output plans")
struct OutputPlanTests {
  @Test(
    "an output equal to an input is refused, by name, via a symlink, via a/../b, via a hard link")
  func collisionsWithInputs() throws {
    try withScratchDirectory { directory in
      let input = directory + "/data.csv"
      #expect(FileManager.default.createFile(atPath: input, contents: Data("1,2\n".utf8)))
      try FileManager.default.createDirectory(
        atPath: directory + "/sub", withIntermediateDirectories: false)

      #expect(throws: FileSafetyError.collision(output: input, other: input, otherIsInput: true)) {
        try SecureFile.checkOutputs(inputs: [input], outputs: [input])
      }
      let link = directory + "/alias.csv"
      #expect(symlink(input, link) == 0)
      #expect(throws: FileSafetyError.collision(output: link, other: input, otherIsInput: true)) {
        try SecureFile.checkOutputs(inputs: [input], outputs: [link])
      }
      let dotted = directory + "/sub/../data.csv"
      #expect(throws: FileSafetyError.collision(output: dotted, other: input, otherIsInput: true)) {
        try SecureFile.checkOutputs(inputs: [input], outputs: [dotted])
      }
      // The input named through the link, the output by its real path.
      #expect(throws: FileSafetyError.collision(output: input, other: link, otherIsInput: true)) {
        try SecureFile.checkOutputs(inputs: [link], outputs: [input])
      }
      let hard = directory + "/hard.csv"
      #expect(Glibc.link(input, hard) == 0)
      #expect(throws: FileSafetyError.collision(output: hard, other: input, otherIsInput: true)) {
        try SecureFile.checkOutputs(inputs: [input], outputs: [hard])
      }
      // A linked directory on the way.
      let linkedDirectory = directory + "/linked"
      #expect(symlink(directory + "/sub", linkedDirectory) == 0)
      let viaLinkedDirectory = linkedDirectory + "/../data.csv"
      #expect(throws: FileSafetyError.self) {
        try SecureFile.checkOutputs(inputs: [input], outputs: [viaLinkedDirectory])
      }
    }
  }

  @Test("two outputs naming one new file are refused; '-' is allowed once")
  func collisionsBetweenOutputs() throws {
    try withScratchDirectory { directory in
      try FileManager.default.createDirectory(
        atPath: directory + "/sub", withIntermediateDirectories: false)
      let first = directory + "/model.json"
      let second = directory + "/sub/../model.json"
      #expect(throws: FileSafetyError.collision(output: second, other: first, otherIsInput: false))
      {
        try SecureFile.checkOutputs(inputs: [], outputs: [first, second])
      }
      let plan = try SecureFile.checkOutputs(inputs: ["-"], outputs: ["-", first])
      #expect(plan.writesStandardOutput)
      #expect(plan.resolvedOutputs.first == "-")
      #expect(plan.resolvedOutputs.last?.hasSuffix("/model.json") == true)
      #expect(plan.resolvedOutputs.last?.contains("..") == false)
      #expect(throws: FileSafetyError.standardOutputRepeated) {
        try SecureFile.checkOutputs(inputs: [], outputs: ["-", first, "-"])
      }
    }
  }

  @Test("devices, directories and missing directories are refused before any work")
  func unwritableOutputs() throws {
    #expect(throws: FileSafetyError.notRegularFile(path: "/dev/null", kind: "character device")) {
      try SecureFile.checkOutputs(inputs: [], outputs: ["/dev/null"])
    }
    try withScratchDirectory { directory in
      #expect(throws: FileSafetyError.notRegularFile(path: directory, kind: "directory")) {
        try SecureFile.checkOutputs(inputs: [], outputs: [directory])
      }
      let missing = directory + "/missing/out.json"
      #expect(
        throws: FileSafetyError.directoryMissing(path: missing, directory: directory + "/missing")
      ) {
        try SecureFile.checkOutputs(inputs: [], outputs: [missing])
      }
      let plain = directory + "/plain"
      #expect(FileManager.default.createFile(atPath: plain, contents: Data()))
      #expect(throws: FileSafetyError.self) {
        try SecureFile.checkOutputs(inputs: [], outputs: [plain + "/out.json"])
      }
      if geteuid() != 0 {
        // Root bypasses permission bits, so this check only runs as an ordinary user.
        let locked = directory + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        chmod(locked, 0o500)
        defer { chmod(locked, 0o700) }
        #expect(
          throws: FileSafetyError.directoryNotWritable(
            path: locked + "/out.json", directory: resolvedPath(locked))
        ) {
          try SecureFile.checkOutputs(inputs: [], outputs: [locked + "/out.json"])
        }
      }
    }
  }

  @Test("a clean plan passes: distinct outputs, existing regular output, missing inputs")
  func cleanPlan() throws {
    try withScratchDirectory { directory in
      let existing = directory + "/old-model.json"
      #expect(FileManager.default.createFile(atPath: existing, contents: Data("{}".utf8)))
      let plan = try OutputPlan(
        inputs: [directory + "/data.csv", directory + "/not-there.csv"],
        outputs: [existing, directory + "/report.txt"])
      #expect(plan.resolvedOutputs.count == 2)
      #expect(!plan.writesStandardOutput)
    }
  }
}

/// `realpath(3)` of `path`, or `path`.
func resolvedPath(_ path: String) -> String {
  guard let resolved = realpath(path, nil) else { return path }
  defer { free(resolved) }
  return String(cString: resolved)
}

@Suite("File locks")
struct FileLockTests {
  @Test("a second lock on the same path times out with a message naming the lock file")
  func inProcessContention() throws {
    try withScratchDirectory { directory in
      let path = directory + "/model.json"
      let held = try FileLock(path: path)
      #expect(held.isHeld)
      #expect(held.lockFile.hasSuffix("/model.json.lock"))
      #expect(permissions(held.lockFile) == 0o600)
      let start = Date()
      do {
        _ = try FileLock(path: path, timeout: 0.3)
        Issue.record("the second lock was granted")
      } catch let error as FileSafetyError {
        #expect(error == .lockTimeout(path: path, lockFile: held.lockFile, seconds: 0.3))
        #expect(error.description.contains("model.json.lock"))
        #expect(error.description.contains("another request"))
      } catch {
        Issue.record("unexpected error \(error)")
      }
      #expect(Date().timeIntervalSince(start) >= 0.25)
      held.release()
      #expect(!held.isHeld)
      let again = try FileLock(path: path, timeout: 0)
      #expect(again.isHeld)
    }
  }

  @Test("a lock held by another process (flock(1)) times out, and is free once it exits")
  func otherProcessContention() throws {
    try withScratchDirectory { directory in
      let path = directory + "/model.json"
      let lockFile = resolvedPath(directory) + "/model.json.lock"
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
      // -o: the command does not inherit the lock; flock(1) holds it until `cat` ends, which
      // is when the test closes the pipe.
      process.arguments = ["-o", "-x", lockFile, "sh", "-c", "echo ready; exec cat"]
      let input = Pipe()
      let output = Pipe()
      process.standardInput = input
      process.standardOutput = output
      try process.run()
      let ready = output.fileHandleForReading.availableData
      #expect(String(decoding: ready, as: UTF8.self).hasPrefix("ready"))
      #expect(throws: FileSafetyError.lockTimeout(path: path, lockFile: lockFile, seconds: 0.3)) {
        _ = try FileLock(path: path, timeout: 0.3)
      }
      try input.fileHandleForWriting.close()
      process.waitUntilExit()
      #expect(process.terminationStatus == 0)
      let lock = try FileLock(path: path, timeout: 5)
      #expect(lock.isHeld)
    }
  }

  @Test("withLock releases on a throw and on deinit; the same file via a symlink shares the lock")
  func scopeRelease() throws {
    struct Failure: Error {}
    try withScratchDirectory { directory in
      let path = directory + "/model.json"
      #expect(throws: Failure.self) {
        try FileLock.withLock(path, timeout: 1) { () throws -> Int in throw Failure() }
      }
      do {
        let lock = try FileLock(path: path, timeout: 0)
        _ = lock
      }
      let value = try FileLock.withLock(path, timeout: 0) { 42 }
      #expect(value == 42)
      #expect(FileManager.default.createFile(atPath: path, contents: Data()))
      let alias = directory + "/alias.json"
      #expect(symlink(path, alias) == 0)
      let held = try FileLock(path: alias)
      #expect(throws: FileSafetyError.self) { _ = try FileLock(path: path, timeout: 0) }
      held.release()
    }
  }

  @Test("8 threads doing read-modify-write under the lock lose no update")
  func mutualExclusion() throws {
    try withScratchDirectory { directory in
      let path = directory + "/counter"
      try SecureFile.writeAtomically(Data("0".utf8), to: path)
      let failures = LockedCounter()
      DispatchQueue.concurrentPerform(iterations: 8) { _ in
        for _ in 0..<25 {
          do {
            try FileLock.withLock(path, timeout: 30) {
              let text = String(
                decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
              let next = (Int(text) ?? -1000) + 1
              try SecureFile.writeAtomically(Data(String(next).utf8), to: path)
            }
          } catch {
            failures.increment()
          }
        }
      }
      #expect(failures.value == 0)
      let final = String(
        decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
      #expect(final == "200")
    }
  }
}
