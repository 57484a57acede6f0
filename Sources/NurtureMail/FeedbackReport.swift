/// The fields of a `message/feedback-report` body (RFC 5965 §3.1) that say what the complaint is and whom it names.
struct FeedbackReport: Sendable {
    /// Lower-cased (`abuse`, `fraud`, `virus`, `other`, `not-spam`, `auth-failure`); nil when absent.
    var feedbackType: String?
    var originalMailFrom: String?
    var originalRcptTo: [String] = []

    static func parse(_ body: [UInt8]) -> FeedbackReport {
        // Some generators start the part with an empty line: skip leading ones.
        var start = body.startIndex
        while start < body.endIndex, body[start] == 0x0D || body[start] == 0x0A { start += 1 }
        let (fields, _) = InboundHeaderSection.parse(body[start...])
        return FeedbackReport(
            feedbackType: fields.text("feedback-type").flatMap { $0.split(separator: " ").first.map { $0.lowercased() } },
            originalMailFrom: fields.first("original-mail-from").flatMap { InboundAddressList.addresses($0).first },
            originalRcptTo: fields.values("original-rcpt-to").flatMap { InboundAddressList.addresses($0) })
    }

    /// A complaint, unless the type says the report is about something else (RFC 6591 authentication failures,
    /// RFC 5965 `not-spam`): those are not the recipient objecting, and must not suppress anyone.
    func outcome() -> InboundReport.Kind {
        guard let type = feedbackType, !type.isEmpty else { return .unclassified(reason: "feedback report without Feedback-Type") }
        switch type {
        case "auth-failure": return .unclassified(reason: "feedback report of an authentication failure (Feedback-Type: auth-failure), not a complaint")
        case "not-spam": return .unclassified(reason: "feedback report saying the message is not spam (Feedback-Type: not-spam)")
        default: return .complaint(feedbackType: type)
        }
    }
}
