import Foundation

/// The hand-off outbox: rows committed with the threshold crossing, delivered and retried by the daemon.
public protocol HandoffStore: Sendable {
    func dueHandoffs(at now: Date, limit: Int) throws -> [PendingHandoff]
    func handoffDelivered(_ id: Int64, at: Date) throws
    func handoffFailed(_ id: Int64, error: String, retryAt: Date) throws
    /// The earliest pending attempt, so the loop can sleep until then.
    func nextHandoffAt() throws -> Date?
}

public struct PendingHandoff: Sendable, Hashable {
    public var id: Int64
    public var leadID: Int64
    public var email: EmailAddress
    /// `webhook` or `email`.
    public var channel: String
    public var score: Double
    public var attempts: Int
    public var createdAt: Date

    public init(id: Int64, leadID: Int64, email: EmailAddress, channel: String, score: Double, attempts: Int, createdAt: Date) {
        self.id = id
        self.leadID = leadID
        self.email = email
        self.channel = channel
        self.score = score
        self.attempts = attempts
        self.createdAt = createdAt
    }
}
