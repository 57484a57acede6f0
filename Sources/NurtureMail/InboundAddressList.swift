/// The bare addr-specs in an address header (To, Cc, Delivered-To, Original-Mail-From…): display names, comments,
/// angle brackets, groups and source routes removed, domain lower-cased, so a VERP id reads the same however the
/// recipient's mailer wrote it. Not validated: the processor matches, it does not send.
enum InboundAddressList {
    static func addresses(_ value: some Collection<UInt8>) -> [String] {
        var out: [String] = []
        var current = "", angle: String?, inAngle = false
        var quoted = false, escaped = false, comment = 0
        func finish() {
            if let a = normalized(angle ?? current) { out.append(a) }
            current = ""; angle = nil; inAngle = false
        }
        for scalar in String(decoding: value.prefix(65_536), as: UTF8.self).unicodeScalars {
            let c = Character(scalar)
            if escaped { if inAngle { angle?.append(c) } else { current.append(c) }; escaped = false; continue }
            if comment > 0 {
                if c == "\\" { escaped = true } else if c == "(" { comment += 1 } else if c == ")" { comment -= 1 }
                continue
            }
            if quoted {
                if c == "\\" { escaped = true; continue }
                if c == "\"" { quoted = false }
                if inAngle { angle?.append(c) } else { current.append(c) }
                continue
            }
            switch c {
            case "\"": quoted = true; if inAngle { angle?.append(c) } else { current.append(c) }
            case "(": comment = 1
            case "<": inAngle = true; angle = ""
            case ">": inAngle = false
            case ",", ";": finish()
            case ":" where !inAngle: current = "" // a group's display name ends here
            default:
                if inAngle { angle?.append(c) } else { current.append(c) }
            }
        }
        finish()
        return out
    }

    /// `local@domain` without white space or a source route, domain lower-cased; nil when it is not one.
    static func normalized(_ raw: String) -> String? {
        var s = raw.filter { !$0.isWhitespace && !$0.isNewline && $0.asciiValue.map { $0 >= 0x20 && $0 != 0x7F } ?? true }
        if s.hasPrefix("@"), let colon = s.firstIndex(of: ":") { s = String(s[s.index(after: colon)...]) } // @relay:user@host
        guard let at = s.lastIndex(of: "@") else { return nil }
        let local = s[..<at], domain = s[s.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty else { return nil }
        return local + "@" + domain.lowercased()
    }

    /// The first address of a DSN or ARF field (`rfc822; user@example.com`, `rfc822;<user@example.com>`).
    static func typedAddress(_ value: some Collection<UInt8>) -> String? {
        let text = InboundHeaderSection.text(value)
        let rest = text.firstIndex(of: ";").map { text[text.index(after: $0)...] } ?? text[...]
        let token = rest.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        return addresses(Array(token.utf8)).first
    }
}
