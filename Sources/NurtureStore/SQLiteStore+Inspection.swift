import Foundation
import GRDB

extension SQLiteStore {
    /// Outbox rows per status, for `/metrics`, `STATUS=` and tests.
    public func outboxStatusCounts() throws -> [String: Int] {
        try pool.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: SQL.outboxStatusCounts) { counts[row["status"]] = row["n"] }
            return counts
        }
    }

    /// Message-IDs of sends that were in flight at a crash and were retried: each may exist twice downstream.
    public func possiblySentMessageIDs() throws -> Set<String> {
        try pool.read { db in Set(try String.fetchAll(db, sql: SQL.possiblySentMessageIDs)) }
    }

    /// Message-IDs of every send recorded as sent.
    public func sentMessageIDs() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: SQL.sentMessageIDs) }
    }
}
