import Foundation
import NurtureCore

/// GDPR export and erasure on PostgreSQL, as SQLiteStore+GDPR: erasure deletes the lead and everything about it
/// and keeps only a keyed hash of the address suppressed. Deleted rows are reclaimed by autovacuum.
extension PostgresStore {
    /// Returns the outbox ids of the erased lead's sends, or nil when no such lead exists.
    @discardableResult
    public func erase(_ email: EmailAddress, now: Date) async throws -> [Int64]? {
        let key = email.key, hashed = erasedKey(email.key), t = Self.millis(now)
        return try await write { tx in
            try await tx.execute(PostgresSQL.suppress(hashed, reason: "erased", now: t))
            try await tx.execute(PostgresSQL.deleteSuppression(key))
            // Messages from the address (a quarantined reply from someone who never became a lead) go too.
            try await tx.execute(PostgresSQL.deleteInboundFrom(key))
            guard let row = try await tx.row(PostgresSQL.leadIDAndKey(key)) else { return nil }
            let leadID: Int64 = try row["id"]
            let sends = try await tx.rows(PostgresSQL.outboxIDsOfLead(leadID)).map { try $0["id"] as Int64 }
            try await tx.execute(PostgresSQL.deleteLead(leadID))
            return sends
        }
    }

    /// Everything stored about a lead, for a data-subject access request; nil if unknown.
    public func export(_ email: EmailAddress) async throws -> LeadExport? {
        try await read { tx in
            guard let id: Int64 = try await tx.row(PostgresSQL.leadIDAndKey(email.key))?["id"],
                  let lead = try await tx.row(PostgresSQL.exportLead(id)) else { return nil }
            func iso(_ v: Int64?) -> Any { v.map { DateText.iso(Self.date($0)) } ?? NSNull() }
            func orNull(_ v: String?) -> Any { v ?? NSNull() }
            var out: [String: Any] = [
                "lead": [
                    "email": try lead["email"] as String, "persona": try lead["persona"] as String, "timezone": orNull(try lead["timezone"]),
                    "locale": orNull(try lead["locale"]), "fields": JSONText.decodeObject(try lead["fields"]),
                    "stage": try lead["stage"] as String, "score": try lead["score"] as Double, "recontact_after": iso(try lead["recontact_after"]),
                    "fit": try lead["fit"] as Double, "fit_grade": orNull(try lead["fit_grade"]),
                    "created_at": iso(try lead["created_at"]), "updated_at": iso(try lead["updated_at"]), "paused_until": iso(try lead["paused_until"]),
                ] as [String: Any],
                "consent": ["source": try lead["consent_source"] as String, "at": iso(try lead["consent_at"]),
                            "text": orNull(try lead["consent_text"]), "ip": orNull(try lead["consent_ip"])] as [String: Any],
            ]
            out["enrollments"] = try await tx.rows(PostgresSQL.exportEnrollments(id)).map { r -> [String: Any] in
                ["sequence": try r["sequence_id"] as String, "state": try r["state"] as String, "next_step": orNull(try r["next_step"]),
                 "enrolled_at": iso(try r["enrolled_at"]), "ended_at": iso(try r["ended_at"]), "end_reason": orNull(try r["end_reason"]),
                 "holdout": try r["holdout"] as Bool, "version": orNull(try r["version"])]
            }
            out["sends"] = try await tx.rows(PostgresSQL.exportSends(id)).map { r -> [String: Any] in
                ["sequence": try r["sequence_id"] as String, "step": try r["step_id"] as String, "status": try r["status"] as String,
                 "message_id": try r["message_id"] as String, "due_at": iso(try r["due_at"]), "sent_at": iso(try r["sent_at"]),
                 "attempts": Int(try r["attempts"] as Int64), "reason": orNull(try r["why"]), "variant": orNull(try r["variant"])]
            }
            out["conversions"] = try await tx.rows(PostgresSQL.exportConversions(id)).map { r -> [String: Any] in
                ["sequence": try r["sequence_id"] as String, "step": orNull(try r["step_id"]), "variant": orNull(try r["variant"]),
                 "holdout": try r["holdout"] as Bool, "at": iso(try r["at"])]
            }
            out["events"] = try await tx.rows(PostgresSQL.exportEvents(id)).map { r -> [String: Any] in
                ["type": try r["type"] as String, "sequence": orNull(try r["sequence_id"]), "step": orNull(try r["step_id"]),
                 "machine": try r["machine"] as Bool, "at": iso(try r["occurred_at"]), "data": orNull(try r["data"])]
            }
            out["handoffs"] = try await tx.rows(PostgresSQL.handoffsOfLead(id)).map { try Self.handoffSummary($0).document }
            out["score_ledger"] = try await tx.rows(PostgresSQL.exportLedger(id)).map { r -> [String: Any] in
                ["at": iso(try r["at"]), "delta": try r["delta"] as Double, "score_after": try r["score_after"] as Double, "cause": try r["cause"] as String,
                 "kind": try r["kind"] as String]
            }
            return LeadExport(document: out)
        }
    }
}
