import Foundation

/// Bounces that are not RFC 3464 reports: qmail's and Yahoo's "Failure Notice", old Exim and sendmail text. Read
/// conservatively: only from a mailer daemon, only with a known marker sentence, and hard only with a 5xx code
/// (in the notice, not in the quoted message); anything else is a soft bounce or, without a marker, not a bounce.
struct PlainTextBounce: Sendable {
    var kind: InboundReport.Kind
    var returnedMessageID: String?

    /// A From whose local part is a mailer daemon's.
    static func isDaemon(_ header: InboundHeaderSection) -> Bool {
        guard let from = header.first("from").flatMap({ InboundAddressList.addresses($0).first }),
              let at = from.lastIndex(of: "@") else { return false }
        let local = from[..<at].lowercased()
        return ["mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail.daemon"].contains(local) || local.hasPrefix("mailer-daemon")
    }

    static let markers = [
        "this message was created automatically by mail delivery software",
        "this is the qmail-send program",
        "sorry, we were unable to deliver your message",
        "i'm sorry to have to inform you that your message could not",
        "the following address(es) failed",
        "could not be delivered to one or more",
        "the original message was received at",
        "delivery to the following recipients failed",
        "delivery has failed to these recipients",
        "your message could not be delivered",
    ]

    static let delayMarkers = ["has been delayed", "have been delayed", "not yet been delivered", "will continue trying",
                               "still being retried", "is delayed", "delivery is delayed", "delayed delivery"]

    /// Lines that introduce the copy of the original message.
    static let copyMarkers = ["copy of the message", "original message follows", "below this line is a copy", "returned message",
                              "undelivered message headers", "original message headers"]

    static func read(_ message: InboundMessage) -> PlainTextBounce? {
        guard isDaemon(message.header) else { return nil }
        let textPart = message.root.allParts().first { $0.parts.isEmpty && $0.contentType.mimeType == "text/plain" }
        guard let textPart else { return nil }
        let bytes = textPart.decodedBody(limit: 256 * 1024)
        let lower = bytes.map { (0x41...0x5A).contains($0) ? $0 + 32 : $0 }
        let text = String(decoding: lower, as: UTF8.self)
        guard markers.contains(where: { text.contains($0) }) else { return nil }
        // The notice ends where the copy of the original starts: codes and addresses after it are the original's.
        var noticeEnd = bytes.count, copyStart: Int?
        var pos = 0
        while pos < lower.count {
            let lf = InboundHeaderSection.nextLF(lower[...], from: pos)
            let line = String(decoding: lower[pos..<lf], as: UTF8.self)
            if line.hasPrefix("-") || line.hasPrefix(" -"), copyMarkers.contains(where: { line.contains($0) }) {
                noticeEnd = pos
                copyStart = lf < lower.count ? lf + 1 : lower.count
                break
            }
            pos = lf < lower.count ? lf + 1 : lower.count
        }
        let notice = String(decoding: bytes[..<noticeEnd], as: UTF8.self)
        let noticeLower = notice.lowercased()
        let delayed = delayMarkers.contains { noticeLower.contains($0) }
        let status = DeliveryStatusReport.statusCode(in: notice) ?? DeliveryStatusReport.basicCode(in: notice) ?? ""
        let permanent = !delayed && status.first == "5"
        var returned: String?
        if let copyStart {
            var start = copyStart
            while start < bytes.count, bytes[start] == 0x0D || bytes[start] == 0x0A || bytes[start] == 0x20 { start += 1 }
            returned = MessageIDList.own(InboundHeaderSection.parse(bytes[start...]).0.first("message-id"))
        } else if let embedded = message.root.allParts().first(where: { !$0.embedded.isEmpty })?.embedded.first {
            returned = MessageIDList.own(embedded.header.first("message-id"))
        }
        return PlainTextBounce(kind: .bounce(permanent: permanent, status: status, diagnostic: diagnostic(notice),
                                             recipient: recipient(notice)),
                               returnedMessageID: returned)
    }

    /// The first line that is only an address (`  lead@example.net`, qmail's `<lead@example.net>:`).
    static func recipient(_ notice: String) -> String? {
        for line in notice.split(whereSeparator: \.isNewline).prefix(200) {
            var t = line.trimmingCharacters(in: .whitespaces)
            if t.hasSuffix(":") { t.removeLast() }
            guard !t.contains(" "), t.contains("@") else { continue }
            if t.hasPrefix("<") && t.hasSuffix(">") { t = String(t.dropFirst().dropLast()) }
            guard !t.contains("<"), !t.contains(">") else { continue }
            if let a = InboundAddressList.normalized(t) { return a }
        }
        return nil
    }

    /// The line carrying the code, as the remote server gave it.
    static func diagnostic(_ notice: String) -> String? {
        for line in notice.split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if DeliveryStatusReport.statusCode(in: t) != nil || DeliveryStatusReport.basicCode(in: t) != nil {
                return String(t.prefix(1_000))
            }
        }
        return nil
    }
}
