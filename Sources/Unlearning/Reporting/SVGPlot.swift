import Foundation

/// A small, dependency-free SVG chart writer for figures in reports and notebooks: scatter
/// points, polylines, filled contours of a decision function, grouped bars, axes with ticks
/// (linear or log10), a title and a legend.
///
/// Coordinates are data coordinates; the plot maps them into a `width x height` pixel frame.
/// Output is deterministic text (fixed number formatting), so figures can be committed and
/// compared.
public struct SVGPlot: Sendable {
  /// One drawable element in data coordinates.
  public enum Mark: Sendable {
    case points(
      xs: [Double], ys: [Double], color: String, radius: Double, label: String?, hollow: Bool)
    case line(
      xs: [Double], ys: [Double], color: String, width: Double, dashed: Bool, label: String?)
    /// A filled rectangle (data coordinates), e.g. one cell of a decision map.
    case rectangle(x0: Double, y0: Double, x1: Double, y1: Double, color: String, opacity: Double)
    case horizontalLine(y: Double, color: String, dashed: Bool, label: String?)
    case text(x: Double, y: Double, text: String, color: String)
    /// A label just above the x axis at data `x` (e.g. "0" where a log-scale bar has no
    /// height to draw).
    case axisLabel(x: Double, text: String, color: String)
  }

  /// One plotted value, for the CSV written beside a figure: the series, the x position (a
  /// category name or a number) and the value.
  public struct Datum: Sendable, Equatable {
    /// The series (legend) name.
    public var series: String
    /// The category or the x coordinate, as text.
    public var x: String
    /// The plotted value (data units, before any log scale).
    public var y: Double
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var width: Double = 640
  public var height: Double = 420
  public var logY = false
  public var xRange: ClosedRange<Double>?
  public var yRange: ClosedRange<Double>?
  /// Category names for a bar chart's x axis (set by ``addBars(groups:series:colors:)``).
  public var categories: [String] = []
  public private(set) var marks: [Mark] = []
  /// Every value added by ``addBars(groups:series:colors:)`` and every labelled line or point
  /// set, in data units (see ``dataCSV(_:)``).
  public private(set) var data: [Datum] = []

  public init(title: String, xLabel: String = "", yLabel: String = "") {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
  }

  public mutating func add(_ mark: Mark) {
    marks.append(mark)
    switch mark {
    case .points(let xs, let ys, _, _, let label?, _), .line(let xs, let ys, _, _, _, let label?):
      data += zip(xs, ys).map { Datum(series: label, x: Self.number($0), y: $1) }
    case .horizontalLine(let y, _, _, let label?):
      data.append(Datum(series: label, x: "", y: y))
    default: break
    }
  }

  /// Grouped bars: `series[s][g]` is the height of series `s` in group `g`; groups are placed at
  /// x = 0, 1, 2, ... and labelled with `groups`. On a log axis (set ``logY`` first) a value
  /// that is zero or negative has no bar: it is labelled "0" on the axis instead, and the axis
  /// reaches at least half a decade below the smallest positive value, so every positive bar
  /// is visible.
  public mutating func addBars(
    groups: [String], series: [(name: String, values: [Double])], colors: [String]
  ) {
    categories = groups
    let k = Double(max(series.count, 1))
    let barWidth = 0.8 / k
    for (s, entry) in series.enumerated() {
      for (g, value) in entry.values.enumerated() {
        if g < groups.count { data.append(Datum(series: entry.name, x: groups[g], y: value)) }
        guard value.isFinite else { continue }
        let x0 = Double(g) - 0.4 + Double(s) * barWidth
        if logY && value <= 0 {
          add(
            .axisLabel(
              x: x0 + barWidth * 0.46, text: value == 0 ? "0" : "<0",
              color: colors[s % colors.count]))
          continue
        }
        add(
          .rectangle(
            x0: x0, y0: 0, x1: x0 + barWidth * 0.92, y1: value, color: colors[s % colors.count],
            opacity: 0.9))
      }
    }
    legendEntries += series.enumerated().map { ($0.element.name, colors[$0.offset % colors.count]) }
    if xRange == nil { xRange = -0.6...(Double(groups.count) - 0.4) }
  }

  var legendEntries: [(String, String)] = []

  /// The palette used across the project's figures (colour-blind friendly).
  public static let palette = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
  ]

  // MARK: - Rendering

  private var margin: (left: Double, right: Double, top: Double, bottom: Double) {
    (70, 20 + (legendNames.isEmpty ? 0 : 150), 40, categories.isEmpty ? 60 : 110)
  }

  private var legendNames: [(String, String)] {
    var out = legendEntries
    for m in marks {
      switch m {
      case .points(_, _, let c, _, let l?, _): out.append((l, c))
      case .line(_, _, let c, _, _, let l?): out.append((l, c))
      case .horizontalLine(_, let c, _, let l?): out.append((l, c))
      default: break
      }
    }
    return out
  }

  private func dataBounds() -> (ClosedRange<Double>, ClosedRange<Double>) {
    var xs = [Double](), ys = [Double]()
    for m in marks {
      switch m {
      case .points(let x, let y, _, _, _, _), .line(let x, let y, _, _, _, _):
        xs += x
        ys += y
      case .rectangle(let x0, let y0, let x1, let y1, _, _):
        xs += [x0, x1]
        ys += [y0, y1]
      case .horizontalLine(let y, _, _, _): ys.append(y)
      case .text(let x, let y, _, _):
        xs.append(x)
        ys.append(y)
      case .axisLabel(let x, _, _): xs.append(x)
      }
    }
    xs = xs.filter { $0.isFinite }
    ys = ys.filter { $0.isFinite && (!logY || $0 > 0) }
    func range(_ v: [Double]) -> ClosedRange<Double> {
      guard let lo = v.min(), let hi = v.max() else { return 0...1 }
      if lo == hi { return (lo - 0.5)...(hi + 0.5) }
      return lo...hi
    }
    return (xRange ?? range(xs), yRange ?? range(ys))
  }

  /// The SVG document.
  public func render() -> String {
    let (xr, yrRaw) = dataBounds()
    // Log axes span whole decades; bar charts reach at least half a decade below the smallest
    // bar, so that no bar sits on the axis floor with zero height.
    let low = Foundation.log10(max(yrRaw.lowerBound, 1e-300))
    let high = Foundation.log10(max(yrRaw.upperBound, 1e-300)).rounded(.up)
    let yr: ClosedRange<Double> =
      !logY
      ? yrRaw
      : categories.isEmpty
        ? low.rounded(.down)...high
        : (low - 0.5).rounded(.down)...max(high, (low - 0.5).rounded(.down) + 1)
    let left = margin.left, top = margin.top
    let plotW = width - margin.left - margin.right
    let plotH = height - margin.top - margin.bottom
    func px(_ x: Double) -> Double {
      left + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * plotW
    }
    func py(_ y: Double) -> Double {
      let v = logY ? Foundation.log10(max(y, 1e-300)) : y
      let span = yr.upperBound - yr.lowerBound
      return top + plotH - (v - yr.lowerBound) / (span == 0 ? 1 : span) * plotH
    }
    func f(_ v: Double) -> String { String(format: "%.2f", v) }
    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(Self.escape(title))</text>

      """
    s +=
      "<clipPath id=\"plot\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></clipPath>\n"
    // Grid and ticks.
    let yTicks: [Double] =
      logY
      ? Array(stride(from: yr.lowerBound, through: yr.upperBound, by: 1)).map {
        Foundation.pow(10, $0)
      } : Self.niceTicks(yr)
    for t in yTicks {
      let y = py(t)
      s +=
        "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>\n"
      s +=
        "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.tickLabel(t, log: logY))</text>\n"
    }
    if categories.isEmpty {
      for t in Self.niceTicks(xr) {
        let x = px(t)
        s +=
          "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" stroke=\"#f0f0f0\"/>\n"
        s +=
          "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(Self.tickLabel(t, log: false))</text>\n"
      }
    } else {
      for (g, name) in categories.enumerated() {
        let x = px(Double(g))
        let y = top + plotH + 14
        s +=
          "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"end\" font-size=\"11\" transform=\"rotate(-30 \(f(x)) \(f(y)))\">\(Self.escape(name))</text>\n"
      }
    }
    s += "<g clip-path=\"url(#plot)\">\n"
    for m in marks {
      switch m {
      case .rectangle(let x0, let y0, let x1, let y1, let c, let o):
        let (a, b) = (px(min(x0, x1)), px(max(x0, x1)))
        let (c0, c1) = (py(max(y0, y1)), py(min(y0, y1)))
        s +=
          "<rect x=\"\(f(a))\" y=\"\(f(c0))\" width=\"\(f(b - a))\" height=\"\(f(c1 - c0))\" fill=\"\(c)\" fill-opacity=\"\(f(o))\"/>\n"
      default: break
      }
    }
    for m in marks {
      switch m {
      case .points(let xs, let ys, let c, let r, _, let hollow):
        for (x, y) in zip(xs, ys) where x.isFinite && y.isFinite {
          s +=
            hollow
            ? "<circle cx=\"\(f(px(x)))\" cy=\"\(f(py(y)))\" r=\"\(f(r))\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.5\"/>\n"
            : "<circle cx=\"\(f(px(x)))\" cy=\"\(f(py(y)))\" r=\"\(f(r))\" fill=\"\(c)\" fill-opacity=\"0.8\"/>\n"
        }
      case .line(let xs, let ys, let c, let w, let dashed, _):
        let pts = zip(xs, ys).filter { $0.0.isFinite && $0.1.isFinite && (!logY || $0.1 > 0) }.map {
          "\(f(px($0.0))),\(f(py($0.1)))"
        }
        if pts.count > 1 {
          s +=
            "<polyline points=\"\(pts.joined(separator: " "))\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"\(f(w))\"\(dashed ? " stroke-dasharray=\"6,4\"" : "")/>\n"
        }
      case .horizontalLine(let y, let c, let dashed, _):
        s +=
          "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(y)))\" stroke=\"\(c)\" stroke-width=\"1.5\"\(dashed ? " stroke-dasharray=\"6,4\"" : "")/>\n"
      case .text(let x, let y, let t, let c):
        s +=
          "<text x=\"\(f(px(x)))\" y=\"\(f(py(y)))\" fill=\"\(c)\" font-size=\"11\">\(Self.escape(t))</text>\n"
      case .axisLabel(let x, let t, let c):
        s +=
          "<text x=\"\(f(px(x)))\" y=\"\(f(top + plotH - 4))\" fill=\"\(c)\" font-size=\"10\" text-anchor=\"middle\">\(Self.escape(t))</text>\n"
      case .rectangle: break
      }
    }
    s += "</g>\n"
    s +=
      "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
    s +=
      "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 18))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
    s +=
      "<text transform=\"translate(16,\(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
    for (i, entry) in legendNames.enumerated() {
      let y = top + 10 + Double(i) * 18
      let x = width - margin.right + 12
      s +=
        "<rect x=\"\(f(x))\" y=\"\(f(y - 9))\" width=\"12\" height=\"12\" fill=\"\(entry.1)\"/>\n"
      s +=
        "<text x=\"\(f(x + 18))\" y=\"\(f(y + 1))\" font-size=\"11\">\(Self.escape(entry.0))</text>\n"
    }
    s += "</svg>\n"
    return s
  }

  /// Writes ``render()`` to `path` atomically.
  public func write(to path: String) throws {
    try Data(render().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
  }

  /// Records a plotted value in ``data`` without drawing anything (for values drawn by marks
  /// that carry no series, e.g. the pixels of an image drawn as rectangles).
  public mutating func record(series: String, x: String, y: Double) {
    data.append(Datum(series: series, x: x, y: y))
  }

  /// Where the plotted data of the figure at `path` goes: `figure.svg` -> `figure.csv`
  /// (`figure.svg.csv` when the name does not end in `.svg`).
  public static func dataPath(besides path: String) -> String {
    path.hasSuffix(".svg") ? String(path.dropLast(4)) + ".csv" : path + ".csv"
  }

  /// Writes this plot (``render()``) to `path` and its plotted values (``dataCSV(_:)``) beside
  /// it (``dataPath(besides:)``), both atomically.
  public func writeFigure(to path: String) throws {
    try Self.writeFigure(render(), data: [self], to: path)
  }

  /// Writes ``compose(_:columns:title:)`` of `plots` to `path` and their plotted values
  /// (``dataCSV(_:)``, one panel per plot) beside it (``dataPath(besides:)``), both atomically.
  public static func writeFigure(
    _ plots: [SVGPlot], columns: Int, title: String? = nil, to path: String
  ) throws {
    try writeFigure(compose(plots, columns: columns, title: title), data: plots, to: path)
  }

  private static func writeFigure(_ svg: String, data plots: [SVGPlot], to path: String) throws {
    try Data(svg.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    try Data(dataCSV(plots).utf8).write(
      to: URL(fileURLWithPath: dataPath(besides: path)), options: .atomic)
  }

  /// The plotted values of `plots` as CSV: `panel,series,x,y` (panel = the plot's title),
  /// one line per value, `y` to 6 significant digits (finer digits are round-off that differs
  /// between machines and thread counts, and would churn the committed files on every run).
  public static func dataCSV(_ plots: [SVGPlot]) -> String {
    var lines = [["panel", "series", "x", "y"]]
    for plot in plots {
      lines += plot.data.map { [plot.title, $0.series, $0.x, String(format: "%.6g", $0.y)] }
    }
    return renderCSV(lines)
  }

  static func number(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(format: "%.6g", x)
  }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;")
  }

  static func tickLabel(_ t: Double, log: Bool) -> String {
    if log { return "1e\(Int(Foundation.log10(t).rounded()))" }
    if t == 0 { return "0" }
    if abs(t) >= 1e4 || abs(t) < 1e-3 { return String(format: "%.0e", t) }
    let r = String(format: "%.3f", t)
    var trimmed = r
    while trimmed.hasSuffix("0") { trimmed.removeLast() }
    if trimmed.hasSuffix(".") { trimmed.removeLast() }
    return trimmed
  }

  /// About five round tick values covering `range`.
  static func niceTicks(_ range: ClosedRange<Double>) -> [Double] {
    let span = range.upperBound - range.lowerBound
    guard span > 0, span.isFinite else { return [range.lowerBound] }
    let raw = span / 5
    let mag = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
    var t = Foundation.ceil(range.lowerBound / step) * step
    var out = [Double]()
    while t <= range.upperBound + 1e-12 * span {
      out.append(abs(t) < 1e-12 * span ? 0 : t)
      t += step
    }
    return out
  }
}

extension SVGPlot {
  /// Lays several plots out on a grid in one SVG document (`columns` per row).
  public static func compose(_ plots: [SVGPlot], columns: Int, title: String? = nil) -> String {
    let columns = Swift.max(1, Swift.min(columns, plots.count))
    let cellWidth = plots.map(\.width).max() ?? 640
    let cellHeight = plots.map(\.height).max() ?? 420
    let rows = (plots.count + columns - 1) / columns
    let top = title == nil ? 0.0 : 36
    let width = Int(cellWidth * Double(columns))
    let height = Int(top + cellHeight * Double(rows))
    var s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    if let title {
      s +=
        "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"17\" font-weight=\"bold\">\(escape(title))</text>\n"
    }
    for (i, plot) in plots.enumerated() {
      let x = Double(i % columns) * cellWidth
      let y = top + Double(i / columns) * cellHeight
      var inner = plot.render()
      // Give each nested plot its own clip-path id.
      inner = inner.replacingOccurrences(of: "id=\"plot\"", with: "id=\"plot\(i)\"")
        .replacingOccurrences(of: "url(#plot)", with: "url(#plot\(i))")
      inner = inner.replacingOccurrences(
        of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ",
        with: "<svg x=\"\(Int(x))\" y=\"\(Int(y))\" ")
      s += inner
    }
    s += "</svg>\n"
    return s
  }
}
