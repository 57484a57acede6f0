import Foundation
import NurtureCore

/// What the leads and events API (LeadsAPIBackend) needs from storage, beyond recording events and erasing.
public protocol LeadsAPIStore: EventStore, ErasureStore, HandoffAnswerStore {
    /// What the store derives from leads without the database; callable on any thread, so a bulk import does it on
    /// its reader's thread beside the writer instead of before each write.
    func prepare(_ leads: [Lead]) -> PreparedLeads
    /// Creates or updates leads in one transaction; engine-owned state (stage, score) is never overwritten.
    func upsert(_ prepared: PreparedLeads, now: Date) async throws -> [UpsertOutcome]
    func lead(_ email: EmailAddress) async throws -> StoredLead?
    /// Per sequence, step and variant: sends and what people did with them, goal conversions and the holdout.
    func stats(since: Date?) async throws -> [SequenceStats]
    /// Everything stored about a lead (a data-subject access request); nil if unknown.
    func export(_ email: EmailAddress) async throws -> LeadExport?
}

extension LeadsAPIStore {
    /// - Parameter scoring: the fit rules (`scoring.rules.fit`) and what a fit change may trigger.
    public func upsert(_ leads: [Lead], now: Date, fit: FitRules = FitRules(), scoring: ScoringContext? = nil) async throws -> [UpsertOutcome] {
        var prepared = prepare(leads)
        prepared.fitRules = scoring?.rules.fit ?? fit
        prepared.scoring = scoring
        return try await upsert(prepared, now: now)
    }
}
