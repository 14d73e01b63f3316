import ArgumentParser
import Foundation

/// Progress lines on standard error: `[unlearn 12.3 s] message`, the time since the command
/// started; silenced by `--quiet`. Results never go here.
enum Progress {
  /// Set by `--quiet`.
  nonisolated(unsafe) static var isQuiet = false
  /// When the command started (reset by ``ProgressOptions/apply()``).
  nonisolated(unsafe) static var start = DispatchTime.now().uptimeNanoseconds

  /// Seconds since the command started.
  static var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }

  /// Writes one line (unless quiet).
  static func line(_ s: String) {
    guard !isQuiet else { return }
    FileHandle.standardError.write(Data("[unlearn \(duration(elapsed))] \(s)\n".utf8))
  }

  /// "0.4 s", "12 s", "3 min 05 s".
  static func duration(_ s: Double) -> String {
    if s < 10 { return String(format: "%.1f s", s) }
    if s < 120 { return String(format: "%.0f s", s) }
    let whole = Int(s.rounded())
    return String(format: "%d min %02d s", whole / 60, whole % 60)
  }
}

/// A loop of known length: reports `label i/n, elapsed, ETA` at most every 2 seconds, and only
/// once the loop has run for 2 seconds (short loops stay silent).
struct LoopProgress {
  let label: String
  let total: Int
  private let start = DispatchTime.now().uptimeNanoseconds
  private var lastReport: UInt64 = 0

  init(_ label: String, total: Int) {
    self.label = label
    self.total = total
  }

  /// Call after item `done` (1-based) finished.
  mutating func step(_ done: Int) {
    let now = DispatchTime.now().uptimeNanoseconds
    let elapsed = Double(now - start) * 1e-9
    guard elapsed >= 2, Double(now - max(lastReport, start)) * 1e-9 >= 2 || done == total
    else { return }
    lastReport = now
    let remaining = elapsed / Double(max(done, 1)) * Double(total - done)
    Progress.line(
      "\(label) \(done)/\(total), \(Progress.duration(elapsed)) elapsed"
        + (done < total ? ", ETA \(Progress.duration(remaining))" : ""))
  }
}

/// `--quiet`, shared by the commands that print progress.
struct ProgressOptions: ParsableArguments {
  @Flag(help: "Print no progress on standard error (results and errors still print).")
  var quiet = false

  /// Applies the flag and starts the clock.
  func apply() {
    Progress.isQuiet = quiet
    Progress.start = DispatchTime.now().uptimeNanoseconds
  }
}

/// Prints one progress line on stderr (see ``Progress``).
func progressLine(_ s: String) { Progress.line(s) }
