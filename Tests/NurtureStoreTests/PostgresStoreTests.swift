import Foundation
import NurtureCore
import NurtureEngine
import NurtureStore
import PostgresNIO
import Testing

/// What only the PostgreSQL store owes (the shared semantics are in StoreContractTests, run against both stores).
@Suite(.enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.skipReason))
struct PostgresStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func twoStoresOpeningAnEmptyDatabaseAtTheSameMomentMigrateItOnce() async throws {
        let options = try await PostgresTestServer.freshDatabase()
        async let first = PostgresTestServer.open(options)
        async let second = PostgresTestServer.open(options)
        let (a, b) = try await (first, second)
        #expect(try await a.appliedMigrations() == [1, 2, 3, 4, 5, 6, 7])
        #expect(try await b.appliedMigrations() == [1, 2, 3, 4, 5, 6, 7])
        // Both see one schema: a lead written through one is read through the other.
        let lead = Lead(email: try EmailAddress(validating: "ada@example.com"), persona: "cto",
                        consent: Consent(source: "test", at: now))
        #expect(try await a.upsert([lead], now: now) == [.inserted])
        #expect(try await b.upsert([lead], now: now) == [.unchanged])
        await a.close()
        await b.close()
    }

    @Test func consentAndSuppressionCommitsAreFlushedEvenWhenTheServerDefaultIsAsynchronous() async throws {
        let options = try await PostgresTestServer.freshDatabase()
        try await PostgresTestServer.admin(options) { c in
            try await c.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(options.database) SET synchronous_commit = off"), logger: PostgresTestServer.logger)
        }
        let store = try await PostgresTestServer.open(options)
        #expect(try await store.durableSynchronousCommit() == "on")
        await store.close()
    }

    @Test func deliveryProgressCommitsWithoutWaitingForTheFlushEvenWhenTheServerDefaultIsSynchronous() async throws {
        let store = try await PostgresTestServer.open(try await PostgresTestServer.freshDatabase())
        #expect(try await store.progressSynchronousCommit() == "off")
        #expect(try await store.durableSynchronousCommit() == "on")
        await store.close()
    }

    @Test func severalDaemonNodesOpenTheSameDatabaseAndRegisterThemselves() async throws {
        let options = try await PostgresTestServer.freshDatabase()
        let a = try await PostgresTestServer.open(options, node: "node-a")
        let b = try await PostgresTestServer.open(options, node: "node-b")
        try await a.join(hostname: "host-a", version: "1", now: now)
        try await b.join(hostname: "host-b", version: "1", now: now)
        #expect(try await a.heartbeat(now: now.addingTimeInterval(1)).map(\.id) == ["node-a", "node-b"])
        // A clean stop removes the node; the other no longer counts it.
        try await b.leave(now: now.addingTimeInterval(2))
        #expect(try await a.heartbeat(now: now.addingTimeInterval(3)).map(\.id) == ["node-a"])
        // A node that stops beating is not live once its lease (30 s) has passed.
        let c = try await PostgresTestServer.open(options, node: "node-c")
        try await c.join(hostname: "host-c", version: "1", now: now)
        #expect(try await a.heartbeat(now: now.addingTimeInterval(31)).map(\.id) == ["node-a"])
        #expect(try await a.clusterNodes().map(\.id) == ["node-a", "node-c"]) // stats still lists it, as stopped
        for s in [a, b, c] { await s.close() }
    }

    @Test func aNodeGivenAnotherErasureKeyIsRefused() async throws {
        let options = try await PostgresTestServer.freshDatabase()
        let store = try await PostgresTestServer.open(options)
        await store.close()
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-pg-other-\(UUID().uuidString)/erasure.key").path
        do {
            _ = try await PostgresStore.open(options, erasureKeyFile: other)
            Issue.record("opened with another erasure key")
        } catch {
            #expect("\(error)".contains("give every node the same secrets.erasure_key_file"))
        }
    }

    @Test func aFailedTransactionIsRolledBackAndItsConnectionServesTheNextCall() async throws {
        // One connection: the failed transaction's connection is the one the next calls get.
        let store = try await PostgresTestServer.open(try await PostgresTestServer.freshDatabase(poolSize: 1))
        let ada = Lead(email: try EmailAddress(validating: "ada@example.com"), persona: "cto", consent: Consent(source: "test", at: now))
        // PostgreSQL refuses NUL in text: the batch fails inside its transaction, after the probes.
        let bad = Lead(email: try EmailAddress(validating: "bob@example.com"), persona: "cto", fields: ["note": "a\u{0}b"],
                       consent: Consent(source: "test", at: now))
        await #expect(throws: (any Error).self) { _ = try await store.upsert([ada, bad], now: now) }
        #expect(try await store.lead(ada.email) == nil) // nothing of the failed batch was committed
        #expect(try await store.upsert([ada], now: now) == [.inserted])
        #expect(try await store.lead(ada.email)?.lead.email == ada.email)
        await store.close()
    }

    @Test func aWrongPasswordIsAClearErrorWithoutThePassword() async throws {
        var options = try await PostgresTestServer.freshDatabase()
        options.password = "not-the-password-\(UUID().uuidString)"
        do {
            _ = try await PostgresStore.open(options, erasureKeyFile: PostgresTestServer.keyFile(for: options))
            Issue.record("opened with a wrong password")
        } catch {
            let text = "\(error)"
            #expect(text.contains("cannot open database postgresql://"))
            #expect(!text.contains(options.password!))
        }
    }
}

/// CI runs the PostgreSQL half of every store test; locally it is skipped, and says so, when no server is set up.
struct PostgresAvailabilityTests {
    @Test func ciAlwaysRunsThePostgreSQLStoreTests() {
        if PostgresTestServer.isCI {
            #expect(PostgresTestServer.isAvailable, "CI must export NURTURE_TEST_POSTGRES_URL (scripts/pg-test-server.sh start)")
        }
    }
}
