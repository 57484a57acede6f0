import Foundation
import GRDB

extension SQLiteStore {
    /// Outbox rows per status, for `/metrics`, `STATUS=` and tests.
    public func outboxStatusCounts() async throws -> [String: Int] {
        try await read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: SQL.outboxStatusCounts) { counts[row["status"]] = row["n"] }
            return counts
        }
    }

    /// Message-IDs of sends that were in flight at a crash and were retried: each may exist twice downstream.
    public func possiblySentMessageIDs() async throws -> Set<String> {
        try await read { db in Set(try String.fetchAll(db, sql: SQL.possiblySentMessageIDs)) }
    }

    /// Message-IDs of every send recorded as sent.
    public func sentMessageIDs() async throws -> [String] {
        try await read { db in try String.fetchAll(db, sql: SQL.sentMessageIDs) }
    }
}
