import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A private state file (a ``ModelFile``) with its append-only deletion ledger beside it
/// (`<path>.ledger.jsonl`, mode 0600): how the command-line tool keeps every request safe.
///
/// - Every request runs under an exclusive lock on the state (``FileLock``) for the whole
///   read-modify-write, so concurrent requests apply one after the other and none is lost.
/// - Before a request, the state must be the ledger's last recorded state (SHA-256 of the file).
/// - Commit order: the report is written by the caller first (``update(writingTo:timeout:_:)``'s
///   body), then the ledger entry (with the hash of the new state), then the state, atomically.
///   A crash between the last two leaves a ledger one entry ahead of the state, which ``audit(data:)``
///   recognises and ``repair()`` rolls back; a crash anywhere else leaves the old or the new pair.
package struct StateStore: Sendable {
  /// The state file.
  package let path: String

  /// Opens the store of the state at `path`.
  package init(path: String) { self.path = path }

  /// `<path>.ledger.jsonl`.
  package var ledgerPath: String { path + ".ledger.jsonl" }

  /// The ledger.
  package var ledger: DeletionLedger { DeletionLedger(path: ledgerPath) }

  /// What one request produced.
  package struct Update: Sendable {
    /// The new state.
    package var file: ModelFile
    /// The ids the request forgot.
    package var ids: [SampleID]
    /// The method's name.
    package var method: String
    /// The certificate, for certified removal.
    package var certificate: RemovalCertificate?

    /// Creates an update.
    package init(file: ModelFile, ids: [SampleID], method: String, certificate: RemovalCertificate?)
    {
      self.file = file
      self.ids = ids
      self.method = method
      self.certificate = certificate
    }
  }

  /// Errors of the store: one line each, naming the file.
  package enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The state is not the one the ledger last recorded.
    case stateNotInLedger(path: String, reason: String)
    /// A new state would overwrite an existing audit trail.
    case ledgerExists(path: String)

    package var description: String {
      switch self {
      case .stateNotInLedger(let path, let reason):
        return "\(path): \(reason); run `unlearn audit --model-file \(path)`"
      case .ledgerExists(let path):
        return
          "\(path): a deletion ledger already exists for this path; write the new state elsewhere"
      }
    }
  }

  /// A test hook: when the environment variable `UNLEARN_TEST_KILL_AT` names `stage`, the
  /// process kills itself with SIGKILL there (crash-safety tests only).
  static func crashPoint(_ stage: String) {
    if ProcessInfo.processInfo.environment["UNLEARN_TEST_KILL_AT"] == stage {
      kill(getpid(), SIGKILL)
    }
  }

  static func ledgerCertificate(_ c: RemovalCertificate?, state: ModelFile) -> LedgerCertificate? {
    if let c {
      return LedgerCertificate(
        accounting: c.accounting.rawValue, epsilon: c.epsilon, delta: c.delta, sigma: c.sigma,
        budget: c.budget, boundKind: c.bound.rawValue,
        chargedBounds: [c.tightBound, c.guoBound, c.solveInexactness, c.floatingPointAllowance],
        certifiedResidual: c.certifiedResidual, retrained: c.retrained)
    }
    guard let s = state.certification else { return nil }
    return LedgerCertificate(
      accounting: s.accounting.rawValue, epsilon: s.privacy.epsilon, delta: s.privacy.delta,
      sigma: s.privacy.sigma, budget: s.budget, boundKind: s.bound.rawValue, chargedBounds: [],
      certifiedResidual: s.spent, retrained: false)
  }

  /// Writes a newly trained state and opens its ledger with entry 1 (`method` "train").
  ///
  /// - Throws: ``StoreError/ledgerExists(path:)`` when the path already has an audit trail, and
  ///   file errors.
  package static func create(_ file: ModelFile, at path: String) throws {
    let store = StateStore(path: path)
    try FileLock.withLock(path) {
      guard !FileManager.default.fileExists(atPath: store.ledgerPath) else {
        throw StoreError.ledgerExists(path: path)
      }
      let bytes = try file.encoded()
      try store.ledger.append(
        LedgerEntry(
          ids: [], method: "train", certificate: ledgerCertificate(nil, state: file),
          parametersSHA256: DeletionLedger.sha256Hex(of: file.parameters),
          stateSHA256: DeletionLedger.sha256Hex(bytes)))
      try SecureFile.writeAtomically(bytes, to: path, mode: 0o600)
    }
  }

  /// Runs one request under the lock and commits it to `output` (the same path for an
  /// in-place request; another path starts a copy of the ledger there).
  ///
  /// `body` receives the current state, returns the update, and may write reports: it runs
  /// before anything is committed.
  ///
  /// - Throws: ``StoreError`` when the state is not the ledger's head, a lock timeout, and
  ///   whatever `body` throws (nothing is committed then).
  package func update<T>(
    writingTo output: String, timeout: Double = 30,
    _ body: (ModelFile) throws -> (Update, T)
  ) throws -> T {
    let target = StateStore(path: output)
    return try FileLock.withLock(output, timeout: timeout) {
      let lockInput = output == path ? nil : try FileLock(path: path, timeout: timeout)
      defer { lockInput?.release() }
      let current = try ModelFile.read(from: path)
      let bytes = FileManager.default.contents(atPath: path) ?? Data()
      let entries = try ledger.entries()
      guard case .valid = ledger.verify() else {
        throw StoreError.stateNotInLedger(path: path, reason: "the deletion ledger does not verify")
      }
      guard let head = entries.last else {
        throw StoreError.stateNotInLedger(path: path, reason: "the deletion ledger is missing")
      }
      guard head.stateSHA256 == DeletionLedger.sha256Hex(bytes) else {
        throw StoreError.stateNotInLedger(
          path: path, reason: "the state is not the one the ledger last recorded")
      }
      let (update, result) = try body(current)
      Self.crashPoint("before-ledger")
      let newBytes = try update.file.encoded()
      if output != path {
        guard !FileManager.default.fileExists(atPath: target.ledgerPath) else {
          throw StoreError.ledgerExists(path: output)
        }
        let old = FileManager.default.contents(atPath: ledgerPath) ?? Data()
        try SecureFile.writeAtomically(old, to: target.ledgerPath, mode: 0o600)
      }
      try target.ledger.append(
        LedgerEntry(
          ids: update.ids, method: update.method,
          certificate: Self.ledgerCertificate(update.certificate, state: update.file),
          parametersSHA256: DeletionLedger.sha256Hex(of: update.file.parameters),
          stateSHA256: DeletionLedger.sha256Hex(newBytes)))
      Self.crashPoint("after-ledger")
      try SecureFile.writeAtomically(newBytes, to: output, mode: 0o600)
      Self.crashPoint("after-state")
      return result
    }
  }
}

extension StateStore {
  /// One audit finding.
  package struct Finding: Sendable, Equatable, CustomStringConvertible {
    /// What was checked.
    package var check: String
    /// Whether it passed.
    package var passed: Bool
    /// What was found (the entry and field for a failure).
    package var detail: String

    package var description: String { "\(passed ? "ok  " : "FAIL") \(check): \(detail)" }
  }

  /// What ``repair()`` can fix.
  package enum Repair: String, Sendable, Equatable {
    /// Temporary files left by a killed write.
    case strayTemporaryFiles = "remove stray temporary files"
    /// A ledger line cut by a crash during an append.
    case incompleteLedgerLine = "remove the incomplete last ledger line"
    /// A ledger entry whose state was never committed (a crash between the two writes).
    case uncommittedEntry = "roll back the last ledger entry, whose state was never committed"
  }

  /// The audit of a state and its ledger.
  package struct Audit: Sendable {
    /// Every check, in order.
    package var findings: [Finding]
    /// What ``repair()`` would do.
    package var repairs: [Repair]
    /// Whether every check passed.
    package var passed: Bool { findings.allSatisfy(\.passed) }
  }

  /// Audits the state against its ledger and, when `data` (the full training set) is given,
  /// recomputes the current model's true gradient residual with `b` from scratch and checks it
  /// is at most the last certificate, which is at most the budget. Read-only.
  package func audit(data: Dataset?) -> Audit {
    var findings: [Finding] = []
    var repairs: [Repair] = []
    func add(_ check: String, _ passed: Bool, _ detail: String) {
      findings.append(Finding(check: check, passed: passed, detail: detail))
    }
    let strays =
      SecureFile.strayTemporaryFiles(for: path)
      + SecureFile.strayTemporaryFiles(for: ledgerPath)
    add(
      "no stray temporary files", strays.isEmpty,
      strays.isEmpty
        ? "none" : "\(strays.count) left by an interrupted write: \(strays.joined(separator: ", "))"
    )
    if !strays.isEmpty { repairs.append(.strayTemporaryFiles) }

    let verification = ledger.verify()
    switch verification {
    case .valid(let count, _): add("ledger hash chain", true, "\(count) entries, chain intact")
    case .incompleteLastEntry(let line, _):
      add(
        "ledger hash chain", false, "line \(line) is an incomplete entry (a crash during an append)"
      )
      repairs.append(.incompleteLedgerLine)
    default: add("ledger hash chain", false, verification.description)
    }
    let entries = (try? ledger.entries()) ?? []
    let file: ModelFile
    do {
      file = try ModelFile.read(from: path)
    } catch {
      add("state file", false, error.description)
      return Audit(findings: findings, repairs: repairs)
    }
    add("state file", true, "fields valid")
    let bytes = FileManager.default.contents(atPath: path) ?? Data()
    let stateHash = DeletionLedger.sha256Hex(bytes)
    guard let last = entries.last else {
      add("state recorded by the ledger", false, "the ledger has no entries")
      return Audit(findings: findings, repairs: repairs)
    }
    var committed = entries
    if last.stateSHA256 == stateHash {
      add("state recorded by the ledger", true, "the state is entry \(last.sequence)'s")
    } else if entries.count >= 2, entries[entries.count - 2].stateSHA256 == stateHash {
      add(
        "state recorded by the ledger", false,
        "entry \(last.sequence) was recorded but its state was never committed (interrupted request)"
      )
      repairs.append(.uncommittedEntry)
      committed.removeLast()
    } else {
      add(
        "state recorded by the ledger", false,
        "entry \(last.sequence), field stateSHA256: the state file was changed outside unlearn")
    }
    let head = committed.last ?? last
    add(
      "parameters", head.parametersSHA256 == DeletionLedger.sha256Hex(of: file.parameters),
      head.parametersSHA256 == DeletionLedger.sha256Hex(of: file.parameters)
        ? "match entry \(head.sequence)"
        : "entry \(head.sequence), field parametersSHA256: differ from the state's parameters")
    var union: [SampleID] = []
    for entry in committed { union += entry.ids }
    if union == file.removedIDs {
      add("removed ids", true, "\(union.count) ids, equal to the union of the entries")
    } else {
      let firstBad = committed.first { entry in !entry.ids.allSatisfy(file.removedIDs.contains) }
      add(
        "removed ids", false,
        firstBad.map { "entry \($0.sequence), field ids: not all in the state's removedIDs" }
          ?? "the state's removedIDs lists ids no entry recorded")
    }
    if let c = file.certification {
      if let recorded = head.certificate?.certifiedResidual {
        let same = abs(recorded - c.spent) <= 1e-12 * Swift.max(1, c.spent)
        add(
          "certificate recorded", same,
          same
            ? "certified residual \(recorded)"
            : "entry \(head.sequence), field certificate.certifiedResidual: \(recorded), the state says \(c.spent)"
        )
      }
      if let b = file.perturbation, b.count >= 20 {
        let rms = (b.map { $0 * $0 }.reduce(0, +) / Double(b.count)).squareRoot()
        let tolerance = 6 / (2 * Double(b.count)).squareRoot()
        let plausible = abs(rms / c.privacy.sigma - 1) <= tolerance
        add(
          "b matches sigma", plausible,
          String(
            format: "rms(b) / sigma = %.4f (expected 1 +- %.3f)", rms / c.privacy.sigma, tolerance))
      }
      if let data {
        struct Residual: StateVisitor {
          func visit<Model: TwiceDifferentiableModel>(_ state: TrainedModel<Model>) -> Double {
            state.gradientResidualNorm()
          }
        }
        do {
          let truth = try file.withState(data: data, path: path, Residual())
          let covered = truth <= c.spent && c.spent <= c.budget
          add(
            "true residual <= certificate <= budget", covered,
            "\(truth) <= \(c.spent) <= \(c.budget) (residual recomputed from the data, b included)")
        } catch {
          add("true residual <= certificate <= budget", false, "\(error)")
        }
      }
    }
    return Audit(findings: findings, repairs: repairs)
  }

  /// Applies the repairs ``audit(data:)`` lists, under the state's lock: removes stray
  /// temporary files, an incomplete last ledger line, and a last ledger entry whose state was
  /// never committed. Never touches the state file.
  ///
  /// - Returns: what was done.
  @discardableResult
  package func repair() throws -> [Repair] {
    try FileLock.withLock(path) {
      let needed = audit(data: nil).repairs
      for repair in needed {
        switch repair {
        case .strayTemporaryFiles:
          for stray in SecureFile.strayTemporaryFiles(for: path)
            + SecureFile.strayTemporaryFiles(for: ledgerPath)
          {
            try? FileManager.default.removeItem(atPath: stray)
          }
        case .incompleteLedgerLine: try ledger.repairTruncatedTail()
        case .uncommittedEntry:
          let text = FileManager.default.contents(atPath: ledgerPath) ?? Data()
          var lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
          lines.removeLast()
          var kept = Data()
          for line in lines {
            kept.append(contentsOf: line)
            kept.append(UInt8(ascii: "\n"))
          }
          try SecureFile.writeAtomically(kept, to: ledgerPath, mode: 0o600)
        }
      }
      return needed
    }
  }
}
