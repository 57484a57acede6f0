import Foundation
import Testing
import NurtureCore
import NurtureEngine
import NurtureStore

/// What goals, variants and holdouts rely on, on every store: a send keeps its variant, a held-out enrollment says
/// so, a goal is credited once to the last step sent before it, and stats count each side apart.
extension StoreContractTests {
    @Test(arguments: StoreKind.all)
    func aGoalIsCreditedOnceToTheLastVariantSentAndStatsCountHoldoutAndVariantsApart(kind: StoreKind) async throws {
        let store = try await kind.open()
        // Ada is mailed variant b; Bob is held out (enrolled, his step skipped).
        _ = try await store.upsert([try lead("ada@example.com"), try lead("bob@example.com")], now: now)
        let candidates = try await store.leadsAwaitingEnrollment(limit: 10)
        let ada = try #require(candidates.first { $0.lead.email.value == "ada@example.com" })
        let bob = try #require(candidates.first { $0.lead.email.value == "bob@example.com" })
        var held = NewEnrollment(leadID: bob.leadID, sequenceID: "s", firstStepID: "a", dueAt: now, messageDomain: "example.com")
        held.holdout = true
        try await store.applyEnrollments([NewEnrollment(leadID: ada.leadID, sequenceID: "s", firstStepID: "a", dueAt: now, messageDomain: "example.com"),
                                          held], considered: [ada.leadID, bob.leadID], now: now)
        let due = try await store.dueSends(at: now, limit: 10, recentSince: now.addingTimeInterval(-60))
        let adaDue = try #require(due.first { $0.leadID == ada.leadID }), bobDue = try #require(due.first { $0.leadID == bob.leadID })
        #expect(!adaDue.holdout && bobDue.holdout)
        _ = try await store.apply([.claim(outboxID: adaDue.outboxID),
                                   .skip(outboxID: bobDue.outboxID, enrollmentID: bobDue.enrollmentID, leadID: bob.leadID, sequenceID: "s",
                                         reason: "holdout: never mailed", next: nil)], now: now)
        _ = try await store.complete([.sent(outboxID: adaDue.outboxID, enrollmentID: adaDue.enrollmentID, leadID: ada.leadID, sequenceID: "s",
                                            stepID: "a", reply: "250 ok", links: [], next: nil, variant: "b")],
                                     thenClaim: [], now: now, scoring: scoring)
        let later = now.addingTimeInterval(3_600)
        for (email, times) in [(ada.lead.email, 2), (bob.lead.email, 1)] {
            for _ in 0..<times {
                var e = NewEvent(email: email, type: "converted", at: later)
                e.goals = [GoalWindow(sequenceID: "s", since: now.addingTimeInterval(-86_400))]
                _ = try await store.recordEvent(e, scoring: scoring)
            }
        }
        // Outside its window a goal credits nothing.
        var late = NewEvent(email: ada.lead.email, type: "converted", at: later)
        late.goals = [GoalWindow(sequenceID: "other", since: now)]
        _ = try await store.recordEvent(late, scoring: scoring)

        let all = if let q = store as? SQLiteStore { try await q.stats(since: nil) } else { try await (store as! PostgresStore).stats(since: nil) }
        let s = try #require(all.first { $0.sequenceID == "s" })
        #expect(s.enrolled == 2 && s.heldOut == 1 && s.goalConverted == 1 && s.holdoutConverted == 1, "\(s)")
        #expect(s.conversionRate == 1 && s.holdoutRate == 1)
        let b = try #require(s.steps.first { $0.variant == "b" })
        #expect(b.stepID == "a" && b.sent == 1 && b.conversions == 1, "\(s.steps)")
        #expect(!s.steps.contains { $0.variant == nil && $0.sent > 0 })
        await store.close()
    }
}
