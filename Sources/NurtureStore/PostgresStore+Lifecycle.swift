import Foundation
import NurtureCore
import NurtureEngine

/// The lead's life after the hand-off, as SQLiteStore+Lifecycle: sales' answers, the SLA's reminders, the fit
/// score, and their figures.
extension PostgresStore: HandoffAnswerStore {
    public func answerHandoff(_ id: Int64, _ answer: HandoffAnswer, outcomes: [HandoffOutcome: HandoffOutcomeRule],
                              scoring: ScoringContext) async throws -> HandoffAnswerResult? {
        try await write { [self] tx in
            guard let row = try await tx.row(PostgresSQL.crossingOfHandoff(id)) else { return nil }
            let crossing: Int64 = try row["crossing"], leadID: Int64 = try row["lead_id"]
            let previous = (try row["outcome"] as String?).flatMap(HandoffOutcome.init(rawValue:))
            guard let stateRow = try await tx.row(PostgresSQL.scoreStateOfLead(leadID)) else { return nil }
            let state = try Self.scoreState(stateRow)
            if previous == answer.outcome {
                return HandoffAnswerResult(crossing: crossing, leadID: leadID, outcome: answer.outcome, previous: previous, changed: false,
                                           stage: state.stage, score: state.score)
            }
            let rule = outcomes[answer.outcome] ?? .defaults(for: answer.outcome)
            let decision = HandoffAnswering.decide(answer, handoffID: crossing, rule: rule, state: state, rules: scoring.rules)
            let t = Self.millis(answer.at)
            try await tx.execute(PostgresSQL.answerCrossing(crossing, outcome: answer.outcome.rawValue, reason: answer.reason, at: t))
            try await tx.execute(PostgresSQL.cancelReminders(crossing))
            try await tx.execute(PostgresSQL.deleteAnsweredEnrollments(leadID))
            var eventID: Int64?
            for (i, type) in decision.events.enumerated() {
                let last = i == decision.events.count - 1 // the answer's own event; a reset comes before it
                let data = last ? JSONText.object(["handoff": String(crossing), "reason": answer.reason ?? ""].filter { !$0.value.isEmpty }) : nil
                let inserted: Int64? = try await tx.row(PostgresSQL.insertEvent(lead: leadID, outbox: nil, sequence: nil, step: nil, type: type,
                                                                                 machine: false, at: t, data: data))?["id"]
                if last { eventID = inserted }
            }
            for line in decision.ledger {
                try await tx.execute(PostgresSQL.insertLedgerEntry(lead: leadID, at: Self.millis(line.at), delta: line.delta, scoreAfter: line.scoreAfter,
                                                                   cause: line.cause, event: line.fromEvent ? eventID : nil))
            }
            if let reason = decision.endAll {
                try await end(tx, EnrollmentEnd(enrollmentID: 0, leadID: leadID, reason: reason, handoff: false, allOfLead: true), now: t)
            }
            if let sequence = decision.enrollSequence {
                try await tx.execute(PostgresSQL.insertAnsweredEnrollment(lead: leadID, sequence: sequence, notBefore: Self.millis(decision.enrollAt)))
            }
            if decision.stageChanged { try await tx.execute(PostgresSQL.leadNeedsEnrollment(leadID)) }
            if let until = decision.recontactAfter { try await tx.execute(PostgresSQL.setRecontactAfter(leadID, until: Self.millis(until))) }
            try await persist(tx, leadID: leadID, decision.scored, eventID: eventID, at: answer.at, context: scoring)
            return HandoffAnswerResult(crossing: crossing, leadID: leadID, outcome: answer.outcome, previous: previous, changed: true,
                                       stage: decision.scored.state.stage, score: decision.scored.state.score)
        }
    }

    public func queueReminders(at now: Date, channels: [String]?, limit: Int) async throws -> Int {
        let t = Self.millis(now)
        return try await write { [self] tx in
            let due = try await tx.rows(PostgresSQL.overdueCrossings(at: t, limit: Int64(limit)))
            for row in due {
                let crossing: Int64 = try row["id"]
                let own = try await tx.rows(PostgresSQL.channelsOfCrossing(crossing)).map { try $0["channel"] as String }
                try await insertCrossing(tx, leadID: try row["lead_id"], channels: channels ?? own.filter { $0 != ScoringContext.noChannel }, score: try row["score"], dueAt: nil, now: t,
                                         reminderOf: crossing, sequenceID: try row["sequence_id"] ?? "")
                try await tx.execute(PostgresSQL.markRenotified(crossing, at: t))
            }
            return due.count
        }
    }

    public func handoffStats(now: Date) async throws -> [HandoffStats] {
        let t = Self.millis(now)
        return try await read { tx in
            let rows = try await tx.rows(PostgresSQL.handoffStats(now: t)).map { r in
                HandoffStatsRow(sequenceID: try r["sequence_id"], outcome: try r["outcome"], count: Int(try r["n"] as Int64),
                                overdue: Int(try r["overdue"] as Int64), acceptMillis: try r["accept_ms"], acceptCount: Int(try r["accept_n"] as Int64))
            }
            return HandoffStatsRow.fold(rows)
        }
    }

    /// Computes the fit of the leads just written (by key) and writes what changed, with its ledger lines.
    func applyFit(_ tx: PostgresTransaction, keys: [String], rules: FitRules, now: Int64, scoring: ScoringContext? = nil) async throws {
        guard !keys.isEmpty else { return }
        for row in try await tx.rows(PostgresSQL.fitOfLeads(keys: keys)) {
            let lead = try FitUpdate.subject(email: try row["email"], persona: try row["persona"], fields: JSONText.decodeObject(try row["fields"]))
            guard let update = FitUpdate.of(lead, previous: FitUpdate.matched(fromJSON: try row["fit_matched"]), previousGrade: try row["fit_grade"],
                                            rules: rules) else { continue }
            let leadID: Int64 = try row["id"]
            try await writeFit(tx, id: leadID, update, now: now)
            // The new fit may satisfy a threshold's `when:`: judged now, committed with the fit (the row is locked).
            guard let scoring, let stateRow = try await tx.row(PostgresSQL.scoreStateOfLead(leadID)) else { continue }
            let outcome = LeadScoring.refit(try Self.scoreState(stateRow), fit: update.result.points, grade: update.result.grade,
                                            at: Self.date(now), rules: scoring.rules)
            if !outcome.actions.isEmpty { try await persist(tx, leadID: leadID, outcome, eventID: nil, at: Self.date(now), context: scoring) }
        }
    }

    func writeFit(_ tx: PostgresTransaction, id: Int64, _ update: FitUpdate, now: Int64) async throws {
        try await tx.execute(PostgresSQL.setFit(id, fit: update.result.points, grade: update.result.grade, matched: update.matchedJSON))
        for line in update.lines {
            try await tx.execute(PostgresSQL.insertFitLedgerEntry(lead: id, at: now, delta: line.delta, fitAfter: line.fitAfter, cause: line.cause))
        }
    }

    static func scoreState(_ row: PostgresRecord) throws -> LeadScoring.State {
        let fired = Set(JSONText.decodeArray(try row["thresholds_fired"]).compactMap(Double.init))
        return LeadScoring.State(score: try row["score"], at: (try row["score_at"] as Int64?).map(Self.date),
                                 stage: LifecycleStage(rawValue: try row["stage"]) ?? .lead, fired: fired, fit: try row["fit"],
                                 grade: try row["fit_grade"])
    }

    static func handoffSummary(_ r: PostgresRecord) throws -> HandoffSummary {
        HandoffSummary(id: try r["id"], crossing: try r["crossing"], channel: try r["channel"], status: try r["status"],
                       attempts: Int(try r["attempts"] as Int64), lastError: try r["last_error"], createdAt: date(try r["created_at"]),
                       deliveredAt: (try r["delivered_at"] as Int64?).map(date), reminder: try r["reminder"],
                       slaDueAt: (try r["sla_due_at"] as Int64?).map(date),
                       outcome: (try r["outcome"] as String?).flatMap(HandoffOutcome.init(rawValue:)), outcomeReason: try r["outcome_reason"],
                       answeredAt: (try r["answered_at"] as Int64?).map(date), sequenceID: try r["sequence_id"])
    }
}
