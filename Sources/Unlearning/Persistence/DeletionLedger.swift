import COpenSSL
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a certified removal charged, as recorded in a ``LedgerEntry``: the privacy parameters in
/// force, the bounds charged against the budget, and whether the budget ran out and forced a
/// retrain.
package struct LedgerCertificate: Codable, Sendable, Equatable {
  /// How the budget is accounted (for example `"exactStep"`).
  package var accounting: String
  /// The privacy loss `epsilon`.
  package var epsilon: Double
  /// The failure probability `delta`.
  package var delta: Double
  /// The standard deviation of each entry of the loss perturbation `b`.
  package var sigma: Double
  /// The gradient-residual budget `epsilon'`.
  package var budget: Double
  /// Which residual bound was charged (for example `"tight"` or `"guo"`).
  package var boundKind: String
  /// The bounds charged by this request, one per Newton step, in sum form.
  package var chargedBounds: [Double]
  /// The certified gradient residual after this request (budget spent so far).
  package var certifiedResidual: Double
  /// Whether this request exhausted the budget and the model was retrained from scratch.
  package var retrained: Bool

  /// Creates a certificate record from its fields.
  package init(
    accounting: String, epsilon: Double, delta: Double, sigma: Double, budget: Double,
    boundKind: String, chargedBounds: [Double], certifiedResidual: Double, retrained: Bool
  ) {
    self.accounting = accounting
    self.epsilon = epsilon
    self.delta = delta
    self.sigma = sigma
    self.budget = budget
    self.boundKind = boundKind
    self.chargedBounds = chargedBounds
    self.certifiedResidual = certifiedResidual
    self.retrained = retrained
  }
}

/// One line of a ``DeletionLedger``: one honoured deletion request.
///
/// Stored as canonical JSON (sorted keys, no whitespace) on one `\n`-terminated line. An entry
/// does not store its own hash: the next entry's ``previousEntrySHA256`` is the SHA-256 of this
/// line's exact bytes, so altering any entry but the last breaks the chain. Protect the last
/// one by keeping ``DeletionLedger/headSHA256()`` elsewhere (for example in the model file) and
/// passing it to ``DeletionLedger/verify(expectedHeadSHA256:)``.
package struct LedgerEntry: Codable, Sendable, Equatable {
  /// The 1-based position of the entry in the ledger (assigned by ``DeletionLedger/append(_:)``).
  package var sequence: Int
  /// When the request was honoured: UTC ISO-8601 with milliseconds, e.g.
  /// `2026-11-28T21:33:33.668Z`.
  package var time: String
  /// The ids of the samples removed by this request.
  package var ids: [SampleID]
  /// The removal method (for example `"certified-newton"`, `"retrain"`).
  package var method: String
  /// The certificate of a certified removal; nil for uncertified methods.
  package var certificate: LedgerCertificate?
  /// The SHA-256 (lowercase hex) of the model parameters after the request; see
  /// ``DeletionLedger/sha256Hex(of:)``.
  package var parametersSHA256: String
  /// The SHA-256 (lowercase hex) of the complete saved state after the request (the model file).
  package var stateSHA256: String
  /// The SHA-256 (lowercase hex) of the previous line's exact bytes including its newline, or
  /// ``DeletionLedger/genesisSHA256`` for the first entry (assigned by
  /// ``DeletionLedger/append(_:)``).
  package var previousEntrySHA256: String

  /// An entry to append: ``sequence`` and ``previousEntrySHA256`` are left for
  /// ``DeletionLedger/append(_:)`` to fill in.
  ///
  /// - Parameters:
  ///   - ids: the removed samples.
  ///   - method: the removal method.
  ///   - certificate: the certificate, if the removal is certified.
  ///   - parametersSHA256: the hash of the parameters after the request.
  ///   - stateSHA256: the hash of the saved state after the request.
  ///   - time: when the request was honoured (default now), stored to the millisecond.
  package init(
    ids: [SampleID], method: String, certificate: LedgerCertificate?, parametersSHA256: String,
    stateSHA256: String, time: Date = Date()
  ) {
    self.init(
      sequence: 0, time: Self.timestamp(time), ids: ids, method: method,
      certificate: certificate, parametersSHA256: parametersSHA256, stateSHA256: stateSHA256,
      previousEntrySHA256: "")
  }

  /// An entry with every field given (for decoding tools and tests).
  package init(
    sequence: Int, time: String, ids: [SampleID], method: String,
    certificate: LedgerCertificate?, parametersSHA256: String, stateSHA256: String,
    previousEntrySHA256: String
  ) {
    self.sequence = sequence
    self.time = time
    self.ids = ids
    self.method = method
    self.certificate = certificate
    self.parametersSHA256 = parametersSHA256
    self.stateSHA256 = stateSHA256
    self.previousEntrySHA256 = previousEntrySHA256
  }

  /// ``time`` as a `Date`, or nil if it is not a valid timestamp.
  package var date: Date? { try? Self.timeFormat.parse(time) }

  /// `date` as stored in ``time``: UTC ISO-8601 with milliseconds.
  package static func timestamp(_ date: Date) -> String { timeFormat.format(date) }

  private static let timeFormat = Date.ISO8601FormatStyle(
    includingFractionalSeconds: true, timeZone: .gmt)

  /// The canonical line: JSON with sorted keys and no whitespace, plus `\n`.
  ///
  /// - Throws: ``LedgerError/encodingFailed(_:)`` (a non-finite number).
  package func canonicalLine() throws(LedgerError) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      var line = try encoder.encode(self)
      line.append(UInt8(ascii: "\n"))
      return line
    } catch {
      throw .encodingFailed("entry \(sequence) cannot be encoded as JSON (non-finite number?)")
    }
  }
}

/// Errors of ``DeletionLedger`` operations, each a readable line naming the ledger.
package enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Opening, reading, writing or syncing the ledger failed.
  case file(FileSafetyError)
  /// The ledger's last line has no terminating newline (a crash during an append): nothing can
  /// be appended until ``DeletionLedger/repairTruncatedTail()`` removes it.
  case incompleteLastEntry(path: String)
  /// A line cannot be decoded as an entry (`line` is 1-based; nil for the last line when
  /// appending, where the next sequence number and hash are then unknown): run
  /// ``DeletionLedger/verify(expectedHeadSHA256:)``.
  case unreadableEntry(path: String, line: Int?, reason: String)
  /// An entry could not be encoded.
  case encodingFailed(String)

  /// One line naming the ledger and the reason.
  package var description: String {
    switch self {
    case .file(let error): return error.description
    case .incompleteLastEntry(let path):
      return "deletion ledger '\(path)' ends with an incomplete entry (an append was"
        + " interrupted): repair it before appending"
    case .unreadableEntry(let path, let line, let reason):
      let which = line.map { "line \($0)" } ?? "the last entry"
      return "deletion ledger '\(path)': \(which) cannot be read (\(reason)): verify the ledger"
    case .encodingFailed(let reason): return "deletion ledger: \(reason)"
    }
  }
}

/// What is wrong with a ledger line, as found by ``DeletionLedger/verify(expectedHeadSHA256:)``.
package enum LedgerProblem: Equatable, Sendable, CustomStringConvertible {
  /// The line is not a valid entry (not JSON, a missing field, a field of the wrong type).
  case unparsable(String)
  /// The sequence number is not the line number: lines were deleted, inserted or reordered.
  case sequence(expected: Int, found: Int)
  /// The line's `previousEntrySHA256` is not the hash of the line before it, and nothing shows
  /// which of the two changed: the line before was altered, or this line was forged.
  case brokenChain
  /// The line's bytes no longer hash to the value that the next line records (and the line
  /// after it still links to that next line): this line was altered.
  case alteredEntry(recordedBy: Int)
  /// The hash of the last entry differs from the head kept elsewhere: the ledger was
  /// truncated, or its last entry altered or forged.
  case headMismatch

  /// A readable explanation.
  package var description: String {
    switch self {
    case .unparsable(let reason): return "not a valid entry: \(reason)"
    case .sequence(let expected, let found):
      return found < expected
        ? "sequence \(found) does not increase (expected \(expected)): lines were reordered or"
          + " duplicated"
        : "sequence \(found) skips (expected \(expected)): lines were deleted or reordered"
    case .brokenChain:
      return "does not match the SHA-256 of the line before it: that line was altered or this"
        + " line was forged"
    case .alteredEntry(let line):
      return "its bytes no longer match the SHA-256 recorded by line \(line): the entry was"
        + " altered"
    case .headMismatch:
      return "the last entry does not match the expected head: the ledger was truncated or its"
        + " last entry altered or forged"
    }
  }
}

/// The outcome of ``DeletionLedger/verify(expectedHeadSHA256:)``.
package enum LedgerVerification: Equatable, Sendable, CustomStringConvertible {
  /// Every line parses, sequences run 1, 2, ..., and every hash links; `headSHA256` is the
  /// hash of the last line (``DeletionLedger/genesisSHA256`` for an empty ledger).
  case valid(entryCount: Int, headSHA256: String)
  /// All complete lines verify, but the last line (1-based `line`) has no newline: an append
  /// was interrupted by a crash. Not tampering; ``DeletionLedger/repairTruncatedTail()``
  /// removes it.
  case incompleteLastEntry(line: Int, validEntries: Int)
  /// The first bad line (1-based), the field at fault (`"line"`, `"sequence"`,
  /// `"previousEntrySHA256"`, or `"entry"` for the bytes of the whole line) and the problem.
  case invalid(line: Int, field: String, problem: LedgerProblem)
  /// The ledger cannot be read at all.
  case unreadable(FileSafetyError)

  /// Whether the ledger verified completely.
  package var isValid: Bool {
    if case .valid = self { return true }
    return false
  }

  /// One line naming the first problem.
  package var description: String {
    switch self {
    case .valid(let count, let head):
      return "ledger valid: \(count) entries, head \(head)"
    case .incompleteLastEntry(let line, let valid):
      return "incomplete last entry at line \(line) (an interrupted append, not tampering);"
        + " the \(valid) entries before it verify"
    case .invalid(let line, let field, let problem):
      return "line \(line), \(field): \(problem)"
    case .unreadable(let error):
      return error.description
    }
  }
}

/// An append-only, hash-chained record of deletion requests: a private (`0600`) JSON Lines file
/// of ``LedgerEntry`` values, each line linked to the previous one by SHA-256.
///
/// Appends are not serialised by the ledger itself: hold the ``FileLock`` of the ledger's path
/// (or of the model file it belongs to) around ``append(_:)`` and ``repairTruncatedTail()``.
///
/// ```swift
/// let ledger = DeletionLedger(path: "model.ledger")
/// try FileLock.withLock(ledger.path) {
///   try ledger.append(LedgerEntry(ids: [1017], method: "certified-newton",
///     certificate: nil, parametersSHA256: DeletionLedger.sha256Hex(of: theta),
///     stateSHA256: DeletionLedger.sha256Hex(savedBytes)))
/// }
/// ```
package struct DeletionLedger: Sendable {
  /// The ledger file.
  package let path: String

  /// The `previousEntrySHA256` of the first entry: 64 zeros.
  package static let genesisSHA256 = String(repeating: "0", count: 64)

  /// A ledger stored at `path` (created by the first append).
  package init(path: String) { self.path = path }

  // MARK: - Hashing

  /// The SHA-256 of `data` as 64 lowercase hex digits.
  package static func sha256Hex(_ data: Data) -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    let ok = data.withUnsafeBytes { bytes in
      EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil)
    }
    precondition(ok == 1 && length == 32, "OpenSSL SHA-256 failed")
    return digest.map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }

  /// The SHA-256 of `parameters` as 64 lowercase hex digits: the hash of their little-endian
  /// IEEE-754 binary64 bytes (8 per value, in order), so equal on every platform.
  package static func sha256Hex(of parameters: [Double]) -> String {
    var bytes = Data()
    bytes.reserveCapacity(parameters.count * 8)
    for value in parameters {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
    return sha256Hex(bytes)
  }

  // MARK: - Appending

  /// Appends `entry` as the next line, filling in its ``LedgerEntry/sequence`` (last + 1) and
  /// ``LedgerEntry/previousEntrySHA256`` (hash of the last line); its other fields are kept.
  ///
  /// Opens the file with `O_APPEND | O_CREAT` and permission `0600`, writes the whole line in
  /// one `write` call (continuing only after a short write), and `fsync`s. Caller holds the
  /// ledger's ``FileLock``.
  ///
  /// - Returns: the entry as written.
  /// - Throws: ``LedgerError``: `.incompleteLastEntry` (repair first), `.unreadableEntry`,
  ///   `.file` (not a regular file, missing directory, I/O), `.encodingFailed`.
  /// - Complexity: reads only the last line; O(line length).
  @discardableResult
  package func append(_ entry: LedgerEntry) throws(LedgerError) -> LedgerEntry {
    var existing = stat()
    let existed = stat(path, &existing) == 0
    if existed, existing.st_mode & S_IFMT != S_IFREG {
      throw .file(.notRegularFile(path: path, kind: SecureFile.kind(of: existing.st_mode)))
    }
    let descriptor = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o600)
    guard descriptor >= 0 else { throw .file(Self.openError(path: path, errno: errno)) }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
      throw .file(.ioFailed(path: path, operation: "inspect", errno: errno))
    }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw .file(.notRegularFile(path: path, kind: SecureFile.kind(of: info.st_mode)))
    }

    var sealed = entry
    if let last = try lastLine(descriptor: descriptor, size: Int(info.st_size)) {
      let previous: LedgerEntry
      do {
        previous = try JSONDecoder().decode(LedgerEntry.self, from: last)
      } catch {
        throw .unreadableEntry(path: path, line: nil, reason: Self.decodingReason(error))
      }
      sealed.sequence = previous.sequence + 1
      sealed.previousEntrySHA256 = Self.sha256Hex(last)
    } else {
      sealed.sequence = 1
      sealed.previousEntrySHA256 = Self.genesisSHA256
    }
    let line = try sealed.canonicalLine()
    if let code = SecureFile.writeAll(line, to: descriptor) {
      throw .file(.ioFailed(path: path, operation: "append to the ledger", errno: code))
    }
    guard fsync(descriptor) == 0 else {
      throw .file(.ioFailed(path: path, operation: "sync the ledger", errno: errno))
    }
    if !existed {
      do {
        try SecureFile.syncDirectory(SecureFile.split(path).directory, for: path)
      } catch {
        throw .file(error)
      }
    }
    return sealed
  }

  /// The last complete line including its newline, nil for an empty file; throws if the file
  /// does not end with a newline.
  private func lastLine(descriptor: Int32, size: Int) throws(LedgerError) -> Data? {
    guard size > 0 else { return nil }
    var tail = Data()
    var end = size
    let chunk = 4096
    while end > 0 {
      let start = max(0, end - chunk)
      var buffer = [UInt8](repeating: 0, count: end - start)
      let count = buffer.withUnsafeMutableBytes {
        pread(descriptor, $0.baseAddress, end - start, off_t(start))
      }
      guard count == end - start else {
        throw .file(
          .ioFailed(path: path, operation: "read the ledger", errno: count < 0 ? errno : EIO))
      }
      tail.insert(contentsOf: buffer, at: tail.startIndex)
      if tail.last != UInt8(ascii: "\n") { throw .incompleteLastEntry(path: path) }
      // The newline before the last line, if it is in what has been read.
      let body = tail.dropLast()
      if let newline = body.lastIndex(of: UInt8(ascii: "\n")) {
        return Data(tail[tail.index(after: newline)...])
      }
      end = start
    }
    return tail
  }

  // MARK: - Reading and verifying

  /// All entries, in order. Reads the whole file; does not verify the chain (use
  /// ``verify(expectedHeadSHA256:)``). An empty or missing ledger has no entries.
  ///
  /// - Throws: ``LedgerError``: `.file` (unreadable), `.incompleteLastEntry`,
  ///   `.unreadableEntry` naming the first line that does not decode.
  package func entries() throws(LedgerError) -> [LedgerEntry] {
    let (lines, incomplete) = try readLines()
    if incomplete != nil { throw .incompleteLastEntry(path: path) }
    var result = [LedgerEntry]()
    result.reserveCapacity(lines.count)
    let decoder = JSONDecoder()
    for (index, line) in lines.enumerated() {
      do {
        result.append(try decoder.decode(LedgerEntry.self, from: line))
      } catch {
        throw .unreadableEntry(path: path, line: index + 1, reason: Self.decodingReason(error))
      }
    }
    return result
  }

  /// The SHA-256 of the last complete line (``genesisSHA256`` for an empty ledger): keep it
  /// beside the model (for example in the model file) and pass it to
  /// ``verify(expectedHeadSHA256:)`` to detect truncation and changes to the last entry, which
  /// the chain alone cannot see.
  package func headSHA256() throws(LedgerError) -> String {
    let (lines, _) = try readLines()
    return lines.last.map(Self.sha256Hex) ?? Self.genesisSHA256
  }

  /// Checks the whole ledger and names the first problem: an unparsable line, a sequence that
  /// is not `1, 2, 3, ...`, a broken hash chain (with the altered line when it can be
  /// located), a head that differs from `expectedHeadSHA256`, or an incomplete last line (a
  /// crash mid-append, reported as such and not as tampering).
  ///
  /// Lines are checked in order; in each, decoding, then the sequence, then the link.
  ///
  /// - Parameter expectedHeadSHA256: the head kept elsewhere, if any.
  /// - Complexity: reads the file once; one SHA-256 and one JSON decode per line.
  package func verify(expectedHeadSHA256: String? = nil) -> LedgerVerification {
    let lines: [Data]
    let incomplete: Data?
    do {
      (lines, incomplete) = try readLines()
    } catch {
      if case .file(let fileError) = error { return .unreadable(fileError) }
      return .unreadable(.ioFailed(path: path, operation: "read", errno: EIO))
    }
    let decoder = JSONDecoder()
    let hashes = lines.map(Self.sha256Hex)
    func decode(_ index: Int) -> LedgerEntry? {
      try? decoder.decode(LedgerEntry.self, from: lines[index])
    }
    for index in lines.indices {
      let number = index + 1
      let entry: LedgerEntry
      do {
        entry = try decoder.decode(LedgerEntry.self, from: lines[index])
      } catch {
        return .invalid(
          line: number, field: "line", problem: .unparsable(Self.decodingReason(error)))
      }
      guard entry.sequence == number else {
        return .invalid(
          line: number, field: "sequence",
          problem: .sequence(expected: number, found: entry.sequence))
      }
      let expected = index == 0 ? Self.genesisSHA256 : hashes[index - 1]
      guard entry.previousEntrySHA256 == expected else {
        // If the next line still links to this one (or, for the last line, the head kept
        // elsewhere matches it), this line is as recorded and the line before it changed.
        let confirmed: Bool
        if index + 1 < lines.count {
          confirmed = decode(index + 1)?.previousEntrySHA256 == hashes[index]
        } else {
          confirmed = expectedHeadSHA256 == hashes[index]
        }
        if index > 0, confirmed {
          return .invalid(
            line: number - 1, field: "entry", problem: .alteredEntry(recordedBy: number))
        }
        return .invalid(line: number, field: "previousEntrySHA256", problem: .brokenChain)
      }
    }
    if incomplete != nil {
      return .incompleteLastEntry(line: lines.count + 1, validEntries: lines.count)
    }
    let head = hashes.last ?? Self.genesisSHA256
    if let expectedHeadSHA256, expectedHeadSHA256 != head {
      return .invalid(line: lines.count, field: "entry", problem: .headMismatch)
    }
    return .valid(entryCount: lines.count, headSHA256: head)
  }

  /// Removes an incomplete final line (one without its newline, left by a crash during
  /// ``append(_:)``) and nothing else. Caller holds the ledger's ``FileLock``.
  ///
  /// - Returns: the number of bytes removed (0 when the ledger ends with a complete line, is
  ///   empty or does not exist).
  /// - Throws: ``LedgerError/file(_:)`` on I/O errors.
  @discardableResult
  package func repairTruncatedTail() throws(LedgerError) -> Int {
    var existing = stat()
    guard stat(path, &existing) == 0 else {
      if errno == ENOENT { return 0 }
      throw .file(.ioFailed(path: path, operation: "inspect", errno: errno))
    }
    guard existing.st_mode & S_IFMT == S_IFREG else {
      throw .file(.notRegularFile(path: path, kind: SecureFile.kind(of: existing.st_mode)))
    }
    let (lines, incomplete) = try readLines()
    guard let incomplete else { return 0 }
    let keep = lines.reduce(0) { $0 + $1.count }
    guard truncate(path, off_t(keep)) == 0 else {
      throw .file(.ioFailed(path: path, operation: "truncate the ledger", errno: errno))
    }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    if descriptor >= 0 {
      defer { close(descriptor) }
      guard fsync(descriptor) == 0 else {
        throw .file(.ioFailed(path: path, operation: "sync the ledger", errno: errno))
      }
    }
    return incomplete.count
  }

  /// The complete lines (each with its newline) and the incomplete tail, if any.
  private func readLines() throws(LedgerError) -> (lines: [Data], incomplete: Data?) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard descriptor >= 0 else {
      if errno == ENOENT { return ([], nil) }
      throw .file(Self.openError(path: path, errno: errno))
    }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
      throw .file(.notRegularFile(path: path, kind: SecureFile.kind(of: info.st_mode)))
    }
    var contents = Data()
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw .file(.ioFailed(path: path, operation: "read the ledger", errno: errno))
      }
      if count == 0 { break }
      contents.append(contentsOf: buffer[0..<count])
    }
    var lines = [Data]()
    var start = contents.startIndex
    while let newline = contents[start...].firstIndex(of: UInt8(ascii: "\n")) {
      lines.append(Data(contents[start...newline]))
      start = contents.index(after: newline)
    }
    let incomplete = start < contents.endIndex ? Data(contents[start...]) : nil
    return (lines, incomplete)
  }

  private static func openError(path: String, errno code: Int32) -> FileSafetyError {
    switch code {
    case ENOENT, ENOTDIR:
      return .directoryMissing(path: path, directory: SecureFile.split(path).directory)
    case EACCES, EROFS:
      return .directoryNotWritable(path: path, directory: SecureFile.split(path).directory)
    default:
      return .ioFailed(path: path, operation: "open the ledger", errno: code)
    }
  }

  /// A short reason for a decoding failure, without the decoder's debug dump.
  static func decodingReason(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "not a valid entry" }
    func field(_ path: [any CodingKey]) -> String {
      path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
      let parent = field(context.codingPath)
      return "missing field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return "field '\(field(context.codingPath))' has the wrong type"
    case .dataCorrupted(let context):
      return context.codingPath.isEmpty
        ? "not JSON" : "field '\(field(context.codingPath))' is invalid"
    @unknown default:
      return "not a valid entry"
    }
  }
}
