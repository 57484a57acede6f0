import Foundation
import GRDB
import NurtureCore

extension SQLiteStore {
    /// An event of the lead makes its waiting `wait_for:` rows due now: the scheduler decides at once whether the
    /// behaviour they wait for was seen (and postpones them back to their timeout if not).
    func wakeWaits(_ db: Database, leadID: Int64, now: Int64) throws {
        try db.cachedStatement(sql: SQL.wakeWaits).execute(arguments: [now, now, leadID, now])
    }
}

extension SQL {
    static let wakeWaits = """
        UPDATE outbox SET due_at = ?, updated_at = ?
        WHERE lead_id = ? AND wait_until IS NOT NULL AND status = \(OutboxStatus.scheduled.sql) AND due_at > ?
        """
}
