import ArgumentParser
import Foundation

/// Progress lines on standard error: `[unlearn 12.3 s] message`, the time since the command
/// started; silenced by `--quiet`. Results never go here.
///
/// A stage that runs longer than 10 seconds (an MLP's training, a retrain, a batch of removals)
/// is not silent: a heartbeat repeats it every 10 seconds with the time it has taken so far, so a
/// long run always shows what it is doing and for how long.
enum Progress {
  /// Set by `--quiet`.
  nonisolated(unsafe) static var isQuiet = false
  /// When the command started (reset by ``ProgressOptions/apply()``).
  nonisolated(unsafe) static var start = DispatchTime.now().uptimeNanoseconds

  private static let lock = NSLock()
  nonisolated(unsafe) private static var stage: (text: String, since: UInt64)?
  nonisolated(unsafe) private static var heartbeat: DispatchSourceTimer?

  /// Seconds since the command started.
  static var elapsed: Double { seconds(since: start) }

  static func seconds(since t: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - t) * 1e-9
  }

  /// Writes one line (unless quiet) and makes it the current stage.
  static func line(_ s: String) {
    guard !isQuiet else { return }
    lock.lock()
    stage = (s, DispatchTime.now().uptimeNanoseconds)
    lock.unlock()
    write(s)
  }

  private static func write(_ s: String) {
    FileHandle.standardError.write(Data("[unlearn \(duration(elapsed))] \(s)\n".utf8))
  }

  /// Starts the heartbeat (once per process; it only ever prints when a stage is older than
  /// 10 seconds).
  static func startHeartbeat() {
    lock.lock()
    defer { lock.unlock() }
    guard heartbeat == nil else { return }
    let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
    timer.schedule(deadline: .now() + 10, repeating: 10)
    timer.setEventHandler {
      lock.lock()
      let current = stage
      lock.unlock()
      guard !isQuiet, let current, seconds(since: current.since) >= 10 else { return }
      write("still running: \(current.text) (\(duration(seconds(since: current.since))) so far)")
    }
    timer.resume()
    heartbeat = timer
  }

  /// "0.4 s", "12 s", "3 min 05 s".
  static func duration(_ s: Double) -> String {
    if s < 10 { return String(format: "%.1f s", s) }
    if s < 120 { return String(format: "%.0f s", s) }
    let whole = Int(s.rounded())
    return String(format: "%d min %02d s", whole / 60, whole % 60)
  }
}

/// `--quiet`, shared by the commands that print progress.
struct ProgressOptions: ParsableArguments {
  @Flag(help: "Print no progress on standard error (results and errors still print).")
  var quiet = false

  /// Applies the flag, starts the clock and the heartbeat.
  func apply() {
    Progress.isQuiet = quiet
    Progress.start = DispatchTime.now().uptimeNanoseconds
    // Only in the `unlearn` process itself: commands run in-process by tests leave no timer.
    if !quiet && ProcessInfo.processInfo.processName == "unlearn" { Progress.startHeartbeat() }
  }
}

/// Prints one progress line on stderr (see ``Progress``).
package func progressLine(_ s: String) { Progress.line(s) }
