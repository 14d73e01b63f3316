import Testing
import UnlearnCLI

@Suite("Progress estimates")
struct ProgressTests {
  static let second: UInt64 = 1_000_000_000

  @Test("a counted loop gets elapsed and remaining time at the mean pace so far")
  func countedLoop() {
    var clock = LoopClock()
    // Step 0/4 starts the clock; each step then takes 10 s, so after k steps 10 k s have
    // passed and 10 (4 - k) s are left.
    #expect(clock.annotate("retrains: 0/4 models", now: 5 * Self.second) == "retrains: 0/4 models")
    #expect(
      clock.annotate("retrains: 1/4 models", now: 15 * Self.second)
        == "retrains: 1/4 models, 10 s elapsed, about 30 s left")
    #expect(
      clock.annotate("retrains: 3/4 models", now: 35 * Self.second)
        == "retrains: 3/4 models, 30 s elapsed, about 10 s left")
    #expect(
      clock.annotate("retrains: 4/4 models", now: 45 * Self.second)
        == "retrains: 4/4 models, 40 s elapsed")
  }

  @Test("a loop first seen mid-way takes its pace from the later steps")
  func loopSeenMidway() {
    var clock = LoopClock()
    #expect(clock.annotate("removals: 2/10", now: 0) == "removals: 2/10")
    // 2 more steps in 8 s: 4 s a step, 6 steps left.
    #expect(
      clock.annotate("removals: 4/10", now: 8 * Self.second)
        == "removals: 4/10, 8.0 s elapsed, about 24 s left")
  }

  @Test("lines without a count, or with their own estimate, are unchanged")
  func otherLines() {
    var clock = LoopClock()
    for line in [
      "loading hospital", "forget score: 1/20 pairs, 3.0 s elapsed, ETA 57 s",
      "logistic: training the original model on 400 samples", "ratio: 3/0 things",
      "x: 5/3 steps",
    ] {
      #expect(clock.annotate(line, now: 0) == line)
      #expect(clock.annotate(line, now: 9 * Self.second) == line)
    }
    let count = LoopClock.count(in: "pairs: 12/20 done")
    #expect(count?.label == "pairs" && count?.done == 12 && count?.total == 20)
  }

  @Test("the estimate is the mean step time times the steps left")
  func estimate() {
    #expect(LoopClock.estimate(120, done: 3, of: 5) == ", 2 min 00 s elapsed, about 80 s left")
    #expect(LoopClock.estimate(2, done: 0, of: 5) == ", 2.0 s elapsed")
    #expect(LoopClock.estimate(2, done: 5, of: 5) == ", 2.0 s elapsed")
  }
}
