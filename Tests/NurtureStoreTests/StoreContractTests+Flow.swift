import Foundation
import Testing
import NurtureCore
import NurtureEngine
import NurtureStore

/// What waits and loops rely on, on every store: a wait row keeps its timeout, an event of the lead makes it due at
/// once, a decided one is `passed`, and a step visited again gets its own row and Message-ID.
extension StoreContractTests {
    @Test(arguments: StoreKind.all)
    func aWaitIsWokenByAnEventPassedAndARevisitGetsItsOwnRowAndMessageID(kind: StoreKind) async throws {
        let store = try await kind.open()
        let timeout = now.addingTimeInterval(5 * 86_400)
        let d = try await mailed(store, "ada@example.com", next: PlannedSend(stepID: "w", dueAt: now, messageDomain: "example.com",
                                                                             waitUntil: timeout, version: "v1"))
        let later = now.addingTimeInterval(60)
        // Postponed to its timeout, the wait is due again when the lead does something.
        var wait = try #require(try await store.dueSends(at: later, limit: 10, recentSince: now).first { $0.stepID == "w" })
        try await store.releaseLeads()
        #expect(wait.waitUntil == timeout && wait.visits == ["a": 1])
        try await store.apply([.postpone(outboxID: wait.outboxID, until: timeout, reason: "waiting for demo_requested")], now: later)
        #expect(try await store.dueSends(at: later, limit: 10, recentSince: now).isEmpty)
        try await store.releaseLeads()
        let eventAt = now.addingTimeInterval(3_600)
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "webinar_attended", at: eventAt), scoring: scoring)
        wait = try #require(try await store.dueSends(at: eventAt, limit: 10, recentSince: now).first { $0.stepID == "w" })
        try await store.releaseLeads()
        #expect(wait.eventsSinceEnrollment.contains("webinar_attended"))
        // Decided: back to step a, a second visit with a key and Message-ID of its own.
        try await store.apply([.pass(outboxID: wait.outboxID, enrollmentID: wait.enrollmentID, leadID: wait.leadID, sequenceID: "s",
                                     reason: "webinar_attended seen",
                                     next: PlannedSend(stepID: "a", dueAt: eventAt, messageDomain: "example.com", visit: 2, version: "v2"))],
                               now: eventAt)
        let again = try #require(try await store.dueSends(at: eventAt, limit: 10, recentSince: now).first)
        try await store.releaseLeads()
        #expect(again.stepID == "a" && again.outboxID != d.outboxID && again.messageID != d.messageID)
        #expect(again.visits == ["a": 1, "w": 1] && again.doneSteps == ["a", "w"] && again.waitUntil == nil)
        let stored = try #require(try await store.lead(d.lead.email))
        #expect(stored.sends.map { "\($0.stepID):\($0.status)" }.sorted() == ["a:scheduled", "a:sent", "w:passed"])
        await store.close()
    }
}
