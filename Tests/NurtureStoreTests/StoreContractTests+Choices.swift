import Foundation
import Testing
import NurtureCore
import NurtureEngine
import NurtureStore

/// What re-entry and the recipient's choices rely on, on every store: an ended enrollment is flagged for intake
/// once its cooldown is over (and only once), its history reaches intake, a choice ends one enrollment or pauses the
/// lead, durably and once, and the pause reaches the scheduler.
extension StoreContractTests {
    /// The unsubscribe page's store call, on whichever store this is (it is the HTTP side's protocol, not the daemon's).
    func choose(_ store: any DaemonStore, _ choice: RecipientChoice, _ outboxID: Int64, at: Date) async throws -> RecipientChoiceResult {
        if let s = store as? SQLiteStore { return try await s.recordChoice(choice, outboxID: outboxID, at: at, scoring: scoring) }
        return try await (store as! PostgresStore).recordChoice(choice, outboxID: outboxID, at: at, scoring: scoring)
    }

    @Test(arguments: StoreKind.all)
    func anEndedEnrollmentIsFlaggedForReentryOnceItsCooldownIsOverAndIntakeSeesItsHistory(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com")   // sent, no next step: completed now
        #expect(try await store.flagReentries(sequenceID: "s", endedBefore: now.addingTimeInterval(-1), limit: 10) == 0, "not yet")
        #expect(try await store.flagReentries(sequenceID: "other", endedBefore: now.addingTimeInterval(60), limit: 10) == 0)
        #expect(try await store.flagReentries(sequenceID: "s", endedBefore: now.addingTimeInterval(60), limit: 10) == 1)
        #expect(try await store.flagReentries(sequenceID: "s", endedBefore: now.addingTimeInterval(60), limit: 10) == 0, "once")
        let candidate = try #require(try await store.leadsAwaitingEnrollment(limit: 10).first)
        #expect(candidate.leadID == d.leadID)
        #expect(candidate.past["s"] == PastEnrollment(active: false, endedAt: now, endReason: "completed"))
        // A second run of the sequence: a new enrollment, rows and Message-IDs of its own.
        let later = now.addingTimeInterval(91 * 86_400)
        try await store.applyEnrollments([NewEnrollment(leadID: d.leadID, sequenceID: "s", firstStepID: "a", dueAt: later, messageDomain: "example.com")],
                                         considered: [d.leadID], now: later)
        let again = try #require(try await store.dueSends(at: later, limit: 10, recentSince: now).first)
        try await store.releaseLeads()
        #expect(again.enrollmentID != d.enrollmentID && again.outboxID != d.outboxID && again.messageID != d.messageID)
        #expect(again.engagement == Engagement(), "the first run's clicks are not this run's")
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aChoiceEndsOneEnrollmentOrPausesTheLeadOnceAndTheSchedulerSeesThePause(kind: StoreKind) async throws {
        let store = try await kind.open()
        let next = PlannedSend(stepID: "b", dueAt: now.addingTimeInterval(86_400), messageDomain: "example.com")
        let ada = try await mailed(store, "ada@example.com", next: next), bob = try await mailed(store, "bob@example.com", next: next)
        #expect(try await choose(store, .leaveSequence, ada.outboxID, at: now) == .left(sequenceID: "s"))
        #expect(try await choose(store, .leaveSequence, ada.outboxID, at: now) == .left(sequenceID: "s"))
        let until = now.addingTimeInterval(30 * 86_400)
        #expect(try await choose(store, .pause(days: 30), bob.outboxID, at: now) == .paused(until: until))
        // A shorter pause later never shortens a longer one.
        #expect(try await choose(store, .pause(days: 30), bob.outboxID, at: now.addingTimeInterval(-86_400)) == .paused(until: until))
        #expect(try await choose(store, .pause(days: 30), 987_654, at: now) == .unknownMessage)

        let left = try #require(try await store.lead(ada.lead.email))
        #expect(left.enrollments.map { "\($0.state):\($0.endReason ?? "")" } == ["exited:left by the recipient"])
        #expect(left.sends.map { "\($0.stepID):\($0.status)" }.sorted() == ["a:sent", "b:cancelled"])
        #expect(left.consentHistory.map { "\($0.type) \($0.sequenceID ?? "") \($0.via ?? "")" } == ["sequence_left s unsubscribe page"])
        #expect(left.suppression == nil)
        let paused = try #require(try await store.lead(bob.lead.email))
        #expect(paused.pausedUntil == until && paused.enrollments.map(\.state) == [.active])
        #expect(paused.consentHistory.map { "\($0.type) \($0.until ?? "")" } == ["paused \(DateText.iso(until))"])
        let due = try await store.dueSends(at: next.dueAt, limit: 10, recentSince: now)
        try await store.releaseLeads()
        #expect(due.map(\.leadID) == [bob.leadID] && due.first?.pausedUntil == until)

        // Once unsubscribed, nothing more to choose.
        _ = try await store.unsubscribe(outboxID: bob.outboxID, at: now, via: "one-click", scoring: scoring)
        while store.hasJournaledUnsubscribes { try await store.applyJournaledUnsubscribes(scoring: scoring) }
        #expect(try await choose(store, .leaveSequence, bob.outboxID, at: now) == .alreadyUnsubscribed)
        #expect(try await store.lead(bob.lead.email)?.consentHistory.map(\.type) == ["paused", "unsubscribe"])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func leavingASequenceThatAlreadyEndedKeepsItEndedForGood(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com")
        #expect(try await choose(store, .leaveSequence, d.outboxID, at: now) == .left(sequenceID: "s"))
        let past = try #require(try await store.lead(d.lead.email)?.enrollments.first)
        #expect(past.endReason == "left by the recipient (after completed)")
        #expect(try await choose(store, .leaveSequence, d.outboxID, at: now) == .left(sequenceID: "s"))
        #expect(try await store.lead(d.lead.email)?.consentHistory.count == 1)
        _ = try await store.flagReentries(sequenceID: "s", endedBefore: now.addingTimeInterval(60), limit: 10)
        let candidate = try #require(try await store.leadsAwaitingEnrollment(limit: 10).first)
        var s = NurtureSequence(id: "s", persona: "cto", name: "s", steps: [Step(id: "a", after: .zero, template: "t")])
        s.reenterAfter = .days(1)
        #expect(!ReentryPolicy.mayEnter(s, past: candidate.past["s"], now: now.addingTimeInterval(365 * 86_400)))
        await store.close()
    }
}
