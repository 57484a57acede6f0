import NurtureCore

/// Statuses and event kinds as SQL literals, so the SQL names the core's enums instead of spelling them again.
extension OutboxStatus { var sql: String { "'\(rawValue)'" } }
extension EnrollmentState { var sql: String { "'\(rawValue)'" } }
extension HandoffStatus { var sql: String { "'\(rawValue)'" } }
extension EventKind { var sql: String { "'\(name)'" } }
