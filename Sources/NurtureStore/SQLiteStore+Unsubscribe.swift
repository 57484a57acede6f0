import Foundation
import GRDB
import NurtureCore
import Synchronization

/// RFC 8058 one-click unsubscribes, answered once durable in the journal (never waiting for the writer), then
/// applied to the database: at once when the writer is free, else by the daemon's journal service.
extension SQLiteStore {
    /// Reads the lead on a reader lane (another process's writer never blocks a WAL reader), journals the
    /// unsubscribe (fsync) on the journal lane, then gives applying it 200 ms on the writer lane (a free writer
    /// commits in a few); past that the reply goes out and the journal service finishes the job.
    public func unsubscribe(outboxID: Int64, at: Date, via: String, scoring: ScoringContext) async throws -> UnsubscribeResult {
        let found: (leadID: Int64, suppressed: Bool)? = try await read { [self] db in
            guard let row = try Row.fetchOne(db, sql: SQL.leadOfOutbox, arguments: [outboxID]) else { return nil }
            let key: String = row["email_key"]
            return (row["lead_id"], try Bool.fetchOne(db, sql: SQL.isSuppressed, arguments: [key, erasedKey(key)]) == true)
        }
        guard let found else { return .unknownMessage }
        if found.suppressed { return .alreadyUnsubscribed }
        let entry = UnsubscribeJournal.Entry(outboxID: outboxID, leadID: found.leadID, at: at, via: via)
        try await lanes.journal.run { [unsubscribes] in try unsubscribes.record(entry) }
        return await withCheckedContinuation { (continuation: CheckedContinuation<UnsubscribeResult, Never>) in
            let resumed = Mutex(false)
            let finish: @Sendable (UnsubscribeResult) -> Void = { answer in
                if resumed.withLock({ done in defer { done = true }; return !done }) { continuation.resume(returning: answer) }
            }
            lanes.writer.submit({ [self] in finish((try? apply(entry, scoring: scoring)) ?? .unsubscribed) }, rejected: { finish(.unsubscribed) })
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(200)) { finish(.unsubscribed) }
        }
    }

    /// Whether unsubscribes wait in the journal (answered while the writer was busy).
    public var hasJournaledUnsubscribes: Bool { !unsubscribes.pending.isEmpty }

    /// Applies every journaled unsubscribe; returns how many were applied. Throws (the rest stay journaled) while
    /// the writer is busy.
    @discardableResult
    public func applyJournaledUnsubscribes(scoring: ScoringContext) async throws -> Int {
        try await lanes.writer.run { [self] in
            let pending = unsubscribes.pending
            for entry in pending { _ = try Self.typed { try apply(entry, scoring: scoring) } }
            return pending.count
        }
    }

    /// Leads whose unsubscribe is journaled but not yet in the database: nothing may be claimed or sent to them.
    public func pendingUnsubscribes() -> Set<Int64> { unsubscribes.pendingLeads }

    /// One entry into the database at synchronous=FULL, then out of the journal. Idempotent (applying an entry
    /// twice, after a crash between the commit and the journal's truncation, finds the address suppressed).
    func apply(_ entry: UnsubscribeJournal.Entry, scoring: ScoringContext) throws -> UnsubscribeResult {
        let t = Self.millis(entry.at)
        let result: UnsubscribeResult = try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: SQL.leadOfOutbox, arguments: [entry.outboxID]) else { return .unknownMessage }
            let leadID: Int64 = row["lead_id"], key: String = row["email_key"]
            try db.cachedStatement(sql: SQL.suppressKey).execute(arguments: [key, "unsubscribed", t])
            guard db.changesCount > 0 else { return .alreadyUnsubscribed }
            try db.cachedStatement(sql: SQL.insertEngagement).execute(arguments: [
                leadID, entry.outboxID, nil, nil, EventKind.unsubscribe.name, 0, t, "{\"via\":" + JSONText.quoted(entry.via) + "}",
            ])
            try score(db, leadID: leadID, type: EventKind.unsubscribe.name, machine: false, cause: "unsubscribe (\(entry.via))",
                      eventID: db.lastInsertedRowID, at: entry.at, context: scoring)
            try end(db, EnrollmentEnd(enrollmentID: 0, leadID: leadID, reason: "unsubscribed", handoff: false, allOfLead: true), now: t)
            return .unsubscribed
        }
        unsubscribes.applied(entry)
        return result
    }
}
