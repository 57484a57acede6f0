import Foundation
import GRDB
import NurtureCore

extension SQLiteStore {
    /// Builds a domain lead from a row holding the lead columns.
    static func lead(from row: Row) throws -> Lead {
        var lead = try bareLead(from: row)
        if row.hasColumn("fit") {
            lead.fit = row["fit"]
            lead.fitGrade = row["fit_grade"]
        }
        return lead
    }

    private static func bareLead(from row: Row) throws -> Lead {
        Lead(email: try EmailAddress(validating: row["email"]), persona: row["persona"], timeZone: row["timezone"],
             locale: row["locale"], fields: JSONText.decodeObject(row["fields"]),
             consent: Consent(source: row["consent_source"], at: date(row["consent_at"]), text: row["consent_text"], ip: row["consent_ip"]),
             stage: LifecycleStage(rawValue: row["stage"]) ?? .lead, score: row["score"],
             recontactAfter: (row["recontact_after"] as Int64?).map(date))
    }

    func messageID(enrollmentID: Int64, stepID: String, domain: String) -> String {
        "<\(enrollmentID).\(stepID).\(instanceID)@\(domain)>"
    }

    public func leadsAwaitingEnrollment(limit: Int) async throws -> [EnrollmentCandidate] {
        try await read { db in
            try Row.fetchAll(db, sql: SQL.leadsAwaitingEnrollment, arguments: [limit]).map { row in
                EnrollmentCandidate(leadID: row["id"], lead: try Self.lead(from: row), suppressed: row["suppressed"],
                                    past: PastEnrollment.parse(row["past"]))
            }
        }
    }

    public func flagReentries(sequenceID: String, endedBefore: Date, limit: Int) async throws -> Int {
        try await writeProgress { db in
            let rows = try Row.fetchAll(db, sql: SQL.reentryDue, arguments: [sequenceID, Self.millis(endedBefore), limit])
            let mark = try db.cachedStatement(sql: SQL.markReentryFlagged), wake = try db.cachedStatement(sql: SQL.leadNeedsEnrollment)
            for row in rows {
                try mark.execute(arguments: [row["id"] as Int64])
                try wake.execute(arguments: [row["lead_id"] as Int64])
            }
            return rows.count
        }
    }

    public func applyEnrollments(_ enrollments: [NewEnrollment], considered: [Int64], now: Date) async throws {
        let t = Self.millis(now)
        try await writeProgress { [self] db in
            for e in enrollments {
                try db.execute(sql: SQL.insertEnrollment, arguments: [e.leadID, e.sequenceID, e.firstStepID, t, e.version, e.holdout ? 1 : 0])
                guard db.changesCount > 0 else { continue }
                try insertSend(db, enrollmentID: db.lastInsertedRowID, leadID: e.leadID, sequenceID: e.sequenceID, next: e.firstSend, now: t)
            }
            let mark = try db.cachedStatement(sql: SQL.markConsidered)
            for id in considered { try mark.execute(arguments: [id]) }
        }
    }

    public func pendingEnrollments(at now: Date, limit: Int) async throws -> [(leadID: Int64, sequenceID: String)] {
        try await read { db in
            try Row.fetchAll(db, sql: SQL.pendingEnrollments, arguments: [Self.millis(now), limit]).map { ($0["lead_id"], $0["sequence_id"]) }
        }
    }

    public func applyPendingEnrollments(_ enrollments: [NewEnrollment], resolved: [(leadID: Int64, sequenceID: String)], now: Date) async throws {
        let t = Self.millis(now)
        try await writeProgress { [self] db in
            for e in enrollments {
                try db.execute(sql: SQL.insertRequestedEnrollment, arguments: ["lead": e.leadID, "sequence": e.sequenceID, "step": e.firstStepID, "now": t,
                                                                               "version": e.version])
                guard db.changesCount > 0 else { continue } // already in it (a threshold enters a sequence once)
                try insertSend(db, enrollmentID: db.lastInsertedRowID, leadID: e.leadID, sequenceID: e.sequenceID, next: e.firstSend, now: t)
            }
            for r in resolved { try db.execute(sql: SQL.deletePendingEnrollment, arguments: [r.leadID, r.sequenceID, t]) }
        }
    }

    private func insertSend(_ db: Database, enrollmentID: Int64, leadID: Int64, sequenceID: String, next: PlannedSend, now: Int64) throws {
        try db.cachedStatement(sql: SQL.insertSend).execute(arguments: [
            "enrollment": enrollmentID, "lead": leadID, "sequence": sequenceID, "step": next.stepID,
            "key": next.key(enrollmentID: enrollmentID),
            "message_id": messageID(enrollmentID: enrollmentID, stepID: next.messageStep, domain: next.messageDomain),
            "due": Self.millis(next.dueAt), "now": now, "wait_until": next.waitUntil.map(Self.millis),
        ])
    }

    /// Queues the next step, or completes the enrollment when there is none.
    private func plan(_ db: Database, enrollmentID: Int64, leadID: Int64, sequenceID: String, next: PlannedSend?, now: Int64) throws {
        if let next {
            try insertSend(db, enrollmentID: enrollmentID, leadID: leadID, sequenceID: sequenceID, next: next, now: now)
            try db.cachedStatement(sql: SQL.setNextStep).execute(arguments: [next.stepID, next.version, enrollmentID])
        } else {
            try db.cachedStatement(sql: SQL.completeEnrollment).execute(arguments: [now, enrollmentID])
        }
    }

    public func dueSends(at now: Date, limit: Int, recentSince: Date) async throws -> [DueSend] {
        let held = pendingUnsubscribes() // answered unsubscribes not yet in the suppression table count as suppressed
        return try await read { db in
            let rows = try Row.fetchAll(db, sql: SQL.dueSends, arguments: [Self.millis(now), limit])
            guard !rows.isEmpty else { return [] }
            let leadIDs = Array(Set(rows.map { $0["lead_id"] as Int64 }))
            let enrollmentIDs = Array(Set(rows.map { $0["enrollment_id"] as Int64 }))

            var recent: [Int64: [Date]] = [:]
            for r in try Row.fetchAll(db, sql: SQL.recentSends(leads: leadIDs.count),
                                      arguments: StatementArguments(leadIDs + [Self.millis(recentSince)])) {
                recent[r["lead_id"], default: []].append(Self.date(r["sent_at"]))
            }
            var done: [Int64: Set<String>] = [:], visits: [Int64: [String: Int]] = [:]
            for r in try Row.fetchAll(db, sql: SQL.doneSteps(enrollments: enrollmentIDs.count), arguments: StatementArguments(enrollmentIDs)) {
                done[r["enrollment_id"], default: []].insert(r["step_id"])
                visits[r["enrollment_id"], default: [:]][r["step_id"], default: 0] += 1
            }
            var unengaged: [Int64: Int] = [:]
            for r in try Row.fetchAll(db, sql: SQL.sendsSinceEngagement(leads: leadIDs.count), arguments: StatementArguments(leadIDs)) {
                unengaged[r["lead_id"]] = r["n"]
            }
            let events = try Row.fetchAll(db, sql: SQL.eventsOfLeads(leadIDs.count), arguments: StatementArguments(leadIDs))
            let eventsByLead = Dictionary(grouping: events) { $0["lead_id"] as Int64 }

            return try rows.map { row in
                let leadID: Int64 = row["lead_id"], enrollmentID: Int64 = row["enrollment_id"]
                let sequenceID: String = row["sequence_id"]
                let enrolledAt = Self.date(row["enrolled_at"])
                var engagement = Engagement()
                var custom = Set<String>()
                for e in eventsByLead[leadID] ?? [] {
                    let kind = EventKind(e["type"] as String)
                    let human = (e["machine"] as Int64) == 0
                    if kind.isMessageEngagement {
                        // Only this enrollment's: a lead that re-entered starts with a clean slate.
                        guard human, e["sequence_id"] as String? == sequenceID, let step = e["step_id"] as String?,
                              Self.date(e["occurred_at"]) >= enrolledAt else { continue }
                        if kind == .open { engagement.opened.insert(step) } else { engagement.clicked.insert(step) }
                    } else if kind.triggersExitRules, Self.date(e["occurred_at"]) >= enrolledAt {
                        custom.insert(kind.name)
                    }
                }
                var due = DueSend(
                    outboxID: row["id"], enrollmentID: enrollmentID, leadID: leadID, lead: try Self.lead(from: row),
                    sequenceID: sequenceID, stepID: row["step_id"], dueAt: Self.date(row["due_at"]), attempts: row["attempts"],
                    messageID: row["message_id"], possiblySent: row["possibly_sent"],
                    firstAttemptAt: (row["first_attempt_at"] as Int64?).map(Self.date), enrolledAt: enrolledAt, suppressed: row["suppressed"] || held.contains(leadID),
                    doneSteps: done[enrollmentID] ?? [], engagement: engagement, eventsSinceEnrollment: custom,
                    recentSends: recent[leadID] ?? [], sendsSinceEngagement: unengaged[leadID] ?? 0)
                due.visits = visits[enrollmentID] ?? [:]
                due.waitUntil = (row["wait_until"] as Int64?).map(Self.date)
                due.pausedUntil = (row["paused_until"] as Int64?).map(Self.date)
                due.holdout = (row["holdout"] as Int64? ?? 0) != 0
                return due
            }
        }
    }

    /// Claims a send unless its lead has an unsubscribe waiting in the journal; true when claimed.
    private func claim(_ db: Database, _ id: Int64, now: Int64, held: Set<Int64>) throws -> Bool {
        if !held.isEmpty, let lead = try Int64.fetchOne(db, sql: SQL.leadOfSend, arguments: [id]), held.contains(lead) { return false }
        try db.cachedStatement(sql: SQL.claim).execute(arguments: ["now": now, "id": id])
        return db.changesCount > 0
    }

    @discardableResult
    public func apply(_ outcomes: [DispatchOutcome], now: Date, handoff context: ScoringContext?) async throws -> Set<Int64> {
        let t = Self.millis(now)
        let held = pendingUnsubscribes()
        return try await writeProgress { [self] db in
            var claimed: Set<Int64> = []
            for outcome in outcomes {
                switch outcome {
                case let .postpone(id, until, reason):
                    try db.cachedStatement(sql: SQL.postpone).execute(arguments: [Self.millis(until), reason, t, id])
                case let .skip(id, enrollmentID, leadID, sequenceID, reason, next):
                    try db.cachedStatement(sql: SQL.resolve).execute(arguments: [OutboxStatus.skipped.rawValue, reason, t, id])
                    try plan(db, enrollmentID: enrollmentID, leadID: leadID, sequenceID: sequenceID, next: next, now: t)
                case let .pass(id, enrollmentID, leadID, sequenceID, reason, next):
                    try db.cachedStatement(sql: SQL.resolve).execute(arguments: [OutboxStatus.passed.rawValue, reason, t, id])
                    guard db.changesCount > 0 else { continue }
                    try plan(db, enrollmentID: enrollmentID, leadID: leadID, sequenceID: sequenceID, next: next, now: t)
                case let .exit(id, enrollmentID, leadID, reason, handoff, allOfLead):
                    try db.cachedStatement(sql: SQL.resolve).execute(arguments: [OutboxStatus.cancelled.rawValue, reason, t, id])
                    try end(db, EnrollmentEnd(enrollmentID: enrollmentID, leadID: leadID, reason: reason, handoff: handoff, allOfLead: allOfLead,
                                              handoffChannels: handoff ? context?.crossingChannels ?? [] : [],
                                              handoffDueAt: handoff ? context?.sla?.deadline(after: now) : nil), now: t)
                case let .claim(id):
                    if try claim(db, id, now: t, held: held) { claimed.insert(id) }
                }
            }
            return claimed
        }
    }

    @discardableResult
    public func complete(_ results: [DeliveryOutcome], thenClaim claims: [Int64], now: Date, scoring: ScoringContext) async throws -> Set<Int64> {
        let t = Self.millis(now)
        return try await writeProgress { [self] db in
            for result in results {
                switch result {
                case let .sent(id, enrollmentID, leadID, sequenceID, _, reply, links, next, variant):
                    // Kept to the minimum of pages: this commit is paid once per message on the delivery path.
                    try db.cachedStatement(sql: SQL.markSent).execute(arguments: [t, reply, links.isEmpty ? nil : JSONText.array(links), t, variant, id])
                    guard db.changesCount > 0 else { continue }
                    try plan(db, enrollmentID: enrollmentID, leadID: leadID, sequenceID: sequenceID, next: next, now: t)
                case let .deferred(id, retryAt, error):
                    try db.cachedStatement(sql: SQL.markDeferred).execute(arguments: [Self.millis(retryAt), error, t, id])
                case let .failed(id, enrollmentID, leadID, sequenceID, error, hardBounce, next):
                    try db.cachedStatement(sql: SQL.markFailed).execute(arguments: [error, t, id])
                    guard db.changesCount > 0 else { continue }
                    if hardBounce {
                        if let key = try String.fetchOne(db, sql: SQL.emailKeyOfLead, arguments: [leadID]) {
                            try db.execute(sql: SQL.suppressKey, arguments: [key, "bounced", t])
                        }
                        try db.cachedStatement(sql: SQL.insertEvent).execute(arguments: [leadID, id, sequenceID, nil, EventKind.bounce.name, 0, t])
                        let eventID = db.lastInsertedRowID
                        try score(db, leadID: leadID, type: EventKind.bounce.name, machine: false, cause: "hard bounce: \(error)", eventID: eventID,
                                  at: now, context: scoring)
                        try end(db, EnrollmentEnd(enrollmentID: enrollmentID, leadID: leadID, reason: "hard bounce: \(error)",
                                                  handoff: false, allOfLead: true), now: t)
                    } else {
                        try plan(db, enrollmentID: enrollmentID, leadID: leadID, sequenceID: sequenceID, next: next, now: t)
                    }
                }
            }
            let held = pendingUnsubscribes()
            var claimed: Set<Int64> = []
            for id in claims where try claim(db, id, now: t, held: held) { claimed.insert(id) }
            return claimed
        }
    }

    func end(_ db: Database, _ e: EnrollmentEnd, now: Int64) throws {
        let ended: Int
        if e.allOfLead {
            try db.cachedStatement(sql: SQL.endEnrollmentsOfLead).execute(arguments: [now, e.reason, e.leadID])
            ended = db.changesCount
            try db.cachedStatement(sql: SQL.cancelSendsOfLead).execute(arguments: [e.reason, now, e.leadID])
        } else {
            try db.cachedStatement(sql: SQL.endEnrollment).execute(arguments: [now, e.reason, e.enrollmentID])
            ended = db.changesCount
            try db.cachedStatement(sql: SQL.cancelSendsOfEnrollment).execute(arguments: [e.reason, now, e.enrollmentID])
        }
        if e.handoff {
            try db.cachedStatement(sql: SQL.insertEvent).execute(arguments: [e.leadID, nil, nil, nil, EventKind.handoff.name, 0, now])
            // An exit rule's hand-off tells sales only if it ended something: the same event's threshold may have
            // handed the lead over (and ended this enrollment) already.
            if ended > 0, !e.handoffChannels.isEmpty {
                let score = try Double.fetchOne(db, sql: SQL.scoreOfLead, arguments: [e.leadID]) ?? 0
                try insertCrossing(db, leadID: e.leadID, channels: e.handoffChannels, score: score, dueAt: e.handoffDueAt, now: now)
            }
        }
    }

    public func queueDepth() async throws -> (waiting: Int, sending: Int) {
        try await read { db in
            let row = try Row.fetchOne(try db.cachedStatement(sql: SQL.queueDepth))
            return (row?["waiting"] ?? 0, row?["sending"] ?? 0)
        }
    }

    public func endEnrollments(_ ends: [EnrollmentEnd], now: Date) async throws {
        let t = Self.millis(now)
        try await write { [self] db in for e in ends { try end(db, e, now: t) } }
    }

    public func recoverInterrupted(now: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: SQL.recoverInFlight, arguments: [Self.millis(now)])
            let recovered = db.changesCount
            try db.execute(sql: SQL.cancelInFlightOfEndedEnrollments, arguments: [Self.millis(now)])
            return recovered
        }
    }

    public func reconsiderLeads(personas: [String]) async throws {
        guard !personas.isEmpty else { return }
        try await write { db in try db.execute(sql: SQL.reconsider(personas: personas.count), arguments: StatementArguments(personas)) }
    }

    public func nextDueAt() async throws -> Date? {
        try await read { db in try Int64.fetchOne(db, sql: SQL.nextDueAt).map(Self.date) }
    }

    public func recordEvent(_ event: NewEvent, scoring: ScoringContext) async throws -> [ActiveEnrollment] {
        let t = Self.millis(event.at)
        return try await write { [self] db in
            guard let found = try Row.fetchOne(db, sql: SQL.leadIDByKey, arguments: [event.email.key]) else { return [] }
            let leadID: Int64 = found["id"]
            if let value = event.value {
                try db.execute(sql: SQL.insertEventWithData, arguments: [leadID, event.outboxID, event.sequenceID, event.stepID, event.type, t,
                                                                         "{\"value\":\(value)}"])
            } else {
                try db.cachedStatement(sql: SQL.insertEvent).execute(arguments: [
                    leadID, event.outboxID, event.sequenceID, event.stepID, event.type, event.machine ? 1 : 0, t,
                ])
            }
            let eventID = db.lastInsertedRowID
            try wakeWaits(db, leadID: leadID, now: t)
            for goal in event.goals {
                try db.cachedStatement(sql: SQL.insertConversion).execute(arguments: [
                    "lead": leadID, "sequence": goal.sequenceID, "since": Self.millis(goal.since), "at": t,
                ])
            }
            // The enrollments the event finds active, read before scoring: a hand-off the score triggers ends them,
            // yet exit rules still judge them (with the new score).
            let active = try Row.fetchAll(db, sql: SQL.activeEnrollmentsOfLead, arguments: [leadID]).map { row in
                let since: Int64 = row["enrolled_at"]
                let types = try String.fetchAll(db, sql: SQL.eventTypesOfLeadSince, arguments: [leadID, since])
                return (id: row["id"] as Int64, sequenceID: row["sequence_id"] as String, since: since,
                        events: Set(types.filter { EventKind($0).triggersExitRules }))
            }
            let where_ = [event.sequenceID, event.stepID].compactMap { $0 }.joined(separator: "/")
            let outcome = try score(db, leadID: leadID, type: event.type, machine: event.machine,
                                    cause: "\(event.machine ? "machine " : "")\(event.type)\(where_.isEmpty ? "" : " (\(where_))")",
                                    eventID: eventID, at: event.at, context: scoring)
            let score = outcome?.state.score ?? (found["score"] as Double)
            return active.map { a in
                var e = ActiveEnrollment(enrollmentID: a.id, leadID: leadID, sequenceID: a.sequenceID, enrolledAt: Self.date(a.since),
                                         leadScore: score, eventsSinceEnrollment: a.events)
                if let state = outcome?.state { e.facts = state.facts }
                return e
            }
        }
    }
}
