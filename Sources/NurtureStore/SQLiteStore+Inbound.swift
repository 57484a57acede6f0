import Foundation
import GRDB
import NurtureCore
import NurtureEngine

/// Inbound mail on SQLite: the message, its outcome and everything the core decided it implies, in one durable
/// transaction; the unique key makes a second delivery of the same message a no-op.
extension SQLiteStore: InboundStore {
    public func inboundSeen(_ key: String) async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: SQL.inboundSeen, arguments: [key]) ?? false }
    }

    public func inboundTarget(outboxID: Int64) async throws -> InboundTarget? {
        try await read { db in try Row.fetchOne(db, sql: SQL.inboundTargetByOutbox, arguments: [outboxID]).flatMap(Self.inboundTarget) }
    }

    public func inboundTarget(messageID: String) async throws -> InboundTarget? {
        try await read { db in try Row.fetchOne(db, sql: SQL.inboundTargetByMessageID, arguments: [messageID]).flatMap(Self.inboundTarget) }
    }

    public func inboundTarget(email: EmailAddress) async throws -> InboundTarget? {
        try await read { db in try Row.fetchOne(db, sql: SQL.inboundTargetByKey, arguments: [email.key]).flatMap(Self.inboundTarget) }
    }

    static func inboundTarget(_ row: Row) -> InboundTarget? {
        guard let email = try? EmailAddress(validating: row["email"] as String) else { return nil }
        return InboundTarget(leadID: row["lead_id"], email: email, outboxID: row["outbox_id"], sequenceID: row["sequence_id"],
                             stepID: row["step_id"], softBouncesInARow: row["soft_bounces"] ?? 0)
    }

    public func recordInbound(_ m: InboundRecord, effect: InboundEffect, target: InboundTarget?, forward: Bool,
                              scoring: ScoringContext) async throws -> [ActiveEnrollment]? {
        let t = Self.millis(m.receivedAt)
        let copy = m.copy.map { Data($0).base64EncodedString() }
        return try await write { [self] db in
            try db.execute(sql: SQL.insertInbound, arguments: [m.key, t, m.source, m.outcome.rawValue, m.reason, target?.leadID,
                                                                target?.outboxID, m.size, copy, m.senderKey])
            guard db.changesCount > 0 else { return nil }
            let inboundID = db.lastInsertedRowID
            if copy != nil { try Self.capKeptCopies(db, limit: m.keepLimit) }
            guard let target else { return [] }
            var active: [ActiveEnrollment] = []
            let data = m.detail.isEmpty ? nil : JSONText.object(m.detail)
            switch effect {
            case .none:
                break
            case let .suppress(reason, event, cause):
                if let key = try String.fetchOne(db, sql: SQL.emailKeyOfLead, arguments: [target.leadID]) {
                    try db.execute(sql: SQL.suppressKey, arguments: [key, reason, t])
                }
                try db.execute(sql: SQL.insertEventWithData, arguments: [target.leadID, target.outboxID, target.sequenceID, target.stepID, event, t, data])
                try score(db, leadID: target.leadID, type: event, machine: false, cause: cause, eventID: db.lastInsertedRowID, at: m.receivedAt,
                          context: scoring)
                try end(db, EnrollmentEnd(enrollmentID: 0, leadID: target.leadID, reason: cause, handoff: false, allOfLead: true), now: t)
            case let .record(event, cause, postponeTo):
                try db.execute(sql: SQL.insertEventWithData, arguments: [target.leadID, target.outboxID, target.sequenceID, target.stepID, event, t, data])
                let eventID = db.lastInsertedRowID
                // Read before scoring, as for any event: a hand-off the score triggers ends them, yet exit rules still judge them.
                let enrollments = try Row.fetchAll(db, sql: SQL.activeEnrollmentsOfLead, arguments: [target.leadID]).map { row in
                    let since: Int64 = row["enrolled_at"]
                    let types = try String.fetchAll(db, sql: SQL.eventTypesOfLeadSince, arguments: [target.leadID, since])
                    return (id: row["id"] as Int64, sequenceID: row["sequence_id"] as String, since: since,
                            events: Set(types.filter { EventKind($0).triggersExitRules }))
                }
                let outcome = try score(db, leadID: target.leadID, type: event, machine: false, cause: cause, eventID: eventID,
                                        at: m.receivedAt, context: scoring)
                let score = try outcome?.state.score ?? Double.fetchOne(db, sql: "SELECT score FROM lead WHERE id = ?", arguments: [target.leadID]) ?? 0
                active = enrollments.map {
                    var e = ActiveEnrollment(enrollmentID: $0.id, leadID: target.leadID, sequenceID: $0.sequenceID, enrolledAt: Self.date($0.since),
                                             leadScore: score, eventsSinceEnrollment: $0.events)
                    e.facts = outcome?.state.facts // exit rules' `when:` on fit and stage, as for any event
                    return e
                }
                if let postponeTo {
                    try db.execute(sql: SQL.postponeSendsOfLead, arguments: [Self.millis(postponeTo), cause, t, target.leadID])
                }
            }
            if forward { try db.execute(sql: SQL.insertReplyForward, arguments: [t, t, inboundID, target.leadID]) }
            return active
        }
    }

    /// Drops the oldest kept copies until they fit the cap (the newest is dropped too when it alone is over it).
    static func capKeptCopies(_ db: Database, limit: Int) throws {
        let kept = try Row.fetchAll(db, sql: SQL.keptInbound).map { (id: $0["id"] as Int64, size: $0["n"] as Int) }
        var total = kept.reduce(0) { $0 + $1.size }
        for copy in kept where total > limit {
            try db.execute(sql: SQL.dropInboundCopy, arguments: [copy.id])
            total -= copy.size
        }
    }

    public func inboundCounts() async throws -> [InboundOutcome: Int] {
        try await read { db in
            var counts: [InboundOutcome: Int] = [:]
            for row in try Row.fetchAll(db, sql: SQL.inboundCounts) {
                if let outcome = InboundOutcome(rawValue: row["outcome"]) { counts[outcome] = row["n"] }
            }
            return counts
        }
    }

    public func quarantined(limit: Int) async throws -> [QuarantinedMessage] {
        try await read { db in
            try Row.fetchAll(db, sql: SQL.quarantined, arguments: [limit]).map {
                QuarantinedMessage(id: $0["id"], receivedAt: Self.date($0["received_at"]), source: $0["source"], reason: $0["reason"],
                                   size: $0["size"], kept: $0["kept"])
            }
        }
    }

    public func inboundMessage(_ id: Int64) async throws -> [UInt8]? {
        try await read { db in
            try String.fetchOne(db, sql: SQL.inboundMessage, arguments: [id]).flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        }
    }
}
