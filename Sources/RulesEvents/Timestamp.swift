/// RFC 3339 timestamps (`2024-03-02T10:15:22.481920118Z`, `...+02:00`) to seconds since the Unix epoch.
public enum Timestamp {
  /// Parses an RFC 3339 date-time; nil if it is not one.
  public static func parse<C: Collection<UInt8>>(_ text: C) -> Double? where C.Index == Int {
    guard text.count >= headLength, let days = days(text), let time = timeOfDay(text) else { return nil }
    return tail(text, days * 86400 + time)
  }

  /// The date (first 10 bytes) of the last timestamp read and the days it comes to. A recording's
  /// timestamps share their date for hours, so a scanner keeps one of these and compares 10 bytes
  /// instead of reading and checking the date again.
  public struct RecentDate {
    var word: UInt64 = 0
    var rest: UInt16 = 0
    var days = 0
    var valid = false
    public init() {}
  }

  /// `parse`, reusing the days of `recent` when the date's bytes are the same.
  public static func parse(_ text: UnsafeBufferPointer<UInt8>, recent: inout RecentDate) -> Double? {
    guard text.count >= headLength, let base = text.baseAddress else { return nil }
    let raw = UnsafeRawPointer(base)
    let word = raw.loadUnaligned(as: UInt64.self)
    let rest = raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
    if !recent.valid || word != recent.word || rest != recent.rest {
      guard let days = days(text) else { return nil }
      recent = RecentDate()
      (recent.word, recent.rest, recent.days, recent.valid) = (word, rest, days, true)
    }
    guard let time = timeOfDay(text) else { return nil }
    return tail(text, recent.days * 86400 + time)
  }

  /// `YYYY-MM-DDTHH:MM:SS`, always this long.
  static let headLength = 19

  /// The days since the epoch of `YYYY-MM-DD` (the first 10 bytes; the caller checked the length).
  static func days<C: Collection<UInt8>>(_ text: C) -> Int? where C.Index == Int {
    let i = text.startIndex
    guard let year = digits(text, i, 4), text[i + 4] == UInt8(ascii: "-"), let month = digits(text, i + 5, 2),
      text[i + 7] == UInt8(ascii: "-"), let day = digits(text, i + 8, 2), (1...12).contains(month), (1...31).contains(day)
    else { return nil }
    return daysFromCivil(year: year, month: month, day: day)
  }

  /// The seconds into the day of `THH:MM:SS` (bytes 10 to 18; `t` or a space may stand for `T`).
  static func timeOfDay<C: Collection<UInt8>>(_ text: C) -> Int? where C.Index == Int {
    let i = text.startIndex + 10
    guard text[i] == UInt8(ascii: "T") || text[i] == UInt8(ascii: "t") || text[i] == 32, let hour = digits(text, i + 1, 2),
      text[i + 3] == UInt8(ascii: ":"), let minute = digits(text, i + 4, 2), text[i + 6] == UInt8(ascii: ":"),
      let second = digits(text, i + 7, 2), hour < 24, minute < 60, second < 61
    else { return nil }
    return hour * 3600 + minute * 60 + second
  }

  /// The value of `n` decimal digits at `i` (the caller checked they are in `text`).
  @inline(__always) static func digits<C: Collection<UInt8>>(_ text: C, _ i: Int, _ n: Int) -> Int? where C.Index == Int {
    var v = 0
    for k in 0..<n {
      let b = text[i + k]
      guard b >= 48 && b <= 57 else { return nil }
      v = v * 10 + Int(b - 48)
    }
    return v
  }

  /// The rest after the head: an optional fraction, then `Z` or an offset, then the end.
  static func tail<C: Collection<UInt8>>(_ text: C, _ seconds: Int) -> Double? where C.Index == Int {
    var i = text.startIndex + headLength
    let end = text.endIndex
    var fraction = 0.0
    if i < end && text[i] == UInt8(ascii: ".") {
      i += 1
      let first = i
      let scales = fractionScales
      while i < end, text[i] >= 48 && text[i] <= 57 {
        let k = i - first
        fraction += Double(text[i] - 48) * (k < fractionScaleCount ? scales[k] : 0)
        i += 1
      }
      guard i > first else { return nil }
    }
    var offset = 0
    if i < end && (text[i] == UInt8(ascii: "Z") || text[i] == UInt8(ascii: "z")) {
      i += 1
    } else if i < end && (text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-")) {
      // `±HH:MM`.
      let sign = text[i] == UInt8(ascii: "-") ? -1 : 1
      guard i + 6 <= end, let h = digits(text, i + 1, 2), text[i + 3] == UInt8(ascii: ":"), let m = digits(text, i + 4, 2) else {
        return nil
      }
      i += 6
      offset = sign * (h * 3600 + m * 60)
    } else {
      return nil
    }
    guard i == end else { return nil }
    return Double(seconds - offset) + fraction
  }

  /// The weight of the k-th digit of a fraction: 0.1 divided by 10 k times, exactly the values a
  /// running `scale /= 10` takes, looked up instead of divided for each digit (a division a digit
  /// was 1% of a run). From `fractionScaleCount` on the weight is 0, as the division underflows.
  static let fractionScaleCount = 330
  nonisolated(unsafe) static let fractionScales: UnsafePointer<Double> = {
    let table = UnsafeMutablePointer<Double>.allocate(capacity: fractionScaleCount)
    var scale = 0.1
    for k in 0..<fractionScaleCount {
      table[k] = scale
      scale /= 10
    }
    precondition(scale == 0, "the fraction's weights reach 0 within the table")
    return UnsafePointer(table)
  }()

  /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
  }
}
