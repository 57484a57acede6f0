import Foundation
import Testing
import NurtureCore
import NurtureEngine
import NurtureStore

/// What the lifecycle after the hand-off relies on, on every store: sales' answer applies once, moves the lead as
/// configured, re-enters a sequence after its cooldown, reminds an unanswered hand-off once, and fit is computed
/// and explained where leads are written.
extension StoreContractTests {
    var lifecycleScoring: ScoringContext {
        ScoringContext(rules: ScoringRules(points: ["demo_requested": 30], halfLife: nil, thresholds: [ScoreThreshold(at: 25, handoff: true)]),
                       handoffChannels: ["webhook", "email"], sla: HandoffSLA(span: .elapsed(.days(2)), timeZone: "Europe/Paris"))
    }

    /// A mailed lead that crossed the hand-off threshold; returns its due send and the hand-off's id.
    func handedOff(_ store: any DaemonStore, _ email: String) async throws -> (DueSend, Int64) {
        let d = try await mailed(store, email)
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "demo_requested", at: now), scoring: lifecycleScoring)
        let rows = try await store.dueHandoffs(at: now, limit: 10).filter { $0.leadID == d.leadID }
        #expect(rows.map(\.channel).sorted() == ["email", "webhook"])
        let crossing = try #require(rows.first?.crossing)
        #expect(rows.allSatisfy { $0.crossing == crossing && !$0.reminder && $0.slaDueAt == now.addingTimeInterval(2 * 86_400) })
        return (d, crossing)
    }

    @Test(arguments: StoreKind.all)
    func salesAnswerAppliesOnceMovesTheLeadAndNamesAnyRowOfTheHandoff(kind: StoreKind) async throws {
        let store = try await kind.open()
        let (d, crossing) = try await handedOff(store, "ada@example.com")
        let other = try #require(try await store.dueHandoffs(at: now, limit: 10).first { $0.id != crossing }?.id)
        var outcomes = HandoffOutcomeRule.allDefaults
        outcomes[.won] = HandoffOutcomeRule(stage: .customer, enroll: "onboarding", resetScore: true)
        let at = now.addingTimeInterval(3_600)
        // Answered through the second channel's delivery id: the same hand-off.
        let r = try #require(try await store.answerHandoff(other, HandoffAnswer(outcome: .won, reason: "signed", at: at), outcomes: outcomes,
                                                           scoring: lifecycleScoring))
        #expect(r.crossing == crossing && r.changed && r.previous == nil && r.stage == .customer && r.score == 0)
        let again = try #require(try await store.answerHandoff(crossing, HandoffAnswer(outcome: .won, at: at), outcomes: outcomes, scoring: lifecycleScoring))
        #expect(!again.changed && again.previous == .won)
        #expect(try await store.answerHandoff(999_999, HandoffAnswer(outcome: .won, at: at), outcomes: outcomes, scoring: lifecycleScoring) == nil)
        let stored = try #require(try await store.lead(d.lead.email))
        #expect(stored.lead.stage == .customer && stored.lead.score == 0)
        #expect(stored.handoffs.count == 2 && stored.handoffs.allSatisfy { $0.outcome == .won && $0.outcomeReason == "signed" && $0.answeredAt == at })
        #expect(stored.events.filter { $0.type == "handoff_won" }.count == 1 && stored.events.contains { $0.type == "score_reset" })
        #expect(stored.ledger.contains { $0.cause == "hand-off \(crossing): sales answered won (signed)" })
        #expect(stored.ledger.contains { $0.cause == "score reset: won" && $0.delta == -30 })
        #expect(stored.ledger.contains { $0.cause.hasPrefix("stage → CUSTOMER") })
        #expect(try await store.pendingEnrollments(at: at, limit: 10).map(\.sequenceID) == ["onboarding"])
        let stats = try await store.handoffStats(now: at)
        #expect(stats.count == 1 && stats[0].sequenceID == "s" && stats[0].handedOff == 1 && stats[0].outcomes[.won] == 1)
        #expect(stats[0].acceptanceRate == 1 && stats[0].winRate == 1 && stats[0].meanTimeToAccept == 3_600)
        let export = "\(try #require(try await store.export(d.lead.email)).document)"
        #expect(export.contains("signed") && export.contains("handoff_won"))
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aRecycledLeadReentersTheSequenceItLeftOnlyAfterTheCooldown(kind: StoreKind) async throws {
        let store = try await kind.open()
        let (d, crossing) = try await handedOff(store, "ada@example.com")
        #expect(try #require(try await store.lead(d.lead.email)).enrollments.allSatisfy { $0.state != .active })
        var outcomes = HandoffOutcomeRule.allDefaults
        outcomes[.recycled] = HandoffOutcomeRule(stage: .lead, enroll: "s", after: .days(30))
        _ = try await store.answerHandoff(crossing, HandoffAnswer(outcome: .recycled, reason: "not ready", at: now), outcomes: outcomes,
                                          scoring: lifecycleScoring)
        #expect(try await store.pendingEnrollments(at: now.addingTimeInterval(29 * 86_400), limit: 10).isEmpty)
        let later = now.addingTimeInterval(30 * 86_400)
        let requests = try await store.pendingEnrollments(at: later, limit: 10)
        #expect(requests.map(\.sequenceID) == ["s"])
        try await store.applyPendingEnrollments([NewEnrollment(leadID: d.leadID, sequenceID: "s", firstStepID: "a", dueAt: later, messageDomain: "example.com")],
                                                resolved: requests, now: later)
        let stored = try #require(try await store.lead(d.lead.email))
        #expect(stored.lead.stage == .lead && stored.lead.score == 30) // kept: the rule does not reset it
        #expect(stored.lead.recontactAfter == later) // the cooldown holds all its nurturing
        #expect(stored.enrollments.filter { $0.sequenceID == "s" }.count == 2 && stored.enrollments.filter { $0.state == .active }.count == 1)
        let due = try await store.dueSends(at: later, limit: 10, recentSince: later.addingTimeInterval(-86_400))
        #expect(due.count == 1 && due[0].stepID == "a" && due[0].outboxID != d.outboxID)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aChangedAnswerReplacesWhatTheEarlierOneAskedFor(kind: StoreKind) async throws {
        let store = try await kind.open()
        let (d, crossing) = try await handedOff(store, "ada@example.com")
        var outcomes = HandoffOutcomeRule.allDefaults
        outcomes[.recycled] = HandoffOutcomeRule(stage: .lead, enroll: "s", after: .days(30))
        _ = try await store.answerHandoff(crossing, HandoffAnswer(outcome: .recycled, at: now), outcomes: outcomes, scoring: lifecycleScoring)
        // Sales changes its mind: the lead is worked after all, so it does not come back to nurturing in 30 days.
        _ = try await store.answerHandoff(crossing, HandoffAnswer(outcome: .accepted, at: now), outcomes: outcomes, scoring: lifecycleScoring)
        #expect(try await store.pendingEnrollments(at: now.addingTimeInterval(31 * 86_400), limit: 10).isEmpty)
        #expect(try #require(try await store.lead(d.lead.email)).lead.stage == .sql)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aRequestWhoseCooldownMovedSinceItWasReadIsNeitherAppliedNorDropped(kind: StoreKind) async throws {
        let store = try await kind.open()
        let (d, crossing) = try await handedOff(store, "ada@example.com")
        var outcomes = HandoffOutcomeRule.allDefaults
        outcomes[.recycled] = HandoffOutcomeRule(stage: .lead, enroll: "s")
        _ = try await store.answerHandoff(crossing, HandoffAnswer(outcome: .recycled, at: now), outcomes: outcomes, scoring: lifecycleScoring)
        let read = try await store.pendingEnrollments(at: now, limit: 10)
        #expect(read.count == 1)
        // Meanwhile, another answer gives it a cooldown.
        outcomes[.lost] = HandoffOutcomeRule(stage: .lead, enroll: "s", after: .days(30))
        _ = try await store.answerHandoff(crossing, HandoffAnswer(outcome: .lost, at: now), outcomes: outcomes, scoring: lifecycleScoring)
        try await store.applyPendingEnrollments([NewEnrollment(leadID: d.leadID, sequenceID: "s", firstStepID: "a", dueAt: now, messageDomain: "example.com")],
                                                resolved: read, now: now)
        #expect(try #require(try await store.lead(d.lead.email)).enrollments.filter { $0.state == .active }.isEmpty)
        #expect(try await store.pendingEnrollments(at: now.addingTimeInterval(30 * 86_400), limit: 10).count == 1)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aThresholdsEnrollmentNeverReentersASequenceTheLeadWasIn(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com")
        try await store.endEnrollments([EnrollmentEnd(enrollmentID: d.enrollmentID, leadID: d.leadID, reason: "done", handoff: false, allOfLead: false)],
                                       now: now)
        let enroll = ScoringContext(rules: ScoringRules(points: ["demo_requested": 30], halfLife: nil, thresholds: [ScoreThreshold(at: 25, enroll: "s")]),
                                    handoffChannels: [])
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "demo_requested", at: now), scoring: enroll)
        let requests = try await store.pendingEnrollments(at: now, limit: 10)
        #expect(requests.map(\.sequenceID) == ["s"])
        try await store.applyPendingEnrollments([NewEnrollment(leadID: d.leadID, sequenceID: "s", firstStepID: "a", dueAt: now, messageDomain: "example.com")],
                                                resolved: requests, now: now)
        #expect(try #require(try await store.lead(d.lead.email)).enrollments.count == 1)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func anUnansweredHandoffIsRemindedOnceAfterItsSLAAndNotAfterAnAnswer(kind: StoreKind) async throws {
        let store = try await kind.open()
        let (_, crossing) = try await handedOff(store, "ada@example.com")
        let (_, answered) = try await handedOff(store, "bob@example.com")
        for h in try await store.dueHandoffs(at: now, limit: 10) { try await store.handoffDelivered(h.id, at: now) }
        _ = try await store.answerHandoff(answered, HandoffAnswer(outcome: .accepted, at: now), outcomes: HandoffOutcomeRule.allDefaults,
                                          scoring: lifecycleScoring)
        #expect(try await store.queueReminders(at: now.addingTimeInterval(86_400), channels: nil, limit: 10) == 0)
        let due = now.addingTimeInterval(2 * 86_400)
        let before = HandoffStats.total(try await store.handoffStats(now: due))
        #expect(before.handedOff == 2 && before.awaiting == 1 && before.overdue == 1 && before.outcomes[.accepted] == 1)
        #expect(try await store.queueReminders(at: due, channels: ["email"], limit: 10) == 1)
        #expect(try await store.queueReminders(at: due.addingTimeInterval(86_400), channels: nil, limit: 10) == 0)
        let reminders = try await store.dueHandoffs(at: due, limit: 10)
        #expect(reminders.count == 1 && reminders[0].reminder && reminders[0].crossing == crossing && reminders[0].channel == "email")
        // Still counted once, and answering through the reminder's id answers the hand-off.
        #expect(HandoffStats.total(try await store.handoffStats(now: due)).handedOff == 2)
        let r = try #require(try await store.answerHandoff(reminders[0].id, HandoffAnswer(outcome: .rejected, reason: "no budget", at: due),
                                                           outcomes: HandoffOutcomeRule.allDefaults, scoring: lifecycleScoring))
        #expect(r.crossing == crossing && r.stage == .disqualified)
        // Answered before its reminder went out: the reminder is cancelled, and no stale attempt time is left.
        #expect(try await store.dueHandoffs(at: due, limit: 10).isEmpty)
        #expect(try await store.nextHandoffAt() == nil)
        #expect(try #require(try await store.lead(try EmailAddress(validating: "ada@example.com"))).handoffs.contains { $0.reminder && $0.status == "cancelled" })
        let after = HandoffStats.total(try await store.handoffStats(now: due))
        #expect(after.awaiting == 0 && after.overdue == 0 && after.outcomes[.rejected] == 1)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aHandoffWithNoChannelIsRecordedWithAnIdSalesCanAnswer(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com")
        let silent = ScoringContext(rules: lifecycleScoring.rules, handoffChannels: [])
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "demo_requested", at: now), scoring: silent)
        #expect(try await store.dueHandoffs(at: now, limit: 10).isEmpty) // nothing to deliver
        let stored = try #require(try await store.lead(d.lead.email))
        let row = try #require(stored.handoffs.first)
        #expect(stored.handoffs.count == 1 && row.channel == "none" && row.status == "delivered" && row.crossing == row.id)
        let r = try #require(try await store.answerHandoff(row.id, HandoffAnswer(outcome: .accepted, at: now), outcomes: HandoffOutcomeRule.allDefaults,
                                                           scoring: silent))
        #expect(r.changed && r.stage == .sql)
        #expect(HandoffStats.total(try await store.handoffStats(now: now)).outcomes[.accepted] == 1)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func anExitRulesHandoffTellsSalesLikeAThresholds(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        _ = try await store.apply([.exit(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, reason: "event demo_requested",
                                         handoff: true, allOfLead: true)], now: now, handoff: lifecycleScoring)
        let rows = try await store.dueHandoffs(at: now, limit: 10)
        #expect(rows.map(\.channel).sorted() == ["email", "webhook"] && Set(rows.compactMap(\.crossing)).count == 1)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func fitIsComputedWhereLeadsAreWrittenAndEachPointIsExplained(kind: StoreKind) async throws {
        let store = try await kind.open()
        let rules = FitRules(rules: [
            FitRule(test: .field("job_title", .pattern(#"\bcto\b"#)), points: 20, label: "job_title ~ cto"),
            FitRule(test: .emailDomain(.freeMail), points: -10, label: "free-mail address"),
        ])
        func lead(_ title: String) throws -> Lead {
            Lead(email: try EmailAddress(validating: "ada@gmail.com"), persona: "cto", fields: ["job_title": title],
                 consent: Consent(source: "test", at: now))
        }
        #expect(try await store.upsert([try lead("CTO")], now: now, fit: rules) == [.inserted])
        var stored = try #require(try await store.lead(try EmailAddress(validating: "ada@gmail.com")))
        #expect(stored.lead.fit == 10 && stored.lead.fitGrade == "C" && stored.lead.score == 0)
        #expect(Set(stored.ledger.filter { $0.kind == "fit" }.map(\.delta)) == [20, -10])
        #expect(try await store.upsert([try lead("CTO")], now: now, fit: rules) == [.unchanged])
        #expect(try await store.upsert([try lead("Intern")], now: now, fit: rules) == [.updated])
        stored = try #require(try await store.lead(try EmailAddress(validating: "ada@gmail.com")))
        #expect(stored.lead.fit == -10 && stored.lead.fitGrade == "D")
        let fitLines = stored.ledger.filter { $0.kind == "fit" }
        #expect(fitLines.count == 3 && fitLines[0].delta == -20 && fitLines[0].scoreAfter == -10 && fitLines[0].cause.contains("no longer"))
        // A rescore under changed rules recomputes the fit too, and says so.
        var changed = ScoringRules(points: [:], halfLife: nil)
        changed.fit = FitRules(rules: [FitRule(test: .emailDomain(.freeMail), points: -5, label: "free-mail address")])
        let report = try await (store as! any RescoringStore).rescore(rules: changed, now: now, dryRun: false, chunk: 10)
        #expect(report.count == 1 && report[0].fitBefore == -10 && report[0].fitAfter == -5)
        #expect(try #require(try await store.lead(try EmailAddress(validating: "ada@gmail.com"))).lead.fit == -5)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aFitChangeCanCrossAThresholdThatNeedsBothScores(kind: StoreKind) async throws {
        let store = try await kind.open()
        let title = FitRules(rules: [FitRule(test: .field("job_title", .pattern(#"\bcto\b"#)), points: 20, label: "job_title ~ cto")])
        var rules = ScoringRules(points: ["demo_requested": 60], halfLife: nil,
                                 thresholds: [ScoreThreshold(at: 50, stage: .sql, handoff: true, when: try LeadCondition.parse("fit >= 20").get())])
        rules.fit = title
        let scoring = ScoringContext(rules: rules, handoffChannels: ["webhook"])
        let email = try EmailAddress(validating: "ada@example.com")
        func lead(_ title: String) -> Lead { Lead(email: email, persona: "cto", fields: ["job_title": title], consent: Consent(source: "t", at: now)) }
        _ = try await store.upsert([lead("Intern")], now: now, scoring: scoring)
        _ = try await store.recordEvent(NewEvent(email: email, type: "demo_requested", at: now), scoring: scoring)
        #expect(try #require(try await store.lead(email)).lead.stage == .lead) // score 60, fit 0: not yet
        // Promoted: the fit the import computes satisfies the threshold at once.
        _ = try await store.upsert([lead("CTO")], now: now, scoring: scoring)
        let stored = try #require(try await store.lead(email))
        #expect(stored.lead.fit == 20 && stored.lead.stage == .sql && stored.handoffs.count == 1, "\(stored.ledger)")
        await store.close()
    }
}

/// `rescore` as both stores have it (the CLI's AdminStore is not visible here).
protocol RescoringStore {
    func rescore(rules: ScoringRules, now: Date, dryRun: Bool, chunk: Int) async throws -> [RescoredLead]
}
extension SQLiteStore: RescoringStore {}
extension PostgresStore: RescoringStore {}
