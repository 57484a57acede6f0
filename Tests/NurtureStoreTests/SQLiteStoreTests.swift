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

    @Test func createsFolderAndRunsInWALWithFullSync() throws {
        let store = try SQLiteStore(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try store.journalMode() == "wal")
        #expect(try store.writerSynchronousLevel() == 2)
        _ = try SQLiteStore(path: path) // migrating again is a no-op
    }

    @Test func upsertReportsWhatChanged() throws {
        let store = try SQLiteStore(path: path)
        let a = try lead("ada@example.com"), b = try lead("bob@example.com")
        #expect(try store.upsert([a, b], now: now) == [.inserted, .inserted])
        #expect(try store.upsert([a, b], now: now.addingTimeInterval(60)) == [.unchanged, .unchanged])
        var changed = a
        changed.fields["company"] = "Analytical"
        #expect(try store.upsert([changed, b], now: now.addingTimeInterval(120)) == [.updated, .unchanged])
        let stored = try #require(try store.lead(a.email))
        #expect(stored.lead.fields == ["first_name": "Ada", "company": "Analytical"])
        #expect(stored.createdAt == now)
        #expect(stored.updatedAt == now.addingTimeInterval(120))
    }

    @Test func mergesFieldsAndKeepsTheFirstConsent() throws {
        let store = try SQLiteStore(path: path)
        _ = try store.upsert([try lead("ada@example.com", fields: ["first_name": "Ada", "company": "A"])], now: now)
        var later = try lead("ADA@EXAMPLE.COM", fields: ["company": "B"])
        later.consent = Consent(source: "other", at: now.addingTimeInterval(999))
        #expect(try store.upsert([later], now: now) == [.updated])
        let stored = try #require(try store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(stored.lead.fields == ["first_name": "Ada", "company": "B"])
        #expect(stored.lead.consent == Consent(source: "test", at: now, text: "I agree", ip: "192.0.2.1"))
        #expect(stored.lead.email.value == "ada@example.com")
    }

    @Test func suppressedAddressesAreNeverStored() throws {
        let store = try SQLiteStore(path: path)
        let a = try lead("gone@example.com")
        try store.suppress(try EmailAddress(validating: "Gone@Example.com"), reason: "unsubscribed", now: now)
        try store.suppress(a.email, reason: "unsubscribed", now: now)
        #expect(try store.isSuppressed(a.email))
        #expect(try store.upsert([a], now: now) == [.suppressed])
        #expect(try store.lead(a.email) == nil)
    }

    @Test func hostileTextIsStoredVerbatimThroughBoundParameters() throws {
        let store = try SQLiteStore(path: path)
        let a = try lead("x@example.com", fields: ["first_name": "Robert'); DROP TABLE lead;--", "company": "\"quoted\" \\ back"])
        _ = try store.upsert([a], now: now)
        #expect(try store.lead(a.email)?.lead.fields == a.fields)
        #expect(try store.upsert([a], now: now) == [.unchanged])
    }
}
