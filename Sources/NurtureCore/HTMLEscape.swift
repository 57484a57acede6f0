/// HTML escaping (`& < > " '`, as Mustache's `{{…}}`), byte by byte, shared by templates and pages: every one of
/// those characters is escaped, even before a combining mark (swift-mustache compares whole Characters and would
/// leave such a "<" alone).
public enum HTMLEscape {
    public static func escaped(_ s: String) -> String {
        var out = ""
        append(s, to: &out)
        return out
    }

    public static func append(_ s: String, to out: inout String) {
        var needs = false
        for b in s.utf8 where b == 38 || b == 60 || b == 62 || b == 34 || b == 39 { needs = true; break }
        guard needs else { out += s; return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count + 16)
        for b in s.utf8 {
            switch b {
            case 38: bytes += "&amp;".utf8
            case 60: bytes += "&lt;".utf8
            case 62: bytes += "&gt;".utf8
            case 34: bytes += "&quot;".utf8
            case 39: bytes += "&#39;".utf8
            default: bytes.append(b)
            }
        }
        out += String(decoding: bytes, as: UTF8.self)
    }
}
