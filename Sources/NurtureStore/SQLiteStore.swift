import Foundation
import GRDB
import NurtureEngine
import NurtureCore
import Synchronization

/// Nurture's embedded store: one SQLite file in WAL mode, synchronous=FULL so consent and suppression survive power loss.
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    public let path: String
    /// Random per database, so Message-IDs stay unique when another database reuses enrollment ids.
    let instanceID: String
    /// Erased addresses stay suppressed as HMAC(key, address), never in clear; the key is in a secret file.
    let erasureKey: ErasureKey
    /// One-click unsubscribes recorded while the writer was busy, not yet in the database.
    public let unsubscribes: UnsubscribeJournal
    /// Held by `nurture serve`: one daemon per database file.
    let lock: DaemonLock?
    /// The threads every call runs on (never Swift's cooperative ones).
    let lanes = DatabaseLanes()
    /// The one node a SQLite database has (this process, once `nurture serve` joined): for `/metrics`.
    let member = Mutex<ClusterNode?>(nil)

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
    /// - Parameter erasureKeyFile: `secrets.erasure_key_file`; by default `erasure.key` beside the database.
    /// - Parameter exclusive: take the one-daemon lock on the file first (`nurture serve`).
    public init(path: String, erasureKeyFile: String? = nil, exclusive: Bool = false) throws {
        self.path = path
        lock = exclusive ? try DaemonLock(database: path) : nil
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
        // Deleted rows (an erasure) are overwritten with zeros, not left readable in free pages.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // DatabasePool sets NORMAL when it enables WAL; consent and suppression must survive power loss: FULL on the writer.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Migrations.migrator.migrate(pool)
            instanceID = try pool.read { db in try String.fetchOne(db, sql: SQL.instanceID) } ?? "0"
            let keyFile = erasureKeyFile ?? URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("erasure.key").path
            erasureKey = try ErasureKey.load(file: keyFile, pool: pool)
        } catch {
            throw OpenError.cannotOpen(path, "\(error)")
        }
    }

    /// Commits delivery progress (enrollments, claims, results, next steps) without an fsync per commit. In WAL
    /// mode that still survives any process crash, SIGKILL included; after an OS crash or power loss the worst case
    /// is a send repeated, never a send lost — the trade Postfix makes when it unlinks delivered queue files.
    /// Leads, consent, unsubscribes and suppressions keep the writer's FULL setting, and each FULL commit also
    /// makes every earlier progress commit durable.
    func writeProgress<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await lanes.writer.run { [pool] in
            try Self.typed { try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                return result!
            } }
        }
    }

    /// A read on the least busy reader lane.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await lanes.reader.run { [pool] in try Self.typed { try pool.read(body) } }
    }

    /// A transaction on the writer lane, committed with synchronous=FULL.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await lanes.writer.run { [pool] in try Self.typed { try pool.write(body) } }
    }

    /// Opens the store on a thread of its own: migrating and checking the database blocks.
    public static func open(path: String, erasureKeyFile: String? = nil, exclusive: Bool = false) async throws -> SQLiteStore {
        let lane = DatabaseLane(name: "nurture.store.open")
        defer { lane.release() }
        return try await lane.run { try SQLiteStore(path: path, erasureKeyFile: erasureKeyFile, exclusive: exclusive) }
    }

    /// Lets queued work finish and joins the store's threads; later calls fail with `StoreFailure.closed`.
    public func close() async { await lanes.shutdown() }

    /// Maps SQLite's "disk full" and "busy" to `StoreFailure`, which the engine reports and retries.
    static func typed<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw StoreFailure.diskFull(error.message ?? "database or disk is full")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            throw StoreFailure.busy(error.message ?? "another process holds the database")
        }
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    public func prepare(_ leads: [Lead]) -> PreparedLeads { PreparedLeads.derive(leads, erasedKey: erasedKey) }

    public func upsert(_ prepared: PreparedLeads, now: Date) async throws -> [UpsertOutcome] {
        let nowMillis = Self.millis(now)
        let leads = prepared.leads, keys = prepared.keys, erased = prepared.erasedKeys, fields = prepared.fields, fitRules = prepared.fitRules, scoring = prepared.scoring
        return try await write { [self] db in
            // The hot path of `lead import`: two probes per batch, then one upsert per row bound by position, directly.
            var suppressed = Set<String>(), stored = Set<String>()
            for chunk in stride(from: 0, to: keys.count, by: 10_000) {
                let part = Array(keys[chunk..<min(chunk + 10_000, keys.count)]), hashes = Array(erased[chunk..<min(chunk + 10_000, keys.count)])
                // Cached (every full batch has the same size) and bound unchecked: preparing and validating
                // thousands of placeholders per batch cost ~7 % of an import.
                let bySuppression = try db.cachedStatement(sql: SQL.suppressedKeys(part.count * 2))
                bySuppression.setUncheckedArguments(StatementArguments(part + hashes))
                suppressed.formUnion(try String.fetchAll(bySuppression))
                let byKey = try db.cachedStatement(sql: SQL.storedKeys(part.count))
                byKey.setUncheckedArguments(StatementArguments(part))
                stored.formUnion(try String.fetchAll(byKey))
            }
            let upsert = try db.cachedStatement(sql: SQL.upsertLead)
            LeadRowBinder.prepare(upsert)
            var outcomes: [UpsertOutcome] = []
            outcomes.reserveCapacity(leads.count)
            for (i, lead) in leads.enumerated() {
                let key = keys[i]
                if suppressed.contains(key) || suppressed.contains(erased[i]) {
                    outcomes.append(.suppressed)
                    continue
                }
                let existed = !stored.insert(key).inserted // a second row for one address in the batch updates the first
                try LeadRowBinder.bind(upsert, lead, key: key, fields: fields[i], now: nowMillis, millis: Self.millis)
                try upsert.execute()
                outcomes.append(!existed ? .inserted : (db.changesCount > 0 ? .updated : .unchanged))
            }
            if !fitRules.isEmpty {
                let written = zip(keys, outcomes).filter { $0.1 == .inserted || $0.1 == .updated }.map(\.0)
                try applyFit(db, keys: written, rules: fitRules, now: nowMillis, scoring: scoring)
            }
            return outcomes
        }
    }

    /// Puts an address on the suppression list; idempotent, and committed with synchronous=FULL before returning.
    public func suppress(_ email: EmailAddress, reason: String, now: Date) async throws {
        try await write { db in
            try db.execute(sql: SQL.suppress, arguments: [email.key, reason, Self.millis(now)])
        }
    }

    public func isSuppressed(_ email: EmailAddress) async throws -> Bool {
        try await read { [self] db in try Bool.fetchOne(db, sql: SQL.isSuppressed, arguments: [email.key, erasedKey(email.key)]) == true }
    }

    public func lead(_ email: EmailAddress) async throws -> StoredLead? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: SQL.leadByKey, arguments: [email.key]) else { return nil }
            let id: Int64 = row["id"]
            let lead = try Self.lead(from: row)
            let enrollments = try Row.fetchAll(db, sql: SQL.enrollmentsOfLead, arguments: [id]).map { r in
                var e = EnrollmentSummary(sequenceID: r["sequence_id"], state: EnrollmentState(rawValue: r["state"]) ?? .exited, nextStep: r["next_step"],
                                          enrolledAt: Self.date(r["enrolled_at"]), endedAt: (r["ended_at"] as Int64?).map(Self.date),
                                          endReason: r["end_reason"])
                e.version = r["version"]
                return e
            }
            let events = try Row.fetchAll(db, sql: SQL.recentEventsOfLead, arguments: [id, 50]).map { r in
                EventSummary(type: r["type"], sequenceID: r["sequence_id"], stepID: r["step_id"],
                             machine: r["machine"] as Int64 != 0, at: Self.date(r["occurred_at"]),
                             link: r["link"], machineReason: r["why"], isRepeat: r["repeated"] as Int64 != 0, detail: r["detail"])
            }
            let ledger = try Row.fetchAll(db, sql: SQL.ledgerOfLead, arguments: [id, 50]).map { r in
                LedgerEntry(at: Self.date(r["at"]), delta: r["delta"], scoreAfter: r["score_after"], cause: r["cause"], kind: r["kind"])
            }
            let sends = try Row.fetchAll(db, sql: SQL.sendsOfLead, arguments: [id, 50]).map { r in
                SendSummary(outboxID: r["id"], sequenceID: r["sequence_id"], stepID: r["step_id"], status: OutboxStatus(rawValue: r["status"]) ?? .failed, dueAt: Self.date(r["due_at"]),
                            sentAt: (r["sent_at"] as Int64?).map(Self.date), attempts: r["attempts"], reason: r["why"], reply: r["server_reply"],
                            possiblySent: r["possibly_sent"] as Int64 != 0)
            }
            let suppression = try String.fetchOne(db, sql: SQL.suppressionReason, arguments: [email.key])
            var stored = StoredLead(id: id, lead: lead, createdAt: Self.date(row["created_at"]), updatedAt: Self.date(row["updated_at"]),
                                    enrollments: enrollments, events: events, ledger: ledger, sends: sends, suppression: suppression)
            stored.handoffs = try Row.fetchAll(db, sql: SQL.handoffsOfLead, arguments: [id]).map(Self.handoffSummary)
            stored.pausedUntil = (row["paused_until"] as Int64?).map(Self.date)
            stored.consentHistory = try Row.fetchAll(db, sql: SQL.consentOfLead, arguments: [id]).map { r in
                ConsentRecord(type: r["type"], sequenceID: r["sequence_id"], at: Self.date(r["occurred_at"]), via: r["via"], until: r["until"])
            }
            return stored
        }
    }

    /// The `PRAGMA synchronous` level the writer runs with (2 = FULL), for tests and `nurture doctor`-style checks.
    public func writerSynchronousLevel() async throws -> Int {
        try await write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public func journalMode() async throws -> String {
        try await read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }
}
