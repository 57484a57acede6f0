import Foundation
import NurtureCore

/// Scoring inside the transaction that records the event, as SQLiteStore+Scoring does: score, ledger, stage and any
/// hand-off or enrollment a threshold asks for commit together. The lead's row is locked while it is scored, so two
/// events of one lead (from two connections, or two nodes) apply one after the other.
extension PostgresStore {
    /// Scores one event for a lead and commits what the core decided it implies; returns the outcome (nil for an
    /// unknown lead).
    @discardableResult
    func score(_ tx: PostgresTransaction, leadID: Int64, type: String, machine: Bool, cause: String, eventID: Int64?, at: Date,
               context: ScoringContext) async throws -> LeadScoring.Outcome? {
        if !machine, EventKind(type).showsInterest { try await tx.execute(PostgresSQL.markEngaged(leadID, at: Self.millis(at))) }
        guard let row = try await tx.row(PostgresSQL.scoreStateOfLead(leadID)) else { return nil }
        let state = try Self.scoreState(row)
        let outcome = LeadScoring.apply(type, machine: machine, cause: cause, at: at, to: state, rules: context.rules)
        try await persist(tx, leadID: leadID, outcome, eventID: eventID, at: at, context: context)
        return outcome
    }

    /// Queues a hand-off, as SQLiteStore.insertCrossing does: one row per channel named by the first row's id.
    @discardableResult
    func insertCrossing(_ tx: PostgresTransaction, leadID: Int64, channels: [String], score: Double, dueAt: Date?, now t: Int64,
                        reminderOf: Int64? = nil, sequenceID: String? = nil) async throws -> Int64? {
        guard !channels.isEmpty else { return nil }
        // A lead already with sales (a hand-off not answered yet) is not handed over a second time.
        // The lead's row is locked first: an exit rule's hand-off on one node and a threshold's on another see each other.
        if reminderOf == nil {
            try await tx.execute(PostgresSQL.lockLead(leadID))
            if try await tx.row(PostgresSQL.hasOpenHandoff(leadID)) != nil { return nil }
        }
        var sequence = sequenceID
        if sequence == nil { sequence = try await tx.row(PostgresSQL.lastSequenceOfLead(leadID))?["sequence_id"] }
        var crossing = reminderOf
        for channel in channels {
            let id: Int64? = try await tx.row(PostgresSQL.insertHandoff(lead: leadID, channel: channel, score: score, now: t,
                                                                          slaDueAt: dueAt.map(Self.millis), sequence: sequence,
                                                                          reminder: reminderOf != nil, crossing: crossing))?["id"]
            if crossing == nil, let id {
                crossing = id
                try await tx.execute(PostgresSQL.setCrossing(id))
            }
            if channel == ScoringContext.noChannel, let id { try await tx.execute(PostgresSQL.markUntold(id)) }
        }
        return crossing
    }

    /// Writes what the core decided the outcome commits (`ScoreRecord`); nothing is decided here.
    func persist(_ tx: PostgresTransaction, leadID: Int64, _ outcome: LeadScoring.Outcome, eventID: Int64?, at: Date, context: ScoringContext) async throws {
        let record = ScoreRecord(leadID: leadID, outcome: outcome, at: at, context: context)
        let t = Self.millis(at)
        let s = record.state
        try await tx.execute(PostgresSQL.setScoreState(leadID, score: s.score, at: s.at.map(Self.millis), stage: s.stage.rawValue,
                                                       fired: JSONText.array(s.fired.sorted().map { String($0) })))
        for line in record.ledger {
            try await tx.execute(PostgresSQL.insertLedgerEntry(lead: leadID, at: Self.millis(line.at), delta: line.delta, scoreAfter: line.scoreAfter,
                                                               cause: line.cause, event: line.fromEvent ? eventID : nil))
        }
        if record.stageChanged { try await tx.execute(PostgresSQL.leadNeedsEnrollment(leadID)) }
        try await insertCrossing(tx, leadID: leadID, channels: record.handoffs, score: s.score, dueAt: record.handoffDueAt, now: t)
        if let end = record.end { try await self.end(tx, end, now: t) }
        for sequence in record.enroll {
            try await tx.execute(PostgresSQL.insertPendingEnrollment(lead: leadID, sequence: sequence))
        }
    }

    /// Charges `inactivity` points (once per silence) to leads with no human open, click or custom event since
    /// `before`. Returns how many were charged.
    public func scoreInactivity(before: Date, now: Date, limit: Int, context: ScoringContext, silence: TimeSpan) async throws -> Int {
        let t = Self.millis(now)
        return try await write { tx in
            let ids = try await tx.rows(PostgresSQL.inactiveLeads(before: Self.millis(before), limit: Int64(limit))).map { try $0["id"] as Int64 }
            for id in ids {
                try await tx.execute(PostgresSQL.markInactivityScored(id, now: t))
                // An event row, so `rescore` replays the charge like any other event.
                let eventID: Int64? = try await tx.row(PostgresSQL.insertEvent(lead: id, outbox: nil, sequence: nil, step: nil,
                                                                                type: EventKind.inactivity.name, machine: false, at: t))?["id"]
                try await score(tx, leadID: id, type: EventKind.inactivity.name, machine: false, cause: "no human open, click or event for \(silence)",
                                eventID: eventID, at: now, context: context)
            }
            return ids.count
        }
    }
}
