import Foundation
import Unlearning

/// Text and SVG renderings of a ``Comparison/Result``.
package enum ComparisonRendering {
  /// "Sandal (class 1)" when the class has a name, else "class 1".
  static func className(_ r: Comparison.Result, _ k: Int) -> String {
    r.classNames.indices.contains(k) ? "\(r.classNames[k]) (label \(k))" : "class \(k)"
  }

  static func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

  static func gap(_ x: Double) -> String {
    let points = 100 * x
    if abs(points) < 0.05 { return "" }
    return String(format: " (%+.1f)", points)
  }

  static func num(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    if x == 0 { return "0" }
    if abs(x) >= 0.01 && abs(x) < 1000 { return String(format: "%.3f", x) }
    return String(format: "%.1e", x)
  }

  static func seconds(_ s: Double?) -> String {
    guard let s else { return "-" }
    if s >= 1 { return String(format: "%.2f s", s) }
    if s >= 1e-3 { return String(format: "%.1f ms", s * 1e3) }
    return String(format: "%.0f us", s * 1e6)
  }

  static func text(_ r: Comparison.Result) -> String {
    var out = "unlearn compare: \(r.scenario)\n"
    out +=
      "Forgetting \(r.forgottenIDs.count) of \(r.trainCount) training samples (\(r.testCount) test samples).\n"
    if case .fashionMNIST(_, let trainLimit, let testLimit, _) = r.configuration.scenario,
      trainLimit != nil || testLimit != nil
    {
      out +=
        "SUBSAMPLED for speed: \(trainLimit.map { "\($0) training images (--train-limit)" } ?? "all training images")"
        + ", \(testLimit.map { "\($0) test images (--test-limit)" } ?? "all test images") of the selected classes.\n"
    }
    if let k = r.configuration.forget.forgottenClass {
      let name = k < r.classNames.count ? r.classNames[k] : String(k)
      out +=
        "Forgetting the whole class \(k) (\(name)): the retrained model never predicts it, so near-zero\n"
      out += "accuracy on the forgotten class IS the target here (not over-forgetting).\n"
    }
    out +=
      "Target: indistinguishable from the model retrained without them (the \"reference\" row),\n"
    out += "not 50% accuracy on the forgotten samples. Accuracy gaps to retrain are in points.\n"
    for summary in r.models {
      let rows = r.rows.filter { $0.model == summary.model }
      let t = summary.originalTraining
      out +=
        "\n== \(summary.model): \(summary.specification) - lambda \(num(summary.regularization)); original trained by \(t.method) to gradient norm \(num(t.gradientNorm)) in \(t.iterations) iterations\(t.converged ? "" : " (NOT converged)")\n"
      if let floor = summary.retrainNoiseFloorDistance {
        out +=
          "   noise floor: two retrains from different seeds differ by ||dtheta|| = \(num(floor)), test KL \(num(summary.retrainNoiseFloorTestKL ?? 0))\n"
      }
      let repeats = r.configuration.timingRepeats
      var lines = [
        [
          "method", "test acc", "retain acc", "forget acc", "rho", "||grad||", "KL test",
          "KL forget", "forget score", "MIA AUC", "time (median, min-max)", "speedup", "verdict",
        ]
      ]
      for row in rows {
        let e = row.evaluation
        lines.append([
          row.method,
          pct(e.testAccuracy) + gap(e.testAccuracyGap),
          pct(e.retainAccuracy) + gap(e.retainAccuracyGap),
          pct(e.forgetAccuracy) + gap(e.forgetAccuracyGap),
          num(e.relativeDistance), num(e.gradientResidualNorm), num(e.testKL), num(e.forgetKL),
          row.forgetScore.map { String(format: "%.3f", $0) + (row.method == "retrain" ? "*" : "") }
            ?? "-",
          String(format: "%.3f", e.membershipAUC), timing(row.timing, fallback: e.seconds),
          speedup(e.speedup, range: row.speedupRange), e.verdict.rawValue,
        ])
      }
      out += renderTable(lines)
      out +=
        "   times: median of \(repeats) run\(repeats == 1 ? "" : "s") per step (a step slower than \(String(format: "%g", r.configuration.repeatLimitSeconds)) s runs once), min-max in brackets\n"
      if let f = summary.forgetScore {
        out +=
          "   forget score: N = \(f.modelCount) models per group on independent random halves (epsilons to \(num(f.maximumEpsilon))), \(seconds(f.seconds)) for this model;\n"
        out +=
          "     * retrain's cell is the floor: a second, independent group of \(f.modelCount) retrains against the reference group (the best a method can expect at this N)\n"
        for note in f.notes { out += "     note: \(note)\n" }
      }
      if let note = summary.forgetScoreNote { out += "   \(note)\n" }
      if let reference = rows.first(where: { $0.reference != "retrain" })?.reference {
        out +=
          "   these rows carry a secret b: brackets are points against \"\(reference)\"; against the plain retrain:\n"
        for row in rows {
          guard let g = row.accuracyGapsToRetrain, g.count == 3 else { continue }
          out +=
            "     \(row.method): test \(String(format: "%+.1f", 100 * g[0])), retain \(String(format: "%+.1f", 100 * g[1])), forget \(String(format: "%+.1f", 100 * g[2])) points\n"
        }
      }
      out += classTable(r, rows: rows, retrainSeconds: summary.retrainSeconds)
      for row in rows where !row.settings.isEmpty {
        out += "   \(row.method): \(row.settings)\n"
      }
      for row in rows {
        for note in row.notes { out += "   note (\(row.method)): \(note)\n" }
      }
      for row in rows {
        if let c = row.report?.certificate {
          out +=
            "   certificate (\(row.method), \(c.accounting.rawValue) accounting, \(c.bound.rawValue) bound): epsilon \(num(c.epsilon)), delta \(num(c.delta)), sigma \(num(c.sigma)), budget eps' \(num(c.budget))\n"
          out +=
            "     certified residual \(num(c.certifiedResidual)) (tight bound \(num(c.tightBound)), Guo bound \(num(c.guoBound)), worst case \(num(c.worstCaseBound)), solve inexactness \(num(c.solveInexactness)))\n"
          out +=
            "     measured true residual incl. b \(num(c.trueResidual)); spent \(num(c.spent)), remaining \(num(c.remaining)); \(c.retrained ? "budget exhausted: retrained with a fresh b" : "no retrain needed"); certified: \(c.isCertified ? "yes" : "NO")\n"
        }
      }
    }
    if let sequential = r.sequentialCertification, let first = sequential.first {
      out +=
        "\nCertified removal, one request per forgotten sample (\(first.removals) requests; same epsilon, delta, sigma; budget eps' \(num(first.budget))):\n"
      var lines = [
        [
          "accounting", "bound", "retrains", "first retrain at", "largest certificate",
          "largest true residual", "covers truth", "spent at end", "median time",
        ]
      ]
      for s in sequential {
        lines.append([
          s.accounting, s.bound, String(s.retrains),
          s.firstRetrainAt.map { "removal \($0)" } ?? "none",
          num(s.largestCertificate), num(s.largestTrueResidual),
          s.everyCertificateCoversTheTruth ? "yes" : "NO",
          num(s.finalSpent), seconds(s.medianSeconds),
        ])
      }
      out += renderTable(lines)
      out +=
        "   paper: Guo et al.'s algorithm (Delta steps, summed data-dependent bounds); exact-step: full-gradient steps,\n"
      out +=
        "   each model certified by its own step's tight bound plus the solve's inexactness (Docs/Math.md section 6).\n"
    }
    out += seedTable(r)
    out += patientTable(r)
    out += "\n" + takeaways(r)
    return out
  }

  /// `"1.2 ms (1.1 ms-1.4 ms)"`: the median and the spread of the timed runs.
  static func timing(_ t: Comparison.Timing?, fallback: Double?) -> String {
    guard let t else { return seconds(fallback) }
    if t.runs.count == 1 { return seconds(t.median) }
    return "\(seconds(t.median)) (\(seconds(t.minimum))-\(seconds(t.maximum)))"
  }

  static func speedupText(_ x: Double) -> String {
    x >= 10 ? String(format: "%.0fx", x) : String(format: "%.2gx", x)
  }

  /// `"12x (10x-14x)"`: the ratio of the medians and its spread.
  static func speedup(_ x: Double?, range: [Double]?) -> String {
    guard let x else { return "-" }
    guard let range, range.count == 2, range[0] != range[1] else { return speedupText(x) }
    return "\(speedupText(x)) (\(speedupText(range[0]))-\(speedupText(range[1])))"
  }

  /// `"92.0 [91.2, 92.8]"` (percent) or `"0.034 [0.020, 0.048]"`: a mean and its interval.
  static func interval(_ i: Comparison.Interval?, percent: Bool = false) -> String {
    guard let i else { return "-" }
    func f(_ x: Double) -> String { percent ? String(format: "%.1f", 100 * x) : num(x) }
    guard let lo = i.lower, let hi = i.upper else { return f(i.mean) }
    return "\(f(i.mean)) [\(f(lo)), \(f(hi))]"
  }

  /// With several seeds: per model, means with 95% t-intervals, pooled timings and the
  /// verdicts judged on the intervals. With one seed: the run's values with their 95%
  /// percentile-bootstrap intervals over the evaluated examples (when computed).
  static func seedTable(_ r: Comparison.Result) -> String {
    let k = r.seeds.count
    var out: String
    if k > 1 {
      out =
        "\nOver \(k) seeds (\(r.seeds.map(String.init).joined(separator: ", "))): mean [95% t-interval, mean +- t(0.975, \(k - 1)) s / sqrt(\(k))];\n"
      out +=
        "accuracies in %; times pooled over every run of every seed; verdicts hold on the whole interval.\n"
    } else if r.summary.contains(where: { $0.testAccuracy.method == .bootstrap }) {
      let b = r.configuration.bootstrapResamples
      out =
        "\nOne seed: value [95% percentile-bootstrap interval, \(b) resamples of the test, retain and forget examples\n"
      out +=
        "(and the membership negatives); gaps to the reference paired] (Docs/Math.md 8.4); accuracies in %;\n"
      out += "rho is a parameter distance (no interval); verdicts hold on the whole interval.\n"
    } else {
      return ""
    }
    for summary in r.models {
      let rows = r.summary.filter { $0.model == summary.model }
      guard !rows.isEmpty else { continue }
      out += "\n== \(summary.model)\n"
      var lines = [
        [
          "method", "test acc", "retain acc", "forget acc", "rho", "KL test", "KL forget",
          "forget score", "MIA AUC", "time (median, min-max)", "speedup", "verdict",
        ]
      ]
      for row in rows {
        lines.append([
          row.method + (row.seeds.count < k ? " (\(row.seeds.count) seeds)" : ""),
          interval(row.testAccuracy, percent: true), interval(row.retainAccuracy, percent: true),
          interval(row.forgetAccuracy, percent: true), interval(row.relativeDistance),
          interval(row.testKL), interval(row.forgetKL),
          interval(row.forgetScore)
            + (row.method == "retrain" && row.forgetScore != nil ? "*" : ""),
          interval(row.membershipAUC), timing(row.seconds, fallback: nil),
          speedup(row.speedup, range: row.speedupRange), row.verdict.rawValue,
        ])
      }
      out += renderTable(lines)
    }
    return out
  }

  /// Class forgetting: per-class test accuracy, the forgotten class's recall and predicted
  /// share, and the distances to retrain in parameters and predictions.
  static func classTable(_ r: Comparison.Result, rows: [Comparison.Row], retrainSeconds: Double)
    -> String
  {
    guard let k = r.configuration.forget.forgottenClass else { return "" }
    let classCount = rows.first?.evaluation.testAccuracyByClass.count ?? 0
    var header = ["method"]
    header += (0..<classCount).map { c in c == k ? "[\(c)]" : String(c) }
    header += ["others", "recall \(k)", "pred. as \(k)", "||dtheta||", "L1 test", "KL test"]
    var lines = [header]
    for row in rows {
      let e = row.evaluation
      var line = [row.method]
      line += e.testAccuracyByClass.map { $0.map { String(format: "%.1f", 100 * $0) } ?? "-" }
      line.append(e.otherClassesTestAccuracy.map(pct) ?? "-")
      line.append(e.forgottenClassRecall.map(pct) ?? "-")
      line.append(e.predictedAsForgottenClassShare.map(pct) ?? "-")
      line += [num(e.distanceToRetrain), num(e.testMeanAbsoluteDifference), num(e.testKL)]
      lines.append(line)
    }
    let name = k < r.classNames.count ? r.classNames[k] : String(k)
    return
      "   per-class test accuracy (%; [\(k)] = \(name), forgotten), accuracy on the other classes, recall of class \(k),\n"
      + "   share of all test images predicted as \(k), and distance to retrain (parameters; predictions: mean L1, KL).\n"
      + "   Retrain time of this run: \(seconds(retrainSeconds)).\n"
      + renderTable(lines)
  }

  /// The first 15 forgotten patients with predictions before and after each method (hospital).
  static func patientTable(_ r: Comparison.Result) -> String {
    guard case .hospital(let seed) = r.configuration.scenario else { return "" }
    let patients = Scenario.Hospital.patients(seed: seed)
    var out =
      "\nThe first 15 forgotten patients (P = predicted diabetic; x marks a wrong prediction):\n"
    for summary in r.models {
      let rows = r.rows.filter {
        $0.model == summary.model && $0.method != "retrain" && $0.parametersAreTheModel
      }
      var header = ["id", "age", "glucose", "label", "original", "retrain"]
      header += rows.map(\.method)
      var lines = [header]
      for id in r.forgottenIDs.prefix(15) {
        let index = id.rawValue - Scenario.Hospital.firstPatientID
        guard index >= 0, index < patients.count else { continue }
        let p = patients[index]
        let x = Matrix(
          rows: 1, columns: 2,
          elements: Scenario.Hospital.scaledFeatures(age: p.age, glucose: p.glucose))
        func cell(_ theta: [Double]) -> String {
          let prob = summary.specification.probabilities(theta, features: x)[0, 1]
          let predicted = prob >= 0.5 ? 1 : 0
          return String(format: "%.2f", prob) + (predicted == p.label ? " " : " x")
        }
        var line = [
          String(id.rawValue), String(format: "%.0f", p.age), String(format: "%.0f", p.glucose),
          p.label == 1 ? "diabetic" : "healthy",
        ]
        line.append(cell(summary.originalParameters))
        line.append(cell(summary.retrainedParameters))
        line += rows.map { cell($0.parameters) }
        lines.append(line)
      }
      out += "\n\(summary.model):\n" + renderTable(lines)
    }
    return out
  }

  /// Plain-language conclusions computed from the rows; the verdicts are those judged on the
  /// intervals over all seeds (one seed: the bootstrap's), and a method whose seeds disagree
  /// is called mixed.
  package static func takeaways(_ r: Comparison.Result) -> String {
    var out = "What this shows:\n"
    let seedCount = Swift.max(r.seeds.count, 1)
    let over = seedCount > 1 ? " (means over \(seedCount) seeds)" : ""
    for summary in r.models {
      let rows = r.rows.filter { $0.model == summary.model }
      let summaries = r.summary.filter { $0.model == summary.model }
      guard let reference = rows.first(where: { $0.method == "retrain" })?.evaluation else {
        continue
      }
      if let k = r.configuration.forget.forgottenClass {
        out +=
          "- \(summary.model): the retrained model gets \(pct(reference.forgetAccuracy)) on the forgotten class \(className(r, k)) (it predicts \(pct(reference.predictedAsForgottenClassShare ?? 0)) of all test images as that class) and \(pct(reference.otherClassesTestAccuracy ?? 0)) on the other classes: that is the target.\n"
        if let one = rows.first(where: { $0.method == "newton-1step" })?.evaluation,
          let many = rows.first(where: { $0.method == "newton-iterated" })
        {
          let steps = many.report?.details["steps"].map { Int($0) } ?? 0
          out +=
            "  one Newton step: rho \(num(one.relativeDistance)), residual \(num(one.gradientResidualNorm)); \(steps) steps: rho \(num(many.evaluation.relativeDistance)), residual \(num(many.evaluation.gradientResidualNorm)).\n"
        }
      } else {
        out +=
          "- \(summary.model): the retrained model still gets \(pct(reference.forgetAccuracy)) on the forgotten samples (test \(pct(reference.testAccuracy))): that is the target.\n"
      }
      out += verdictLines(summaries, over: over)
    }
    return out
  }

  /// A speed-up (retrain time over method time) in words: "3.2x faster than retraining",
  /// "2.5x slower than retraining", or within 5%: "about as fast as retraining (0.98x)".
  static func speedText(_ speedup: Double) -> String {
    if speedup >= 1.05 { return String(format: "%.3gx faster than retraining", speedup) }
    if speedup > 0 && speedup <= 1 / 1.05 {
      return String(format: "%.3gx slower than retraining", 1 / speedup)
    }
    return String(format: "about as fast as retraining (%.2fx)", speedup)
  }

  /// The takeaway lines of one model's summary rows: over-forgetting and close-to-retrain
  /// methods by their interval verdict, and methods whose seeds disagree as mixed.
  static func verdictLines(_ rows: [Comparison.SummaryRow], over: String) -> String {
    var out = ""
    for row in rows where row.verdict == .overForgets {
      out +=
        "  \(row.method) over-forgets\(over): forget accuracy \(pct(row.forgetAccuracy.mean)), test accuracy \(pct(row.testAccuracy.mean)), rho \(num(row.relativeDistance.mean)).\n"
    }
    for row in rows where row.verdict == .closeToRetrain {
      out +=
        "  \(row.method) is close to retrain\(over): rho \(num(row.relativeDistance.mean)), test KL \(num(row.testKL.mean))\(row.speedup.map { ", " + speedText($0) } ?? "").\n"
    }
    for row in rows where Set(row.seedVerdicts).count > 1 {
      var counts: [(UnlearningEvaluation.Verdict, Int)] = []
      for v in row.seedVerdicts {
        if let i = counts.firstIndex(where: { $0.0 == v }) {
          counts[i].1 += 1
        } else {
          counts.append((v, 1))
        }
      }
      let parts = counts.map { "\($0.0.rawValue) on \($0.1)" }.joined(separator: ", ")
      out +=
        "  \(row.method) is mixed over the seeds (\(parts) of \(row.seedVerdicts.count)); on the intervals: \(row.verdict.rawValue).\n"
    }
    return out
  }

  // MARK: - SVG

  /// The figure: per model, accuracy gaps to retrain (points; the gaps that matter are a few
  /// points, invisible on a 0-1 axis), mean KL to retrain on test and forget (log scale; an
  /// exact 0 is labelled "0" on the axis; the dashed line is the original model's KL, i.e.
  /// doing nothing), and the unlearning step's seconds (log scale, retrain's as a dashed line).
  /// The hospital adds the decision boundaries. ``SVGFigure/write(to:)`` writes the plotted
  /// values as CSV beside the SVG.
  static func svg(_ r: Comparison.Result) -> SVGFigure {
    var plots = [SVGPlot]()
    for summary in r.models {
      let rows = r.rows.filter { $0.model == summary.model }
      let methods = rows.map(\.method)
      var accuracy = SVGPlot(
        title: "\(summary.model): accuracy minus the reference's (points)",
        yLabel: "accuracy gap (points)")
      accuracy.addBars(
        groups: methods,
        series: [
          ("test", rows.map { 100 * $0.evaluation.testAccuracyGap }),
          ("retain", rows.map { 100 * $0.evaluation.retainAccuracyGap }),
          ("forget", rows.map { 100 * $0.evaluation.forgetAccuracyGap }),
        ],
        colors: [SVGPlot.palette[0], SVGPlot.palette[2], SVGPlot.palette[1]])
      accuracy.add(.horizontalLine(y: 0, color: "#333", dashed: false, label: nil))
      plots.append(accuracy)

      var divergence = SVGPlot(
        title: "\(summary.model): mean KL to the reference (nats)", yLabel: "KL (log10 scale)")
      divergence.logY = true
      divergence.addBars(
        groups: methods,
        series: [
          ("test KL", rows.map(\.evaluation.testKL)),
          ("forget KL", rows.map(\.evaluation.forgetKL)),
        ],
        colors: [SVGPlot.palette[2], SVGPlot.palette[3]])
      if let original = rows.first(where: { $0.method == "naive" })?.evaluation,
        original.testKL > 0
      {
        divergence.add(
          .horizontalLine(
            y: original.testKL, color: "#000000", dashed: true,
            label: "original (test KL)"))
      }
      plots.append(divergence)

      var time = SVGPlot(
        title: "\(summary.model): unlearning time (seconds)", yLabel: "seconds (log10 scale)")
      time.logY = true
      time.addBars(
        groups: methods, series: [("seconds", rows.map { $0.evaluation.seconds ?? .nan })],
        colors: [SVGPlot.palette[4]])
      if summary.retrainSeconds > 0 {
        time.add(
          .horizontalLine(
            y: summary.retrainSeconds, color: "#000000", dashed: true, label: "retrain"))
      }
      plots.append(time)
      if case .hospital(let seed) = r.configuration.scenario {
        plots.append(boundaryPlot(r, summary: summary, rows: rows, seed: seed))
      }
    }
    return SVGFigure(
      text: SVGPlot.compose(plots, columns: 2, title: "unlearn compare: \(r.scenario)"),
      data: SVGPlot.dataCSV(plots))
  }

  /// Decision boundaries (P(diabetic) = 0.5) in the raw (age, glucose) plane.
  static func boundaryPlot(
    _ r: Comparison.Result, summary: Comparison.ModelSummary, rows: [Comparison.Row], seed: UInt64
  ) -> SVGPlot {
    var plot = SVGPlot(
      title: "\(summary.model): decision boundaries (circled: forgotten patients)",
      xLabel: "age (years)", yLabel: "glucose (mg/dL)")
    plot.xRange = 10...90
    plot.yRange = 40...220
    let patients = Scenario.Hospital.patients(seed: seed)
    let forgotten = Set(r.forgottenIDs)
    let healthy = patients.filter { $0.label == 0 }
    let diabetic = patients.filter { $0.label == 1 }
    plot.add(
      .points(
        xs: healthy.map(\.age), ys: healthy.map(\.glucose), color: "#9ecae1", radius: 2.2,
        label: "healthy", hollow: false))
    plot.add(
      .points(
        xs: diabetic.map(\.age), ys: diabetic.map(\.glucose), color: "#fdae6b", radius: 2.2,
        label: "diabetic", hollow: false))
    let gone = patients.filter { forgotten.contains($0.id) }
    plot.add(
      .points(
        xs: gone.map(\.age), ys: gone.map(\.glucose), color: "#555555", radius: 4,
        label: "forgotten", hollow: true))
    // The original goes last, drawn over the others as a wide dashed line, so it stays visible
    // where a method (naive deletion, fine-tuning) coincides with it.
    var curves: [(String, [Double])] = rows.filter(\.parametersAreTheModel).map {
      ($0.method, $0.parameters)
    }
    curves.append(("original", summary.originalParameters))
    for (i, (name, theta)) in curves.enumerated() {
      var xs = [Double](), ys = [Double]()
      for step in 0...80 {
        let age = 10 + Double(step)
        if let g = boundaryGlucose(summary.specification, theta, age: age) {
          xs.append(age)
          ys.append(g)
        } else if !xs.isEmpty {
          break
        }
      }
      let colors = [
        "#000000", "#D55E00", "#0072B2", "#CC79A7", "#E69F00", "#56B4E9", "#009E73", "#F0E442",
        "#999999",
      ]
      let isOriginal = name == "original"
      plot.add(
        .line(
          xs: xs, ys: ys, color: isOriginal ? "#000000" : colors[(i + 1) % colors.count],
          width: isOriginal ? 2.8 : name == "retrain" ? 3.5 : 1.6,
          dashed: isOriginal, label: name + (isOriginal ? " (dashed)" : "")))
    }
    return plot
  }

  /// The glucose level where P(diabetic) crosses 0.5 at this age (first crossing from below).
  static func boundaryGlucose(_ spec: ModelFile.Specification, _ theta: [Double], age: Double)
    -> Double?
  {
    func p(_ g: Double) -> Double {
      spec.probabilities(
        theta,
        features: Matrix(
          rows: 1, columns: 2, elements: Scenario.Hospital.scaledFeatures(age: age, glucose: g)))[
          0, 1] - 0.5
    }
    var lo = 20.0
    var plo = p(lo)
    var g = lo
    while g < 260 {
      g += 4
      let pg = p(g)
      if (plo < 0) != (pg < 0) {
        var a = lo, b = g
        for _ in 0..<40 {
          let m = 0.5 * (a + b)
          if (p(m) < 0) == (plo < 0) { a = m } else { b = m }
        }
        return 0.5 * (a + b)
      }
      lo = g
      plo = pg
    }
    return nil
  }
}

/// A rendered SVG document and the CSV of the values it plots.
struct SVGFigure {
  var text: String
  /// `panel,series,x,y` (see ``SVGPlot/dataCSV(_:)``).
  var data: String

  /// Where the CSV goes beside `path`: `figure.svg` -> `figure.csv` (`figure.svg.csv` when
  /// the name does not end in `.svg`).
  static func dataPath(besides path: String) -> String {
    path.hasSuffix(".svg") ? String(path.dropLast(4)) + ".csv" : path + ".csv"
  }

  /// Writes the SVG to `path` and the plotted data beside it, atomically.
  func write(to path: String) throws {
    try SecureFile.writeAtomically(Data(text.utf8), to: path, mode: 0o644)
    try SecureFile.writeAtomically(Data(data.utf8), to: Self.dataPath(besides: path), mode: 0o644)
  }
}
