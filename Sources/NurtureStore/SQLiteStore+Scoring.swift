import Foundation
import GRDB
import NurtureCore

/// Scoring inside the transaction that records the event: the score, its ledger rows, the stage and any hand-off
/// or enrollment a threshold asks for are committed together, so a crash can never separate a crossing from
/// its consequences.
extension SQLiteStore {
    /// Scores one event for a lead and commits what the core decided it implies; returns the outcome (nil for an
    /// unknown lead). The one scoring path of every event: tracking, bounces, unsubscribes, inactivity, custom events.
    @discardableResult
    func score(_ db: Database, leadID: Int64, type: String, machine: Bool, cause: String, eventID: Int64?, at: Date,
               context: ScoringContext) throws -> LeadScoring.Outcome? {
        try markEngaged(db, leadID: leadID, type: type, machine: machine, at: at)
        guard let outcome = try scoreOutcome(db, leadID: leadID, type: type, machine: machine, cause: cause, at: at, context: context) else { return nil }
        try persist(db, leadID: leadID, outcome, eventID: eventID, at: at, context: context)
        return outcome
    }

    /// A human open, click or custom event ends the lead's silence (inactivity points count from here).
    func markEngaged(_ db: Database, leadID: Int64, type: String, machine: Bool, at: Date) throws {
        guard !machine, EventKind(type).showsInterest else { return }
        try db.cachedStatement(sql: SQL.markEngaged).execute(arguments: [Self.millis(at), leadID])
    }

    /// Charges `inactivity` points (once per silence) to leads with no human open, click or custom event since
    /// `before`. Returns how many were charged.
    public func scoreInactivity(before: Date, now: Date, limit: Int, context: ScoringContext, silence: TimeSpan) async throws -> Int {
        try await write { [self] db in
            let ids = try Int64.fetchAll(db, sql: SQL.inactiveLeads, arguments: [Self.millis(before), limit])
            for id in ids {
                try db.execute(sql: SQL.markInactivityScored, arguments: [Self.millis(now), id])
                // An event row, so `rescore` replays the charge like any other event.
                try db.cachedStatement(sql: SQL.insertEvent).execute(arguments: [id, nil, nil, nil, EventKind.inactivity.name, 0, Self.millis(now)])
                try score(db, leadID: id, type: EventKind.inactivity.name, machine: false, cause: "no human open, click or event for \(silence)",
                          eventID: db.lastInsertedRowID, at: now, context: context)
            }
            return ids.count
        }
    }

    /// What the event does to the lead's score, not yet written.
    func scoreOutcome(_ db: Database, leadID: Int64, type: String, machine: Bool, cause: String, at: Date,
                      context: ScoringContext) throws -> LeadScoring.Outcome? {
        guard let row = try Row.fetchOne(try db.cachedStatement(sql: SQL.scoreStateOfLead), arguments: [leadID]) else { return nil }
        let state = Self.scoreState(row)
        return LeadScoring.apply(type, machine: machine, cause: cause, at: at, to: state, rules: context.rules)
    }

    /// Queues a hand-off (a threshold crossing or an exit rule's `then: handoff`): one row per channel, all named by
    /// the first row's id, credited to the last sequence that mailed the lead. Returns that id (nil: no channel).
    @discardableResult
    func insertCrossing(_ db: Database, leadID: Int64, channels: [String], score: Double, dueAt: Date?, now t: Int64,
                        reminderOf: Int64? = nil, sequenceID: String? = nil) throws -> Int64? {
        guard !channels.isEmpty else { return nil }
        // A lead already with sales (a hand-off not answered yet) is not handed over a second time.
        if reminderOf == nil, try Bool.fetchOne(try db.cachedStatement(sql: SQL.hasOpenHandoff), arguments: [leadID]) == true { return nil }
        let sequence = try sequenceID ?? String.fetchOne(try db.cachedStatement(sql: SQL.lastSequenceOfLead), arguments: [leadID])
        var crossing = reminderOf
        for channel in channels {
            try db.cachedStatement(sql: SQL.insertHandoff).execute(arguments: [
                leadID, channel, score, t, t, dueAt.map(Self.millis), sequence, reminderOf == nil ? 0 : 1, crossing,
            ])
            let id = db.lastInsertedRowID
            if crossing == nil {
                crossing = id
                try db.cachedStatement(sql: SQL.setCrossing).execute(arguments: [crossing, crossing])
            }
            if channel == ScoringContext.noChannel { try db.cachedStatement(sql: SQL.markUntold).execute(arguments: [id]) }
        }
        return crossing
    }

    /// Writes what the core decided the outcome commits (`ScoreRecord`); nothing is decided here.
    func persist(_ db: Database, leadID: Int64, _ outcome: LeadScoring.Outcome, eventID: Int64?, at: Date, context: ScoringContext) throws {
        let record = ScoreRecord(leadID: leadID, outcome: outcome, at: at, context: context)
        let t = Self.millis(at)
        let s = record.state
        try db.cachedStatement(sql: SQL.setScoreState).execute(arguments: [
            s.score, s.at.map(Self.millis), s.stage.rawValue, JSONText.array(s.fired.sorted().map { String($0) }), leadID,
        ])
        let ledger = try db.cachedStatement(sql: SQL.insertLedgerEntry)
        for line in record.ledger {
            try ledger.execute(arguments: [leadID, Self.millis(line.at), line.delta, line.scoreAfter, line.cause, line.fromEvent ? eventID : nil])
        }
        if record.stageChanged { try db.cachedStatement(sql: SQL.leadNeedsEnrollment).execute(arguments: [leadID]) }
        try insertCrossing(db, leadID: leadID, channels: record.handoffs, score: s.score, dueAt: record.handoffDueAt, now: t)
        if let end = record.end { try self.end(db, end, now: t) }
        for sequence in record.enroll {
            try db.cachedStatement(sql: SQL.insertPendingEnrollment).execute(arguments: [leadID, sequence])
        }
    }
}

