import Foundation
import NurtureCore
import PostgresNIO

extension PostgresSQL {
    /// `resolve` that returns the row it resolved (none when it was resolved already: nothing is planned twice).
    static func resolveReturning(_ id: Int64, status: OutboxStatus, reason: String, now: Int64) -> Q {
        """
        UPDATE outbox SET status = \(status.rawValue), reason = \(reason), updated_at = \(now)
        WHERE id = \(id) AND status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql), \(unescaped: OutboxStatus.sending.sql))
        RETURNING id
        """
    }

    /// An event of the lead makes its waiting `wait_for:` rows due now (see `SQLiteStore.wakeWaits`).
    static func wakeWaits(lead: Int64, now: Int64) -> Q {
        """
        UPDATE outbox SET due_at = \(now), updated_at = \(now)
        WHERE lead_id = \(lead) AND wait_until IS NOT NULL AND status = \(unescaped: OutboxStatus.scheduled.sql) AND due_at > \(now)
        """
    }
}
