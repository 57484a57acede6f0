import Foundation
import GRDB
import Testing
import NurtureCore
@testable import NurtureStore

/// State defects found when the daemon was attacked (issue 12), each against a real SQLite file.
struct StoreHardeningTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-hardening-\(UUID().uuidString)").path
    var path: String { folder + "/nurture.sqlite" }
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let scoring = ScoringContext(rules: ScoringRules(), handoffChannels: [])

    func lead(_ email: String) throws -> Lead {
        Lead(email: try EmailAddress(validating: email), persona: "cto", fields: ["first_name": "Ada"],
             consent: Consent(source: "test", at: now))
    }

    /// Enrolls `email` in a two-step sequence and claims its first send; returns that send.
    func enrollAndClaim(_ store: SQLiteStore, _ email: String) async throws -> DueSend {
        _ = try await store.upsert([try lead(email)], now: now)
        let candidate = try #require(try await store.leadsAwaitingEnrollment(limit: 10).first { $0.lead.email.value == email })
        try await store.applyEnrollments([NewEnrollment(leadID: candidate.leadID, sequenceID: "s", firstStepID: "one", dueAt: now,
                                                  messageDomain: "example.com")], considered: [candidate.leadID], now: now)
        let due = try #require(try await store.dueSends(at: now, limit: 10, recentSince: now.addingTimeInterval(-86_400)).first { $0.lead.email.value == email })
        #expect(try await store.apply([.claim(outboxID: due.outboxID)], now: now) == [due.outboxID])
        return due
    }

    func sent(_ d: DueSend, next: String?) -> DeliveryOutcome {
        .sent(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: d.sequenceID, stepID: d.stepID,
              reply: "250 ok", links: [], next: next.map { PlannedSend(stepID: $0, dueAt: now.addingTimeInterval(86_400), messageDomain: "example.com") })
    }

    func count(_ store: SQLiteStore, _ sql: String) throws -> Int {
        try store.pool.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    @Test func anEnrollmentEndedWhileItsMessageWasInFlightNeverGetsAnotherStep() async throws {
        let store = try await SQLiteStore.open(path: path)
        let d = try await enrollAndClaim(store, "ada@example.com")
        // A threshold hands the lead to sales while the first message transfers.
        try await store.endEnrollments([EnrollmentEnd(enrollmentID: d.enrollmentID, leadID: d.leadID, reason: "score >= 50", handoff: true,
                                                allOfLead: true)], now: now)
        try await store.complete([sent(d, next: "two")], thenClaim: [], now: now, scoring: scoring)
        #expect(try count(store, "SELECT count(*) FROM outbox WHERE step_id = 'two'") == 0)
        #expect(try count(store, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 1)
        #expect(try await store.nextDueAt() == nil)
    }

    @Test func aSendInFlightWhenItsEnrollmentEndedIsNotRetriedAfterACrash() async throws {
        let store = try await SQLiteStore.open(path: path)
        let d = try await enrollAndClaim(store, "ada@example.com")
        try await store.endEnrollments([EnrollmentEnd(enrollmentID: d.enrollmentID, leadID: d.leadID, reason: "handoff", handoff: true,
                                                allOfLead: true)], now: now)
        #expect(try await store.recoverInterrupted(now: now) == 0)
        #expect(try count(store, "SELECT count(*) FROM outbox WHERE status = 'cancelled' AND possibly_sent = 1") == 1)
        #expect(try await store.dueSends(at: now.addingTimeInterval(3_600), limit: 10, recentSince: now).isEmpty)
    }

    @Test func idsThatLeaveTheDatabaseAreNeverReusedAfterAnErasure() async throws {
        let store = try await SQLiteStore.open(path: path)
        let a = try await enrollAndClaim(store, "ada@example.com")
        try await store.complete([sent(a, next: "two")], thenClaim: [], now: now, scoring: scoring)
        let before = try store.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT max(l.id) AS l, max(e.id) AS e, max(o.id) AS o FROM lead l, enrollment e, outbox o")!
        }
        #expect(try await store.erase(a.lead.email, now: now) != nil)
        let b = try await enrollAndClaim(store, "bob@example.com")
        #expect(b.leadID > before["l"] as Int64)
        #expect(b.enrollmentID > before["e"] as Int64)
        #expect(b.outboxID > before["o"] as Int64)
        #expect(b.messageID != a.messageID)
        #expect(try await store.trackedMessage(a.outboxID) == nil) // a token for the erased message finds nothing
    }

    @Test func theMigrationBringsAnExistingDatabaseToIDsNeverReusedWithItsData() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A database as version 5 left it: plain INTEGER PRIMARY KEY, rows, and a deleted highest lead.
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator.migrate(queue, upTo: "v5-inactivity")
        try await queue.write { db in
            for i in 1...3 {
                try db.execute(sql: """
                    INSERT INTO lead (id, email, email_key, persona, consent_source, consent_at, created_at, updated_at)
                    VALUES (?, ?, ?, 'cto', 'test', 0, 0, 0)
                    """, arguments: [i, "l\(i)@example.com", "l\(i)@example.com"])
                try db.execute(sql: "INSERT INTO enrollment (id, lead_id, sequence_id, state, enrolled_at) VALUES (?, ?, 's', 'active', 0)",
                               arguments: [i, i])
            }
            try db.execute(sql: "DELETE FROM lead WHERE id = 2")
        }
        try queue.close()
        let store = try await SQLiteStore.open(path: path)
        #expect(try count(store, "SELECT count(*) FROM lead") == 2)
        #expect(try count(store, "SELECT count(*) FROM enrollment") == 2) // the cascade had removed lead 2's
        for table in ["lead", "enrollment", "outbox", "event", "score_ledger", "handoff"] {
            let sql = try await store.pool.read { db in try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [table]) }
            #expect(sql?.contains("AUTOINCREMENT") == true, "\(table)")
        }
        #expect(try count(store, "SELECT count(*) FROM sqlite_master WHERE name = 'lead_awaiting_enrollment'") == 1) // indexes kept
        _ = try await store.upsert([try lead("new@example.com")], now: now)
        try await store.erase(try EmailAddress(validating: "new@example.com"), now: now)
        _ = try await store.upsert([try lead("newer@example.com")], now: now)
        #expect(try count(store, "SELECT max(id) FROM lead") == 5)
    }

    @Test func theLifecycleMigrationKeepsEnrollmentsAndHandoffsAndLetsAnEndedSequenceBeEnteredAgain() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A database as version 9 left it: one enrollment per lead and sequence (a UNIQUE constraint), a hand-off.
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator.migrate(queue, upTo: "v9-inbound")
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO lead (id, email, email_key, persona, consent_source, consent_at, created_at, updated_at)
                VALUES (1, 'ada@example.com', 'ada@example.com', 'cto', 'test', 0, 0, 0);
                INSERT INTO enrollment (id, lead_id, sequence_id, state, enrolled_at, ended_at, end_reason)
                VALUES (1, 1, 's', 'exited', 0, 1, 'handed to sales');
                INSERT INTO enrollment (id, lead_id, sequence_id, state, enrolled_at) VALUES (2, 1, 't', 'active', 0);
                DELETE FROM enrollment WHERE id = 2;
                INSERT INTO outbox (id, enrollment_id, lead_id, sequence_id, step_id, idempotency_key, message_id, status, due_at, created_at, updated_at)
                VALUES (1, 1, 1, 's', 'a', '1:a', '<1.a@example.com>', 'sent', 0, 0, 0);
                INSERT INTO handoff (id, lead_id, channel, score, status, next_attempt_at, created_at) VALUES (1, 1, 'webhook', 60, 'delivered', 0, 0);
                INSERT INTO handoff (id, lead_id, channel, score, status, next_attempt_at, created_at) VALUES (2, 1, 'email', 60, 'delivered', 0, 0);
                INSERT INTO handoff (id, lead_id, channel, score, status, next_attempt_at, created_at) VALUES (3, 1, 'reply', 60, 'delivered', 0, 5);
                """)
        }
        try queue.close()
        let store = try await SQLiteStore.open(path: path)
        #expect(try count(store, "SELECT count(*) FROM outbox WHERE enrollment_id = 1") == 1) // the rebuild kept the rows they name
        // The old crossing told on two channels is one hand-off, answerable through either row; the reply is not one.
        #expect(try count(store, "SELECT count(*) FROM handoff WHERE crossing = 1") == 2)
        #expect(try count(store, "SELECT count(*) FROM handoff WHERE crossing IS NULL") == 1)
        #expect(try count(store, "SELECT count(*) FROM pragma_foreign_key_check") == 0)
        let sql = try await store.pool.read { db in try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'enrollment'") }
        #expect(sql?.contains("UNIQUE") == false && sql?.contains("AUTOINCREMENT") == true, "\(sql ?? "")")
        // Sales recycles the lead into the sequence it left: a second enrollment, while one active at a time stays the rule.
        let scoring = ScoringContext(rules: ScoringRules(points: [:], halfLife: nil), handoffChannels: [])
        var outcomes = HandoffOutcomeRule.allDefaults
        outcomes[.recycled] = HandoffOutcomeRule(stage: .lead, enroll: "s")
        _ = try await store.answerHandoff(1, HandoffAnswer(outcome: .recycled, at: now), outcomes: outcomes, scoring: scoring)
        let again = NewEnrollment(leadID: 1, sequenceID: "s", firstStepID: "a", dueAt: now, messageDomain: "example.com")
        try await store.applyPendingEnrollments([again, again], resolved: try await store.pendingEnrollments(at: now, limit: 10), now: now)
        #expect(try count(store, "SELECT count(*) FROM enrollment WHERE lead_id = 1") == 2)
        #expect(try count(store, "SELECT count(*) FROM enrollment WHERE lead_id = 1 AND state = 'active'") == 1)
        // The rebuild kept AUTOINCREMENT's mark: the deleted enrollment 2's id (in its Message-IDs) is not handed out again.
        #expect(try count(store, "SELECT max(id) FROM enrollment") == 3)
    }

    /// Item 12: every import batch of mixed personas dirtied the whole persona index (a third of its page writes).
    @Test func aReloadFindsConsideredLeadsByPersonaThroughAnIndexThatNewLeadsDoNotEnter() async throws {
        let store = try await SQLiteStore.open(path: path)
        var founder = try lead("bob@example.com")
        founder.persona = "founder"
        _ = try await store.upsert([try lead("ada@example.com"), founder], now: now)
        #expect(try count(store, "SELECT count(*) FROM lead INDEXED BY lead_persona_considered WHERE needs_enrollment = 0") == 0)
        let candidates = try await store.leadsAwaitingEnrollment(limit: 10)
        try await store.applyEnrollments([], considered: candidates.map(\.leadID), now: now)
        #expect(try count(store, "SELECT count(*) FROM lead INDEXED BY lead_persona_considered WHERE needs_enrollment = 0") == 2)
        let plan = try await store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQL.reconsider(personas: 1), arguments: ["cto"]).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("USING INDEX lead_persona_considered") }, "\(plan)")
        try await store.reconsiderLeads(personas: ["cto"])
        #expect(try await store.leadsAwaitingEnrollment(limit: 10).map(\.lead.email.value) == ["ada@example.com"])
    }

    @Test func theErasureKeyLivesInASecretFileNotInTheDatabase() async throws {
        let keyFile = folder + "/secrets/erasure.key"
        let store = try await SQLiteStore.open(path: path, erasureKeyFile: keyFile)
        #expect(try count(store, "SELECT count(*) FROM meta WHERE key = 'erasure_key'") == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let gone = try EmailAddress(validating: "gone@example.com")
        try await store.erase(gone, now: now)
        #expect(try await store.isSuppressed(gone))
        // The same database with another key cannot recognise the hash: the key, not the database, holds the secret.
        let other = try await SQLiteStore.open(path: path, erasureKeyFile: folder + "/other.key")
        #expect(try await other.isSuppressed(gone) == false)
        #expect(try await SQLiteStore.open(path: path, erasureKeyFile: keyFile).isSuppressed(gone))
    }

    @Test func anOlderDatabasesErasureKeyMovesToTheFileAndStillMatchesItsHashes() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator.migrate(queue, upTo: "v5-inactivity")
        let hex = try await queue.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'erasure_key'")! }
        let legacy = ErasureKey(key: .init(data: Hex.bytes(hex)!))
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO suppression (email_key, reason, created_at) VALUES (?, 'erased', 0)",
                           arguments: [legacy.hash("gone@example.com")])
        }
        try queue.close()
        let store = try await SQLiteStore.open(path: path)
        #expect(try await store.isSuppressed(try EmailAddress(validating: "gone@example.com")))
        #expect(try String(contentsOfFile: folder + "/erasure.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == hex)
        #expect(try count(store, "SELECT count(*) FROM meta WHERE key = 'erasure_key'") == 0)
    }

    @Test func aNewDatabaseTakesAProvisionedKeyFileAndAConflictingOneIsRefusedOnlyWhenErasuresDependOnTheOldKey() async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let provisioned = folder + "/provisioned.key"
        try (String(repeating: "ab", count: 32) + "\n").write(toFile: provisioned, atomically: true, encoding: .utf8) // as `make install` does
        let store = try await SQLiteStore.open(path: path, erasureKeyFile: provisioned)
        #expect(try count(store, "SELECT count(*) FROM meta WHERE key = 'erasure_key'") == 0)
        // An older database whose erasures were keyed by its own key: another file would orphan them.
        let old = folder + "/old.sqlite"
        let queue = try DatabaseQueue(path: old)
        try Migrations.migrator.migrate(queue, upTo: "v5-inactivity")
        try await queue.write { db in try db.execute(sql: "INSERT INTO suppression (email_key, reason, created_at) VALUES ('erased:x', 'erased', 0)") }
        try queue.close()
        await #expect(throws: (any Error).self) { try await SQLiteStore.open(path: old, erasureKeyFile: provisioned) }
    }

    @Test func erasureLeavesNoTraceOfTheAddressInTheDatabaseFiles() async throws {
        let store = try await SQLiteStore.open(path: path)
        let d = try await enrollAndClaim(store, "traceable.person@example.com")
        try await store.complete([sent(d, next: "two")], thenClaim: [], now: now, scoring: scoring)
        try await store.erase(d.lead.email, now: now)
        for file in [path, path + "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
            #expect(bytes.range(of: Data("traceable.person".utf8)) == nil, "\(file)")
        }
    }

    @Test func hexFormattingMatchesFoundation() {
        let bytes: [UInt8] = [0, 1, 0x0f, 0x10, 0xab, 0xff]
        #expect(Hex.string(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(Hex.bytes("0001 ") == nil)
        #expect(Hex.bytes("00010fab") == [0, 1, 0x0f, 0xab])
    }

    @Test func rescoreIsAPureReplayInactivityChargesIncluded() async throws {
        let store = try await SQLiteStore.open(path: path)
        var rules = ScoringRules()
        rules.points = ["demo_requested": 30, "inactivity": -10, "open": 1]
        rules.halfLife = .days(30)
        rules.thresholds = [ScoreThreshold(at: 20, stage: .mql)]
        let context = ScoringContext(rules: rules, handoffChannels: [])
        _ = try await store.upsert([try lead("ada@example.com")], now: now)
        let ada = try EmailAddress(validating: "ada@example.com")
        _ = try await store.recordEvent(NewEvent(email: ada, type: "demo_requested", at: now.addingTimeInterval(3_600)), scoring: context)
        let later = now.addingTimeInterval(90 * 86_400)
        #expect(try await store.scoreInactivity(before: later.addingTimeInterval(-60 * 86_400), now: later, limit: 10, context: context,
                                          silence: .days(60)) == 1)
        #expect(try count(store, "SELECT count(*) FROM event WHERE type = 'inactivity'") == 1) // the charge left an event
        // Unchanged rules, much later (decay included): nothing to report.
        #expect(try await store.rescore(rules: rules, now: later.addingTimeInterval(10 * 86_400), dryRun: true) == [])
        #expect(try await store.rescore(rules: rules, now: later.addingTimeInterval(10 * 86_400), dryRun: true, chunk: 1) == [])
        rules.points["demo_requested"] = 60
        #expect(try await store.rescore(rules: rules, now: later, dryRun: true).count == 1)
    }

    @Test func fieldJSONIsBuiltByByteAndRoundTrips() {
        let fields = ["b": "x\"\\\n\r\t\u{1}é😀", "a": "plain", "c": ""]
        #expect(JSONText.object(fields) == #"{"a":"plain","b":"x\"\\\n\r\t\u0001é😀","c":""}"#)
        #expect(JSONText.decodeObject(JSONText.object(fields)) == fields)
    }
}
