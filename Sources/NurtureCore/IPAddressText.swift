/// IPv4 and IPv6 addresses in their text forms (RFC 4291 §2.2), checked exactly: consent records are evidence,
/// and `999.1.1.1` or `1.2.3` is not an address anyone connected from.
public enum IPAddressText {
    public static func isValid(_ s: String) -> Bool { isIPv4(Substring(s)) || isIPv6(s) }

    /// Four decimal parts 0–255, no leading zeros.
    static func isIPv4(_ s: Substring) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            guard (1...3).contains(p.count), p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(p), n <= 255 else { return false }
            return p.count == 1 || p.first != "0"
        }
    }

    /// Up to eight hex groups of 1–4 digits, one `::` at most standing for at least one zero group, an IPv4 tail allowed.
    static func isIPv6(_ s: String) -> Bool {
        guard s.contains(":"), s.count <= 45 else { return false }
        var text = Substring(s)
        var groups = 0
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard isIPv4(text[text.index(after: lastColon)...]) else { return false }
            text = text[...lastColon]
            if text.hasSuffix("::") { } else { text = text.dropLast() }
            groups += 2
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        for half in halves where !half.isEmpty {
            for group in half.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return halves.count == 2 ? groups <= 7 : groups == 8
    }
}
