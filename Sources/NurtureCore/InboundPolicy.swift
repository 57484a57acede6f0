/// The `inbound:` rules: how many soft bounces in a row suppress an address, whether an out-of-office postpones the
/// lead's next step, whether replies are forwarded to sales.
public struct InboundPolicy: Hashable, Sendable {
    /// Soft bounces (4.x.x, `delayed`) for distinct messages with no human open, click or reply between them.
    public var softBounceLimit = 3
    /// How far an out-of-office pushes the lead's scheduled sends; nil (the default) leaves them.
    public var outOfOfficePostpone: TimeSpan?
    /// Replies are forwarded to `handoff.email` when one is configured.
    public var forwardReplies = true

    public init(softBounceLimit: Int = 3, outOfOfficePostpone: TimeSpan? = nil, forwardReplies: Bool = true) {
        self.softBounceLimit = softBounceLimit
        self.outOfOfficePostpone = outOfOfficePostpone
        self.forwardReplies = forwardReplies
    }
}
