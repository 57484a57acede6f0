/// Untrusted text made safe to echo in an error message: control characters (terminal escapes, BEL, NUL) shown
/// as `\u{1B}`, and at most `limit` characters, so a hostile cell cannot drive the terminal or flood the output.
public enum PrintableText {
    public static func escaped(_ s: String, limit: Int = 80) -> String {
        var out = ""
        var count = 0
        for scalar in s.unicodeScalars {
            if count >= limit {
                out += "…"
                break
            }
            let v = scalar.value
            if v < 0x20 || v == 0x7F || (0x80..<0xA0).contains(v) || v == 0x2028 || v == 0x2029 || (0x202A...0x202E).contains(v)
                || (0x2066...0x2069).contains(v) {
                out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}
