import Foundation

/// The lead (and, when the message named one, our sent message) an inbound message is about, as the store found it.
public struct InboundTarget: Hashable, Sendable {
    public var leadID: Int64
    public var email: EmailAddress
    /// Our message the inbound one names; nil when only the sender's address matched a lead.
    public var outboxID: Int64?
    public var sequenceID: String?
    public var stepID: String?
    /// Soft bounces of distinct messages since the lead last showed interest (open, click, reply).
    public var softBouncesInARow: Int

    public init(leadID: Int64, email: EmailAddress, outboxID: Int64? = nil, sequenceID: String? = nil, stepID: String? = nil,
                softBouncesInARow: Int = 0) {
        self.leadID = leadID
        self.email = email
        self.outboxID = outboxID
        self.sequenceID = sequenceID
        self.stepID = stepID
        self.softBouncesInARow = softBouncesInARow
    }
}
