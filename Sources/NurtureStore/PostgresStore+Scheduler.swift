import Foundation
import NurtureCore
import NurtureEngine

extension PostgresStore {
    public func leadsAwaitingEnrollment(limit: Int) async throws -> [EnrollmentCandidate] {
        try await read { tx in
            try await tx.rows(PostgresSQL.leadsAwaitingEnrollment(limit: Int64(limit))).map { r in
                EnrollmentCandidate(leadID: try r["id"], lead: try Self.lead(from: r), suppressed: try r["suppressed"],
                                    past: PastEnrollment.parse(try r["past"]))
            }
        }
    }

    public func flagReentries(sequenceID: String, endedBefore: Date, limit: Int) async throws -> Int {
        try await writeProgress { tx in
            try await tx.count(PostgresSQL.flagReentries(sequenceID, endedBefore: Self.millis(endedBefore), limit: Int64(limit)))
        }
    }

    public func applyEnrollments(_ enrollments: [NewEnrollment], considered: [Int64], now: Date) async throws {
        let t = Self.millis(now)
        try await writeProgress { tx in
            for e in enrollments { try await enroll(tx, e, now: t) }
            if !considered.isEmpty { try await tx.execute(PostgresSQL.markConsidered(considered)) }
        }
    }

    public func pendingEnrollments(at now: Date, limit: Int) async throws -> [(leadID: Int64, sequenceID: String)] {
        let t = Self.millis(now)
        let rows: [PendingEnrollment] = try await read { tx in
            try await tx.rows(PostgresSQL.pendingEnrollments(at: t, limit: Int64(limit))).map { PendingEnrollment(leadID: try $0["lead_id"], sequenceID: try $0["sequence_id"]) }
        }
        return rows.map { ($0.leadID, $0.sequenceID) }
    }

    public func applyPendingEnrollments(_ enrollments: [NewEnrollment], resolved: [(leadID: Int64, sequenceID: String)], now: Date) async throws {
        let t = Self.millis(now)
        let resolved = resolved.map { PendingEnrollment(leadID: $0.leadID, sequenceID: $0.sequenceID) }
        try await writeProgress { tx in
            for e in enrollments { try await enroll(tx, e, now: t, requested: true) }
            for r in resolved { try await tx.execute(PostgresSQL.deletePendingEnrollment(lead: r.leadID, sequence: r.sequenceID, now: t)) }
        }
    }

    /// Creates the enrollment and its first send; nothing when the lead is already in the sequence (entered once).
    private func enroll(_ tx: PostgresTransaction, _ e: NewEnrollment, now: Int64, requested: Bool = false) async throws {
        let insert = requested ? PostgresSQL.insertRequestedEnrollment(lead: e.leadID, sequence: e.sequenceID, firstStep: e.firstStepID, now: now,
                                                                       version: e.version)
            : PostgresSQL.insertEnrollment(lead: e.leadID, sequence: e.sequenceID, firstStep: e.firstStepID, now: now, version: e.version,
                                           holdout: e.holdout)
        guard let id: Int64 = try await tx.row(insert)?["id"] else { return }
        try await insertSend(tx, enrollmentID: id, leadID: e.leadID, sequenceID: e.sequenceID, next: e.firstSend, now: now)
    }

    private func insertSend(_ tx: PostgresTransaction, enrollmentID: Int64, leadID: Int64, sequenceID: String, next: PlannedSend, now: Int64) async throws {
        try await tx.execute(PostgresSQL.insertSend(
            enrollment: enrollmentID, lead: leadID, sequence: sequenceID, step: next.stepID, key: next.key(enrollmentID: enrollmentID),
            messageID: messageID(enrollmentID: enrollmentID, stepID: next.messageStep, domain: next.messageDomain),
            due: Self.millis(next.dueAt), now: now, waitUntil: next.waitUntil.map(Self.millis)))
    }

    /// Read committed, not a snapshot: each statement sees what other nodes committed before it, so the leads'
    /// recent sends are read after their leases are taken, and include the claims of the node that released them.
    public func dueSends(at now: Date, limit: Int, recentSince: Date) async throws -> [DueSend] {
        let t = Self.millis(now)
        return try await writeProgress { tx in
            var rows = try await tx.rows(PostgresSQL.dueSends(at: t, limit: Int64(limit), node: nodeID))
            guard !rows.isEmpty else { return [] }
            let leased = Set(try await tx.rows(PostgresSQL.leaseLeads(Set(try rows.map { try $0["lead_id"] as Int64 }).sorted(), node: nodeID,
                                                                       until: t + options.lease.seconds * 1_000, now: t))
                .map { try $0["lead_id"] as Int64 })
            rows = try rows.filter { leased.contains(try $0["lead_id"]) }
            guard !rows.isEmpty else { return [] }
            let leadIDs = Array(leased)
            let enrollmentIDs = Array(Set(try rows.map { try $0["enrollment_id"] as Int64 }))

            var recent: [Int64: [Date]] = [:]
            for r in try await tx.rows(PostgresSQL.recentSends(leads: leadIDs, since: Self.millis(recentSince))) {
                recent[try r["lead_id"], default: []].append(Self.date(try r["sent_at"]))
            }
            var done: [Int64: Set<String>] = [:], visits: [Int64: [String: Int]] = [:]
            for r in try await tx.rows(PostgresSQL.doneSteps(enrollments: enrollmentIDs)) {
                done[try r["enrollment_id"], default: []].insert(try r["step_id"])
                visits[try r["enrollment_id"], default: [:]][try r["step_id"], default: 0] += 1
            }
            var unengaged: [Int64: Int] = [:]
            for r in try await tx.rows(PostgresSQL.sendsSinceEngagement(leads: leadIDs)) {
                unengaged[try r["lead_id"]] = Int(try r["n"] as Int64)
            }
            var eventsByLead: [Int64: [PostgresRecord]] = [:]
            for e in try await tx.rows(PostgresSQL.eventsOfLeads(leadIDs)) { eventsByLead[try e["lead_id"], default: []].append(e) }

            return try rows.map { row in
                let leadID: Int64 = try row["lead_id"], enrollmentID: Int64 = try row["enrollment_id"]
                let sequenceID: String = try row["sequence_id"]
                let enrolledAt = Self.date(try row["enrolled_at"])
                var engagement = Engagement()
                var custom = Set<String>()
                for e in eventsByLead[leadID] ?? [] {
                    let kind = EventKind(try e["type"] as String)
                    let human = !(try e["machine"] as Bool)
                    if kind.isMessageEngagement {
                        // Only this enrollment's: a lead that re-entered starts with a clean slate.
                        guard human, try e["sequence_id"] as String? == sequenceID, let step = try e["step_id"] as String?,
                              Self.date(try e["occurred_at"]) >= enrolledAt else { continue }
                        if kind == .open { engagement.opened.insert(step) } else { engagement.clicked.insert(step) }
                    } else if kind.triggersExitRules, Self.date(try e["occurred_at"]) >= enrolledAt {
                        custom.insert(kind.name)
                    }
                }
                var due = DueSend(
                    outboxID: try row["id"], enrollmentID: enrollmentID, leadID: leadID, lead: try Self.lead(from: row),
                    sequenceID: sequenceID, stepID: try row["step_id"], dueAt: Self.date(try row["due_at"]), attempts: Int(try row["attempts"] as Int64),
                    messageID: try row["message_id"], possiblySent: try row["possibly_sent"],
                    firstAttemptAt: (try row["first_attempt_at"] as Int64?).map(Self.date), enrolledAt: enrolledAt, suppressed: try row["suppressed"],
                    doneSteps: done[enrollmentID] ?? [], engagement: engagement, eventsSinceEnrollment: custom,
                    recentSends: recent[leadID] ?? [], sendsSinceEngagement: unengaged[leadID] ?? 0)
                due.visits = visits[enrollmentID] ?? [:]
                due.waitUntil = (try row["wait_until"] as Int64?).map(Self.date)
                due.pausedUntil = (try row["paused_until"] as Int64?).map(Self.date)
                due.holdout = try row["holdout"] as Bool? ?? false
                return due
            }
        }
    }

    /// Claims sends in one statement; returns those claimed (still waiting: a cancelled or already claimed one is not).
    private func claim(_ tx: PostgresTransaction, _ ids: [Int64], now: Int64) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return Set(try await tx.rows(PostgresSQL.claim(ids, node: nodeID, leaseUntil: now + options.lease.seconds * 1_000, now: now)).map { try $0["id"] as Int64 })
    }

    /// Plans the next step of many enrollments with three statements whatever their number: on PostgreSQL every
    /// statement is a round trip, and a group's commit is on the delivery path.
    private func plan(_ tx: PostgresTransaction, _ plans: [(enrollmentID: Int64, leadID: Int64, sequenceID: String, next: PlannedSend?)],
                      now: Int64) async throws {
        let continuing = plans.compactMap { p in p.next.map { (p, $0) } }
        if !continuing.isEmpty {
            try await tx.execute(PostgresSQL.insertSends(
                enrollments: continuing.map { $0.0.enrollmentID }, leads: continuing.map { $0.0.leadID },
                sequences: continuing.map { $0.0.sequenceID }, steps: continuing.map { $0.1.stepID },
                keys: continuing.map { $0.1.key(enrollmentID: $0.0.enrollmentID) },
                messageIDs: continuing.map { messageID(enrollmentID: $0.0.enrollmentID, stepID: $0.1.messageStep, domain: $0.1.messageDomain) },
                dues: continuing.map { Self.millis($0.1.dueAt) }, waitUntils: continuing.map { $0.1.waitUntil.map(Self.millis) ?? -1 }, now: now))
            try await tx.execute(PostgresSQL.setNextSteps(continuing.map { $0.1.stepID }, enrollments: continuing.map { $0.0.enrollmentID },
                                                          versions: continuing.map { $0.1.version }))
        }
        let completed = plans.filter { $0.next == nil }.map(\.enrollmentID)
        if !completed.isEmpty { try await tx.execute(PostgresSQL.completeEnrollments(completed, now: now)) }
    }

    @discardableResult
    public func apply(_ outcomes: [DispatchOutcome], now: Date, handoff context: ScoringContext?) async throws -> Set<Int64> {
        let t = Self.millis(now)
        return try await writeProgress { tx in
            var claimed: Set<Int64> = []
            var claims: [Int64] = [] // consecutive claims go in one statement, in their place among the outcomes
            for outcome in outcomes {
                if case let .claim(id) = outcome {
                    claims.append(id)
                    continue
                }
                claimed.formUnion(try await claim(tx, claims, now: t))
                claims = []
                switch outcome {
                case let .postpone(id, until, reason):
                    try await tx.execute(PostgresSQL.postpone(id, until: Self.millis(until), reason: reason, now: t))
                case let .skip(id, enrollmentID, leadID, sequenceID, reason, next):
                    try await tx.execute(PostgresSQL.resolve(id, status: .skipped, reason: reason, now: t))
                    try await plan(tx, [(enrollmentID, leadID, sequenceID, next)], now: t)
                case let .pass(id, enrollmentID, leadID, sequenceID, reason, next):
                    guard try await tx.count(PostgresSQL.resolveReturning(id, status: .passed, reason: reason, now: t)) > 0 else { continue }
                    try await plan(tx, [(enrollmentID, leadID, sequenceID, next)], now: t)
                case let .exit(id, enrollmentID, leadID, reason, handoff, allOfLead):
                    try await tx.execute(PostgresSQL.resolve(id, status: .cancelled, reason: reason, now: t))
                    try await end(tx, EnrollmentEnd(enrollmentID: enrollmentID, leadID: leadID, reason: reason, handoff: handoff, allOfLead: allOfLead,
                                                    handoffChannels: handoff ? context?.crossingChannels ?? [] : [],
                                                    handoffDueAt: handoff ? context?.sla?.deadline(after: now) : nil),
                                  now: t)
                case .claim: preconditionFailure("claims are gathered above")
                }
            }
            return claimed.union(try await claim(tx, claims, now: t))
        }
    }

    @discardableResult
    public func complete(_ results: [DeliveryOutcome], thenClaim claims: [Int64], now: Date, scoring: ScoringContext) async throws -> Set<Int64> {
        let t = Self.millis(now)
        return try await writeProgress { tx in
            // Deliveries first, as one statement each for the group (the common case); then the rest, in order.
            var delivered: [(id: Int64, reply: String, links: String, variant: String,
                             plan: (enrollmentID: Int64, leadID: Int64, sequenceID: String, next: PlannedSend?))] = []
            for case let .sent(id, enrollmentID, leadID, sequenceID, _, reply, links, next, variant) in results {
                delivered.append((id, reply, links.isEmpty ? "" : JSONText.array(links), variant ?? "", (enrollmentID, leadID, sequenceID, next)))
            }
            if !delivered.isEmpty {
                let marked = Set(try await tx.rows(PostgresSQL.markSent(delivered.map(\.id), node: nodeID, replies: delivered.map(\.reply),
                                                                        links: delivered.map(\.links), variants: delivered.map(\.variant),
                                                                        now: t)).map { try $0["id"] as Int64 })
                try await plan(tx, delivered.filter { marked.contains($0.id) }.map(\.plan), now: t)
            }
            for result in results {
                switch result {
                case .sent: continue
                case let .deferred(id, retryAt, error):
                    try await tx.execute(PostgresSQL.markDeferred(id, node: nodeID, retryAt: Self.millis(retryAt), error: error, now: t))
                case let .failed(id, enrollmentID, leadID, sequenceID, error, hardBounce, next):
                    guard try await tx.count(PostgresSQL.markFailed(id, node: nodeID, error: error, now: t)) > 0 else { continue }
                    if hardBounce {
                        if let key: String = try await tx.row(PostgresSQL.emailKeyOfLead(leadID))?["email_key"] {
                            try await tx.execute(PostgresSQL.suppress(key, reason: "bounced", now: t))
                        }
                        let eventID: Int64? = try await tx.row(PostgresSQL.insertEvent(lead: leadID, outbox: id, sequence: sequenceID, step: nil,
                                                                                        type: EventKind.bounce.name, machine: false, at: t))?["id"]
                        try await score(tx, leadID: leadID, type: EventKind.bounce.name, machine: false, cause: "hard bounce: \(error)",
                                        eventID: eventID, at: now, context: scoring)
                        try await end(tx, EnrollmentEnd(enrollmentID: enrollmentID, leadID: leadID, reason: "hard bounce: \(error)",
                                                        handoff: false, allOfLead: true), now: t)
                    } else {
                        try await plan(tx, [(enrollmentID, leadID, sequenceID, next)], now: t)
                    }
                }
            }
            return try await claim(tx, claims, now: t)
        }
    }

    func end(_ tx: PostgresTransaction, _ e: EnrollmentEnd, now: Int64) async throws {
        let ended: Int
        if e.allOfLead {
            ended = try await tx.count(PostgresSQL.endEnrollmentsOfLead(e.leadID, reason: e.reason, now: now))
            try await tx.execute(PostgresSQL.cancelSendsOfLead(e.leadID, reason: e.reason, now: now))
        } else {
            ended = try await tx.count(PostgresSQL.endEnrollment(e.enrollmentID, reason: e.reason, now: now))
            try await tx.execute(PostgresSQL.cancelSendsOfEnrollment(e.enrollmentID, reason: e.reason, now: now))
        }
        if e.handoff {
            try await tx.execute(PostgresSQL.insertEvent(lead: e.leadID, outbox: nil, sequence: nil, step: nil, type: EventKind.handoff.name,
                                                         machine: false, at: now))
            // Only if it ended something, as in SQLiteStore.end.
            if ended > 0, !e.handoffChannels.isEmpty {
                let score: Double = try await tx.row(PostgresSQL.scoreOfLead(e.leadID))?["score"] ?? 0
                try await insertCrossing(tx, leadID: e.leadID, channels: e.handoffChannels, score: score, dueAt: e.handoffDueAt, now: now)
            }
        }
    }

    public func queueDepth() async throws -> (waiting: Int, sending: Int) {
        let depth: [Int] = try await read { tx in
            guard let r = try await tx.row(PostgresSQL.queueDepth) else { return [0, 0] }
            return [Int(try r["waiting"] as Int64), Int(try r["sending"] as Int64)]
        }
        return (depth[0], depth[1])
    }

    public func endEnrollments(_ ends: [EnrollmentEnd], now: Date) async throws {
        let t = Self.millis(now)
        try await write { tx in for e in ends { try await end(tx, e, now: t) } }
    }

    /// At start-up, as periodically (`recoverExpired`): only `sending` rows whose lease expired, never those of a
    /// node still alive; a restarted node's own earlier claims come back once their lease has run out.
    public func recoverInterrupted(now: Date) async throws -> Int {
        let t = Self.millis(now)
        return try await write { tx in
            let recovered = try await tx.count(PostgresSQL.recoverInFlight(now: t))
            try await tx.execute(PostgresSQL.cancelInFlightOfEndedEnrollments(now: t))
            return recovered
        }
    }

    public func reconsiderLeads(personas: [String]) async throws {
        guard !personas.isEmpty else { return }
        try await write { tx in try await tx.execute(PostgresSQL.reconsider(personas: personas)) }
    }

    public func nextDueAt() async throws -> Date? {
        try await read { tx in (try await tx.value(PostgresSQL.nextDueAt, "at") as Int64?).map(Self.date) }
    }

    public func recordEvent(_ event: NewEvent, scoring: ScoringContext) async throws -> [ActiveEnrollment] {
        let t = Self.millis(event.at)
        return try await write { tx in
            guard let found = try await tx.row(PostgresSQL.leadIDByKey(event.email.key)) else { return [] }
            let leadID: Int64 = try found["id"]
            let eventID: Int64? = try await tx.row(PostgresSQL.insertEvent(lead: leadID, outbox: event.outboxID, sequence: event.sequenceID,
                                                                            step: event.stepID, type: event.type, machine: event.machine, at: t,
                                                                            data: event.value.map { "{\"value\":\($0)}" }))?["id"]
            try await tx.execute(PostgresSQL.wakeWaits(lead: leadID, now: t))
            for goal in event.goals {
                try await tx.execute(PostgresSQL.insertConversion(lead: leadID, sequence: goal.sequenceID, since: Self.millis(goal.since), at: t))
            }
            // The enrollments the event finds active, read before scoring: a hand-off the score triggers ends them,
            // yet exit rules still judge them (with the new score).
            var active: [(id: Int64, sequenceID: String, since: Int64, events: Set<String>)] = []
            for row in try await tx.rows(PostgresSQL.activeEnrollmentsOfLead(leadID)) {
                let since: Int64 = try row["enrolled_at"]
                let types = try await tx.rows(PostgresSQL.eventTypesOfLeadSince(leadID, since: since)).map { try $0["type"] as String }
                active.append((id: try row["id"], sequenceID: try row["sequence_id"], since: since,
                               events: Set(types.filter { EventKind($0).triggersExitRules })))
            }
            let where_ = [event.sequenceID, event.stepID].compactMap { $0 }.joined(separator: "/")
            let outcome = try await score(tx, leadID: leadID, type: event.type, machine: event.machine,
                                          cause: "\(event.machine ? "machine " : "")\(event.type)\(where_.isEmpty ? "" : " (\(where_))")",
                                          eventID: eventID, at: event.at, context: scoring)
            let score = try outcome?.state.score ?? (found["score"] as Double)
            return active.map { a in
                var e = ActiveEnrollment(enrollmentID: a.id, leadID: leadID, sequenceID: a.sequenceID, enrolledAt: Self.date(a.since),
                                         leadScore: score, eventsSinceEnrollment: a.events)
                if let state = outcome?.state { e.facts = state.facts }
                return e
            }
        }
    }

    /// Nothing to give back: PostgreSQL recycles its WAL itself.
    public func checkpoint() async throws {}
}

/// A threshold's request to enroll a lead in a sequence, as read and resolved.
struct PendingEnrollment: Sendable {
    var leadID: Int64
    var sequenceID: String
}
