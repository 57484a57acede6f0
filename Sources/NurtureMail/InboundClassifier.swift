import NurtureCore

/// Reads an inbound RFC 5322 message and says what it is (RFC 3464 DSN, RFC 5965 feedback report, RFC 3834
/// auto-reply, a person's reply, or none of these). Pure: no I/O, no store.
public enum InboundClassifier {
    /// At most this many addresses and referenced ids are reported (a hostile message could list millions).
    static let maxHandles = 100

    /// - Parameter envelopeRecipient: the address the MTA delivered to (pipe mode's `--recipient`), first of `addresses`.
    /// - Throws: `InboundFormatError` only for bytes that are not a message at all (no header section).
    public static func classify(_ bytes: [UInt8], envelopeRecipient: String? = nil) throws(InboundFormatError) -> InboundReport {
        let message = try InboundMessage.parse(bytes)
        let header = message.header
        let subject = header.unstructured("subject")
        let verdict = decide(message, subject: subject)

        var addresses: [String] = []
        if let envelopeRecipient { addresses += InboundAddressList.addresses(Array(envelopeRecipient.utf8)) }
        for name in ["delivered-to", "x-original-to", "to", "cc"] {
            for value in header.values(name) { addresses += InboundAddressList.addresses(value) }
        }
        addresses += verdict.extraAddresses

        var thread = header.first("in-reply-to").map(MessageIDList.ids) ?? []
        thread += (header.first("references").map(MessageIDList.ids) ?? []).reversed()

        return InboundReport(
            kind: verdict.kind,
            messageID: MessageIDList.own(header.first("message-id")),
            addresses: uniqued(addresses),
            envelopeIDs: verdict.envelopeIDs,
            referencedMessageIDs: uniqued(verdict.returnedIDs + thread),
            from: header.first("from").flatMap { InboundAddressList.addresses($0).first }.flatMap { try? EmailAddress(validating: $0) },
            subject: subject)
    }

    struct Verdict {
        var kind: InboundReport.Kind
        var returnedIDs: [String] = []
        var envelopeIDs: [String] = []
        var extraAddresses: [String] = []
    }

    /// The precedence of the issue: a DSN, a feedback report, a plain-text bounce, then anything from a mailer daemon
    /// or an unknown report is kept aside; an auto-reply; and anything else is a person writing.
    static func decide(_ message: InboundMessage, subject: String?) -> Verdict {
        let root = message.root
        let contentType = root.contentType
        let reportType = contentType.parameters["report-type"]?.lowercased()
        let isReport = contentType.mimeType == "multipart/report"
        let parts = root.allParts()
        let dsnPart = parts.first { ["message/delivery-status", "message/global-delivery-status"].contains($0.contentType.mimeType) }
        let arfPart = parts.first { $0.contentType.mimeType == "message/feedback-report" }
        let returned = parts.first { !$0.embedded.isEmpty }.flatMap { MessageIDList.own($0.embedded[0].header.first("message-id")) }
        let problems = parts.flatMap(\.problems)
        let why = problems.isEmpty ? "" : " (" + problems.joined(separator: ", ") + ")"

        if (isReport && reportType == "feedback-report") || (arfPart != nil && dsnPart == nil) {
            guard let arfPart else { return Verdict(kind: .unclassified(reason: "feedback report without a message/feedback-report part" + why)) }
            let report = FeedbackReport.parse(arfPart.decodedBody(limit: 64 * 1024))
            return Verdict(kind: report.outcome(), returnedIDs: returned.map { [$0] } ?? [],
                           extraAddresses: report.originalMailFrom.map { [$0] } ?? [])
        }
        if let dsnPart {
            let report = DeliveryStatusReport.parse(dsnPart.decodedBody(limit: 256 * 1024))
            return Verdict(kind: report.outcome(), returnedIDs: returned.map { [$0] } ?? [], envelopeIDs: report.envelopeIDs)
        }
        if isReport, reportType == "delivery-status" || reportType == nil {
            if let plain = PlainTextBounce.read(message) {
                return Verdict(kind: plain.kind, returnedIDs: (returned ?? plain.returnedMessageID).map { [$0] } ?? [])
            }
            return Verdict(kind: .unclassified(reason: "delivery status notification without a readable message/delivery-status part" + why))
        }
        if isReport {
            let type = reportType ?? "none"
            let what = type == "disposition-notification" ? "a read receipt (multipart/report; report-type=disposition-notification)"
                : "a report of type \(type) (multipart/report), neither a delivery status nor a feedback report"
            return Verdict(kind: .unclassified(reason: what))
        }
        if let plain = PlainTextBounce.read(message) {
            return Verdict(kind: plain.kind, returnedIDs: (plain.returnedMessageID ?? returned).map { [$0] } ?? [])
        }
        if PlainTextBounce.isDaemon(message.header) {
            return Verdict(kind: .unclassified(reason: "from a mailer daemon (MAILER-DAEMON/postmaster) with no readable delivery report" + why))
        }
        if let auto = AutoReplyDetector.detect(message.header, subject: subject) { return Verdict(kind: auto) }
        return Verdict(kind: .reply)
    }

    /// First occurrence kept, at most `maxHandles`.
    static func uniqued(_ values: [String]) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for v in values where seen.insert(v).inserted {
            out.append(v)
            if out.count == maxHandles { break }
        }
        return out
    }
}
