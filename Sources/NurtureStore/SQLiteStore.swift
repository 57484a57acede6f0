import Foundation
import GRDB
import NurtureCore

/// Nurture's embedded store: one SQLite file in WAL mode, synchronous=FULL so consent and suppression survive power loss.
public final class SQLiteStore: LeadStore, Sendable {
    let pool: DatabasePool
    public let path: String
    /// Random per database, so Message-IDs stay unique when another database reuses enrollment ids.
    let instanceID: String
    /// Random per database: erased addresses stay suppressed as HMAC(key, address), never in clear.
    let erasureKey: Data
    /// One-click unsubscribes recorded while the writer was busy, not yet in the database.
    public let unsubscribes: UnsubscribeJournal

    public enum OpenError: Error, CustomStringConvertible {
        case cannotCreateFolder(String, String)
        case cannotOpen(String, String)

        public var description: String {
            switch self {
            case let .cannotCreateFolder(dir, why): "cannot create folder \(dir) for the database: \(why)"
            case let .cannotOpen(path, why): "cannot open database \(path): \(why)"
            }
        }
    }

    /// Opens (creating if needed) and migrates the database.
    public init(path: String) throws {
        self.path = path
        unsubscribes = UnsubscribeJournal(path: path + ".unsubscribes")
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw OpenError.cannotCreateFolder(folder, error.localizedDescription)
        }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // DatabasePool sets NORMAL when it enables WAL; consent and suppression must survive power loss: FULL on the writer.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Migrations.migrator.migrate(pool)
            instanceID = try pool.read { db in try String.fetchOne(db, sql: SQL.instanceID) } ?? "0"
            let hex = try pool.read { db in try String.fetchOne(db, sql: SQL.erasureKey) } ?? ""
            erasureKey = Data(stride(from: 0, to: hex.count - 1, by: 2).compactMap {
                UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)..<hex.index(hex.startIndex, offsetBy: $0 + 2)], radix: 16)
            })
        } catch {
            throw OpenError.cannotOpen(path, "\(error)")
        }
    }

    /// Commits delivery progress (enrollments, claims, results, next steps) without an fsync per commit. In WAL
    /// mode that still survives any process crash, SIGKILL included; after an OS crash or power loss the worst case
    /// is a send repeated, never a send lost — the trade Postfix makes when it unlinks delivered queue files.
    /// Leads, consent, unsubscribes and suppressions keep the writer's FULL setting, and each FULL commit also
    /// makes every earlier progress commit durable.
    func writeProgress<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
            var result: T?
            try db.inTransaction {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    public func upsert(_ leads: [Lead], now: Date) throws -> [UpsertOutcome] {
        let nowMillis = Self.millis(now)
        return try pool.write { db in
            let exists = try db.cachedStatement(sql: SQL.leadExists)
            let suppressed = try db.cachedStatement(sql: SQL.isSuppressed)
            let upsert = try db.cachedStatement(sql: SQL.upsertLead)
            var outcomes: [UpsertOutcome] = []
            outcomes.reserveCapacity(leads.count)
            for lead in leads {
                let key = lead.email.key
                if try Bool.fetchOne(suppressed, arguments: [key, erasedKey(key)]) == true {
                    outcomes.append(.suppressed)
                    continue
                }
                let existed = try Bool.fetchOne(exists, arguments: [key]) == true
                try upsert.execute(arguments: [
                    "email": lead.email.value, "key": key, "persona": lead.persona,
                    "timezone": lead.timeZone, "locale": lead.locale, "fields": JSONText.object(lead.fields),
                    "consent_source": lead.consent.source, "consent_at": Self.millis(lead.consent.at),
                    "consent_text": lead.consent.text, "consent_ip": lead.consent.ip,
                    "recontact_after": lead.recontactAfter.map(Self.millis), "now": nowMillis,
                ])
                outcomes.append(!existed ? .inserted : (db.changesCount > 0 ? .updated : .unchanged))
            }
            return outcomes
        }
    }

    /// Puts an address on the suppression list; idempotent, and committed with synchronous=FULL before returning.
    public func suppress(_ email: EmailAddress, reason: String, now: Date) throws {
        try pool.write { db in
            try db.execute(sql: SQL.suppress, arguments: [email.key, reason, Self.millis(now)])
        }
    }

    public func isSuppressed(_ email: EmailAddress) throws -> Bool {
        try pool.read { db in try Bool.fetchOne(db, sql: SQL.isSuppressed, arguments: [email.key, erasedKey(email.key)]) == true }
    }

    public func lead(_ email: EmailAddress) throws -> StoredLead? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: SQL.leadByKey, arguments: [email.key]) else { return nil }
            let id: Int64 = row["id"]
            let lead = try Self.lead(from: row)
            let enrollments = try Row.fetchAll(db, sql: SQL.enrollmentsOfLead, arguments: [id]).map { r in
                EnrollmentSummary(sequenceID: r["sequence_id"], state: r["state"], nextStep: r["next_step"],
                                  enrolledAt: Self.date(r["enrolled_at"]), endedAt: (r["ended_at"] as Int64?).map(Self.date),
                                  endReason: r["end_reason"])
            }
            let events = try Row.fetchAll(db, sql: SQL.recentEventsOfLead, arguments: [id, 50]).map { r in
                EventSummary(type: r["type"], sequenceID: r["sequence_id"], stepID: r["step_id"],
                             machine: r["machine"] as Int64 != 0, at: Self.date(r["occurred_at"]))
            }
            let ledger = try Row.fetchAll(db, sql: SQL.ledgerOfLead, arguments: [id, 50]).map { r in
                LedgerEntry(at: Self.date(r["at"]), delta: r["delta"], scoreAfter: r["score_after"], cause: r["cause"])
            }
            let sends = try Row.fetchAll(db, sql: SQL.sendsOfLead, arguments: [id, 50]).map { r in
                SendSummary(outboxID: r["id"], sequenceID: r["sequence_id"], stepID: r["step_id"], status: r["status"], dueAt: Self.date(r["due_at"]),
                            sentAt: (r["sent_at"] as Int64?).map(Self.date), attempts: r["attempts"], reason: r["why"], reply: r["server_reply"])
            }
            return StoredLead(id: id, lead: lead, createdAt: Self.date(row["created_at"]), updatedAt: Self.date(row["updated_at"]),
                              enrollments: enrollments, events: events, ledger: ledger, sends: sends)
        }
    }

    /// The `PRAGMA synchronous` level the writer runs with (2 = FULL), for tests and `nurture doctor`-style checks.
    public func writerSynchronousLevel() throws -> Int {
        try pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }
}
