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
  ///
  /// A line that reports a count, `label: k/N ...` (a loop with a known count: model pairs,
  /// retrains, removals), and carries no estimate of its own gets one: the time since the
  /// loop's first line and the remaining time at the mean pace so far (see ``LoopClock``).
  static func line(_ s: String) {
    guard !isQuiet else { return }
    let now = DispatchTime.now().uptimeNanoseconds
    lock.lock()
    let text = loops.annotate(s, now: now)
    stage = (text, now)
    lock.unlock()
    write(text)
  }

  /// Starts of the counted loops seen so far (guarded by `lock`).
  nonisolated(unsafe) private static var loops = LoopClock()

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

/// Elapsed and remaining time for progress lines of loops with a known count.
///
/// A line `label: k/N rest` (the count right after the first `": "`) is step `k` of `N` of the
/// loop named `label`; the loop's clock starts at the first such line (the start of step 1 when
/// that line says `0/N`, else the end of step `k`, from which the pace is taken over the later
/// steps). The estimate is the mean pace so far times the steps left: rough for uneven steps,
/// exact for equal ones. Lines that already carry `ETA` or `left` are left alone.
package struct LoopClock {
  package init() {}

  /// Per label: when its clock started and the count done then.
  private var starts: [String: (since: UInt64, done: Int)] = [:]

  /// `line` with `, <elapsed> elapsed, about <remaining> left` appended when it reports a count
  /// (`, <elapsed> elapsed` alone until the pace is known, and at the last step).
  package mutating func annotate(_ line: String, now: UInt64) -> String {
    guard let (label, done, total) = Self.count(in: line), !line.contains("ETA"),
      !line.contains(" left")
    else { return line }
    guard let start = starts[label], start.done < done else {
      starts[label] = (now, done)
      return line
    }
    if done >= total { starts[label] = nil }
    let seconds = Double(now - start.since) * 1e-9
    return line
      + Self.estimate(seconds, done: done - start.done, of: total - start.done)
  }

  /// `", 12 s elapsed, about 40 s left"` after `done` of `total` steps took `seconds`;
  /// `", 12 s elapsed"` when nothing or everything is done.
  package static func estimate(_ seconds: Double, done: Int, of total: Int) -> String {
    let elapsed = ", \(Progress.duration(seconds)) elapsed"
    guard done > 0, done < total else { return elapsed }
    let remaining = seconds / Double(done) * Double(total - done)
    return elapsed + ", about \(Progress.duration(remaining)) left"
  }

  /// The label and count of `label: k/N ...`, `nil` for any other line.
  package static func count(in line: String) -> (label: String, done: Int, total: Int)? {
    guard let colon = line.range(of: ": ") else { return nil }
    let label = String(line[..<colon.lowerBound])
    let rest = line[colon.upperBound...]
    let token = rest.prefix { $0.isNumber || $0 == "/" }
    let parts = token.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let done = Int(parts[0]), let total = Int(parts[1]), total > 0,
      done >= 0, done <= total
    else { return nil }
    return (label, done, total)
  }
}

/// Prints one progress line on stderr (see ``Progress``).
package func progressLine(_ s: String) { Progress.line(s) }
