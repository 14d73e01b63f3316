import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a file operation was refused or failed. Every case names the path and the reason in one
/// readable line (``description``); none wraps a raw system error object.
package enum FileSafetyError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The output `output` is the same file as `other` (an input when `otherIsInput`, else another
  /// output): same resolved path, or same device and inode.
  case collision(output: String, other: String, otherIsInput: Bool)
  /// `path` exists and is not a regular file; `kind` says what it is ("directory",
  /// "character device", "symbolic link to a FIFO", "dangling symbolic link", ...).
  case notRegularFile(path: String, kind: String)
  /// The directory `directory` that should hold `path` does not exist or is not a directory.
  case directoryMissing(path: String, directory: String)
  /// The directory `directory` that should hold `path` cannot be written.
  case directoryNotWritable(path: String, directory: String)
  /// Standard output (`-`) was named as an output more than once.
  case standardOutputRepeated
  /// The empty string was given as a path.
  case emptyPath
  /// The lock `lockFile` protecting `path` stayed held by another request for `seconds`.
  case lockTimeout(path: String, lockFile: String, seconds: Double)
  /// The system call behind `operation` ("write", "rename", "sync", ...) failed on `path` with
  /// `errno`.
  case ioFailed(path: String, operation: String, errno: Int32)

  /// One line naming the path and the reason.
  package var description: String {
    switch self {
    case .collision(let output, let other, let otherIsInput):
      return "refusing to write '\(output)': it is the same file as the "
        + (otherIsInput ? "input" : "output") + " '\(other)'"
    case .notRegularFile(let path, let kind):
      return "refusing to write '\(path)': it exists and is a \(kind), not a regular file"
    case .directoryMissing(let path, let directory):
      return "cannot write '\(path)': the directory '\(directory)' does not exist"
    case .directoryNotWritable(let path, let directory):
      return "cannot write '\(path)': the directory '\(directory)' is not writable"
    case .standardOutputRepeated:
      return "standard output ('-') can receive only one of the outputs"
    case .emptyPath:
      return "an empty string is not a file path"
    case .lockTimeout(let path, let lockFile, let seconds):
      return "'\(path)' is locked by another request (lock file '\(lockFile)'); gave up after"
        + " \(Self.format(seconds)) s: retry when that request has finished"
    case .ioFailed(let path, let operation, let code):
      return "\(operation) failed for '\(path)': \(Self.errorText(code))"
    }
  }

  /// The system's text for `code` (`strerror`).
  static func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
  }

  private static func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
  }
}

/// Crash-safe, private file writes and the checks that go before them.
///
/// ``writeAtomically(_:to:mode:)`` never leaves a half-written or briefly world-readable file:
/// the bytes go to a fresh temporary file in the target's directory, created exclusively with
/// permission `0600`, are synced, and replace the target by `rename`. A crash leaves either the
/// old file or the new one, plus possibly a stray temporary file named
/// `.<basename>.tmp-<random>` that ``strayTemporaryFiles(for:)`` finds.
package enum SecureFile {
  /// The characters of the random part of temporary file names.
  static let randomAlphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
  /// The length of the random part of temporary file names.
  static let randomLength = 12

  /// Writes `data` to `path` atomically: afterwards `path` holds exactly `data` with
  /// permission `mode`, or (on any error) is unchanged.
  ///
  /// Steps: refuse a target that exists and is not a regular file (a directory, device, FIFO,
  /// socket, or a symbolic link to one of those or to nothing) before writing anything; create
  /// `.<basename>.tmp-<random>` in the same directory with `O_CREAT | O_EXCL | O_NOFOLLOW` and
  /// permission `0600` (narrowed, never widened, by the umask); write every byte; set `mode`
  /// exactly (whatever the umask); `fsync`; `rename` over the target; `fsync` the directory.
  /// On failure the temporary file is removed. Should only the final directory `fsync` fail
  /// (`.ioFailed` with operation "sync the directory of"), the new contents are already in
  /// place but might not survive a power loss.
  ///
  /// A symbolic link to a regular file is followed: the file it points to is replaced and the
  /// link kept.
  ///
  /// - Parameters:
  ///   - data: the complete new contents.
  ///   - path: the target file.
  ///   - mode: the permission bits of the result (`0o600` for private files; a package release
  ///     may pass `0o644`).
  /// - Throws: ``FileSafetyError``: `.notRegularFile`, `.directoryMissing`,
  ///   `.directoryNotWritable`, `.ioFailed`, `.emptyPath`.
  /// - Complexity: one pass over `data` plus two `fsync` calls.
  package static func writeAtomically(
    _ data: Data, to path: String, mode: mode_t = 0o600
  ) throws(FileSafetyError) {
    try writeAtomically(data, to: path, mode: mode, beforeRename: nil)
  }

  /// ``writeAtomically(_:to:mode:)`` with a hook run after the temporary file is complete and
  /// before it is renamed (receives the temporary path). For fault-injection tests only.
  package static func writeAtomically(
    _ data: Data, to path: String, mode: mode_t, beforeRename: ((String) -> Void)?
  ) throws(FileSafetyError) {
    let target = try resolveWriteTarget(path)
    let (directory, base) = split(target)
    try requireDirectory(directory, for: path)

    let (descriptor, temporary) = try createTemporaryFile(
      directory: directory, base: base, for: path)
    var failure: FileSafetyError?
    if let error = writeAll(data, to: descriptor) {
      failure = .ioFailed(path: path, operation: "write", errno: error)
    } else if fchmod(descriptor, mode & 0o7777) != 0 {
      failure = .ioFailed(path: path, operation: "set the permissions of", errno: errno)
    } else if fsync(descriptor) != 0 {
      failure = .ioFailed(path: path, operation: "sync", errno: errno)
    }
    if close(descriptor) != 0, failure == nil {
      failure = .ioFailed(path: path, operation: "close", errno: errno)
    }
    if failure == nil {
      beforeRename?(temporary)
      if rename(temporary, target) != 0 {
        failure = .ioFailed(path: path, operation: "rename", errno: errno)
      }
    }
    if let failure {
      unlink(temporary)
      throw failure
    }
    try syncDirectory(directory, for: path)
  }

  /// The stray temporary files that interrupted ``writeAtomically(_:to:mode:)`` calls on `path`
  /// may have left: files named `.<basename>.tmp-<12 letters or digits>` in the directory of
  /// `path` (of the file it links to, when `path` is a symbolic link). Full paths, sorted.
  ///
  /// Remove them only while holding the ``FileLock`` of `path`: a concurrent writer's live
  /// temporary file has the same form.
  package static func strayTemporaryFiles(for path: String) -> [String] {
    let target = (try? resolveWriteTarget(path)) ?? path
    let (directory, base) = split(target)
    let prefix = ".\(base).tmp-"
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
      return []
    }
    return
      names
      .filter { name in
        guard name.hasPrefix(prefix) else { return false }
        let suffix = name.dropFirst(prefix.count)
        return suffix.count == randomLength && suffix.allSatisfy { randomAlphabet.contains($0) }
      }
      .sorted()
      .map { join(directory, $0) }
  }

  /// Refuses, before any work, an output plan that would overwrite an input or write one file
  /// twice; see ``OutputPlan/init(inputs:outputs:)``.
  ///
  /// - Returns: the plan, with every output's resolved path.
  @discardableResult
  package static func checkOutputs(
    inputs: [String], outputs: [String]
  ) throws(FileSafetyError) -> OutputPlan {
    try OutputPlan(inputs: inputs, outputs: outputs)
  }

  // MARK: - Path helpers

  /// The file that a write to `path` replaces: `path` itself when it does not exist or is a
  /// regular file, the resolved target when it is a symbolic link to a regular file.
  static func resolveWriteTarget(_ path: String) throws(FileSafetyError) -> String {
    guard !path.isEmpty else { throw .emptyPath }
    var info = stat()
    if lstat(path, &info) != 0 {
      let code = errno
      if code == ENOENT { return path }
      if code == ENOTDIR { throw .directoryMissing(path: path, directory: split(path).directory) }
      throw .ioFailed(path: path, operation: "inspect", errno: code)
    }
    let type = info.st_mode & S_IFMT
    if type == S_IFREG { return path }
    guard type == S_IFLNK else { throw .notRegularFile(path: path, kind: kind(of: info.st_mode)) }
    var followed = stat()
    guard stat(path, &followed) == 0 else {
      throw .notRegularFile(path: path, kind: "dangling symbolic link")
    }
    guard followed.st_mode & S_IFMT == S_IFREG else {
      throw .notRegularFile(path: path, kind: "symbolic link to a \(kind(of: followed.st_mode))")
    }
    guard let real = realPath(path) else {
      throw .ioFailed(path: path, operation: "resolve", errno: errno)
    }
    return real
  }

  /// Throws unless `directory` exists and is a directory.
  static func requireDirectory(_ directory: String, for path: String) throws(FileSafetyError) {
    var info = stat()
    guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
      throw .directoryMissing(path: path, directory: directory)
    }
  }

  /// Creates `.<base>.tmp-<random>` in `directory` exclusively with permission `0600`.
  static func createTemporaryFile(
    directory: String, base: String, for path: String
  ) throws(FileSafetyError) -> (descriptor: Int32, path: String) {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<100 {
      let random = String(
        (0..<randomLength).map { _ in
          randomAlphabet[Int(generator.next(upperBound: UInt64(randomAlphabet.count)))]
        })
      let temporary = join(directory, ".\(base).tmp-\(random)")
      let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
      if descriptor >= 0 { return (descriptor, temporary) }
      let code = errno
      if code == EEXIST || code == EINTR { continue }
      if code == EACCES || code == EROFS || code == EPERM {
        throw .directoryNotWritable(path: path, directory: directory)
      }
      if code == ENOENT || code == ENOTDIR {
        throw .directoryMissing(path: path, directory: directory)
      }
      throw .ioFailed(path: path, operation: "create a temporary file for", errno: code)
    }
    throw .ioFailed(path: path, operation: "create a temporary file for", errno: EEXIST)
  }

  /// Writes every byte of `data`, retrying short writes and `EINTR`; the failing `errno`, or nil.
  static func writeAll(_ data: Data, to descriptor: Int32) -> Int32? {
    data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Int32? in
      guard let base = buffer.baseAddress else { return nil }
      var offset = 0
      while offset < buffer.count {
        let written = write(descriptor, base + offset, buffer.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          return errno
        }
        if written == 0 { return EIO }
        offset += written
      }
      return nil
    }
  }

  /// `fsync` on a directory, so that a completed `rename` survives a power loss.
  static func syncDirectory(_ directory: String, for path: String) throws(FileSafetyError) {
    let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw .ioFailed(path: path, operation: "open the directory of", errno: errno)
    }
    defer { close(descriptor) }
    // Some file systems cannot sync directories (EINVAL); the rename itself has happened.
    if fsync(descriptor) != 0, errno != EINVAL {
      throw .ioFailed(path: path, operation: "sync the directory of", errno: errno)
    }
  }

  /// A readable name for the file type in `mode`.
  static func kind(of mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFDIR: return "directory"
    case S_IFCHR: return "character device"
    case S_IFBLK: return "block device"
    case S_IFIFO: return "FIFO"
    case S_IFSOCK: return "socket"
    case S_IFLNK: return "symbolic link"
    case S_IFREG: return "regular file"
    default: return "special file"
    }
  }

  /// `realpath(3)`, or nil.
  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// Splits a path into its directory (`.` when there is none) and last component; trailing
  /// slashes are ignored.
  static func split(_ path: String) -> (directory: String, base: String) {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
    let base = String(trimmed[trimmed.index(after: slash)...])
    var directory = trimmed[..<slash]
    while directory.count > 1, directory.hasSuffix("/") { directory = directory.dropLast() }
    return (directory.isEmpty ? "/" : String(directory), base)
  }

  /// `directory/name` without a doubled slash.
  static func join(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
  }
}

/// A checked set of inputs and outputs for one command: built only if no output overwrites an
/// input or another output, and every output can be written.
///
/// Run it before any work so that a typo such as `--output data.csv` fails at once instead of
/// destroying the input after minutes of computation.
package struct OutputPlan: Sendable, Equatable {
  /// The inputs as given (`-` is standard input).
  package let inputs: [String]
  /// The outputs as given (`-` is standard output).
  package let outputs: [String]
  /// For each output, its resolved absolute path (symbolic links and `..` resolved; for a file
  /// that does not exist yet, its resolved directory plus its name), or `-`.
  package let resolvedOutputs: [String]

  /// Whether one output is standard output.
  package var writesStandardOutput: Bool { outputs.contains("-") }

  /// Checks the plan. Refuses:
  /// - an output that is the same file as an input or an earlier output, by resolved real path
  ///   (symbolic links and `..` resolved) or, when both exist, by device and inode (hard links);
  /// - an output that exists and is not a regular file (device, directory, FIFO, socket,
  ///   dangling link or link to such);
  /// - an output whose directory does not exist or is not writable;
  /// - standard output (`-`) named more than once. `-` never collides with anything else, and as
  ///   an input it means standard input.
  ///
  /// Inputs that do not exist are not an error here (the command reports them when it reads).
  ///
  /// - Throws: ``FileSafetyError``: `.collision`, `.notRegularFile`, `.directoryMissing`,
  ///   `.directoryNotWritable`, `.standardOutputRepeated`, `.emptyPath`.
  /// - Complexity: O((inputs + outputs)^2) path comparisons and one `stat` per path.
  package init(inputs: [String], outputs: [String]) throws(FileSafetyError) {
    var resolvedInputs = [(given: String, identity: Resolved)]()
    for input in inputs where input != "-" {
      guard !input.isEmpty else { throw .emptyPath }
      resolvedInputs.append((input, Self.resolveInput(input)))
    }
    var seenStandardOutput = false
    var resolvedOutputs = [String]()
    var earlier = [(given: String, identity: Resolved)]()
    for output in outputs {
      if output == "-" {
        guard !seenStandardOutput else { throw .standardOutputRepeated }
        seenStandardOutput = true
        resolvedOutputs.append("-")
        continue
      }
      let resolved = try Self.resolveOutput(output)
      for input in resolvedInputs where input.identity.sameFile(as: resolved) {
        throw .collision(output: output, other: input.given, otherIsInput: true)
      }
      for other in earlier where other.identity.sameFile(as: resolved) {
        throw .collision(output: output, other: other.given, otherIsInput: false)
      }
      earlier.append((output, resolved))
      resolvedOutputs.append(resolved.path)
    }
    self.inputs = inputs
    self.outputs = outputs
    self.resolvedOutputs = resolvedOutputs
  }

  /// A resolved path and, for an existing file, its device and inode.
  struct Resolved {
    var path: String
    var device: UInt64?
    var inode: UInt64?

    func sameFile(as other: Resolved) -> Bool {
      if path == other.path { return true }
      if let device, let inode, let otherDevice = other.device, let otherInode = other.inode {
        return device == otherDevice && inode == otherInode
      }
      return false
    }
  }

  /// Best-effort resolution of an input; never throws.
  static func resolveInput(_ path: String) -> Resolved {
    var info = stat()
    if stat(path, &info) == 0, let real = SecureFile.realPath(path) {
      return Resolved(path: real, device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
    let (directory, base) = SecureFile.split(path)
    if let realDirectory = SecureFile.realPath(directory) {
      return Resolved(path: SecureFile.join(realDirectory, base))
    }
    return Resolved(path: (path as NSString).standardizingPath)
  }

  /// Resolution of an output, with the checks that it can be written as a regular file.
  static func resolveOutput(_ path: String) throws(FileSafetyError) -> Resolved {
    guard !path.isEmpty else { throw .emptyPath }
    var link = stat()
    if lstat(path, &link) == 0 {
      var info = stat()
      guard stat(path, &info) == 0 else {
        throw .notRegularFile(path: path, kind: "dangling symbolic link")
      }
      guard info.st_mode & S_IFMT == S_IFREG else {
        let kind = SecureFile.kind(of: info.st_mode)
        throw .notRegularFile(
          path: path, kind: link.st_mode & S_IFMT == S_IFLNK ? "symbolic link to a \(kind)" : kind)
      }
      guard let real = SecureFile.realPath(path) else {
        throw .ioFailed(path: path, operation: "resolve", errno: errno)
      }
      try requireWritableDirectory(SecureFile.split(real).directory, for: path)
      return Resolved(path: real, device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
    let code = errno
    let (directory, base) = SecureFile.split(path)
    guard code == ENOENT || code == ENOTDIR,
      let realDirectory = SecureFile.realPath(directory)
    else {
      if code == ENOENT || code == ENOTDIR {
        throw .directoryMissing(path: path, directory: directory)
      }
      throw .ioFailed(path: path, operation: "inspect", errno: code)
    }
    try requireWritableDirectory(realDirectory, for: path)
    return Resolved(path: SecureFile.join(realDirectory, base))
  }

  /// Throws unless `directory` is a directory this process may create files in.
  static func requireWritableDirectory(_ directory: String, for path: String)
    throws(FileSafetyError)
  {
    try SecureFile.requireDirectory(directory, for: path)
    guard access(directory, W_OK | X_OK) == 0 else {
      throw .directoryNotWritable(path: path, directory: directory)
    }
  }
}

/// An exclusive advisory lock on `<path>.lock` (a sidecar file created with permission `0600`
/// and never deleted), held from a successful ``init(path:timeout:)`` until ``release()`` or
/// deinitialisation, and by the kernel never past the process's exit.
///
/// The lock is `flock(LOCK_EX)` on a descriptor of its own, so it also excludes other
/// ``FileLock``s on the same path in the same process (other threads) and in other processes
/// (including `flock(1)`). It is advisory: it only excludes writers that take it too.
///
/// ```swift
/// try FileLock.withLock("model.json") {
///   try SecureFile.writeAtomically(data, to: "model.json")
/// }
/// ```
package final class FileLock {
  /// The path the lock protects.
  package let path: String
  /// The sidecar lock file: the resolved `path` plus `.lock`.
  package let lockFile: String
  private var descriptor: Int32

  /// Acquires the lock, polling a non-blocking `flock` (every 1 to 50 ms) until `timeout`.
  ///
  /// - Parameters:
  ///   - path: the protected file (need not exist; its directory must).
  ///   - timeout: the longest wait in seconds (default 30); `0` tries once.
  /// - Throws: ``FileSafetyError/lockTimeout(path:lockFile:seconds:)`` when another request
  ///   holds the lock throughout, `.directoryMissing`, `.notRegularFile` (the lock file is not
  ///   a regular file), `.ioFailed`.
  package init(path: String, timeout: Double = 30) throws(FileSafetyError) {
    guard !path.isEmpty else { throw .emptyPath }
    let (directory, base) = SecureFile.split(path)
    let resolvedDirectory = SecureFile.realPath(directory)
    guard let resolvedDirectory else { throw .directoryMissing(path: path, directory: directory) }
    var target = SecureFile.join(resolvedDirectory, base)
    if let real = SecureFile.realPath(path) { target = real }
    let lockFile = target + ".lock"
    let descriptor = open(lockFile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
    guard descriptor >= 0 else {
      let code = errno
      if code == ELOOP { throw .notRegularFile(path: lockFile, kind: "symbolic link") }
      if code == EACCES || code == EROFS {
        throw .directoryNotWritable(path: lockFile, directory: resolvedDirectory)
      }
      throw .ioFailed(path: lockFile, operation: "open the lock file", errno: code)
    }
    var info = stat()
    guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
      let kind = SecureFile.kind(of: info.st_mode)
      close(descriptor)
      throw .notRegularFile(path: lockFile, kind: kind)
    }
    let start = DispatchTime.now().uptimeNanoseconds
    var pause: UInt32 = 1_000
    while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
      let code = errno
      if code == EINTR { continue }
      guard code == EWOULDBLOCK || code == EAGAIN else {
        close(descriptor)
        throw .ioFailed(path: lockFile, operation: "lock", errno: code)
      }
      let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      if elapsed >= timeout {
        close(descriptor)
        throw .lockTimeout(path: path, lockFile: lockFile, seconds: timeout)
      }
      usleep(pause)
      pause = min(pause * 2, 50_000)
    }
    self.path = path
    self.lockFile = lockFile
    self.descriptor = descriptor
  }

  /// Whether this object still holds the lock.
  package var isHeld: Bool { descriptor >= 0 }

  /// Releases the lock (idempotent). Deinitialisation releases it too.
  package func release() {
    guard descriptor >= 0 else { return }
    flock(descriptor, LOCK_UN)
    close(descriptor)
    descriptor = -1
  }

  deinit { release() }

  /// Runs `body` while holding the lock of `path`, releasing it however `body` exits.
  ///
  /// - Parameters:
  ///   - path: the protected file.
  ///   - timeout: the longest wait for the lock, in seconds (default 30).
  ///   - body: the critical section.
  /// - Throws: the lock's ``FileSafetyError``, or whatever `body` throws.
  package static func withLock<T>(
    _ path: String, timeout: Double = 30, _ body: () throws -> T
  ) throws -> T {
    let lock = try FileLock(path: path, timeout: timeout)
    defer { lock.release() }
    return try body()
  }
}
