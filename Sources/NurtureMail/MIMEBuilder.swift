import Foundation

/// Encodes a `MailMessage` as RFC 5322 / MIME bytes: `multipart/alternative` (text, then HTML), UTF-8,
/// quoted-printable bodies, RFC 2047 headers, CRLF everywhere, no line over 78 characters in headers or 76 in bodies.
public enum MIMEBuilder {
    public static func build(_ m: MailMessage) -> [UInt8] {
        let boundary = "=_nurture_" + boundaryToken(m.messageID)
        var head: [String] = []
        head.append(fold("From", address(name: m.fromName, m.from.value)))
        head.append(fold("To", address(name: m.toName, m.to.value)))
        if let replyTo = m.replyTo { head.append(fold("Reply-To", "<\(replyTo.value)>")) }
        head.append(fold("Subject", HeaderText.unstructured(m.subject, headerLength: "Subject: ".count)))
        head.append("Date: " + rfc5322Date(m.date))
        head.append("Message-ID: " + HeaderText.safe(m.messageID))
        head.append("MIME-Version: 1.0")
        if let unsubscribe = m.unsubscribeURL {
            head.append(fold("List-Unsubscribe", "<\(HeaderText.safe(unsubscribe))>"))
            head.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        }
        if let list = m.listID { head.append(fold("List-ID", address(name: list.name, list.identifier))) }
        head.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
        var out: [UInt8] = []
        out.reserveCapacity(1_024 + (m.text.utf8.count + m.html.utf8.count) * 11 / 10)
        out += (head.joined(separator: "\r\n") + "\r\n\r\nThis is a multi-part message in MIME format.\r\n").utf8
        for (type, body) in [("text/plain", m.text), ("text/html", m.html)] {
            out += "--\(boundary)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n".utf8
            QuotedPrintable.encode(body, into: &out)
            out += "\r\n".utf8
        }
        out += "--\(boundary)--\r\n".utf8
        return out
    }

    /// `Name <addr>`; the name quoted or encoded, never the address.
    static func address(name: String?, _ addr: String) -> String {
        guard let name = name.map(HeaderText.safe), !name.isEmpty else { return "<\(addr)>" }
        return HeaderText.phrase(name) + " <\(addr)>"
    }

    /// Folds a structured header at spaces so lines stay within 78 characters where possible.
    static func fold(_ name: String, _ value: String) -> String {
        // Bytes never undercount characters: a value that fits this way needs no folding.
        if name.utf8.count + 2 + value.utf8.count <= 78 { return name + ": " + value }
        var lines: [String] = []
        var current = name + ":"
        for word in value.split(separator: " ", omittingEmptySubsequences: true) {
            if current.count + 1 + word.count > 78, current.count > name.count + 1 {
                lines.append(current)
                current = ""
            }
            current += " " + word
        }
        lines.append(current)
        return lines.joined(separator: "\r\n")
    }

    /// A boundary that depends only on the message, so the same send always encodes to the same bytes.
    static func boundaryToken(_ seed: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in seed.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    /// `Wed, 25 Nov 2026 12:00:00 +0000` (RFC 5322 §3.3), in UTC, independent of the process locale.
    /// Formatted by hand: a DateFormatter per message was the single largest cost on the delivery path.
    public static func rfc5322Date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var t = tm()
        gmtime_r(&seconds, &t)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(t.tm_wday)]), \(two(t.tm_mday)) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900) \(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) +0000"
    }
}
