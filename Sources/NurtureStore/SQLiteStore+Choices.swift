import Foundation
import GRDB
import NurtureCore

/// The unsubscribe page's other choices: leave one sequence, or pause nurture mail. Committed durably (FULL)
/// before the page answers, like consent itself.
extension SQLiteStore {
    public func recordChoice(_ choice: RecipientChoice, outboxID: Int64, at: Date, scoring: ScoringContext) async throws -> RecipientChoiceResult {
        let t = Self.millis(at)
        return try await write { [self] db in
            guard let row = try Row.fetchOne(db, sql: SQL.choiceTarget, arguments: [outboxID]) else { return .unknownMessage }
            let leadID: Int64 = row["lead_id"], sequenceID: String = row["sequence_id"], key: String = row["email_key"]
            if try Bool.fetchOne(db, sql: SQL.isSuppressed, arguments: [key, erasedKey(key)]) == true { return .alreadyUnsubscribed }
            let result: RecipientChoiceResult, changed: Bool
            switch choice {
            case .leaveSequence:
                if let enrollmentID = try Int64.fetchOne(db, sql: SQL.activeEnrollmentIn, arguments: [leadID, sequenceID]) {
                    try end(db, EnrollmentEnd(enrollmentID: enrollmentID, leadID: leadID, reason: RecipientChoices.leftReason, handoff: false,
                                              allOfLead: false), now: t)
                    changed = true
                } else {
                    try db.execute(sql: SQL.markLeftAfterEnd, arguments: [leadID, sequenceID])
                    changed = db.changesCount > 0
                }
                result = .left(sequenceID: sequenceID)
            case .pause(let days):
                let until = Self.millis(RecipientChoices.pauseEnd(days: days, from: at))
                try db.execute(sql: SQL.pauseLead, arguments: [until, leadID, until])
                changed = db.changesCount > 0
                result = .paused(until: Self.date(try Int64.fetchOne(db, sql: SQL.pausedUntil, arguments: [leadID]) ?? until))
            }
            // A second press of the same button records nothing more.
            guard changed else { return result }
            let until: Date? = if case .paused(let u) = result { u } else { nil }
            let e = RecipientChoices.event(choice, until: until)
            try db.execute(sql: SQL.insertEventWithData, arguments: [leadID, outboxID, sequenceID, row["step_id"] as String, e.type.name, t, e.data])
            try score(db, leadID: leadID, type: e.type.name, machine: false, cause: e.cause, eventID: db.lastInsertedRowID, at: at, context: scoring)
            return result
        }
    }
}
