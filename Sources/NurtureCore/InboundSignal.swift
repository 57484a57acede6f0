/// What an inbound message says, as the core reads it (the mail layer's classification, without its parsing).
public enum InboundSignal: Hashable, Sendable {
    /// `permanent`: 5.x.x with `Action: failed`; `status` the RFC 3463 code, `diagnostic` the remote server's words.
    case bounce(permanent: Bool, status: String, diagnostic: String?)
    case complaint(feedbackType: String)
    case autoReply(outOfOffice: Bool)
    case reply
}
