import Foundation
import Testing
import NurtureCore
import NurtureEngine
import NurtureStore

/// A store under contract: how to open a fresh one. PostgreSQL joins this list with its own factory.
struct StoreKind: CustomTestStringConvertible, Sendable {
    let name: String
    let open: @Sendable () async throws -> any DaemonStore

    var testDescription: String { name }

    static let sqlite = StoreKind(name: "SQLite") {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-contract-\(UUID().uuidString)/nurture.sqlite").path
        return try await SQLiteStore.open(path: path)
    }

    /// A new database on the test server per test (PostgresTestServer); absent when no server is configured, which
    /// `PostgresStoreTests` reports as a skip locally and a failure in CI.
    static let postgres = StoreKind(name: "PostgreSQL") { try await PostgresTestServer.open() }

    static let all: [StoreKind] = [sqlite] + (PostgresTestServer.isAvailable ? [postgres] : [])
}

/// The semantics every store owes its consumers, written against the consumers' protocols only (no SQL, no
/// schema): what the scheduler, tracking, the API and erasure rely on.
struct StoreContractTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func lead(_ email: String, persona: String = "cto") throws -> Lead {
        Lead(email: try EmailAddress(validating: email), persona: persona, fields: ["first_name": "Ada"],
             consent: Consent(source: "test", at: now, text: "I agree", ip: "192.0.2.1"))
    }

    /// A lead enrolled in sequence `s` with its first step `a` due now; returns its due send.
    func enrolled(_ store: any DaemonStore, _ email: String) async throws -> DueSend {
        _ = try await store.upsert([try lead(email)], now: now)
        let candidates = try await store.leadsAwaitingEnrollment(limit: 100)
        let candidate = try #require(candidates.first { $0.lead.email.value == email })
        try await store.applyEnrollments([NewEnrollment(leadID: candidate.leadID, sequenceID: "s", firstStepID: "a", dueAt: now,
                                                        messageDomain: "example.com")],
                                         considered: [candidate.leadID], now: now)
        let due = try await store.dueSends(at: now, limit: 100, recentSince: now.addingTimeInterval(-86_400))
        return try #require(due.first { $0.lead.email.value == email })
    }

    func sent(_ d: DueSend, next: PlannedSend? = nil) -> DeliveryOutcome {
        .sent(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: d.sequenceID, stepID: d.stepID,
              reply: "250 ok", links: ["https://example.com/x"], next: next)
    }

    let scoring = ScoringContext(rules: ScoringRules(points: ["demo_requested": 30], halfLife: nil,
                                                     thresholds: [ScoreThreshold(at: 25, handoff: true)]),
                                 handoffChannels: ["webhook"])

    @Test(arguments: StoreKind.all)
    func enrollmentIntakeConsidersALeadOnceAndQueuesItsFirstStep(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        #expect(d.stepID == "a" && d.sequenceID == "s" && d.attempts == 0 && !d.possiblySent)
        #expect(try await store.leadsAwaitingEnrollment(limit: 100).isEmpty)
        // Entering the same sequence again creates nothing: a sequence is entered once.
        try await store.applyEnrollments([NewEnrollment(leadID: d.leadID, sequenceID: "s", firstStepID: "a", dueAt: now, messageDomain: "example.com")],
                                         considered: [], now: now)
        #expect(try await store.dueSends(at: now, limit: 100, recentSince: now).count == 1)
        #expect(try await store.nextDueAt() == now)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func claimsAreExclusive(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        let claims = try await withThrowingTaskGroup(of: Set<Int64>.self) { group in
            for _ in 0..<8 { group.addTask { try await store.apply([.claim(outboxID: d.outboxID)], now: now) } }
            return try await group.reduce(into: [Set<Int64>]()) { $0.append($1) }
        }
        #expect(claims.filter { $0 == [d.outboxID] }.count == 1)
        #expect(try await store.dueSends(at: now, limit: 100, recentSince: now).isEmpty)
        #expect(try await store.queueDepth() == (waiting: 0, sending: 1))
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aCancelledSendIsNeverClaimed(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        try await store.endEnrollments([EnrollmentEnd(enrollmentID: d.enrollmentID, leadID: d.leadID, reason: "exit", handoff: false,
                                                      allOfLead: false)], now: now)
        #expect(try await store.apply([.claim(outboxID: d.outboxID)], now: now).isEmpty)
        #expect(try await store.complete([], thenClaim: [d.outboxID], now: now, scoring: scoring).isEmpty)
        #expect(try await store.lead(d.lead.email)?.sends.first?.status == .cancelled)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func resultsCommitWithTheNextClaimAndPlanTheNextStep(kind: StoreKind) async throws {
        let store = try await kind.open()
        let a = try await enrolled(store, "ada@example.com"), b = try await enrolled(store, "bob@example.com")
        #expect(try await store.apply([.claim(outboxID: a.outboxID)], now: now) == [a.outboxID])
        let later = now.addingTimeInterval(3_600)
        let claimed = try await store.complete([sent(a, next: PlannedSend(stepID: "b", dueAt: later, messageDomain: "example.com"))],
                                               thenClaim: [b.outboxID], now: now, scoring: scoring)
        #expect(claimed == [b.outboxID])
        let stored = try #require(try await store.lead(a.lead.email))
        #expect(stored.sends.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.scheduled, .sent])
        #expect(stored.enrollments.first?.nextStep == "b")
        let next = try await store.dueSends(at: later, limit: 100, recentSince: now.addingTimeInterval(-1))
        #expect(next.map(\.stepID) == ["b"])
        #expect(next.first?.doneSteps == ["a"])
        #expect(next.first?.recentSends == [now])
        // The last step: no next one, the enrollment completes.
        _ = try await store.apply([.claim(outboxID: next[0].outboxID)], now: later)
        _ = try await store.complete([sent(next[0])], thenClaim: [], now: later, scoring: scoring)
        #expect(try await store.lead(a.lead.email)?.enrollments.first?.state == .completed)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func recoveryPutsInFlightSendsBackFlaggedPossiblySent(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        _ = try await store.apply([.claim(outboxID: d.outboxID)], now: now)
        // An hour later: past any lease (SQLite's one node recovers every in-flight send at start-up anyway).
        let restart = now.addingTimeInterval(3_600)
        #expect(try await store.recoverInterrupted(now: restart) == 1)
        let again = try await store.dueSends(at: now, limit: 100, recentSince: now)
        #expect(again.map(\.outboxID) == [d.outboxID])
        #expect(again.first?.possiblySent == true)
        #expect(again.first?.attempts == 1)
        #expect(try await store.lead(d.lead.email)?.sends.first?.possiblySent == true) // what `lead show` tells the operator
        #expect(try await store.recoverInterrupted(now: restart) == 0)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aDeferredSendComesBackAtItsRetryTime(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        _ = try await store.apply([.claim(outboxID: d.outboxID)], now: now)
        let retry = now.addingTimeInterval(600)
        _ = try await store.complete([.deferred(outboxID: d.outboxID, retryAt: retry, error: "451 try later")], thenClaim: [], now: now,
                                     scoring: scoring)
        #expect(try await store.dueSends(at: now, limit: 100, recentSince: now).isEmpty)
        #expect(try await store.nextDueAt() == retry)
        #expect(try await store.dueSends(at: retry, limit: 100, recentSince: now).first?.firstAttemptAt == now)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aHardBounceSuppressesTheAddressAndEndsEveryEnrollment(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        _ = try await store.apply([.claim(outboxID: d.outboxID)], now: now)
        _ = try await store.complete([.failed(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: "s",
                                              error: "550 no such user", hardBounce: true, next: nil)],
                                     thenClaim: [], now: now, scoring: scoring)
        let stored = try #require(try await store.lead(d.lead.email))
        #expect(stored.enrollments.first?.state == .exited)
        #expect(stored.events.map(\.type).contains("bounce"))
        #expect(stored.suppression == "bounced")
        #expect(try await store.upsert([try lead("ada@example.com")], now: now) == [.suppressed])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aThresholdCrossingCommitsItsHandoffAndEndsNurturingTogether(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        let active = try await store.recordEvent(NewEvent(email: d.lead.email, type: "demo_requested", at: now), scoring: scoring)
        // The enrollment the event found is reported (with the new score) for exit rules, though the hand-off ended it.
        #expect(active.map(\.enrollmentID) == [d.enrollmentID])
        #expect(active.first?.leadScore == 30)
        #expect(active.first?.eventsSinceEnrollment == ["demo_requested"])
        let stored = try #require(try await store.lead(d.lead.email))
        #expect(stored.lead.score == 30)
        #expect(stored.enrollments.first?.state == .exited)
        #expect(stored.ledger.map(\.cause).contains("hand-off: score reached 25.0"))
        let handoffs = try await store.dueHandoffs(at: now, limit: 10)
        #expect(handoffs.map(\.channel) == ["webhook"])
        #expect(handoffs.first?.score == 30)
        try await store.handoffDelivered(handoffs[0].id, at: now)
        #expect(try await store.dueHandoffs(at: now, limit: 10).isEmpty)
        #expect(try await store.nextHandoffAt() == nil)
        // Crossing again without re-arming fires nothing more.
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "demo_requested", at: now), scoring: scoring)
        #expect(try await store.dueHandoffs(at: now, limit: 10).isEmpty)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func anEventForAnUnknownLeadChangesNothing(kind: StoreKind) async throws {
        let store = try await kind.open()
        #expect(try await store.recordEvent(NewEvent(email: try EmailAddress(validating: "nobody@example.com"), type: "converted", at: now),
                                            scoring: scoring).isEmpty)
        #expect(try await store.lead(try EmailAddress(validating: "nobody@example.com")) == nil)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aOneClickUnsubscribeCancelsWhatIsQueuedAndIsIdempotent(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        _ = try await store.apply([.claim(outboxID: d.outboxID)], now: now)
        _ = try await store.complete([sent(d, next: PlannedSend(stepID: "b", dueAt: now.addingTimeInterval(60), messageDomain: "example.com"))],
                                     thenClaim: [], now: now, scoring: scoring)
        #expect(try await store.unsubscribe(outboxID: d.outboxID, at: now, via: "one-click", scoring: scoring) == .unsubscribed)
        while store.hasJournaledUnsubscribes { try await store.applyJournaledUnsubscribes(scoring: scoring) }
        #expect(try await store.unsubscribe(outboxID: d.outboxID, at: now, via: "one-click", scoring: scoring) == .alreadyUnsubscribed)
        #expect(try await store.unsubscribe(outboxID: 987_654, at: now, via: "one-click", scoring: scoring) == .unknownMessage)
        #expect(try await store.dueSends(at: now.addingTimeInterval(60), limit: 100, recentSince: now).isEmpty)
        #expect(try await store.lead(d.lead.email)?.enrollments.first?.state == .exited)
        #expect(try await store.upsert([try lead("ada@example.com")], now: now) == [.suppressed])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func tracksASentMessageAndScoresAnOpenOnce(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        #expect(try await store.trackedMessage(d.outboxID) == nil) // not sent yet
        _ = try await store.apply([.claim(outboxID: d.outboxID)], now: now)
        _ = try await store.complete([sent(d)], thenClaim: [], now: now, scoring: scoring)
        let message = try #require(try await store.trackedMessage(d.outboxID))
        #expect(message.links == ["https://example.com/x"] && message.firstName == "Ada" && !message.suppressed)
        let open = TrackedEvent(kind: .open, message: message, at: now.addingTimeInterval(600), machineReason: nil)
        let context = ScoringContext(rules: ScoringRules(points: ["open": 2], halfLife: nil), handoffChannels: [])
        #expect(try await store.recordEngagements([open, open], burstWindow: 5, scoring: context) == [false, false])
        #expect(try await store.lead(d.lead.email)?.lead.score == 2)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func erasureRemovesTheLeadAndKeepsItsAddressAway(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await enrolled(store, "ada@example.com")
        _ = try await store.apply([.claim(outboxID: d.outboxID)], now: now)
        _ = try await store.complete([sent(d)], thenClaim: [], now: now, scoring: scoring)
        #expect(try await store.erase(d.lead.email, now: now) == [d.outboxID])
        #expect(try await store.lead(d.lead.email) == nil)
        #expect(try await store.export(d.lead.email) == nil)
        #expect(try await store.trackedMessage(d.outboxID) == nil)
        #expect(try await store.upsert([try lead("ada@example.com")], now: now) == [.suppressed])
        #expect(try await store.erase(d.lead.email, now: now) == nil)
        // Ids never come back: the next lead's send gets a new one.
        _ = try await store.unsubscribe(outboxID: d.outboxID, at: now, via: "one-click", scoring: scoring)
        let e = try await enrolled(store, "bob@example.com")
        #expect(e.outboxID > d.outboxID && e.enrollmentID > d.enrollmentID)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aClosedStoreRefusesWorkInsteadOfHanging(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.nextDueAt()
        await store.close()
        await #expect(throws: StoreFailure.closed) { try await store.nextDueAt() }
    }
}
