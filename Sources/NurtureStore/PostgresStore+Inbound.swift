import Foundation
import NurtureCore
import NurtureEngine
import PostgresNIO

/// Inbound mail on PostgreSQL, as on SQLite: one durable transaction per message, a second delivery a no-op.
extension PostgresStore: InboundStore {
    public func inboundSeen(_ key: String) async throws -> Bool {
        try await read { tx in try await tx.row(PostgresSQL.inboundSeen(key))?["seen"] ?? false }
    }

    public func inboundTarget(outboxID: Int64) async throws -> InboundTarget? {
        try await read { tx in try await tx.row(PostgresSQL.inboundTarget(outboxID: outboxID, messageID: nil)).flatMap(Self.inboundTarget) }
    }

    public func inboundTarget(messageID: String) async throws -> InboundTarget? {
        try await read { tx in try await tx.row(PostgresSQL.inboundTarget(outboxID: nil, messageID: messageID)).flatMap(Self.inboundTarget) }
    }

    public func inboundTarget(email: EmailAddress) async throws -> InboundTarget? {
        try await read { tx in try await tx.row(PostgresSQL.inboundTarget(key: email.key)).flatMap(Self.inboundTarget) }
    }

    static func inboundTarget(_ row: PostgresRecord) throws -> InboundTarget? {
        guard let email = try? EmailAddress(validating: try row["email"] as String) else { return nil }
        return InboundTarget(leadID: try row["lead_id"], email: email, outboxID: try row["outbox_id"], sequenceID: try row["sequence_id"],
                             stepID: try row["step_id"], softBouncesInARow: Int(try row["soft_bounces"] as Int64))
    }

    public func recordInbound(_ m: InboundRecord, effect: InboundEffect, target: InboundTarget?, forward: Bool,
                              scoring: ScoringContext) async throws -> [ActiveEnrollment]? {
        let t = Self.millis(m.receivedAt)
        let copy = m.copy.map { Data($0).base64EncodedString() }
        return try await write { tx in
            guard let inserted = try await tx.row(PostgresSQL.insertInbound(key: m.key, at: t, source: m.source, outcome: m.outcome.rawValue,
                                                                            reason: m.reason, lead: target?.leadID, outbox: target?.outboxID,
                                                                            size: Int64(m.size), message: copy, sender: m.senderKey)) else { return nil }
            let inboundID: Int64 = try inserted["id"]
            if copy != nil {
                let kept = try await tx.rows(PostgresSQL.keptInbound).map { (id: try $0["id"] as Int64, size: try $0["n"] as Int64) }
                var total = kept.reduce(0) { $0 + $1.size }
                for k in kept where total > Int64(m.keepLimit) {
                    try await tx.execute(PostgresSQL.dropInboundCopy(k.id))
                    total -= k.size
                }
            }
            guard let target else { return [] }
            let data = m.detail.isEmpty ? nil : JSONText.object(m.detail)
            var active: [ActiveEnrollment] = []
            switch effect {
            case .none:
                break
            case let .suppress(reason, event, cause):
                if let key: String = try await tx.row(PostgresSQL.emailKeyOfLead(target.leadID))?["email_key"] {
                    try await tx.execute(PostgresSQL.suppress(key, reason: reason, now: t))
                }
                let eventID: Int64? = try await tx.row(PostgresSQL.insertEvent(lead: target.leadID, outbox: target.outboxID, sequence: target.sequenceID,
                                                                                step: target.stepID, type: event, machine: false, at: t, data: data))?["id"]
                try await score(tx, leadID: target.leadID, type: event, machine: false, cause: cause, eventID: eventID, at: m.receivedAt, context: scoring)
                try await end(tx, EnrollmentEnd(enrollmentID: 0, leadID: target.leadID, reason: cause, handoff: false, allOfLead: true), now: t)
            case let .record(event, cause, postponeTo):
                let eventID: Int64? = try await tx.row(PostgresSQL.insertEvent(lead: target.leadID, outbox: target.outboxID, sequence: target.sequenceID,
                                                                                step: target.stepID, type: event, machine: false, at: t, data: data))?["id"]
                var enrollments: [(id: Int64, sequenceID: String, since: Int64, events: Set<String>)] = []
                for row in try await tx.rows(PostgresSQL.activeEnrollmentsOfLead(target.leadID)) {
                    let since: Int64 = try row["enrolled_at"]
                    let types = try await tx.rows(PostgresSQL.eventTypesOfLeadSince(target.leadID, since: since)).map { try $0["type"] as String }
                    enrollments.append((id: try row["id"], sequenceID: try row["sequence_id"], since: since,
                                        events: Set(types.filter { EventKind($0).triggersExitRules })))
                }
                let outcome = try await score(tx, leadID: target.leadID, type: event, machine: false, cause: cause, eventID: eventID,
                                              at: m.receivedAt, context: scoring)
                var score = outcome?.state.score
                if score == nil { score = try await tx.row(PostgresSQL.scoreOfLead(target.leadID))?["score"] }
                active = enrollments.map {
                    var e = ActiveEnrollment(enrollmentID: $0.id, leadID: target.leadID, sequenceID: $0.sequenceID, enrolledAt: Self.date($0.since),
                                             leadScore: score ?? 0, eventsSinceEnrollment: $0.events)
                    e.facts = outcome?.state.facts // exit rules' `when:` on fit and stage, as for any event
                    return e
                }
                if let postponeTo {
                    try await tx.execute(PostgresSQL.postponeSendsOfLead(target.leadID, until: Self.millis(postponeTo), reason: cause, now: t))
                }
            }
            if forward { try await tx.execute(PostgresSQL.insertReplyForward(lead: target.leadID, inbound: inboundID, now: t)) }
            return active
        }
    }

    public func inboundCounts() async throws -> [InboundOutcome: Int] {
        try await read { tx in
            var counts: [InboundOutcome: Int] = [:]
            for row in try await tx.rows(PostgresSQL.inboundCounts) {
                if let outcome = InboundOutcome(rawValue: try row["outcome"]) { counts[outcome] = Int(try row["n"] as Int64) }
            }
            return counts
        }
    }

    public func quarantined(limit: Int) async throws -> [QuarantinedMessage] {
        try await read { tx in
            try await tx.rows(PostgresSQL.quarantined(limit: Int64(limit))).map {
                QuarantinedMessage(id: try $0["id"], receivedAt: Self.date(try $0["received_at"]), source: try $0["source"], reason: try $0["reason"],
                                   size: Int(try $0["size"] as Int64), kept: try $0["kept"])
            }
        }
    }

    public func inboundMessage(_ id: Int64) async throws -> [UInt8]? {
        try await read { tx in
            let text: String? = try await tx.row(PostgresSQL.inboundMessage(id))?["message"]
            return text.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        }
    }
}
