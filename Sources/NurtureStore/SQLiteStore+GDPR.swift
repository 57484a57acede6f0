import Crypto
import Foundation
import GRDB
import NurtureCore

/// GDPR export and erasure. Erasure deletes the lead and everything about it (enrollments, sends, events,
/// ledger, hand-offs) and keeps only a keyed hash of the address on the suppression list, so it is never mailed
/// or imported again while the address itself is gone.
extension SQLiteStore {
    func erasedKey(_ key: String) -> String { erasureKey.hash(key) }

    /// Returns the outbox ids of the erased lead's sends (so a file outbox can delete its copies), or nil when no such
    /// lead exists (the address is suppressed anyway, so it stays away). Deleted pages are zeroed (`secure_delete`)
    /// and the WAL is checkpointed and truncated, so the lead's data does not linger in the files.
    @discardableResult
    public func erase(_ email: EmailAddress, now: Date) async throws -> [Int64]? {
        let key = email.key, hashed = erasedKey(email.key)
        let erased: [Int64]? = try await write { db in
            try db.execute(sql: SQL.suppress, arguments: [hashed, "erased", Self.millis(now)])
            try db.execute(sql: SQL.deleteSuppression, arguments: [key])
            // Messages from the address (a quarantined reply from someone who never became a lead) go too.
            try db.execute(sql: SQL.deleteInboundFrom, arguments: [key])
            guard let row = try Row.fetchOne(db, sql: SQL.leadIDAndKey, arguments: [key]) else { return nil }
            let leadID: Int64 = row["id"]
            let sends = try Int64.fetchAll(db, sql: SQL.outboxIDsOfLead, arguments: [leadID])
            try db.execute(sql: SQL.deleteLead, arguments: [leadID])
            return sends
        }
        try await checkpoint()
        return erased
    }

    /// Copies the WAL into the database and truncates it; best effort when readers hold old snapshots.
    public func checkpoint() async throws {
        try await lanes.writer.run { [pool] in
            try pool.writeWithoutTransaction { db in _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
    }

    /// Everything stored about a lead, for a data-subject access request; nil if unknown.
    public func export(_ email: EmailAddress) async throws -> LeadExport? {
        try await read { db in
            guard let id = try Row.fetchOne(db, sql: SQL.leadIDAndKey, arguments: [email.key])?["id"] as Int64?,
                  let lead = try Row.fetchOne(db, sql: SQL.exportLead, arguments: [id]) else { return nil }
            func iso(_ v: Int64?) -> Any { v.map { DateText.iso(Self.date($0)) } ?? NSNull() }
            func rows(_ sql: String, _ map: (Row) -> [String: Any]) throws -> [[String: Any]] { try Row.fetchAll(db, sql: sql, arguments: [id]).map(map) }
            return LeadExport(document: [
                "lead": [
                    "email": lead["email"] as String, "persona": lead["persona"] as String, "timezone": lead["timezone"] as String? ?? NSNull(),
                    "locale": lead["locale"] as String? ?? NSNull(), "fields": JSONText.decodeObject(lead["fields"]),
                    "stage": lead["stage"] as String, "score": lead["score"] as Double, "recontact_after": iso(lead["recontact_after"]),
                    "fit": lead["fit"] as Double, "fit_grade": lead["fit_grade"] as String? ?? NSNull(),
                    "created_at": iso(lead["created_at"]), "updated_at": iso(lead["updated_at"]), "paused_until": iso(lead["paused_until"]),
                ] as [String: Any],
                "consent": ["source": lead["consent_source"] as String, "at": iso(lead["consent_at"]),
                            "text": lead["consent_text"] as String? ?? NSNull(), "ip": lead["consent_ip"] as String? ?? NSNull()] as [String: Any],
                "enrollments": try rows(SQL.exportEnrollments) { r in
                    ["sequence": r["sequence_id"] as String, "state": r["state"] as String, "next_step": r["next_step"] as String? ?? NSNull(),
                     "enrolled_at": iso(r["enrolled_at"]), "ended_at": iso(r["ended_at"]), "end_reason": r["end_reason"] as String? ?? NSNull(),
                     "holdout": (r["holdout"] as Int64) != 0, "version": r["version"] as String? ?? NSNull()]
                },
                "sends": try rows(SQL.exportSends) { r in
                    ["sequence": r["sequence_id"] as String, "step": r["step_id"] as String, "status": r["status"] as String,
                     "message_id": r["message_id"] as String, "due_at": iso(r["due_at"]), "sent_at": iso(r["sent_at"]),
                     "attempts": r["attempts"] as Int, "reason": r["why"] as String? ?? NSNull(), "variant": r["variant"] as String? ?? NSNull()]
                },
                "conversions": try rows(SQL.exportConversions) { r in
                    ["sequence": r["sequence_id"] as String, "step": r["step_id"] as String? ?? NSNull(), "variant": r["variant"] as String? ?? NSNull(),
                     "holdout": (r["holdout"] as Int64) != 0, "at": iso(r["at"])]
                },
                "events": try rows(SQL.exportEvents) { r in
                    ["type": r["type"] as String, "sequence": r["sequence_id"] as String? ?? NSNull(), "step": r["step_id"] as String? ?? NSNull(),
                     "machine": (r["machine"] as Int64) != 0, "at": iso(r["occurred_at"]), "data": r["data"] as String? ?? NSNull()]
                },
                "handoffs": try rows(SQL.handoffsOfLead) { Self.handoffSummary($0).document },
                "score_ledger": try rows(SQL.exportLedger) { r in
                    ["at": iso(r["at"]), "delta": r["delta"] as Double, "score_after": r["score_after"] as Double, "cause": r["cause"] as String,
                     "kind": r["kind"] as String]
                },
            ])
        }
    }
}
