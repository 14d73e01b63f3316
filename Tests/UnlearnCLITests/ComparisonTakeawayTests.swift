import Foundation
import Testing
import Unlearning
import UnlearnCLI

/// The summary lines after `compare`'s tables come from the interval verdicts over all seeds,
/// not from the first seed's rows, and say "mixed" when the seeds disagree.
@Suite("Comparison takeaways")
struct ComparisonTakeawayTests {
  static func result(seeds: Int) throws -> Comparison.Result {
    var c = Comparison.Configuration()
    c.models = [.logistic]
    c.methods = [.retrain, .naive, .newton]
    c.forget = .random(count: 20)
    c.seedCount = seeds
    c.bootstrapResamples = 200
    return try Comparison.run(c)
  }

  @Test func takeawaysFollowTheIntervalVerdictsOverAllSeeds() throws {
    var r = try Self.result(seeds: 2)
    let newton = try #require(r.summary.firstIndex { $0.method == "newton" })
    let naive = try #require(r.summary.firstIndex { $0.method == "naive" })
    #expect(r.summary[newton].verdict == .closeToRetrain)
    let text = ComparisonRendering.takeaways(r)
    #expect(text.contains("newton is close to retrain (means over 2 seeds): rho "))
    // The first seed's row says something else: the takeaway still follows the summary.
    let firstNewton = try #require(r.rows.firstIndex { $0.method == "newton" })
    r.rows[firstNewton].evaluation.verdict = .overForgets
    #expect(ComparisonRendering.takeaways(r) == text)
    // The summary's verdict decides: no longer close, no line.
    r.summary[newton].verdict = .partial
    #expect(!ComparisonRendering.takeaways(r).contains("newton is close to retrain"))
    // Seeds that disagree are called mixed, with the count of each verdict.
    r.summary[naive].seedVerdicts = [.noChange, .partial]
    r.summary[naive].verdict = .partial
    #expect(
      ComparisonRendering.takeaways(r).contains(
        "naive is mixed over the seeds (no change on 1, partial on 1 of 2); on the intervals: partial."
      ))
    r.summary[naive].seedVerdicts = [.noChange, .noChange]
    #expect(!ComparisonRendering.takeaways(r).contains("mixed"))
  }

  @Test func oneSeedTakeawaysUseTheBootstrapVerdicts() throws {
    let r = try Self.result(seeds: 1)
    let newton = try #require(r.rows.first { $0.method == "newton" })
    #expect(newton.bootstrap != nil)
    let text = ComparisonRendering.takeaways(r)
    #expect(
      text.contains("newton is close to retrain: rho ")
        == (newton.evaluation.verdict == .closeToRetrain))
    #expect(!text.contains("mixed") && !text.contains("means over"))
  }
}
