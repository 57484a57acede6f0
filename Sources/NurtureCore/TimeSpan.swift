/// A length of time written the way authors write it (`0m`, `3h`, `2d`, `1w`, `1d12h`), kept in seconds.
public struct TimeSpan: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public static func minutes(_ n: Int64) -> TimeSpan { TimeSpan(seconds: n * 60) }
    public static func hours(_ n: Int64) -> TimeSpan { TimeSpan(seconds: n * 3_600) }
    public static func days(_ n: Int64) -> TimeSpan { TimeSpan(seconds: n * 86_400) }
    public static let zero = TimeSpan(seconds: 0)

    /// The longest span an author may write (3650 days, about ten years): longer is a typo, and refusing it
    /// keeps every later date computation far from overflow.
    public static let maximum = TimeSpan(seconds: 3_650 * 86_400)

    public enum ParseError: Error, Sendable { case malformed, tooLong }

    /// Parses `<n><unit>` groups (units s, m, h, d, w); returns nil on anything else, or past `maximum`.
    public init?(parsing text: String) {
        guard case .success(let span) = Self.parse(text) else { return nil }
        self = span
    }

    /// Parses `<n><unit>` groups, telling a malformed text from one longer than `maximum` (checked after
    /// every group, so no sum can overflow).
    public static func parse(_ text: String) -> Result<TimeSpan, ParseError> {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        var total: Int64 = 0
        var digits = ""
        var sawGroup = false
        var tooLong = false
        for ch in text {
            if ch.isASCII, ch.isNumber {
                digits.append(ch)
                guard digits.count <= 9 else { return .failure(.malformed) }
            } else if let factor = units[ch], let n = Int64(digits) {
                // n < 10^9 and factor ≤ 604 800: the product fits; total stays ≤ maximum before each addition.
                total += n * factor
                if total > maximum.seconds { tooLong = true; total = maximum.seconds }
                digits = ""
                sawGroup = true
            } else {
                return .failure(.malformed)
            }
        }
        guard sawGroup, digits.isEmpty else { return .failure(.malformed) }
        return tooLong ? .failure(.tooLong) : .success(TimeSpan(seconds: total))
    }

    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.seconds < b.seconds }

    /// Canonical form, largest units first (`1d12h`), so output is stable across runs.
    public var description: String {
        if seconds == 0 { return "0m" }
        var rest = seconds
        var out = ""
        for (unit, size) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}
