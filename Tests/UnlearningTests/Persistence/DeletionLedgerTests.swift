import Foundation
import Testing
import Unlearning

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Deletion ledger")
struct DeletionLedgerTests {
  static func certificate(epsilon: Double = 1, retrained: Bool = false) -> LedgerCertificate {
    LedgerCertificate(
      accounting: "exactStep", epsilon: epsilon, delta: 1e-4, sigma: 10, budget: 2.280301,
      boundKind: "tight", chargedBounds: [1.25e-3, 4.5e-5], certifiedResidual: 0.0012955,
      retrained: retrained)
  }

  static func entry(_ k: Int) -> LedgerEntry {
    LedgerEntry(
      ids: [SampleID(1000 + k), SampleID(2000 + k)], method: "certified-newton",
      certificate: k == 4 ? nil : certificate(retrained: k == 3),
      parametersSHA256: DeletionLedger.sha256Hex(of: [Double(k), -0.5]),
      stateSHA256: DeletionLedger.sha256Hex(Data("state \(k)".utf8)))
  }

  /// A ledger with `count` entries in a fresh directory.
  static func withLedger<T>(
    entries count: Int, _ body: (DeletionLedger, [LedgerEntry]) throws -> T
  ) throws -> T {
    try withScratchDirectory { directory in
      let ledger = DeletionLedger(path: directory + "/model.ledger")
      var written = [LedgerEntry]()
      for k in 1...max(count, 1) where count > 0 {
        written.append(try ledger.append(entry(k)))
      }
      return try body(ledger, written)
    }
  }

  /// The ledger's lines without their newlines.
  static func lines(_ ledger: DeletionLedger) -> [String] {
    let text = String(
      decoding: FileManager.default.contents(atPath: ledger.path) ?? Data(), as: UTF8.self)
    return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  }

  static func rewrite(_ ledger: DeletionLedger, _ lines: [String]) {
    let data = Data(lines.map { $0 + "\n" }.joined().utf8)
    #expect(FileManager.default.createFile(atPath: ledger.path, contents: data))
  }

  @Test("SHA-256 helpers match known digests (little-endian IEEE-754 for parameters)")
  func hashes() {
    #expect(
      DeletionLedger.sha256Hex(Data("abc".utf8))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      DeletionLedger.sha256Hex(Data())
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(
      DeletionLedger.sha256Hex(of: [1.0, -0.5, 3.141592653589793])
        == "1fbd9b99a7ad0466fc9c483e7fab18e94872c3def4473d94afcf3ee6d2561b8b")
  }

  @Test("appends chain, verify, and read back; file is 0600; lines are canonical")
  func chainVerifies() throws {
    try withUmask(0) {
      try Self.withLedger(entries: 5) { ledger, written in
        #expect(permissions(ledger.path) == 0o600)
        #expect(written.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(written[0].previousEntrySHA256 == DeletionLedger.genesisSHA256)
        let lines = Self.lines(ledger)
        #expect(lines.count == 5)
        for index in 1..<5 {
          #expect(
            written[index].previousEntrySHA256
              == DeletionLedger.sha256Hex(Data((lines[index - 1] + "\n").utf8)))
        }
        #expect(lines[0].hasPrefix(#"{"certificate":{"accounting":"exactStep","boundKind""#))
        #expect(!lines[0].contains(" "))
        #expect(lines[3].hasPrefix(#"{"ids":[1004,2004],"method":"#))
        #expect(try Data(lines[1].utf8) + Data("\n".utf8) == written[1].canonicalLine())
        let head = DeletionLedger.sha256Hex(Data((lines[4] + "\n").utf8))
        #expect(ledger.verify() == .valid(entryCount: 5, headSHA256: head))
        #expect(ledger.verify(expectedHeadSHA256: head).isValid)
        #expect(try ledger.headSHA256() == head)
        #expect(try ledger.entries() == written)
        let date = try #require(written[0].date)
        #expect(abs(date.timeIntervalSinceNow) < 60)
        #expect(written[0].time.hasSuffix("Z"))
        #expect(written[0].time.contains("."))
      }
    }
  }

  @Test("an empty or missing ledger is valid with the genesis head")
  func emptyLedger() throws {
    try Self.withLedger(entries: 0) { ledger, _ in
      #expect(ledger.verify() == .valid(entryCount: 0, headSHA256: DeletionLedger.genesisSHA256))
      let entries = try ledger.entries()
      #expect(entries.isEmpty)
      let removed = try ledger.repairTruncatedTail()
      #expect(removed == 0)
    }
  }

  @Test("an edited id is caught at its line")
  func editedID() throws {
    try Self.withLedger(entries: 5) { ledger, _ in
      var lines = Self.lines(ledger)
      lines[2] = lines[2].replacingOccurrences(of: #""ids":[1003,"#, with: #""ids":[1033,"#)
      Self.rewrite(ledger, lines)
      #expect(
        ledger.verify() == .invalid(line: 3, field: "entry", problem: .alteredEntry(recordedBy: 4)))
    }
  }

  @Test("edits to the first line, and to the second-to-last given the head, are located")
  func editedEnds() throws {
    try Self.withLedger(entries: 5) { ledger, _ in
      let head = try ledger.headSHA256()
      let original = Self.lines(ledger)
      var lines = original
      lines[0] = lines[0].replacingOccurrences(of: #""ids":[1001,"#, with: #""ids":[1011,"#)
      Self.rewrite(ledger, lines)
      #expect(
        ledger.verify()
          == .invalid(line: 1, field: "entry", problem: .alteredEntry(recordedBy: 2)))
      lines = original
      lines[3] = lines[3].replacingOccurrences(of: #""ids":[1004,"#, with: #""ids":[1044,"#)
      Self.rewrite(ledger, lines)
      // Without the head, line 5 might equally be a forgery.
      #expect(
        ledger.verify() == .invalid(line: 5, field: "previousEntrySHA256", problem: .brokenChain))
      #expect(
        ledger.verify(expectedHeadSHA256: head)
          == .invalid(line: 4, field: "entry", problem: .alteredEntry(recordedBy: 5)))
    }
  }

  @Test("a changed number in a certificate is caught at its line")
  func editedCertificate() throws {
    try Self.withLedger(entries: 5) { ledger, _ in
      var lines = Self.lines(ledger)
      #expect(lines[1].contains(#""epsilon":1,"#))
      lines[1] = lines[1].replacingOccurrences(of: #""epsilon":1,"#, with: #""epsilon":0.5,"#)
      Self.rewrite(ledger, lines)
      let result = ledger.verify()
      #expect(result == .invalid(line: 2, field: "entry", problem: .alteredEntry(recordedBy: 3)))
      #expect(result.description.hasPrefix("line 2, entry:"))
    }
  }

  @Test("a deleted middle line is caught at its position")
  func deletedLine() throws {
    try Self.withLedger(entries: 5) { ledger, _ in
      var lines = Self.lines(ledger)
      lines.remove(at: 2)
      Self.rewrite(ledger, lines)
      #expect(
        ledger.verify()
          == .invalid(line: 3, field: "sequence", problem: .sequence(expected: 3, found: 4)))
    }
  }

  @Test("two swapped lines are caught at the first")
  func swappedLines() throws {
    try Self.withLedger(entries: 5) { ledger, _ in
      var lines = Self.lines(ledger)
      lines.swapAt(1, 2)
      Self.rewrite(ledger, lines)
      #expect(
        ledger.verify()
          == .invalid(line: 2, field: "sequence", problem: .sequence(expected: 2, found: 3)))
    }
  }

  @Test("a forged line without the right previous hash is caught at its line")
  func forgedAppend() throws {
    try Self.withLedger(entries: 5) { ledger, _ in
      var forged = Self.entry(6)
      forged.sequence = 6
      forged.previousEntrySHA256 = String(repeating: "ab", count: 32)
      var lines = Self.lines(ledger)
      lines.append(String(decoding: try forged.canonicalLine().dropLast(), as: UTF8.self))
      Self.rewrite(ledger, lines)
      #expect(
        ledger.verify() == .invalid(line: 6, field: "previousEntrySHA256", problem: .brokenChain))
    }
  }

  @Test("a forged middle line with a broken link on both sides is caught at its line")
  func forgedMiddle() throws {
    try Self.withLedger(entries: 5) { ledger, _ in
      var lines = Self.lines(ledger)
      var forged = Self.entry(9)
      forged.sequence = 3
      forged.previousEntrySHA256 = String(repeating: "0", count: 64)
      lines[2] = String(decoding: try forged.canonicalLine().dropLast(), as: UTF8.self)
      Self.rewrite(ledger, lines)
      #expect(
        ledger.verify() == .invalid(line: 3, field: "previousEntrySHA256", problem: .brokenChain))
    }
  }

  @Test("the last entry and truncation are covered by the head kept elsewhere")
  func headAnchor() throws {
    try Self.withLedger(entries: 5) { ledger, _ in
      let head = try ledger.headSHA256()
      var lines = Self.lines(ledger)
      lines[4] = lines[4].replacingOccurrences(of: #""ids":[1005,"#, with: #""ids":[1055,"#)
      Self.rewrite(ledger, lines)
      #expect(ledger.verify().isValid, "the chain alone cannot see a change to the last entry")
      #expect(
        ledger.verify(expectedHeadSHA256: head)
          == .invalid(line: 5, field: "entry", problem: .headMismatch))
      lines.removeLast()
      Self.rewrite(ledger, lines)
      #expect(
        ledger.verify(expectedHeadSHA256: head)
          == .invalid(line: 4, field: "entry", problem: .headMismatch))
    }
  }

  @Test("an unparsable line is named with the reason, no decoder dump")
  func unparsableLine() throws {
    try Self.withLedger(entries: 4) { ledger, _ in
      var lines = Self.lines(ledger)
      lines[1] = "not json"
      Self.rewrite(ledger, lines)
      guard case .invalid(let line, let field, .unparsable(let reason)) = ledger.verify() else {
        Issue.record("expected an unparsable line, got \(ledger.verify())")
        return
      }
      #expect(line == 2 && field == "line")
      #expect(!reason.contains("\n") && !reason.contains("Swift.DecodingError"))
      lines[1] = #"{"ids":[1],"method":"x","sequence":2,"time":"t"}"#
      Self.rewrite(ledger, lines)
      #expect(
        ledger.verify()
          == .invalid(
            line: 2, field: "line", problem: .unparsable("missing field 'parametersSHA256'"))
      )
      #expect(throws: LedgerError.self) { try ledger.entries() }
    }
  }

  @Test("a truncated tail is reported as incomplete, blocks appends, and is repaired")
  func truncatedTail() throws {
    try Self.withLedger(entries: 3) { ledger, _ in
      let partial = try Self.entry(4).canonicalLine().prefix(40)
      let handle = try #require(FileHandle(forWritingAtPath: ledger.path))
      try handle.seekToEnd()
      try handle.write(contentsOf: partial)
      try handle.close()
      let result = ledger.verify()
      #expect(result == .incompleteLastEntry(line: 4, validEntries: 3))
      #expect(result.description.contains("not tampering"))
      #expect(throws: LedgerError.incompleteLastEntry(path: ledger.path)) {
        try ledger.append(Self.entry(4))
      }
      #expect(throws: LedgerError.incompleteLastEntry(path: ledger.path)) { try ledger.entries() }
      #expect(try ledger.repairTruncatedTail() == 40)
      #expect(ledger.verify().isValid)
      #expect(try ledger.repairTruncatedTail() == 0)
      #expect(try ledger.append(Self.entry(4)).sequence == 4)
      #expect(ledger.verify().isValid)
      #expect(try ledger.entries().count == 4)
    }
  }

  @Test("a ledger that is only an incomplete line is repaired to empty")
  func onlyIncompleteLine() throws {
    try Self.withLedger(entries: 0) { ledger, _ in
      #expect(FileManager.default.createFile(atPath: ledger.path, contents: Data(#"{"ids":"#.utf8)))
      #expect(ledger.verify() == .incompleteLastEntry(line: 1, validEntries: 0))
      let removed = try ledger.repairTruncatedTail()
      #expect(removed == 7)
      let appended = try ledger.append(Self.entry(1))
      #expect(appended.sequence == 1)
    }
  }

  @Test("a ledger path that is not a regular file is refused")
  func nonRegularLedger() throws {
    let device = DeletionLedger(path: "/dev/null")
    #expect(throws: LedgerError.file(.notRegularFile(path: "/dev/null", kind: "character device")))
    {
      try device.append(Self.entry(1))
    }
    try withScratchDirectory { directory in
      guard case .unreadable = DeletionLedger(path: directory).verify() else {
        Issue.record("a directory verified as a ledger")
        return
      }
    }
  }

  @Test("long lines (over the 4 KiB tail chunk) chain correctly")
  func longLines() throws {
    try withScratchDirectory { directory in
      let ledger = DeletionLedger(path: directory + "/big.ledger")
      for k in 0..<3 {
        let ids = (0..<2_000).map { SampleID(k * 10_000 + $0) }
        try ledger.append(
          LedgerEntry(
            ids: ids, method: "retrain", certificate: nil, parametersSHA256: "p",
            stateSHA256: "s"))
      }
      #expect(ledger.verify().isValid)
      #expect(try ledger.entries().map(\.sequence) == [1, 2, 3])
    }
  }

  @Test("8 threads appending under the FileLock: all 80 entries present, chain valid")
  func concurrentAppends() throws {
    try withScratchDirectory { directory in
      let ledger = DeletionLedger(path: directory + "/model.ledger")
      let failures = LockedCounter()
      DispatchQueue.concurrentPerform(iterations: 8) { writer in
        for k in 0..<10 {
          do {
            _ = try FileLock.withLock(ledger.path, timeout: 60) {
              try ledger.append(
                LedgerEntry(
                  ids: [SampleID(writer * 100 + k)], method: "certified-newton",
                  certificate: nil, parametersSHA256: "p", stateSHA256: "s"))
            }
          } catch {
            failures.increment()
          }
        }
      }
      #expect(failures.value == 0)
      #expect(ledger.verify().isValid)
      let entries = try ledger.entries()
      #expect(entries.map(\.sequence) == Array(1...80))
      let ids = Set(entries.flatMap(\.ids).map(\.rawValue))
      #expect(ids == Set((0..<8).flatMap { w in (0..<10).map { w * 100 + $0 } }))
    }
  }
}
