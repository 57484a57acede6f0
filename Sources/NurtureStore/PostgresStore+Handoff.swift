import Foundation
import NurtureCore
import NurtureEngine

extension PostgresStore {
    public func dueHandoffs(at now: Date, limit: Int) async throws -> [PendingHandoff] {
        let t = Self.millis(now)
        return try await writeProgress { tx in
            try await tx.rows(PostgresSQL.dueHandoffs(at: t, limit: Int64(limit), node: nodeID, leaseUntil: t + leaseMillis)).sorted {
                (try $0["next_attempt_at"] as Int64, try $0["id"] as Int64) < (try $1["next_attempt_at"] as Int64, try $1["id"] as Int64)
            }.compactMap { row in
                guard let email = try? EmailAddress(validating: try row["email"] as String) else { return nil }
                var h = PendingHandoff(id: try row["id"], leadID: try row["lead_id"], email: email, channel: try row["channel"], score: try row["score"],
                                       attempts: Int(try row["attempts"] as Int64), createdAt: Self.date(try row["created_at"]),
                                       inboundID: try row["inbound_id"])
                h.crossing = try row["crossing"]
                h.reminder = try row["reminder"]
                h.slaDueAt = (try row["sla_due_at"] as Int64?).map(Self.date)
                return h
            }
        }
    }

    public func handoffDelivered(_ id: Int64, at: Date) async throws {
        try await write { tx in try await tx.execute(PostgresSQL.handoffDelivered(id, at: Self.millis(at))) }
    }

    public func handoffFailed(_ id: Int64, error: String, retryAt: Date) async throws {
        try await write { tx in try await tx.execute(PostgresSQL.handoffRetry(id, node: nodeID, retryAt: Self.millis(retryAt), error: String(error.prefix(500)))) }
    }

    public func nextHandoffAt() async throws -> Date? {
        try await read { tx in (try await tx.value(PostgresSQL.nextHandoffAt, "at") as Int64?).map(Self.date) }
    }
}
