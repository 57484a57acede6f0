import Foundation
import GRDB
import NurtureEngine
import NurtureCore

extension SQLiteStore {
    public func dueHandoffs(at now: Date, limit: Int) async throws -> [PendingHandoff] {
        try await read { db in
            try Row.fetchAll(try db.cachedStatement(sql: SQL.dueHandoffs), arguments: [Self.millis(now), limit]).compactMap { row in
                guard let email = try? EmailAddress(validating: row["email"] as String) else { return nil }
                var h = PendingHandoff(id: row["id"], leadID: row["lead_id"], email: email, channel: row["channel"], score: row["score"],
                                       attempts: row["attempts"], createdAt: Self.date(row["created_at"]), inboundID: row["inbound_id"])
                h.crossing = row["crossing"]
                h.reminder = (row["reminder"] as Int64? ?? 0) != 0
                h.slaDueAt = (row["sla_due_at"] as Int64?).map(Self.date)
                return h
            }
        }
    }

    public func handoffDelivered(_ id: Int64, at: Date) async throws {
        try await write { db in try db.execute(sql: SQL.handoffDelivered, arguments: [Self.millis(at), id]) }
    }

    public func handoffFailed(_ id: Int64, error: String, retryAt: Date) async throws {
        try await write { db in try db.execute(sql: SQL.handoffRetry, arguments: [Self.millis(retryAt), String(error.prefix(500)), id]) }
    }

    public func nextHandoffAt() async throws -> Date? {
        try await read { db in
            try Int64.fetchOne(db, sql: SQL.nextHandoffAt).map(Self.date)
        }
    }
}
