import Foundation
import Testing
import NurtureCore
import NurtureStore

/// Against a real SQLite file in a temporary folder.
struct SQLiteStoreTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-store-\(UUID().uuidString)/db/nurture.sqlite").path
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func lead(_ email: String, fields: [String: String] = ["first_name": "Ada"], persona: String = "cto") throws -> Lead {
        Lead(email: try EmailAddress(validating: email), persona: persona, fields: fields,
             consent: Consent(source: "test", at: now, text: "I agree", ip: "192.0.2.1"))
    }

    @Test func createsFolderAndRunsInWALWithFullSync() async throws {
        let store = try await SQLiteStore.open(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try await store.journalMode() == "wal")
        #expect(try await store.writerSynchronousLevel() == 2)
        _ = try await SQLiteStore.open(path: path) // migrating again is a no-op
    }

    @Test func upsertReportsWhatChanged() async throws {
        let store = try await SQLiteStore.open(path: path)
        let a = try lead("ada@example.com"), b = try lead("bob@example.com")
        #expect(try await store.upsert([a, b], now: now) == [.inserted, .inserted])
        #expect(try await store.upsert([a, b], now: now.addingTimeInterval(60)) == [.unchanged, .unchanged])
        var changed = a
        changed.fields["company"] = "Analytical"
        #expect(try await store.upsert([changed, b], now: now.addingTimeInterval(120)) == [.updated, .unchanged])
        let stored = try #require(try await store.lead(a.email))
        #expect(stored.lead.fields == ["first_name": "Ada", "company": "Analytical"])
        #expect(stored.createdAt == now)
        #expect(stored.updatedAt == now.addingTimeInterval(120))
    }

    @Test func mergesFieldsAndKeepsTheFirstConsent() async throws {
        let store = try await SQLiteStore.open(path: path)
        _ = try await store.upsert([try lead("ada@example.com", fields: ["first_name": "Ada", "company": "A"])], now: now)
        var later = try lead("ADA@EXAMPLE.COM", fields: ["company": "B"])
        later.consent = Consent(source: "other", at: now.addingTimeInterval(999))
        #expect(try await store.upsert([later], now: now) == [.updated])
        let stored = try #require(try await store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(stored.lead.fields == ["first_name": "Ada", "company": "B"])
        #expect(stored.lead.consent == Consent(source: "test", at: now, text: "I agree", ip: "192.0.2.1"))
        #expect(stored.lead.email.value == "ada@example.com")
    }

    @Test func suppressedAddressesAreNeverStored() async throws {
        let store = try await SQLiteStore.open(path: path)
        let a = try lead("gone@example.com")
        try await store.suppress(try EmailAddress(validating: "Gone@Example.com"), reason: "unsubscribed", now: now)
        try await store.suppress(a.email, reason: "unsubscribed", now: now)
        #expect(try await store.isSuppressed(a.email))
        #expect(try await store.upsert([a], now: now) == [.suppressed])
        #expect(try await store.lead(a.email) == nil)
    }

    @Test func hostileTextIsStoredVerbatimThroughBoundParameters() async throws {
        let store = try await SQLiteStore.open(path: path)
        let a = try lead("x@example.com", fields: ["first_name": "Robert'); DROP TABLE lead;--", "company": "\"quoted\" \\ back"])
        _ = try await store.upsert([a], now: now)
        #expect(try await store.lead(a.email)?.lead.fields == a.fields)
        #expect(try await store.upsert([a], now: now) == [.unchanged])
    }
}
