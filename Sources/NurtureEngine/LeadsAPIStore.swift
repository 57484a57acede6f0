import Foundation
import NurtureCore

/// What the leads and events API (LeadsAPIBackend) needs from storage, beyond recording events and erasing.
public protocol LeadsAPIStore: EventStore, ErasureStore {
    /// Creates or updates leads in one transaction; engine-owned state (stage, score) is never overwritten.
    func upsert(_ leads: [Lead], now: Date) async throws -> [UpsertOutcome]
    func lead(_ email: EmailAddress) async throws -> StoredLead?
    /// Everything stored about a lead (a data-subject access request); nil if unknown.
    func export(_ email: EmailAddress) async throws -> LeadExport?
}
