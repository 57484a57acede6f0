import Foundation
import GRDB
import NurtureCore

/// Scoring inside the transaction that records the event: the score, its ledger rows, the stage and any hand-off
/// or enrollment a threshold asks for are committed together, so a crash can never separate a crossing from
/// its consequences.
extension SQLiteStore {
    /// Scores one event for a lead and performs the threshold actions; returns them.
    @discardableResult
    func score(_ db: Database, leadID: Int64, type: String, machine: Bool, cause: String, eventID: Int64?, at: Date,
               context: ScoringContext) throws -> [LeadScoring.Action] {
        try markEngaged(db, leadID: leadID, type: type, machine: machine, at: at)
        guard let outcome = try scoreOutcome(db, leadID: leadID, type: type, machine: machine, cause: cause, at: at, context: context) else { return [] }
        try persist(db, leadID: leadID, outcome, eventID: eventID, at: at, context: context)
        return outcome.actions
    }

    /// A human open, click or custom event ends the lead's silence (inactivity points count from here).
    func markEngaged(_ db: Database, leadID: Int64, type: String, machine: Bool, at: Date) throws {
        guard !machine, !EventName.withoutInterest.contains(type) else { return }
        try db.cachedStatement(sql: SQL.markEngaged).execute(arguments: [Self.millis(at), leadID])
    }

    /// Charges `inactivity` points (once per silence) to leads with no human open, click or custom event since
    /// `before`. Returns how many were charged.
    public func scoreInactivity(before: Date, now: Date, limit: Int, context: ScoringContext, silence: TimeSpan) throws -> Int {
        try Self.typed { try pool.write { db in
            let ids = try Int64.fetchAll(db, sql: SQL.inactiveLeads, arguments: [Self.millis(before), limit])
            for id in ids {
                try db.execute(sql: SQL.markInactivityScored, arguments: [Self.millis(now), id])
                // An event row, so `rescore` replays the charge like any other event.
                try db.cachedStatement(sql: SQL.insertEvent).execute(arguments: [id, nil, nil, nil, "inactivity", 0, Self.millis(now)])
                try score(db, leadID: id, type: "inactivity", machine: false, cause: "no human open, click or event for \(silence)",
                          eventID: db.lastInsertedRowID, at: now, context: context)
            }
            return ids.count
        } }
    }

    /// What the event does to the lead's score, not yet written.
    func scoreOutcome(_ db: Database, leadID: Int64, type: String, machine: Bool, cause: String, at: Date,
                      context: ScoringContext) throws -> LeadScoring.Outcome? {
        guard let row = try Row.fetchOne(try db.cachedStatement(sql: SQL.scoreStateOfLead), arguments: [leadID]) else { return nil }
        let fired = Set(JSONText.decodeArray(row["thresholds_fired"]).compactMap(Double.init))
        let state = LeadScoring.State(score: row["score"], at: (row["score_at"] as Int64?).map(Self.date),
                                      stage: LifecycleStage(rawValue: row["stage"]) ?? .lead, fired: fired)
        return LeadScoring.apply(type, machine: machine, cause: cause, at: at, to: state, rules: context.rules)
    }

    func persist(_ db: Database, leadID: Int64, _ outcome: LeadScoring.Outcome, eventID: Int64?, at: Date, context: ScoringContext) throws {
        let t = Self.millis(at)
        let s = outcome.state
        try db.cachedStatement(sql: SQL.setScoreState).execute(arguments: [
            s.score, s.at.map(Self.millis), s.stage.rawValue, JSONText.array(s.fired.sorted().map { String($0) }), leadID,
        ])
        let ledger = try db.cachedStatement(sql: SQL.insertLedgerEntry)
        for c in outcome.changes {
            try ledger.execute(arguments: [leadID, Self.millis(c.at), c.delta, c.scoreAfter, c.cause,
                                           c.cause.hasPrefix("decay") ? nil : eventID])
        }
        for action in outcome.actions {
            switch action {
            case .stage(let stage):
                try ledger.execute(arguments: [leadID, t, 0, s.score, "stage → \(stage.rawValue.uppercased())", eventID])
            case .handoff(let threshold):
                try ledger.execute(arguments: [leadID, t, 0, s.score, "hand-off: score reached \(threshold)", eventID])
                for channel in context.handoffChannels {
                    try db.cachedStatement(sql: SQL.insertHandoff).execute(arguments: [leadID, channel, s.score, t, t])
                }
                // The lead leaves nurturing: sales takes it from here.
                try end(db, EnrollmentEnd(enrollmentID: 0, leadID: leadID, reason: "handed to sales at score \(s.score)",
                                          handoff: true, allOfLead: true), now: t)
            case .enroll(let sequence):
                try db.cachedStatement(sql: SQL.insertPendingEnrollment).execute(arguments: [leadID, sequence])
                try ledger.execute(arguments: [leadID, t, 0, s.score, "enroll in \(sequence)", eventID])
            }
        }
    }
}

extension SQLiteStore: InactivityScoring {}
