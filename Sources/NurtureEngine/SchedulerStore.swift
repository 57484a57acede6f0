import Foundation
import NurtureCore

/// What the scheduler (Scheduler, SchedulerService) needs from storage, listed by its user as listmonk's manager
/// lists its Store. Each method is one transaction, so a crash leaves a consistent state; every call is async and
/// its blocking work runs on threads the store owns.
public protocol SchedulerStore: UnsubscribeGate {
    /// Leads added or changed since their enrollment was last considered (new leads, changed fields, new sequences).
    func leadsAwaitingEnrollment(limit: Int) async throws -> [EnrollmentCandidate]
    /// Creates the enrollments and their first sends, and marks every candidate as considered.
    /// Has intake look again at leads whose enrollment in `sequenceID` ended before `endedBefore` (its `reenter`
    /// cooldown is over), each ended enrollment once; returns how many were flagged.
    func flagReentries(sequenceID: String, endedBefore: Date, limit: Int) async throws -> Int
    /// Keeps each sequence version the engine runs (its file and templates' digests), once: `plan` compares the files
    /// on disk with what enrollments were scheduled under.
    func recordSequenceVersions(_ versions: [SequenceVersionRecord], at: Date) async throws
    func applyEnrollments(_ enrollments: [NewEnrollment], considered: [Int64], now: Date) async throws
    /// Enrollments a score threshold or an answer from sales asked for (lead, sequence) whose cooldown has passed.
    func pendingEnrollments(at now: Date, limit: Int) async throws -> [(leadID: Int64, sequenceID: String)]
    /// Creates those enrollments and clears the requests, in one transaction. A threshold's request enters a
    /// sequence the lead was never in; an answer from sales may re-enter one whose enrollment ended.
    func applyPendingEnrollments(_ enrollments: [NewEnrollment], resolved: [(leadID: Int64, sequenceID: String)], now: Date) async throws
    /// Scheduled or deferred sends due by `now`, oldest first, with what deciding them requires. In a cluster, only
    /// sends of leads no other live node is deciding, and their leads are leased to this node until `releaseLeads`
    /// (so two nodes never judge one lead's fatigue at once).
    func dueSends(at now: Date, limit: Int, recentSince: Date) async throws -> [DueSend]
    /// Records dispatch decisions; claimed sends become `sending` (committed before any transfer starts).
    /// Returns the sends actually claimed: one cancelled meanwhile (an unsubscribe) is not, and must not go out.
    @discardableResult
    /// An exit rule's hand-off (`then: handoff`) is queued on `handoff`'s channels, as a threshold's is.
    func apply(_ outcomes: [DispatchOutcome], now: Date, handoff: ScoringContext?) async throws -> Set<Int64>
    /// Records transfer results and plans each enrollment's next step, then claims the next sends in the same
    /// transaction (one commit per batch on the delivery path).
    @discardableResult
    func complete(_ results: [DeliveryOutcome], thenClaim: [Int64], now: Date, scoring: ScoringContext) async throws -> Set<Int64>
    /// After a crash: sends left `sending` go back to `scheduled`, flagged as possibly sent. Returns how many.
    func recoverInterrupted(now: Date) async throws -> Int
    /// The earliest due time of any scheduled or deferred send, or of a requested enrollment's cooldown, so the
    /// loop can sleep until then.
    func nextDueAt() async throws -> Date?
    /// Sends waiting (scheduled or deferred) and in flight, through partial indexes: for status lines.
    func queueDepth() async throws -> (waiting: Int, sending: Int)
    /// Charges long-silent leads their inactivity points; returns how many were charged (at most `limit`).
    func scoreInactivity(before: Date, now: Date, limit: Int, context: ScoringContext, silence: TimeSpan) async throws -> Int
    /// Gives back the leads `dueSends` leased, once the tick's claims are committed (SQLite: nothing to give back).
    func releaseLeads() async throws
    /// Takes a cluster-wide job (`intake`, `inactivity`) for this tick: false when another live node holds it.
    func takeJob(_ name: String, now: Date) async throws -> Bool
    func releaseJob(_ name: String) async throws
    /// Gives back the space failed commits left in the write-ahead log (after a full disk); best effort.
    func checkpoint() async throws
}

extension SchedulerStore {
    /// Claims and decisions that cannot hand off.
    @discardableResult
    public func apply(_ outcomes: [DispatchOutcome], now: Date) async throws -> Set<Int64> { try await apply(outcomes, now: now, handoff: nil) }
}
