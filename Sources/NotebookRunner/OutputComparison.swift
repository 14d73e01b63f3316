/// How closely a fresh notebook output must match the committed one for `--check` to pass.
///
/// Without a tolerance (``exact``), outputs must be equal as text. With one, each output line is
/// split into text and numbers (``OutputToken``): the text must be identical (runs of spaces
/// count as one, so table padding may differ), integers and percentages must be equal, and two
/// other numbers `a` and `b` match when
///
/// ```
/// |a - b| <= atol + rtol * max(|a|, |b|) + (unit(a) + unit(b)) / 2
/// ```
///
/// where `unit(x)` is one unit in the last printed digit of `x` (`1e-11` for `5.1e-10`, `0.001`
/// for `0.775`): a printed number stands for every value that rounds to it, so a value that sits
/// on a rounding boundary may print either way on another machine.
public struct OutputTolerance: Sendable, Equatable, CustomStringConvertible {
  /// The relative tolerance, `>= 0`.
  public var relative: Double
  /// The absolute tolerance, `>= 0`.
  public var absolute: Double
  /// Whether outputs must be equal as text (no tokenising, no tolerance).
  public var isExact: Bool

  /// Text equality: what `--check` requires of a notebook that declares no tolerance.
  public static let exact = OutputTolerance(relative: 0, absolute: 0, isExact: true)

  /// A numeric tolerance; both values must be finite and non-negative.
  public init(relative: Double, absolute: Double) {
    self.init(relative: relative, absolute: absolute, isExact: false)
  }

  private init(relative: Double, absolute: Double, isExact: Bool) {
    self.relative = relative
    self.absolute = absolute
    self.isExact = isExact
  }

  /// `exact` or `rtol=R atol=A`, the directive's own syntax.
  public var description: String {
    isExact ? "exact" : "rtol=\(formatted(relative)) atol=\(formatted(absolute))"
  }

  /// Parses the arguments of a check directive: `exact`, or `rtol=R` and/or `atol=A` (a
  /// missing one is 0), separated by spaces.
  ///
  /// - Throws: ``NotebookError`` naming the first bad word.
  public static func parse(_ arguments: String) throws(NotebookError) -> OutputTolerance {
    let words = arguments.split(whereSeparator: { $0 == " " || $0 == "\t" })
    if words == ["exact"] { return .exact }
    guard !words.isEmpty else {
      throw NotebookError("empty check directive: use `exact` or `rtol=R atol=A`")
    }
    var relative = 0.0
    var absolute = 0.0
    for word in words {
      let parts = word.split(separator: "=", omittingEmptySubsequences: false)
      guard parts.count == 2, let value = Double(parts[1]), value.isFinite, value >= 0 else {
        throw NotebookError(
          "check directive: '\(word)' is not rtol=NUMBER or atol=NUMBER (finite, >= 0)")
      }
      switch parts[0] {
      case "rtol": relative = value
      case "atol": absolute = value
      default:
        throw NotebookError("check directive: unknown setting '\(parts[0])' (use rtol or atol)")
      }
    }
    return OutputTolerance(relative: relative, absolute: absolute)
  }
}

private func formatted(_ value: Double) -> String {
  if value == 0 { return "0" }
  let text = "\(value)"
  return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}

/// One piece of an output line: text, or a number as printed.
public enum OutputToken: Sendable, Equatable {
  /// Non-numeric text (including spaces and punctuation).
  case text(String)
  /// A number: its text as printed (`5.1e-10`, `-0.3`, `1,234`) and what it means.
  case number(OutputNumber)
}

/// A number printed in an output line.
public struct OutputNumber: Sendable, Equatable {
  /// The characters as printed, sign included (`+1.0`, `5.6e-04`, `1,234`).
  public var text: String
  /// Its value (thousands separators removed).
  public var value: Double
  /// One unit in the last printed digit (`0.1` for `92.0`, `1e-11` for `5.1e-10`); 0 for integers.
  public var unit: Double
  /// Whether it was printed without a decimal point or exponent (a count, an id, a size).
  public var isInteger: Bool
  /// Whether a `%` follows it (an accuracy or a share).
  public var isPercentage: Bool
}

/// Splitting outputs into tokens and comparing them under an ``OutputTolerance``.
public enum OutputComparison {
  /// Splits one line into text and number tokens.
  ///
  /// A number starts at a digit (or a `.`, `+` or `-` followed by one) that does not continue a
  /// word: `x0.7` and `idx3` are text, `2-20-1` is `2`, `-`, `20`, `-`, `1`, while `-0.3`,
  /// `(+1.0)` and `= -2` carry their sign. Forms: `12`, `0.5`, `.5`, `1.2e-10`, `5.6E+04`,
  /// `1,234` (groups of three digits), followed by `%` for a percentage.
  public static func tokens(_ line: String) -> [OutputToken] {
    let characters = Array(line)
    var tokens = [OutputToken]()
    var text = ""
    var i = 0
    func isDigit(_ k: Int) -> Bool {
      k < characters.count && characters[k].isASCII && characters[k].isNumber
    }
    func continuesWord(_ k: Int) -> Bool {
      guard k > 0 else { return false }
      let c = characters[k - 1]
      return c.isLetter || c.isNumber || c == "_" || c == "."
    }
    func signAllowed(_ k: Int) -> Bool {
      guard k > 0 else { return true }
      let c = characters[k - 1]
      return c.isWhitespace || "([{=,:;/<>".contains(c)
    }
    while i < characters.count {
      let start = i
      var j = i
      var isNumberStart = false
      if !continuesWord(i) {
        if isDigit(i) {
          isNumberStart = true
        } else if characters[i] == "." && isDigit(i + 1) {
          isNumberStart = true
        } else if (characters[i] == "-" || characters[i] == "+") && signAllowed(i)
          && (isDigit(i + 1)
            || (i + 2 < characters.count && characters[i + 1] == "." && isDigit(i + 2)))
        {
          isNumberStart = true
          j += 1
        }
      }
      guard isNumberStart else {
        text.append(characters[i])
        i += 1
        continue
      }
      // Integer part: a thousands-grouped form `1,234,567`, or plain digits.
      var integerDigits = ""
      var k = j
      while isDigit(k) {
        integerDigits.append(characters[k])
        k += 1
      }
      if !integerDigits.isEmpty && integerDigits.count <= 3 {
        var grouped = integerDigits
        var m = k
        while m + 3 < characters.count, characters[m] == ",", isDigit(m + 1), isDigit(m + 2),
          isDigit(m + 3), !isDigit(m + 4)
        {
          grouped += String(characters[(m + 1)...(m + 3)])
          m += 4
        }
        if m != k {
          integerDigits = grouped
          k = m
        }
      }
      var decimals = 0
      var fraction = ""
      if k < characters.count && characters[k] == "." && isDigit(k + 1) {
        k += 1
        while isDigit(k) {
          fraction.append(characters[k])
          k += 1
        }
        decimals = fraction.count
      }
      var exponent = 0
      var hasExponent = false
      if k < characters.count && (characters[k] == "e" || characters[k] == "E") {
        var m = k + 1
        var sign = 1
        if m < characters.count && (characters[m] == "-" || characters[m] == "+") {
          if characters[m] == "-" { sign = -1 }
          m += 1
        }
        var digits = ""
        while isDigit(m) {
          digits.append(characters[m])
          m += 1
        }
        if !digits.isEmpty, let e = Int(digits.prefix(6)) {
          exponent = sign * e
          hasExponent = true
          k = m
        }
      }
      let negative = characters[start] == "-"
      let magnitudeText =
        (integerDigits.isEmpty ? "0" : integerDigits) + (fraction.isEmpty ? "" : "." + fraction)
        + (hasExponent ? "e\(exponent)" : "")
      let magnitude = Double(magnitudeText) ?? 0
      let isInteger = fraction.isEmpty && !hasExponent && characters[j] != "."
      let unit = isInteger ? 0 : pow10(exponent - decimals)
      let isPercentage = k < characters.count && characters[k] == "%"
      if !text.isEmpty {
        tokens.append(.text(text))
        text = ""
      }
      tokens.append(
        .number(
          OutputNumber(
            text: String(characters[start..<k]), value: negative ? -magnitude : magnitude,
            unit: unit, isInteger: isInteger, isPercentage: isPercentage)))
      i = k
    }
    if !text.isEmpty { tokens.append(.text(text)) }
    return tokens
  }

  /// Why two outputs differ: the first differing line (1-based, among the compared lines) and
  /// a one-line reason.
  public struct Mismatch: Sendable, Equatable, CustomStringConvertible {
    /// The 1-based number of the first differing line (timing lines not counted).
    public var line: Int
    /// What differs, e.g. `5.1e-10 vs 5.3e-10 (rtol=1e-06 atol=0)`.
    public var reason: String

    /// `line N: reason`.
    public var description: String { "output line \(line): \(reason)" }
  }

  /// Compares a committed output with a fresh one, ignoring `[time]` lines; `nil` when they
  /// match under `tolerance`.
  public static func mismatch(
    committed: String, fresh: String, tolerance: OutputTolerance
  ) -> Mismatch? {
    let old = comparedLines(committed)
    let new = comparedLines(fresh)
    for index in 0..<max(old.count, new.count) {
      guard index < old.count else {
        return Mismatch(line: index + 1, reason: "extra line \(quoted(new[index]))")
      }
      guard index < new.count else {
        return Mismatch(line: index + 1, reason: "missing line \(quoted(old[index]))")
      }
      if let reason = lineMismatch(old[index], new[index], tolerance: tolerance) {
        return Mismatch(line: index + 1, reason: reason)
      }
    }
    return nil
  }

  /// The lines `--check` compares: all but the `[time]` lines.
  static func comparedLines(_ output: String) -> [String] {
    output.isEmpty
      ? [] : output.components(separatedBy: "\n").filter { !$0.hasPrefix("[time]") }
  }

  static func lineMismatch(_ old: String, _ new: String, tolerance: OutputTolerance) -> String? {
    if tolerance.isExact {
      return old == new ? nil : "expected \(quoted(old)), got \(quoted(new))"
    }
    let a = tokens(old)
    let b = tokens(new)
    let context = "expected \(quoted(old)), got \(quoted(new))"
    for index in 0..<max(a.count, b.count) {
      guard index < a.count, index < b.count else { return context }
      switch (a[index], b[index]) {
      case (.text(let x), .text(let y)):
        let first = index == 0
        let last = index == max(a.count, b.count) - 1
        if collapsed(x, trimLeading: first, trimTrailing: last)
          != collapsed(y, trimLeading: first, trimTrailing: last)
        {
          return context
        }
      case (.number(let x), .number(let y)):
        if let reason = numberMismatch(x, y, tolerance: tolerance) {
          return "\(reason) in \(context)"
        }
      default:
        return context
      }
    }
    return nil
  }

  /// Why two printed numbers differ under `tolerance`, or `nil` when they match.
  public static func numberMismatch(
    _ x: OutputNumber, _ y: OutputNumber, tolerance: OutputTolerance
  ) -> String? {
    if tolerance.isExact { return x.text == y.text ? nil : "\(x.text) vs \(y.text)" }
    if x.isInteger || y.isInteger || x.isPercentage || y.isPercentage {
      guard x.isInteger == y.isInteger, x.isPercentage == y.isPercentage, x.value == y.value,
        x.unit == y.unit
      else {
        return "\(x.text) vs \(y.text) (integers and percentages must be equal)"
      }
      return nil
    }
    let allowed =
      tolerance.absolute + tolerance.relative * max(abs(x.value), abs(y.value))
      + (x.unit + y.unit) / 2
    // A relative slack of 1e-9 absorbs the binary representation of the decimal texts.
    return abs(x.value - y.value) <= allowed * (1 + 1e-9)
      ? nil : "\(x.text) vs \(y.text) (\(tolerance))"
  }

  static func collapsed(_ text: String, trimLeading: Bool, trimTrailing: Bool) -> String {
    var out = ""
    var pendingSpace = false
    for character in text {
      if character == " " || character == "\t" {
        pendingSpace = true
      } else {
        if pendingSpace && !(trimLeading && out.isEmpty) { out.append(" ") }
        pendingSpace = false
        out.append(character)
      }
    }
    if pendingSpace && !trimTrailing && !(trimLeading && out.isEmpty) { out.append(" ") }
    return out
  }

  static func quoted(_ line: String) -> String {
    let shown = line.count > 120 ? String(line.prefix(117)) + "..." : line
    return "'" + shown + "'"
  }
}

/// `10^exponent`, exact for the powers printed numbers use.
private func pow10(_ exponent: Int) -> Double {
  Double("1e\(exponent)") ?? 0
}
