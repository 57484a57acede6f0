import Foundation
import GRDB
import NurtureCore
import NurtureEngine

/// The lead's life after the hand-off: sales' answers, the SLA's reminders, the fit score, and their figures.
extension SQLiteStore: HandoffAnswerStore {
    public func answerHandoff(_ id: Int64, _ answer: HandoffAnswer, outcomes: [HandoffOutcome: HandoffOutcomeRule],
                              scoring: ScoringContext) async throws -> HandoffAnswerResult? {
        try await write { [self] db in
            guard let row = try Row.fetchOne(db, sql: SQL.crossingOfHandoff, arguments: [id]) else { return nil }
            let crossing: Int64 = row["crossing"], leadID: Int64 = row["lead_id"]
            let previous = (row["outcome"] as String?).flatMap(HandoffOutcome.init(rawValue:))
            guard let stateRow = try Row.fetchOne(db, sql: SQL.scoreStateOfLead, arguments: [leadID]) else { return nil }
            let state = Self.scoreState(stateRow)
            if previous == answer.outcome {
                return HandoffAnswerResult(crossing: crossing, leadID: leadID, outcome: answer.outcome, previous: previous, changed: false,
                                           stage: state.stage, score: state.score)
            }
            let rule = outcomes[answer.outcome] ?? .defaults(for: answer.outcome)
            let decision = HandoffAnswering.decide(answer, handoffID: crossing, rule: rule, state: state, rules: scoring.rules)
            let t = Self.millis(answer.at)
            try db.execute(sql: SQL.answerCrossing, arguments: [answer.outcome.rawValue, answer.reason, t, answer.outcome.rawValue, t, crossing])
            try db.execute(sql: SQL.cancelReminders, arguments: [crossing])
            try db.execute(sql: SQL.deleteAnsweredEnrollments, arguments: [leadID])
            var eventID: Int64?
            for (i, type) in decision.events.enumerated() {
                let last = i == decision.events.count - 1 // the answer's own event; a reset comes before it
                let data = last ? JSONText.object(["handoff": String(crossing), "reason": answer.reason ?? ""].filter { !$0.value.isEmpty }) : nil
                try db.execute(sql: SQL.insertEventWithData, arguments: [leadID, nil, nil, nil, type, t, data])
                if last { eventID = db.lastInsertedRowID }
            }
            let ledger = try db.cachedStatement(sql: SQL.insertLedgerEntry)
            for line in decision.ledger {
                try ledger.execute(arguments: [leadID, Self.millis(line.at), line.delta, line.scoreAfter, line.cause, line.fromEvent ? eventID : nil])
            }
            if let reason = decision.endAll {
                try end(db, EnrollmentEnd(enrollmentID: 0, leadID: leadID, reason: reason, handoff: false, allOfLead: true), now: t)
            }
            if let sequence = decision.enrollSequence {
                try db.execute(sql: SQL.insertAnsweredEnrollment, arguments: [leadID, sequence, Self.millis(decision.enrollAt)])
            }
            if decision.stageChanged { try db.execute(sql: SQL.leadNeedsEnrollment, arguments: [leadID]) }
            if let until = decision.recontactAfter { try db.execute(sql: SQL.setRecontactAfter, arguments: [Self.millis(until), leadID]) }
            // The answer's own points, and any threshold the new state crosses (a won lead's ambassador threshold).
            try persist(db, leadID: leadID, decision.scored, eventID: eventID, at: answer.at, context: scoring)
            return HandoffAnswerResult(crossing: crossing, leadID: leadID, outcome: answer.outcome, previous: previous, changed: true,
                                       stage: decision.scored.state.stage, score: decision.scored.state.score)
        }
    }

    public func queueReminders(at now: Date, channels: [String]?, limit: Int) async throws -> Int {
        let t = Self.millis(now)
        return try await write { [self] db in
            let due = try Row.fetchAll(db, sql: SQL.overdueCrossings, arguments: [t, limit])
            for row in due {
                let crossing: Int64 = row["id"]
                let own = try String.fetchAll(db, sql: SQL.channelsOfCrossing, arguments: [crossing])
                try insertCrossing(db, leadID: row["lead_id"], channels: channels ?? own.filter { $0 != ScoringContext.noChannel }, score: row["score"], dueAt: nil, now: t,
                                   reminderOf: crossing, sequenceID: row["sequence_id"] ?? "")
                try db.execute(sql: SQL.markRenotified, arguments: [t, crossing])
            }
            return due.count
        }
    }

    public func handoffStats(now: Date) async throws -> [HandoffStats] {
        try await read { db in
            let rows = try Row.fetchAll(db, sql: SQL.handoffStats, arguments: [Self.millis(now)]).map { r in
                HandoffStatsRow(sequenceID: r["sequence_id"], outcome: r["outcome"], count: r["n"], overdue: r["overdue"],
                                acceptMillis: r["accept_ms"], acceptCount: r["accept_n"])
            }
            return HandoffStatsRow.fold(rows)
        }
    }

    /// Computes the fit of the leads just written (by key) and writes what changed, with its ledger lines.
    func applyFit(_ db: Database, keys: [String], rules: FitRules, now: Int64, scoring: ScoringContext? = nil) throws {
        let read = try db.cachedStatement(sql: SQL.fitOfLeadByKey)
        for key in keys {
            guard let row = try Row.fetchOne(read, arguments: [key]), let update = try writeFit(db, row: row, rules: rules, now: now),
                  let scoring else { continue }
            // The new fit may satisfy a threshold's `when:`: judged now, committed with the fit.
            let leadID: Int64 = row["id"]
            guard let stateRow = try Row.fetchOne(try db.cachedStatement(sql: SQL.scoreStateOfLead), arguments: [leadID]) else { continue }
            let outcome = LeadScoring.refit(Self.scoreState(stateRow), fit: update.result.points, grade: update.result.grade, at: Self.date(now),
                                            rules: scoring.rules)
            if !outcome.actions.isEmpty { try persist(db, leadID: leadID, outcome, eventID: nil, at: Self.date(now), context: scoring) }
        }
    }

    /// Writes a lead's new fit when it changed; returns the update (nil: unchanged).
    @discardableResult
    func writeFit(_ db: Database, row: Row, rules: FitRules, now: Int64) throws -> FitUpdate? {
        let lead = try FitUpdate.subject(email: row["email"], persona: row["persona"], fields: JSONText.decodeObject(row["fields"]))
        guard let update = FitUpdate.of(lead, previous: FitUpdate.matched(fromJSON: row["fit_matched"]), previousGrade: row["fit_grade"],
                                        rules: rules) else { return nil }
        try writeFit(db, id: row["id"], update, now: now)
        return update
    }

    func writeFit(_ db: Database, id: Int64, _ update: FitUpdate, now: Int64) throws {
        try db.cachedStatement(sql: SQL.setFit).execute(arguments: [update.result.points, update.result.grade, update.matchedJSON, id])
        let ledger = try db.cachedStatement(sql: SQL.insertFitLedgerEntry)
        for line in update.lines { try ledger.execute(arguments: [id, now, line.delta, line.fitAfter, line.cause]) }
    }

    static func scoreState(_ row: Row) -> LeadScoring.State {
        let fired = Set(JSONText.decodeArray(row["thresholds_fired"]).compactMap(Double.init))
        return LeadScoring.State(score: row["score"], at: (row["score_at"] as Int64?).map(Self.date),
                                 stage: LifecycleStage(rawValue: row["stage"]) ?? .lead, fired: fired, fit: row["fit"], grade: row["fit_grade"])
    }

    static func handoffSummary(_ r: Row) -> HandoffSummary {
        HandoffSummary(id: r["id"], crossing: r["crossing"], channel: r["channel"], status: r["status"], attempts: r["attempts"],
                       lastError: r["last_error"], createdAt: date(r["created_at"]), deliveredAt: (r["delivered_at"] as Int64?).map(date),
                       reminder: (r["reminder"] as Int64? ?? 0) != 0, slaDueAt: (r["sla_due_at"] as Int64?).map(date),
                       outcome: (r["outcome"] as String?).flatMap(HandoffOutcome.init(rawValue:)), outcomeReason: r["outcome_reason"],
                       answeredAt: (r["answered_at"] as Int64?).map(date), sequenceID: r["sequence_id"])
    }
}

/// One grouped row of the hand-off figures, as both dialects return it.
struct HandoffStatsRow {
    var sequenceID: String
    var outcome: String?
    var count: Int
    var overdue: Int
    var acceptMillis: Int64
    var acceptCount: Int

    static func fold(_ rows: [HandoffStatsRow]) -> [HandoffStats] {
        var by: [String: HandoffStats] = [:]
        for r in rows {
            var s = by[r.sequenceID] ?? HandoffStats(sequenceID: r.sequenceID.isEmpty ? "-" : r.sequenceID)
            s.handedOff += r.count
            if let o = r.outcome.flatMap(HandoffOutcome.init(rawValue:)) { s.outcomes[o, default: 0] += r.count } else { s.awaiting += r.count }
            s.overdue += r.overdue
            s.acceptSeconds += Double(r.acceptMillis) / 1000
            s.acceptCount += r.acceptCount
            by[r.sequenceID] = s
        }
        return by.values.sorted { $0.sequenceID < $1.sequenceID }
    }
}
