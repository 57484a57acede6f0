import Foundation
import NurtureCore

/// What a GDPR erasure (LeadEraser) needs from storage.
public protocol ErasureStore: Sendable {
    /// Deletes the lead and everything about it, keeping a keyed hash of the address suppressed; returns the outbox
    /// ids of its sends (nil when there was no such lead).
    func erase(_ email: EmailAddress, now: Date) async throws -> [Int64]?
}
