import Foundation
import NurtureCore
import PostgresNIO
import Testing
@testable import NurtureStore

/// `DatabaseCopy` below the CLI: the schema comparison, and all-or-nothing on a value PostgreSQL's type cannot hold.
struct DatabaseCopyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// The shipped schemas in small: every table db copy knows, with an id and one column each.
    static func schemas() -> (source: [String: [CopyPlan.SourceColumn]], target: [String: [CopyPlan.TargetColumn]]) {
        var source: [String: [CopyPlan.SourceColumn]] = [:], target: [String: [CopyPlan.TargetColumn]] = [:]
        for table in CopyPlan.order {
            source[table] = [.init(name: "id", type: "INTEGER"), .init(name: "note", type: "TEXT")]
            target[table] = [.init(name: "id", type: "bigint", nullable: false, hasDefault: true, identity: true),
                             .init(name: "note", type: "text", nullable: true, hasDefault: false, identity: false)]
        }
        return (source, target)
    }

    @Test func matchingSchemasCopyEveryColumnWithItsConversion() throws {
        var (source, target) = Self.schemas()
        source["outbox"]! += [.init(name: "possibly_sent", type: "INTEGER"), .init(name: "links", type: "TEXT"), .init(name: "score", type: "REAL")]
        target["outbox"]! += [.init(name: "possibly_sent", type: "boolean", nullable: false, hasDefault: true, identity: false),
                              .init(name: "links", type: "jsonb", nullable: true, hasDefault: false, identity: false),
                              .init(name: "score", type: "double precision", nullable: false, hasDefault: false, identity: false),
                              // PostgreSQL-only and optional (the cluster's lease): allowed, left to its default.
                              .init(name: "claimed_by", type: "text", nullable: true, hasDefault: false, identity: false)]
        let plan = try CopyPlan(source: source, autoincrement: ["lead", "outbox"], target: target)
        #expect(plan.tables.map(\.name) == CopyPlan.order)
        let outbox = try #require(plan.tables.first { $0.name == "outbox" })
        #expect(outbox.columns.map(\.kind) == [.integer, .text, .boolean, .json, .real])
        #expect(outbox.identity == "id")
    }

    @Test func aSchemaThatDriftedIsRefusedWithEveryProblemNamed() throws {
        var (source, target) = Self.schemas()
        source["lead"]! += [.init(name: "nickname", type: "TEXT"), .init(name: "score", type: "REAL")]
        target["lead"]! += [.init(name: "score", type: "text", nullable: false, hasDefault: false, identity: false),
                            .init(name: "region", type: "text", nullable: false, hasDefault: false, identity: false)]
        source["audit"] = [.init(name: "id", type: "INTEGER")]
        target["suppression"] = [.init(name: "note", type: "text", nullable: true, hasDefault: false, identity: false)]
        do {
            _ = try CopyPlan(source: source, autoincrement: ["suppression"], target: target)
            Issue.record("a drifted schema was accepted")
        } catch let DatabaseCopy.Failure.schemaMismatch(problems) {
            let text = problems.joined(separator: "\n")
            #expect(text.contains("SQLite table audit is not one db copy knows"), "\(text)")
            #expect(text.contains("lead.nickname is in SQLite but not in PostgreSQL"), "\(text)")
            #expect(text.contains("lead.score is REAL in SQLite but text in PostgreSQL"), "\(text)")
            #expect(text.contains("lead.region is required in PostgreSQL"), "\(text)")
            #expect(text.contains("suppression.id is in SQLite but not in PostgreSQL"), "\(text)")
            #expect(text.contains("suppression: SQLite never reuses its ids but PostgreSQL has no identity column"), "\(text)")
        }
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.skipReason))
    func aValueThePostgreSQLTypeCannotHoldRollsTheWholeCopyBack() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-copy-\(UUID().uuidString)").path
        let sqlite = try await SQLiteStore.open(path: folder + "/nurture.sqlite")
        let leads = try (0..<3).map { Lead(email: try EmailAddress(validating: "lead\($0)@example.com"), persona: "cto", consent: Consent(source: "test", at: now)) }
        _ = try await sqlite.upsert(sqlite.prepare(leads), now: now)
        // A SQLite boolean column holding neither 0 nor 1 (written behind the store's back, as a damaged file would).
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        shell.arguments = [folder + "/nurture.sqlite", "UPDATE lead SET needs_enrollment = 2 WHERE id = 3"]
        try shell.run()
        shell.waitUntilExit()
        let options = try await PostgresTestServer.freshDatabase()
        let target = try await PostgresStore.open(options, erasureKeyFile: folder + "/erasure.key")
        let instance = try await PostgresTestServer.metaInstance(options)
        do {
            _ = try await DatabaseCopy.copy(from: sqlite, to: target)
            Issue.record("copied a boolean of 2")
        } catch let DatabaseCopy.Failure.badValue(table, column, row, why) {
            #expect(table == "lead" && column == "needs_enrollment" && row == 3, "\(why)")
        }
        // Nothing stayed: no lead, and the target's own instance id is back.
        try await PostgresTestServer.admin(options) { c in
            let n = try await c.query("SELECT count(*) AS n FROM lead", logger: PostgresTestServer.logger).collect().first?
                .makeRandomAccess()["n"].decode(Int64.self)
            #expect(n == 0)
        }
        #expect(try await PostgresTestServer.metaInstance(options) == instance)
        // Repaired, the same target takes the copy.
        shell.arguments = [folder + "/nurture.sqlite", "UPDATE lead SET needs_enrollment = 1 WHERE id = 3"]
        let repair = Process()
        repair.executableURL = shell.executableURL
        repair.arguments = shell.arguments
        try repair.run()
        repair.waitUntilExit()
        let report = try await DatabaseCopy.copy(from: sqlite, to: target)
        #expect(report.tables.first { $0.table == "lead" } == .init(table: "lead", source: 3, copied: 3, nextID: 4))
        #expect(try await PostgresTestServer.metaInstance(options) != instance)
        // The foreign keys, dropped for the copy, are back exactly as a new database's migrations make them.
        let fresh = try await PostgresTestServer.freshDatabase()
        await (try await PostgresTestServer.open(fresh)).close()
        let copied = try await PostgresTestServer.foreignKeys(options), migrated = try await PostgresTestServer.foreignKeys(fresh)
        #expect(copied == migrated && copied.count == 14, "\(copied)")
        await target.close()
        await sqlite.close()
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.skipReason))
    func anOrphanRowInADamagedSQLiteFileFailsTheCopyOnItsForeignKeyAndNothingStays() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-copy-\(UUID().uuidString)").path
        let sqlite = try await SQLiteStore.open(path: folder + "/nurture.sqlite")
        let lead = Lead(email: try EmailAddress(validating: "ada@example.com"), persona: "cto", consent: Consent(source: "test", at: now))
        _ = try await sqlite.upsert(sqlite.prepare([lead]), now: now)
        // sqlite3's shell leaves foreign keys off: an enrollment of a lead that does not exist.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        shell.arguments = [folder + "/nurture.sqlite",
                           "INSERT INTO enrollment (lead_id, sequence_id, state, enrolled_at) VALUES (999, 'guide', 'active', 0)"]
        try shell.run()
        shell.waitUntilExit()
        let options = try await PostgresTestServer.freshDatabase()
        let target = try await PostgresStore.open(options, erasureKeyFile: folder + "/erasure.key")
        do {
            _ = try await DatabaseCopy.copy(from: sqlite, to: target)
            Issue.record("copied an orphan enrollment")
        } catch let DatabaseCopy.Failure.insertFailed(table, why) {
            #expect(table == "enrollment" && why.contains("enrollment_lead_id_fkey"), "\(why)")
        }
        try await PostgresTestServer.admin(options) { c in
            let n = try await c.query("SELECT count(*) AS n FROM lead", logger: PostgresTestServer.logger).collect().first?
                .makeRandomAccess()["n"].decode(Int64.self)
            #expect(n == 0)
        }
        #expect(try await PostgresTestServer.foreignKeys(options).count == 14)
        await target.close()
        await sqlite.close()
    }
}

extension PostgresTestServer {
    /// Every foreign key of the database as PostgreSQL prints it (`table name definition`), sorted.
    static func foreignKeys(_ options: PostgresStore.Options) async throws -> [String] {
        var keys: [String] = []
        try await admin(options) { c in
            let rows = try await c.query("""
                SELECT cl.relname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid) AS k
                FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid WHERE co.contype = 'f' ORDER BY 1
                """, logger: logger).collect()
            keys = try rows.map { try $0.makeRandomAccess()["k"].decode(String.self) }
        }
        return keys
    }

    /// The database's `instance` meta value, read on a connection of its own.
    static func metaInstance(_ options: PostgresStore.Options) async throws -> String? {
        var value: String?
        try await admin(options) { c in
            value = try await c.query("SELECT value FROM meta WHERE key = 'instance'", logger: logger).collect().first?
                .makeRandomAccess()["value"].decode(String.self)
        }
        return value
    }
}
