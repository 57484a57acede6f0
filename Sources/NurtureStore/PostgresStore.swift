import Foundation
import Logging
import NurtureCore
import NurtureEngine
import PostgresNIO
import Synchronization

/// Nurture's store on a PostgreSQL server, behind the same protocols as SQLiteStore and with the same semantics
/// (the store contract suite runs against both). PostgresNIO is asynchronous on NIO's event loops, so no call blocks
/// Swift's cooperative threads. Commits SQLite makes with synchronous=FULL (leads, consent, unsubscribes,
/// suppressions) are flushed before they return (`synchronous_commit = on`); delivery progress is not, the trade
/// SQLiteStore.writeProgress describes.
public final class PostgresStore: Sendable {
    /// Where and how to connect; the password comes from a file, never from the URL or the config.
    public struct Options: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
        public var host: String
        public var port: Int
        public var user: String
        public var database: String
        public var tls: PostgresURL.SSLMode
        public var password: String?
        /// Connections the pool may open at once.
        public var poolSize: Int
        public var connectTimeout: Duration
        /// How long this node's claims and leases last without a heartbeat (`postgresql.lease`).
        public var lease = TimeSpan(seconds: 30)

        public init(host: String, port: Int = 5432, user: String, database: String, tls: PostgresURL.SSLMode, password: String?, poolSize: Int = 8,
                    connectTimeout: Duration = .seconds(10)) {
            self.host = host
            self.port = port
            self.user = user
            self.database = database
            self.tls = tls
            self.password = password
            self.poolSize = poolSize
            self.connectTimeout = connectTimeout
        }

        /// Reads `postgresql://USER@HOST:PORT/DBNAME?sslmode=…`; a password in the URL is refused (it belongs in a file).
        public init(url: String, password: String?, poolSize: Int = 8) throws {
            guard let parsed = PostgresURL(url) else { throw OpenError.badURL }
            self.init(host: parsed.host, port: parsed.port, user: parsed.user, database: parsed.database, tls: parsed.sslMode, password: password,
                      poolSize: poolSize)
        }

        /// For messages: where, never the password.
        public var described: String { "postgresql://\(user)@\(host):\(port)/\(database)" }
        /// Printed options never show the password.
        public var description: String { described }
        public var debugDescription: String { described }
    }

    public enum OpenError: Error, CustomStringConvertible {
        case badURL
        case cannotOpen(String, String)

        public var description: String {
            switch self {
            // The text is not repeated: a malformed URL may hold a password.
            case .badURL: "'database' is not a postgresql://USER@HOST[:PORT]/DBNAME[?sslmode=disable|require|verify-full] URL"
            case let .cannotOpen(where_, why): "cannot open database \(where_): \(why)"
            }
        }
    }

    let client: PostgresClient
    private let runner: Task<Void, Never>
    let options: Options
    let logger = Logger(label: "nurture.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Random per database, so Message-IDs stay unique when another database reuses enrollment ids.
    let instanceID: String
    let erasureKey: ErasureKey
    private let gate = OperationGate()
    /// The node id every claim and lease of this process carries (one per start of `nurture serve`).
    public let nodeID: String
    /// Host, version and start of this node once it joined, rewritten by each heartbeat (a row forgotten while the
    /// node was cut off comes back).
    let membership = Mutex<(hostname: String, version: String, startedAt: Int64)?>(nil)

    private init(client: PostgresClient, runner: Task<Void, Never>, options: Options, instanceID: String, erasureKey: ErasureKey, nodeID: String) {
        self.client = client
        self.runner = runner
        self.options = options
        self.instanceID = instanceID
        self.erasureKey = erasureKey
        self.nodeID = nodeID
    }

    /// Connects, migrates (once, whoever else starts at the same moment), and checks the erasure key, on one direct
    /// connection first, so a wrong password or an unreachable server fails at once with the server's reason (the
    /// pool would keep retrying); then starts the pool.
    /// - Parameter erasureKeyFile: `secrets.erasure_key_file`: every node of a database must be given the same file.
    /// - Parameter node: the id of this `nurture serve` node (`ClusterNode.makeID`), carried by its claims; other
    ///   processes (administration commands, tests) get one of their own. Any number of nodes share a database.
    public static func open(_ options: Options, erasureKeyFile: String, node: String? = nil) async throws -> PostgresStore {
        let logger = Logger(label: "nurture.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let setup: PostgresConnection
        let instance: String, key: ErasureKey
        do {
            let tls: PostgresConnection.Configuration.TLS = try tlsConfiguration(options).map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
            var configuration = PostgresConnection.Configuration(host: options.host, port: options.port, username: options.user,
                                                                 password: options.password, database: options.database, tls: tls)
            configuration.options.connectTimeout = .seconds(options.connectTimeout.components.seconds)
            setup = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch {
            throw OpenError.cannotOpen(options.described, Self.describe(error))
        }
        do {
            try await migrate(setup, logger: logger)
            instance = try await setup.query(PostgresSQL.instanceID, logger: logger).collect().first
                .map { try $0.makeRandomAccess()["value"].decode(String.self) } ?? "0"
            key = try ErasureKey.loadOrCreate(file: erasureKeyFile)
            try await checkErasureKey(key, file: erasureKeyFile, connection: setup, logger: logger)
        } catch {
            try? await setup.close()
            if let e = error as? OpenError { throw e }
            if let e = error as? ErasureKey.LoadError { throw e }
            throw OpenError.cannotOpen(options.described, Self.describe(error))
        }
        var configuration = PostgresClient.Configuration(host: options.host, port: options.port, username: options.user,
                                                         password: options.password, database: options.database, tls: try tls(options))
        configuration.options.maximumConnections = options.poolSize
        configuration.options.connectTimeout = options.connectTimeout
        // Pooled sessions default to delivery progress's setting, so its transactions spend no round trip on it;
        // durable ones turn it on for themselves.
        configuration.options.additionalStartupParameters = [("synchronous_commit", "off")]
        let client = PostgresClient(configuration: configuration)
        let runner = Task { await client.run() }
        try? await setup.close()
        return PostgresStore(client: client, runner: runner, options: options, instanceID: instance, erasureKey: key,
                             nodeID: node ?? "process-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))")
    }

    /// `require` encrypts without checking the certificate (libpq's meaning); `verify-full` checks it and the host name.
    static func tlsConfiguration(_ options: Options) -> TLSConfiguration? {
        switch options.tls {
        case .disable: return nil
        case .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return tls
        case .verifyFull: return .makeClientConfiguration()
        }
    }

    static func tls(_ options: Options) throws -> PostgresClient.Configuration.TLS {
        tlsConfiguration(options).map { .require($0) } ?? .disable
    }

    /// Applies the migrations not yet recorded, each in its own transaction, under a session advisory lock: a second
    /// process waits for the first, then finds everything applied.
    static func migrate(_ c: PostgresConnection, logger: Logger) async throws {
        _ = try await c.query(PostgresSQL.lockMigrations, logger: logger).collect()
        do {
            _ = try await c.query(PostgresSQL.createMigrationTable, logger: logger).collect()
            let applied = Set(try await c.query(PostgresSQL.appliedMigrations, logger: logger).collect().map {
                try $0.makeRandomAccess()["version"].decode(Int64.self)
            })
            for migration in PostgresMigrations.all where !applied.contains(migration.version) {
                _ = try await c.query("BEGIN", logger: logger).collect()
                do {
                    for statement in migration.statements {
                        _ = try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
                    }
                    _ = try await c.query(PostgresSQL.recordMigration(migration.version, migration.name), logger: logger).collect()
                    _ = try await c.query("COMMIT", logger: logger).collect()
                } catch {
                    _ = try? await c.query("ROLLBACK", logger: logger).collect()
                    throw error
                }
            }
        } catch {
            _ = try? await c.query(PostgresSQL.unlockMigrations, logger: logger).collect()
            throw error
        }
        _ = try await c.query(PostgresSQL.unlockMigrations, logger: logger).collect()
    }

    /// The database remembers a keyed check of the first erasure key it saw: a node given another key file would
    /// hash erased addresses differently, and an erased address could come back.
    static func checkErasureKey(_ key: ErasureKey, file: String, connection c: PostgresConnection, logger: Logger) async throws {
        let check = key.hash("nurture-erasure-key-check")
        // The first process records its key's check; every later one reads it back.
        if try await c.query(PostgresSQL.setErasureKeyCheck(check), logger: logger).collect().isEmpty == false { return }
        let stored = try await c.query(PostgresSQL.erasureKeyCheck, logger: logger).collect().first
            .map { try $0.makeRandomAccess()["value"].decode(String.self) }
        if let stored, stored != check { throw ErasureKey.LoadError.mismatched(file) }
    }

    /// Lets calls in progress finish, refuses new ones (`StoreFailure.closed`), then closes the pool.
    public func close() async {
        await gate.close()
        runner.cancel()
        await runner.value
    }

    // MARK: transactions

    enum Mode { case read, durable, progress }

    /// One transaction on a pooled connection: a snapshot for reads (repeatable read, read only); for writes, flushed
    /// before returning when `durable`, else left to the WAL writer (delivery progress).
    func transaction<T: Sendable>(_ mode: Mode, _ body: (PostgresTransaction) async throws -> T) async throws -> T {
        try gate.enter()
        defer { gate.leave() }
        do {
            return try await client.withConnection { connection in
                let tx = PostgresTransaction(connection: connection, logger: logger)
                try await tx.execute(mode == .read ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")
                do {
                    switch mode {
                    case .read: break
                    case .durable: try await tx.execute("SET LOCAL synchronous_commit = on")
                    case .progress: break // the session's default (`additionalStartupParameters`)
                    }
                    let result = try await body(tx)
                    try await tx.execute("COMMIT")
                    return result
                } catch {
                    // Rolled back outside this task's cancellation, so a connection never goes back to the pool inside a
                    // transaction (the next caller's work would join it); one that cannot roll back is closed and replaced.
                    let rolledBack = await Task { (try? await tx.execute("ROLLBACK")) != nil }.value
                    if !rolledBack { let _: EventLoopFuture<Void> = connection.close() }
                    throw error
                }
            }
        } catch {
            throw Self.typed(error)
        }
    }

    func read<T: Sendable>(_ body: (PostgresTransaction) async throws -> T) async throws -> T { try await transaction(.read, body) }
    func write<T: Sendable>(_ body: (PostgresTransaction) async throws -> T) async throws -> T { try await transaction(.durable, body) }
    func writeProgress<T: Sendable>(_ body: (PostgresTransaction) async throws -> T) async throws -> T { try await transaction(.progress, body) }

    /// Maps the server's "disk full" and the conflicts a retry resolves (serialization, deadlock, a lost or refused
    /// connection) to `StoreFailure`, which the engine reports and retries.
    static func typed(_ error: any Error) -> any Error {
        if error is StoreFailure { return error }
        guard let e = error as? PSQLError else { return error }
        let state = e.serverInfo?[.sqlState] ?? ""
        switch state {
        case "53100": return StoreFailure.diskFull(describe(e))
        case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300": return StoreFailure.busy(describe(e))
        default: break
        }
        switch e.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown: return StoreFailure.busy(describe(e))
        case .poolClosed, .clientClosedConnection: return StoreFailure.closed
        default: return error
        }
    }

    /// The server's message and SQLSTATE, never the query's bound values (addresses) nor its detail line.
    static func describe(_ error: any Error) -> String {
        guard let e = error as? PSQLError else { return "\(error)" }
        if let info = e.serverInfo {
            return "\(info[.message] ?? "server error") (SQLSTATE \(info[.sqlState] ?? "?"))"
        }
        if let underlying = e.underlying { return "\(e.code): \(underlying)" }
        return "\(e.code)"
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    func erasedKey(_ key: String) -> String { erasureKey.hash(key) }

    func messageID(enrollmentID: Int64, stepID: String, domain: String) -> String {
        "<\(enrollmentID).\(stepID).\(instanceID)@\(domain)>"
    }

    /// Builds a domain lead from a row holding `PostgresSQL.leadColumns`.
    static func lead(from r: PostgresRecord) throws -> Lead {
        Lead(email: try EmailAddress(validating: try r["email"]), persona: try r["persona"], timeZone: try r["timezone"],
             locale: try r["locale"], fields: JSONText.decodeObject(try r["fields"]),
             consent: Consent(source: try r["consent_source"], at: date(try r["consent_at"]), text: try r["consent_text"], ip: try r["consent_ip"]),
             stage: LifecycleStage(rawValue: try r["stage"]) ?? .lead, score: try r["score"],
             recontactAfter: (try r["recontact_after"] as Int64?).map(date), fit: try r["fit"], fitGrade: try r["fit_grade"])
    }

    // MARK: leads

    public func prepare(_ leads: [Lead]) -> PreparedLeads { PreparedLeads.derive(leads, erasedKey: erasedKey) }

    /// Two probes and one statement per round trip of the batch (a round per repeat of an address within it, so
    /// a repeat updates the row its first occurrence wrote, as in SQLite).
    public func upsert(_ prepared: PreparedLeads, now: Date) async throws -> [UpsertOutcome] {
        let t = Self.millis(now)
        let leads = prepared.leads, keys = prepared.keys, erased = prepared.erasedKeys, fields = prepared.fields, fitRules = prepared.fitRules, scoring = prepared.scoring
        return try await write { [self] tx in
            let suppressed = Set(try await tx.rows(PostgresSQL.suppressedKeys(keys + erased)).map { try $0["email_key"] as String })
            var stored = Set(try await tx.rows(PostgresSQL.storedKeys(keys)).map { try $0["email_key"] as String })
            var outcomes = [UpsertOutcome](repeating: .unchanged, count: leads.count)
            var rounds: [[Int]] = [], seen: [String: Int] = [:]
            for (i, key) in keys.enumerated() {
                if suppressed.contains(key) || suppressed.contains(erased[i]) {
                    outcomes[i] = .suppressed
                    continue
                }
                let round = seen[key, default: 0]
                seen[key] = round + 1
                if round == rounds.count { rounds.append([]) }
                rounds[round].append(i)
            }
            for round in rounds {
                let existed = round.map { !stored.insert(keys[$0]).inserted }
                let rows = "[" + round.map { Self.leadJSON(leads[$0], key: keys[$0], fields: fields[$0]) }.joined(separator: ",") + "]"
                let changed = Set(try await tx.rows(PostgresSQL.upsertLeads(rows, now: t)).map { try $0["email_key"] as String })
                for (n, i) in round.enumerated() {
                    outcomes[i] = !existed[n] ? .inserted : (changed.contains(keys[i]) ? .updated : .unchanged)
                }
            }
            if !fitRules.isEmpty {
                let written = zip(keys, outcomes).filter { $0.1 == .inserted || $0.1 == .updated }.map(\.0)
                try await applyFit(tx, keys: Array(Set(written)), rules: fitRules, now: t, scoring: scoring)
            }
            return outcomes
        }
    }

    /// One lead as an object of `upsertLeads`' record set, built by hand (this runs for every imported row).
    static func leadJSON(_ lead: Lead, key: String, fields: String) -> String {
        func text(_ s: String?) -> String { s.map(JSONText.quoted) ?? "null" }
        return "{\"email\":\(JSONText.quoted(lead.email.value)),\"email_key\":\(JSONText.quoted(key)),\"persona\":\(JSONText.quoted(lead.persona)),"
            + "\"timezone\":\(text(lead.timeZone)),\"locale\":\(text(lead.locale)),\"fields\":\(fields),"
            + "\"consent_source\":\(JSONText.quoted(lead.consent.source)),\"consent_at\":\(millis(lead.consent.at)),"
            + "\"consent_text\":\(text(lead.consent.text)),\"consent_ip\":\(text(lead.consent.ip)),"
            + "\"recontact_after\":\(lead.recontactAfter.map { String(millis($0)) } ?? "null")}"
    }

    /// Puts an address on the suppression list; idempotent, and flushed before returning.
    public func suppress(_ email: EmailAddress, reason: String, now: Date) async throws {
        try await write { tx in try await tx.execute(PostgresSQL.suppress(email.key, reason: reason, now: Self.millis(now))) }
    }

    public func isSuppressed(_ email: EmailAddress) async throws -> Bool {
        let key = email.key, erased = erasedKey(email.key)
        return try await read { tx in try await tx.row(PostgresSQL.isSuppressed(key, erased: erased))?["suppressed"] ?? false }
    }

    public func lead(_ email: EmailAddress) async throws -> StoredLead? {
        try await read { tx in
            guard let row = try await tx.row(PostgresSQL.leadByKey(email.key)) else { return nil }
            let id: Int64 = try row["id"]
            let lead = try Self.lead(from: row)
            let enrollments = try await tx.rows(PostgresSQL.enrollmentsOfLead(id)).map { r in
                var e = EnrollmentSummary(sequenceID: try r["sequence_id"], state: EnrollmentState(rawValue: try r["state"]) ?? .exited,
                                          nextStep: try r["next_step"], enrolledAt: Self.date(try r["enrolled_at"]),
                                          endedAt: (try r["ended_at"] as Int64?).map(Self.date), endReason: try r["end_reason"])
                e.version = try r["version"]
                return e
            }
            let events = try await tx.rows(PostgresSQL.recentEventsOfLead(id, limit: 50)).map { r in
                EventSummary(type: try r["type"], sequenceID: try r["sequence_id"], stepID: try r["step_id"], machine: try r["machine"],
                             at: Self.date(try r["occurred_at"]), link: (try r["link"] as Int64?).map(Int.init), machineReason: try r["why"],
                             isRepeat: try r["repeated"], detail: try r["detail"])
            }
            let ledger = try await tx.rows(PostgresSQL.ledgerOfLead(id, limit: 50)).map { r in
                LedgerEntry(at: Self.date(try r["at"]), delta: try r["delta"], scoreAfter: try r["score_after"], cause: try r["cause"], kind: try r["kind"])
            }
            let sends = try await tx.rows(PostgresSQL.sendsOfLead(id, limit: 50)).map { r in
                SendSummary(outboxID: try r["id"], sequenceID: try r["sequence_id"], stepID: try r["step_id"],
                            status: OutboxStatus(rawValue: try r["status"]) ?? .failed, dueAt: Self.date(try r["due_at"]),
                            sentAt: (try r["sent_at"] as Int64?).map(Self.date), attempts: Int(try r["attempts"] as Int64), reason: try r["why"],
                            reply: try r["server_reply"], possiblySent: try r["possibly_sent"])
            }
            let suppression: String? = try await tx.row(PostgresSQL.suppressionReason(email.key))?["reason"]
            var stored = StoredLead(id: id, lead: lead, createdAt: Self.date(try row["created_at"]), updatedAt: Self.date(try row["updated_at"]),
                                    enrollments: enrollments, events: events, ledger: ledger, sends: sends, suppression: suppression)
            stored.handoffs = try await tx.rows(PostgresSQL.handoffsOfLead(id)).map(Self.handoffSummary)
            stored.pausedUntil = (try row["paused_until"] as Int64?).map(Self.date)
            stored.consentHistory = try await tx.rows(PostgresSQL.consentOfLead(id)).map { r in
                ConsentRecord(type: try r["type"], sequenceID: try r["sequence_id"], at: Self.date(try r["occurred_at"]), via: try r["via"],
                              until: try r["until"])
            }
            return stored
        }
    }

    /// The server's `synchronous_commit` inside the store's durable transactions, for tests.
    public func durableSynchronousCommit() async throws -> String {
        try await write { tx in try await tx.row("SHOW synchronous_commit")?["synchronous_commit"] ?? "" }
    }

    /// The same inside delivery-progress transactions, for tests.
    public func progressSynchronousCommit() async throws -> String {
        try await writeProgress { tx in try await tx.row("SHOW synchronous_commit")?["synchronous_commit"] ?? "" }
    }

    /// The migration versions recorded, for tests.
    public func appliedMigrations() async throws -> [Int64] {
        try await read { tx in try await tx.rows("SELECT version FROM schema_migration ORDER BY version").map { try $0["version"] } }
    }
}
