import Foundation
import Testing
import NurtureCore
import NurtureEngine
import NurtureStore

/// What `nurture stats`, `totals`, `rescore` and suppressing by hand need (AdminStore lives in the CLI module; both stores implement it).
protocol ReportingStore: Sendable {
    func stats(since: Date?) async throws -> [SequenceStats]
    func totals() async throws -> StoreTotals
    func rescore(rules: ScoringRules, now: Date, dryRun: Bool, chunk: Int) async throws -> [RescoredLead]
    /// `lead add` of a suppressed address, bounces from elsewhere.
    func suppress(_ email: EmailAddress, reason: String, now: Date) async throws
}

extension SQLiteStore: ReportingStore {}
extension PostgresStore: ReportingStore {}

/// The rest of the protocols' semantics: lead merging, every dispatch outcome, threshold enrollments, hand-off
/// retries, engagement as the next decision sees it, pixels, inactivity, reloads, health and reports.
extension StoreContractTests {
    func sentOnce(_ store: any DaemonStore, _ email: String, next: PlannedSend? = nil) async throws -> DueSend {
        let d = try await enrolled(store, email)
        #expect(try await store.apply([.claim(outboxID: d.outboxID)], now: now) == [d.outboxID])
        _ = try await store.complete([sent(d, next: next)], thenClaim: [], now: now, scoring: scoring)
        return d
    }

    @Test(arguments: StoreKind.all)
    func anUpsertMergesFieldsKeepsConsentAndSaysWhetherItChangedAnything(kind: StoreKind) async throws {
        let store = try await kind.open()
        let first = try lead("ada@example.com")
        #expect(try await store.upsert([first], now: now) == [.inserted])
        #expect(try await store.upsert([first], now: now) == [.unchanged])
        _ = try await store.leadsAwaitingEnrollment(limit: 10).map(\.leadID)
        let id = try #require(try await store.leadsAwaitingEnrollment(limit: 10).first?.leadID)
        try await store.applyEnrollments([], considered: [id], now: now)
        #expect(try await store.leadsAwaitingEnrollment(limit: 10).isEmpty)
        // Another spelling of the address, a new field, another consent: merged, the consent first recorded stays.
        var again = Lead(email: try EmailAddress(validating: "ADA@example.com"), persona: "cto", fields: ["company": "Analytical"],
                         consent: Consent(source: "other", at: now.addingTimeInterval(60)))
        again.timeZone = "Europe/London"
        #expect(try await store.upsert([again], now: now.addingTimeInterval(60)) == [.updated])
        let stored = try #require(try await store.lead(first.email))
        #expect(stored.lead.email.value == "ada@example.com")
        #expect(stored.lead.fields == ["first_name": "Ada", "company": "Analytical"])
        #expect(stored.lead.timeZone == "Europe/London")
        #expect(stored.lead.consent.source == "test" && stored.lead.consent.text == "I agree" && stored.lead.consent.ip == "192.0.2.1")
        // A changed lead is considered for enrollment again; one address twice in a batch updates the first row.
        #expect(try await store.leadsAwaitingEnrollment(limit: 10).map(\.leadID) == [id])
        #expect(try await store.upsert([try lead("bob@example.com"), try lead("bob@example.com", persona: "cfo")], now: now) == [.inserted, .updated])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func postponeSkipAndExitAreRecordedWithTheirReasons(kind: StoreKind) async throws {
        let store = try await kind.open()
        let a = try await enrolled(store, "ada@example.com"), b = try await enrolled(store, "bob@example.com")
        let c = try await enrolled(store, "cyd@example.com")
        let later = now.addingTimeInterval(3_600)
        try await store.apply([
            .postpone(outboxID: a.outboxID, until: later, reason: "outside the send window"),
            .skip(outboxID: b.outboxID, enrollmentID: b.enrollmentID, leadID: b.leadID, sequenceID: "s", reason: "skip_if clicked(x)",
                  next: PlannedSend(stepID: "b", dueAt: later, messageDomain: "example.com")),
            .exit(outboxID: c.outboxID, enrollmentID: c.enrollmentID, leadID: c.leadID, reason: "converted", handoff: true, allOfLead: false),
        ], now: now)
        #expect(try await store.dueSends(at: now, limit: 10, recentSince: now).isEmpty)
        let due = try await store.dueSends(at: later, limit: 10, recentSince: now)
        #expect(Set(due.map { "\($0.lead.email.value)/\($0.stepID)" }) == ["ada@example.com/a", "bob@example.com/b"])
        #expect(due.first { $0.leadID == b.leadID }?.doneSteps == ["a"])
        let ada = try #require(try await store.lead(a.lead.email)), bob = try #require(try await store.lead(b.lead.email))
        let cyd = try #require(try await store.lead(c.lead.email))
        #expect(ada.sends.first?.reason == "outside the send window" && ada.sends.first?.status == .scheduled)
        #expect(bob.sends.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.scheduled, .skipped])
        #expect(bob.enrollments.first?.nextStep == "b")
        #expect(cyd.sends.first?.status == .cancelled && cyd.enrollments.first?.state == .exited && cyd.enrollments.first?.endReason == "converted")
        #expect(cyd.events.map(\.type) == ["handoff"])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aSoftFailurePlansTheNextStepAndASendIsNeverQueuedTwice(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        _ = try await store.apply([.claim(outboxID: d.outboxID)], now: now)
        let next = PlannedSend(stepID: "b", dueAt: now, messageDomain: "example.com")
        _ = try await store.complete([.failed(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: "s",
                                              error: "gave up after 5 days", hardBounce: false, next: next)],
                                     thenClaim: [], now: now, scoring: scoring)
        // The same result delivered twice (a retried commit) changes nothing more.
        _ = try await store.complete([.failed(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: "s",
                                              error: "gave up after 5 days", hardBounce: false, next: next)],
                                     thenClaim: [], now: now, scoring: scoring)
        let stored = try #require(try await store.lead(d.lead.email))
        #expect(stored.sends.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.failed, .scheduled])
        #expect(stored.suppression == nil)
        let due = try await store.dueSends(at: now, limit: 10, recentSince: now)
        #expect(due.map(\.stepID) == ["b"])
        // Message-IDs differ per step and name the database's instance.
        #expect(due[0].messageID != d.messageID && due[0].messageID.hasSuffix("@example.com>"))
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aThresholdThatEnrollsIsRequestedWithTheScoreAndResolvedByTheScheduler(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        let enrolling = ScoringContext(rules: ScoringRules(points: ["demo_requested": 30], halfLife: nil,
                                                           thresholds: [ScoreThreshold(at: 25, enroll: "sales-ready")]),
                                       handoffChannels: [])
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "demo_requested", at: now), scoring: enrolling)
        let pending = try await store.pendingEnrollments(at: now, limit: 10)
        #expect(pending.map(\.leadID) == [d.leadID] && pending.map(\.sequenceID) == ["sales-ready"])
        try await store.applyPendingEnrollments([NewEnrollment(leadID: d.leadID, sequenceID: "sales-ready", firstStepID: "intro", dueAt: now,
                                                               messageDomain: "example.com")],
                                                resolved: pending, now: now)
        #expect(try await store.pendingEnrollments(at: now, limit: 10).isEmpty)
        let sequences = try await store.lead(d.lead.email)?.enrollments.map(\.sequenceID).sorted()
        #expect(sequences == ["s", "sales-ready"])
        #expect(try await store.dueSends(at: now, limit: 10, recentSince: now).map(\.stepID).sorted() == ["a", "intro"])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aFailedHandoffComesBackAtItsRetryTime(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "demo_requested", at: now), scoring: scoring)
        let handoff = try #require(try await store.dueHandoffs(at: now, limit: 10).first)
        #expect(handoff.email == d.lead.email && handoff.attempts == 0 && handoff.createdAt == now)
        let retry = now.addingTimeInterval(300)
        try await store.handoffFailed(handoff.id, error: "webhook answered 503", retryAt: retry)
        #expect(try await store.dueHandoffs(at: now, limit: 10).isEmpty)
        #expect(try await store.nextHandoffAt() == retry)
        #expect(try await store.dueHandoffs(at: retry, limit: 10).first?.attempts == 1)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func theNextDecisionSeesHumanEngagementAndCustomEventsSinceEnrollment(kind: StoreKind) async throws {
        let store = try await kind.open()
        let later = now.addingTimeInterval(3_600)
        let d = try await sentOnce(store, "ada@example.com", next: PlannedSend(stepID: "b", dueAt: later, messageDomain: "example.com"))
        let message = try #require(try await store.trackedMessage(d.outboxID))
        let open = TrackedEvent(kind: .open, message: message, at: now.addingTimeInterval(60), machineReason: nil)
        let click = TrackedEvent(kind: .click, message: message, link: 0, at: now.addingTimeInterval(120), machineReason: nil)
        let prefetch = TrackedEvent(kind: .click, message: message, link: 1, at: now.addingTimeInterval(1), machineReason: "within 60s of delivery")
        #expect(try await store.recordEngagements([prefetch, open, click], burstWindow: 0, scoring: scoring) == [true, false, false])
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "webinar_attended", at: now.addingTimeInterval(180)), scoring: scoring)
        let next = try #require(try await store.dueSends(at: later, limit: 10, recentSince: now.addingTimeInterval(-1)).first)
        #expect(next.engagement.opened == ["a"] && next.engagement.clicked == ["a"])
        #expect(next.eventsSinceEnrollment == ["webinar_attended"])
        #expect(next.sendsSinceEngagement == 0)
        let events = try #require(try await store.lead(d.lead.email)).events
        #expect(events.first { $0.machine }?.machineReason == "within 60s of delivery")
        #expect(events.first { $0.type == "click" && !$0.machine }?.link == 0)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func pixelHitsResolveTheirMessageInTheWriteAndARepeatIsNotScoredAgain(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await sentOnce(store, "ada@example.com")
        let context = ScoringContext(rules: ScoringRules(points: ["open": 2], halfLife: nil), handoffChannels: [])
        let policy = MachineSignals.Policy(openWithin: 10, clickWithin: 60, burstWindow: 5)
        let results = try await store.record([
            .open(outboxID: d.outboxID, at: now.addingTimeInterval(2), userAgent: "Mozilla/5.0", head: false), // too soon: a prefetch
            .open(outboxID: d.outboxID, at: now.addingTimeInterval(600), userAgent: "Mozilla/5.0", head: false),
            .open(outboxID: d.outboxID, at: now.addingTimeInterval(700), userAgent: "Mozilla/5.0", head: false),
            .open(outboxID: 987_654, at: now.addingTimeInterval(600), userAgent: nil, head: false),
        ], policy: policy, scoring: context)
        #expect(results == [true, false, false, nil])
        let stored = try #require(try await store.lead(d.lead.email))
        #expect(stored.lead.score == 2)
        #expect(stored.events.filter { $0.type == "open" }.map(\.isRepeat) == [true, false, false]) // latest first
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aBurstOnEveryLinkOfAMessageIsFlaggedAsAMachine(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        _ = try await store.apply([.claim(outboxID: d.outboxID)], now: now)
        _ = try await store.complete([.sent(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: "s", stepID: "a",
                                            reply: "250 ok", links: ["https://example.com/1", "https://example.com/2"], next: nil)],
                                     thenClaim: [], now: now, scoring: scoring)
        let message = try #require(try await store.trackedMessage(d.outboxID))
        let clicks = (0..<2).map { TrackedEvent(kind: .click, message: message, link: $0, at: now.addingTimeInterval(600), machineReason: nil) }
        #expect(try await store.recordEngagements(clicks, burstWindow: 5, scoring: scoring) == [false, true])
        let events = try #require(try await store.lead(d.lead.email)).events.filter { $0.type == "click" }
        #expect(events.allSatisfy { $0.machine && $0.machineReason == "burst on every link of the message" })
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func inactivityIsChargedOncePerSilence(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.upsert([try lead("ada@example.com")], now: now)
        let context = ScoringContext(rules: ScoringRules(points: ["inactivity": -10], halfLife: nil), handoffChannels: [])
        let later = now.addingTimeInterval(61 * 86_400)
        #expect(try await store.scoreInactivity(before: now.addingTimeInterval(-1), now: later, limit: 10, context: context, silence: .days(60)) == 0)
        #expect(try await store.scoreInactivity(before: later.addingTimeInterval(-60 * 86_400), now: later, limit: 10, context: context,
                                                silence: .days(60)) == 1)
        #expect(try await store.scoreInactivity(before: later.addingTimeInterval(-60 * 86_400), now: later, limit: 10, context: context,
                                                silence: .days(60)) == 0)
        let stored = try #require(try await store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(stored.lead.score == -10 && stored.events.map(\.type) == ["inactivity"])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aReloadMakesLeadsOfItsPersonasBeConsideredAgain(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.upsert([try lead("ada@example.com"), try lead("bob@example.com", persona: "cfo")], now: now)
        let ids = try await store.leadsAwaitingEnrollment(limit: 10).map(\.leadID)
        try await store.applyEnrollments([], considered: ids, now: now)
        try await store.reconsiderLeads(personas: ["cfo"])
        #expect(try await store.leadsAwaitingEnrollment(limit: 10).map(\.lead.email.value) == ["bob@example.com"])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func healthAndMetricsReadTheStore(kind: StoreKind) async throws {
        let store = try await kind.open()
        let a = try await enrolled(store, "ada@example.com")
        _ = try await enrolled(store, "bob@example.com")
        // Asked on a store in use, as health is: a pool's first connection (TCP and SCRAM) can take longer than the
        // ping's 0.9 s on a loaded machine, and that is not what this checks.
        #expect(await store.isReachable())
        _ = try await store.apply([.claim(outboxID: a.outboxID)], now: now)
        #expect(try await store.outboxDepth() == ["scheduled": 1, "sending": 1])
        #expect(try await store.queueDepth() == (waiting: 1, sending: 1))
        try await store.checkpoint()
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func statsTotalsAndRescoreReadWhatWasRecorded(kind: StoreKind) async throws {
        let store = try await kind.open()
        let reports = try #require(store as? any ReportingStore)
        let d = try await sentOnce(store, "ada@example.com")
        let message = try #require(try await store.trackedMessage(d.outboxID))
        _ = try await store.recordEngagements([TrackedEvent(kind: .open, message: message, at: now.addingTimeInterval(600), machineReason: nil)],
                                              burstWindow: 5, scoring: scoring)
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "converted", at: now.addingTimeInterval(3_600)), scoring: scoring)
        try await reports.suppress(try EmailAddress(validating: "gone@example.com"), reason: "complained", now: now)
        let stats = try await reports.stats(since: nil)
        #expect(stats.map(\.sequenceID) == ["s"])
        #expect(stats.first?.enrolled == 1 && stats.first?.converted == 1 && stats.first?.medianToConvert == 3_600)
        #expect(stats.first?.steps.map(\.stepID) == ["a"] && stats.first?.steps.first?.sent == 1 && stats.first?.steps.first?.uniqueOpens == 1)
        let totals = try await reports.totals()
        #expect(totals.leads == 1 && totals.suppressed == ["complained": 1])
        // Under new rules a replay changes the score; a dry run reports it and writes nothing.
        let rules = ScoringRules(points: ["open": 10], halfLife: nil)
        let dry = try await reports.rescore(rules: rules, now: now.addingTimeInterval(7_200), dryRun: true, chunk: 1)
        #expect(dry.map(\.email) == ["ada@example.com"] && dry.first?.after == 10)
        #expect(try await store.lead(d.lead.email)?.lead.score != 10)
        _ = try await reports.rescore(rules: rules, now: now.addingTimeInterval(7_200), dryRun: false, chunk: 1)
        #expect(try await store.lead(d.lead.email)?.lead.score == 10)
        #expect(try await reports.rescore(rules: rules, now: now.addingTimeInterval(7_200), dryRun: true, chunk: 1).isEmpty)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func anExportHoldsEverythingStoredAboutTheLead(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await sentOnce(store, "ada@example.com")
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "demo_requested", at: now), scoring: scoring)
        let export = try #require(try await store.export(d.lead.email)).document
        let lead = try #require(export["lead"] as? [String: Any]), consent = try #require(export["consent"] as? [String: Any])
        #expect(lead["email"] as? String == "ada@example.com" && (lead["fields"] as? [String: String]) == ["first_name": "Ada"])
        #expect(consent["source"] as? String == "test" && consent["ip"] as? String == "192.0.2.1")
        #expect((export["sends"] as? [[String: Any]])?.map { $0["status"] as? String } == ["sent"])
        #expect((export["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String }.contains("demo_requested") == true)
        #expect((export["handoffs"] as? [[String: Any]])?.count == 1)
        #expect((export["score_ledger"] as? [[String: Any]])?.isEmpty == false)
        #expect((export["enrollments"] as? [[String: Any]])?.first?["state"] as? String == "completed") // its only step sent
        await store.close()
    }
}
