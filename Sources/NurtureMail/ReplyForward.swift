import Foundation
import NurtureCore

/// A lead's reply forwarded to sales: a short note, then the reply itself attached whole (`message/rfc822`), with
/// `Reply-To` set to the lead so answering reaches them, not Nurture.
public enum ReplyForward {
    /// - Parameter original: the reply as received; nil when its copy was dropped (size cap), then only the note goes.
    public static func build(from: EmailAddress, to: EmailAddress, lead: EmailAddress, subject: String?, note: String,
                             original: [UInt8]?, date: Date, messageID: String) -> [UInt8] {
        let boundary = "=_nurture_fwd_" + MIMEBuilder.boundaryToken(messageID)
        let title = "Reply from \(lead.value)" + (subject.map { ": \($0)" } ?? "")
        var head: [String] = []
        head.append(MIMEBuilder.fold("From", MIMEBuilder.address(name: "Nurture", from.value)))
        head.append(MIMEBuilder.fold("To", "<\(to.value)>"))
        head.append(MIMEBuilder.fold("Reply-To", "<\(lead.value)>"))
        head.append(MIMEBuilder.fold("Subject", HeaderText.unstructured(title, headerLength: "Subject: ".count)))
        head.append("Date: " + MIMEBuilder.rfc5322Date(date))
        head.append("Message-ID: " + HeaderText.safe(messageID))
        head.append("MIME-Version: 1.0")
        head.append("Auto-Submitted: auto-generated")
        head.append("Content-Type: multipart/mixed; boundary=\"\(boundary)\"")
        var out = Array((head.joined(separator: "\r\n") + "\r\n\r\nThis is a multi-part message in MIME format.\r\n").utf8)
        out += "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n".utf8
        QuotedPrintable.encode(note, into: &out)
        out += "\r\n".utf8
        if let original {
            out += "--\(boundary)\r\n".utf8
            if let clean = canonicalLines(original) {
                out += "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".utf8
                out += clean
            } else {
                // Not a valid message/rfc822 body (NUL, lines over 998 octets): attached as a file instead.
                out += "Content-Type: application/octet-stream; name=\"reply.eml\"\r\nContent-Disposition: attachment; filename=\"reply.eml\"\r\n".utf8
                out += "Content-Transfer-Encoding: base64\r\n\r\n".utf8
                let encoded = Data(original).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
                out += encoded.utf8
            }
            out += "\r\n".utf8
        }
        out += "--\(boundary)--\r\n".utf8
        return out
    }

    /// The message with CRLF line ends, or nil when it cannot travel as 8bit (a NUL, a bare CR, a line over 998 octets)
    /// or holds a line that would end our boundary.
    static func canonicalLines(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 40)
        var line = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0 { return nil }
            if b == 0x0D {
                guard i + 1 < bytes.count, bytes[i + 1] == 0x0A else { return nil }
                i += 1
                continue
            }
            if b == 0x0A {
                out += [0x0D, 0x0A]
                line = 0
            } else {
                if line == 0, b == UInt8(ascii: "-"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "-"),
                   bytes[i...].starts(with: Array("--=_nurture_fwd_".utf8)) { return nil }
                out.append(b)
                line += 1
                if line > 998 { return nil }
            }
            i += 1
        }
        if line > 0 { out += [0x0D, 0x0A] }
        return out
    }
}
