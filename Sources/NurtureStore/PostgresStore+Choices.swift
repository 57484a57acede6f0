import Foundation
import NurtureCore

/// The unsubscribe page's other choices, as in `SQLiteStore.recordChoice`.
extension PostgresStore {
    public func recordChoice(_ choice: RecipientChoice, outboxID: Int64, at: Date, scoring: ScoringContext) async throws -> RecipientChoiceResult {
        let t = Self.millis(at)
        return try await write { tx in
            guard let row = try await tx.row(PostgresSQL.choiceTarget(outboxID)) else { return .unknownMessage }
            let leadID: Int64 = try row["lead_id"], sequenceID: String = try row["sequence_id"], key: String = try row["email_key"]
            let stepID: String = try row["step_id"]
            if (try await tx.value(PostgresSQL.isSuppressed(key, erased: erasedKey(key)), "suppressed") as Bool?) == true { return .alreadyUnsubscribed }
            let result: RecipientChoiceResult, changed: Bool
            switch choice {
            case .leaveSequence:
                if let enrollmentID: Int64 = try await tx.row(PostgresSQL.activeEnrollmentIn(lead: leadID, sequence: sequenceID))?["id"] {
                    try await end(tx, EnrollmentEnd(enrollmentID: enrollmentID, leadID: leadID, reason: RecipientChoices.leftReason, handoff: false,
                                                    allOfLead: false), now: t)
                    changed = true
                } else {
                    changed = try await tx.count(PostgresSQL.markLeftAfterEnd(lead: leadID, sequence: sequenceID)) > 0
                }
                result = .left(sequenceID: sequenceID)
            case .pause(let days):
                let until = Self.millis(RecipientChoices.pauseEnd(days: days, from: at))
                changed = try await tx.count(PostgresSQL.pauseLead(leadID, until: until)) > 0
                let stored: Int64? = try await tx.row(PostgresSQL.pausedUntil(leadID))?["paused_until"]
                result = .paused(until: Self.date(stored ?? until))
            }
            guard changed else { return result }
            let until: Date? = if case .paused(let u) = result { u } else { nil }
            let e = RecipientChoices.event(choice, until: until)
            let eventID: Int64? = try await tx.row(PostgresSQL.insertEvent(lead: leadID, outbox: outboxID, sequence: sequenceID, step: stepID,
                                                                            type: e.type.name, machine: false, at: t, data: e.data))?["id"]
            try await score(tx, leadID: leadID, type: e.type.name, machine: false, cause: e.cause, eventID: eventID, at: at, context: scoring)
            return result
        }
    }
}
