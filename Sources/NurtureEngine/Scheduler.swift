import Foundation
import Logging
import NurtureAuthoring
import NurtureCore
import NurtureMail

/// One step of the engine, run again and again by the scheduler service (or by tests and `simulate` on a
/// manual clock): enroll waiting leads, decide every due send, deliver what may go out, plan what comes next.
public actor Scheduler {
    public struct Settings: Sendable {
        public var dueBatch = 500
        public var intakeBatch = 1_000
        public var retry = RetryPolicy()
        /// When results are recorded (`sent_at` is each group's return, not the tick's start); nil keeps the tick's
        /// time, as a manual clock does not move during a tick anyway.
        public var clock: (@Sendable () -> Date)?
        /// Awaited when a transfer group is rendered, before it may be claimed: where an unsubscribe (or anything
        /// else another process does) lands while the tick renders; tests put theirs there.
        public var afterRendering: (@Sendable (_ group: Int) async -> Void)?
        /// This node's share of the cluster's limits (the live nodes, from the heartbeat); nil for a node alone.
        public var share: (@Sendable () -> ClusterShare)?
        public init() {}
    }

    /// What a tick did, for logs, `simulate` and tests.
    public struct Report: Sendable {
        public struct Entry: Sendable, Hashable {
            public enum Kind: String, Sendable { case enrolled, sent, postponed, skipped, exited, deferred, failed, passed }
            public var kind: Kind
            public var at: Date
            public var email: String
            public var sequenceID: String
            public var stepID: String
            public var detail: String
            public var outboxID: Int64?
            public var subject: String?
            /// How logs name the lead (never by address).
            public var leadID: Int64?
        }
        public var entries: [Entry] = []
        /// True when a batch was full and nothing but work waits: run again without sleeping.
        public var moreWork = false
        /// Set when the global rate stopped the tick: due sends are waiting for this moment, not for their due time.
        public var wakeAt: Date?
        /// How long finding the due batch took (logged; `bench/scale.sh` reads it).
        public var dueQuery: Duration?

        public func count(_ kind: Entry.Kind) -> Int { entries.filter { $0.kind == kind }.count }
    }

    let store: SchedulerStore
    let transport: Transport
    let catalog: CatalogHolder
    let composer: MessageComposer
    let settings: Settings
    let logger: Logger
    private var lastInactivitySweep: Date?
    private var lastReentrySweep: Date?
    /// The sequence versions already recorded by this process (a reload records the new ones).
    private var recordedVersions: Set<String> = []
    private var globalBucket: TokenBucket?
    private var domainBuckets: [String: TokenBucket] = [:]
    /// The per-domain rate the buckets were made with: a change in the cluster's size remakes them.
    private var domainBucketRate: Double?
    /// Results of transfers that happened but could not be committed (a busy or full database): kept here and
    /// committed before anything else, so delivered mail never stays `sending` nor goes out twice.
    private var uncommitted: [DeliveryOutcome] = []
    /// Why the last tick could not write, nil once a tick commits again: for health and logs.
    public private(set) var storageProblem: StoreFailure?

    public init(store: SchedulerStore, transport: Transport, catalog: CatalogHolder, composer: MessageComposer,
                settings: Settings = Settings(), logger: Logger = Logger(label: "nurture.scheduler")) {
        self.store = store
        self.transport = transport
        self.catalog = catalog
        self.composer = composer
        self.settings = settings
        self.logger = logger
    }

    public func tick(now: Date) async throws -> Report {
        do {
            let catalog = self.catalog.current
            try await commitUncommitted(catalog, now: now)
            try await recordVersions(catalog, now: now)
            var report = Report()
            // One node at a time enrolls and sweeps (a job lease): the others skip it this tick.
            if try await store.takeJob(Self.intakeJob, now: now) {
                do {
                    report.moreWork = try await intake(catalog, now: now, report: &report)
                } catch {
                    try? await store.releaseJob(Self.intakeJob)
                    throw error
                }
                try await store.releaseJob(Self.intakeJob)
            }
            try await sweepInactivity(catalog, now: now)
            try await dispatch(catalog, now: now, report: &report)
            storageProblem = nil
            return report
        } catch let failure as StoreFailure {
            storageProblem = failure
            throw failure
        }
    }

    static let intakeJob = "intake", inactivityJob = "inactivity"
    /// The smallest due batch a cluster node takes (postponed and skipped sends use no token).
    static let clusterBatchFloor = 16

    /// Sends whose results are waiting to be committed (for tests and status).
    public var uncommittedResults: Int { uncommitted.count }

    /// Commits what earlier transfers delivered, before any new work; a tick that cannot do it does nothing else.
    private func commitUncommitted(_ catalog: Catalog, now: Date) async throws {
        guard !uncommitted.isEmpty else { return }
        try await store.complete(uncommitted, thenClaim: [], now: now, scoring: catalog.scoringContext)
        uncommitted = []
    }

    // MARK: enrollment

    /// Enrolls leads waiting for it into the sequences of their persona whose entry gate they pass.
    private func intake(_ catalog: Catalog, now: Date, report: inout Report) async throws -> Bool {
        try await intakeRequested(catalog, now: now)
        try await flagReentries(catalog, now: now)
        let candidates = try await store.leadsAwaitingEnrollment(limit: settings.intakeBatch)
        guard !candidates.isEmpty else { return false }
        var enrollments: [NewEnrollment] = []
        for c in candidates where !c.suppressed {
            for sequence in catalog.sequences(forPersona: c.lead.persona)
            where ReentryPolicy.mayEnter(sequence, past: c.past[sequence.id], now: now) && sequence.entry.admits(c.lead) {
                guard let first = sequence.steps.first else { continue }
                let due = StepPlanner.due(first, previousResolvedAt: nil, enrolledAt: now, recontactAfter: c.lead.recontactAfter)
                var enrollment = NewEnrollment(leadID: c.leadID, sequenceID: sequence.id, firstStepID: first.id, dueAt: due,
                                               messageDomain: MessageComposer.messageDomain(sequence, catalog),
                                               waitUntil: StepPlanner.waitUntil(first, dueAt: due), version: sequence.version)
                enrollment.holdout = VariantAssignment.isHeldOut(sequence, leadKey: c.lead.email.key)
                enrollments.append(enrollment)
                report.entries.append(.init(kind: .enrolled, at: now, email: c.lead.email.value, sequenceID: sequence.id,
                                            stepID: first.id, detail: "first step due \(DateText.iso(due))" + (enrollment.holdout ? " (holdout: never mailed)" : ""),
                                            leadID: c.leadID))
            }
        }
        try await store.applyEnrollments(enrollments, considered: candidates.map(\.leadID), now: now)
        return candidates.count == settings.intakeBatch
    }

    private func recordVersions(_ catalog: Catalog, now: Date) async throws {
        let fresh = catalog.sequences.filter { !recordedVersions.contains("\($0.sequence.id) \($0.sequence.version)") }
        guard !fresh.isEmpty else { return }
        try await store.recordSequenceVersions(fresh.map {
            SequenceVersionRecord(sequenceID: $0.sequence.id, version: $0.sequence.version, source: $0.snapshot.json)
        }, at: now)
        for s in fresh { recordedVersions.insert("\(s.sequence.id) \(s.sequence.version)") }
    }

    /// Once a minute (engine time): leads whose enrollment in a sequence with `reenter` ended a cooldown ago are
    /// looked at again by intake, which decides (`ReentryPolicy`, the entry gate) whether they start it over.
    private func flagReentries(_ catalog: Catalog, now: Date) async throws {
        if let last = lastReentrySweep, now.timeIntervalSince(last) < 60 { return }
        lastReentrySweep = now
        for loaded in catalog.sequences {
            guard let after = loaded.sequence.reenterAfter else { continue }
            let cutoff = now.addingTimeInterval(-Double(after.seconds))
            while try await store.flagReentries(sequenceID: loaded.sequence.id, endedBefore: cutoff, limit: 1_000) == 1_000 {}
        }
    }

    /// Enrollments a score threshold asked for (`enroll: SEQUENCE`): the lead enters that sequence now, whatever
    /// its persona; an unknown sequence (removed by a reload) is dropped.
    private func intakeRequested(_ catalog: Catalog, now: Date) async throws {
        let requests = try await store.pendingEnrollments(at: now, limit: settings.intakeBatch)
        guard !requests.isEmpty else { return }
        let enrollments: [NewEnrollment] = requests.compactMap { r in
            guard let sequence = catalog.sequence(r.sequenceID), let first = sequence.steps.first else { return nil }
            let due = StepPlanner.due(first, previousResolvedAt: nil, enrolledAt: now, recontactAfter: nil)
            return NewEnrollment(leadID: r.leadID, sequenceID: sequence.id, firstStepID: first.id, dueAt: due,
                                 messageDomain: MessageComposer.messageDomain(sequence, catalog),
                                 waitUntil: StepPlanner.waitUntil(first, dueAt: due), version: sequence.version)
        }
        try await store.applyPendingEnrollments(enrollments, resolved: requests, now: now)
    }

    /// At most hourly (engine time): charges long-silent leads their inactivity points.
    private func sweepInactivity(_ catalog: Catalog, now: Date) async throws {
        let rules = catalog.config.scoring
        guard let silence = rules.inactiveAfter, rules.points["inactivity"] ?? 0 != 0 else { return }
        if let last = lastInactivitySweep, now.timeIntervalSince(last) < 3_600 { return }
        guard try await store.takeJob(Self.inactivityJob, now: now) else { return } // another node sweeps now
        lastInactivitySweep = now
        do {
            while try await store.scoreInactivity(before: now.addingTimeInterval(-Double(silence.seconds)), now: now, limit: 1_000,
                                                  context: catalog.scoringContext, silence: silence) == 1_000 {}
        } catch {
            try? await store.releaseJob(Self.inactivityJob)
            throw error
        }
        try await store.releaseJob(Self.inactivityJob)
    }

    // MARK: dispatch

    private func dispatch(_ catalog: Catalog, now: Date, report: inout Report) async throws {
        // In a cluster each live node takes its share of the rates and connections; fatigue is per lead and whole.
        let share = settings.share?() ?? .alone
        let throttle = share.apply(to: catalog.config.throttle)
        // More nodes than connections: the cluster's connections are the nodes' before this one, which sends nothing.
        guard throttle.domainConcurrency > 0 else { return }
        let reach = max(throttle.minGap.seconds, throttle.maxWindow.seconds)
        if globalBucket == nil || globalBucket!.rate != throttle.globalRate {
            globalBucket = TokenBucket(rate: throttle.globalRate, capacity: Self.burst(throttle.globalRate, nodes: share.nodes), now: now)
        }
        // In a cluster the batch's leads are this node's until the tick ends: take about what its share may send now,
        // so the other nodes find leads of their own to decide instead of waiting for these.
        let limit = share.nodes > 1 ? min(settings.dueBatch, max(Self.clusterBatchFloor, 2 * globalBucket!.available(now: now))) : settings.dueBatch
        let started = ContinuousClock.now
        let due = try await store.dueSends(at: now, limit: limit, recentSince: now.addingTimeInterval(-Double(reach)))
        guard !due.isEmpty else { return }
        report.dueQuery = ContinuousClock.now - started
        do {
            try await dispatch(due, limit: limit, nodes: share.nodes, throttle: throttle, catalog, now: now, report: &report)
        } catch {
            try? await store.releaseLeads()
            throw error
        }
        // The batch's claims are committed (`sending`, with their time): other nodes' fatigue checks now see them.
        try await store.releaseLeads()
    }

    private func dispatch(_ due: [DueSend], limit: Int, nodes: Int, throttle: ThrottlePolicy, _ catalog: Catalog, now: Date,
                          report: inout Report) async throws {
        let priority = Dictionary(uniqueKeysWithValues: catalog.sequences.map { ($0.sequence.id, $0.sequence.priority) })
        // Higher-priority sequences first, then oldest first: when two sequences compete for a lead, priority wins.
        let ordered = due.sorted { (priority[$0.sequenceID] ?? 0, $1.dueAt) > (priority[$1.sequenceID] ?? 0, $0.dueAt) }

        var outcomes: [DispatchOutcome] = []
        var sends: [(DueSend, NurtureSequence, Step)] = []
        var claimedForLead: [Int64: [Date]] = [:]
        var zones: [String: TimeZone] = [:] // one lookup per zone per tick, not per due send
        if domainBucketRate != throttle.domainRate {
            domainBuckets = [:]
            domainBucketRate = throttle.domainRate
        }
        for d in ordered {
            guard let sequence = catalog.sequence(d.sequenceID) else {
                outcomes.append(.exit(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID,
                                      reason: "sequence \(d.sequenceID) no longer exists", handoff: false, allOfLead: false))
                report.entries.append(Self.entry(.exited, d, now, "sequence removed"))
                continue
            }
            var input = DispatchInput(
                now: now, dueAt: d.dueAt, sequence: sequence, stepID: d.stepID, leadSuppressed: d.suppressed, leadScore: d.lead.score,
                eventsSinceEnrollment: d.eventsSinceEnrollment, engagement: d.engagement,
                recentSends: d.recentSends + (claimedForLead[d.leadID] ?? []), sendsSinceEngagement: d.sendsSinceEngagement,
                zone: Self.zone(sequence.window.zoneName(lead: d.lead.timeZone, default: catalog.config.defaultTimeZone), cache: &zones), throttle: throttle)
            input.leadStage = d.lead.stage
            input.lead = d.lead
            input.waitUntil = d.waitUntil
            input.pausedUntil = d.pausedUntil
            input.holdout = d.holdout
            input.leadFacts = LeadCondition.Facts(score: d.lead.score, fit: d.lead.fit, stage: d.lead.stage, grade: d.lead.fitGrade)
            switch DispatchPolicy.decide(input) {
            case .send:
                let domain = String(d.lead.email.domain)
                var bucket = domainBuckets[domain] ?? TokenBucket(rate: throttle.domainRate, capacity: Self.burst(throttle.domainRate, nodes: nodes), now: now)
                defer { domainBuckets[domain] = bucket }
                let globalNext = globalBucket!.nextAvailable(now: now)
                guard globalNext <= now else {
                    report.wakeAt = globalNext // the global rate is spent: the rest stays due for the next token
                    continue
                }
                let until = bucket.nextAvailable(now: now)
                guard until <= now else {
                    // Spread a burst to one domain instead of retrying it every tick.
                    outcomes.append(.postpone(outboxID: d.outboxID, until: until, reason: "rate limit for \(domain)"))
                    report.entries.append(Self.entry(.postponed, d, now, "to \(DateText.iso(until)) (rate limit for \(domain))"))
                    continue
                }
                _ = globalBucket!.take(now: now)
                _ = bucket.take(now: now)
                claimedForLead[d.leadID, default: []].append(now)
                sends.append((d, sequence, sequence.step(d.stepID)!))
            case let .postpone(until, reason):
                outcomes.append(.postpone(outboxID: d.outboxID, until: until, reason: reason))
                report.entries.append(Self.entry(.postponed, d, now, "to \(DateText.iso(until)) (\(reason))"))
            case let .skip(reason):
                outcomes.append(.skip(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: d.sequenceID,
                                      reason: reason, next: Self.plan(after: d, in: sequence, resolvedAt: now, catalog)))
                report.entries.append(Self.entry(.skipped, d, now, reason))
            case let .pass(reason, jump):
                let next = Self.plan(after: d, in: sequence, resolvedAt: now, catalog, decided: jump)
                outcomes.append(.pass(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: d.sequenceID,
                                      reason: reason, next: next))
                report.entries.append(Self.entry(.passed, d, now, "\(reason) → \(next.map { $0.stepID } ?? "end")"))
            case let .exit(reason, handoff, leadWide):
                outcomes.append(.exit(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, reason: reason,
                                      handoff: handoff, allOfLead: leadWide))
                report.entries.append(Self.entry(.exited, d, now, handoff ? "\(reason), handed to sales" : reason))
            }
        }
        try await deliver(sends, decided: outcomes, catalog, now: now, report: &report)
        // A full batch means more is due now, unless the global rate stopped it: then it waits for the next token
        // (running again at once re-read the same batch at a full core).
        if due.count == limit && report.wakeAt == nil { report.moreWork = true }
    }

    /// Sends in groups of the transport's width, as `DeliveryPipeline` decides: each group is committed as `sending`
    /// before its transfer (so a crash leaves at most one group "possibly sent", two when the transport overlaps
    /// groups), claimed only once rendered — with an earlier group's results when it is ready by then (one commit),
    /// else alone — so an unsubscribe during rendering cancels it before it can be claimed. Groups are rendered on
    /// every core while earlier ones transfer. Each group's results are stamped with the time they came back.
    private func deliver(_ sends: [(DueSend, NurtureSequence, Step)], decided: [DispatchOutcome], _ catalog: Catalog, now: Date,
                         report: inout Report) async throws {
        let width = max(1, transport.groupWidth)
        let groups = stride(from: 0, to: sends.count, by: width).map { Array(sends[$0..<min($0 + width, sends.count)]) }
        if !decided.isEmpty { try await store.apply(decided, now: now, handoff: catalog.scoringContext) }
        guard !groups.isEmpty else { return }
        let (transport, composer, retry) = (self.transport, self.composer, settings.retry)
        let clock = settings.clock ?? { now }
        let perDomain = max(1, (settings.share?() ?? .alone).concurrency(catalog.config.throttle.domainConcurrency))
        var pipeline = DeliveryPipeline(groups: groups.count, ahead: transport.overlapsGroups ? 2 : 1, now: now)
        var rendered: [Int: RenderedGroup] = [:]
        var transferring: [Int: [(DueSend, NurtureSequence, OutgoingMessage)]] = [:]
        var entries: [Report.Entry] = []
        var failure: (any Error)?
        await withTaskGroup(of: PipelineEvent.self) { tasks in
            var nextRender = 0
            func renderNext() {
                guard nextRender < groups.count else { return }
                let (i, group) = (nextRender, groups[nextRender])
                nextRender += 1
                tasks.addTask { .rendered(i, await Self.render(group, composer: composer, catalog: catalog, now: now)) }
            }
            for _ in 0..<max(1, min(ProcessInfo.processInfo.activeProcessorCount, groups.count)) { renderNext() }
            var cancelled = false
            var action = DeliveryPipeline.Action.wait
            loop: while true {
                switch action {
                case .wait:
                    guard let event = await tasks.next() else { preconditionFailure("the delivery pipeline waits for nothing") }
                    switch event {
                    case let .rendered(i, group):
                        await settings.afterRendering?(i)
                        rendered[i] = group
                        renderNext()
                        action = pipeline.groupRendered(i, sends: group.composed.map { .init(outboxID: $0.0.outboxID, leadID: $0.0.leadID) },
                                                        failed: group.failed)
                    case let .transferred(i, results):
                        entries += rendered[i]?.entries ?? []
                        var outcomes: [DeliveryOutcome] = []
                        for ((d, sequence, message), result) in zip(transferring.removeValue(forKey: i) ?? [], results) {
                            let (outcome, entry) = Self.outcome(of: result, for: d, sequence: sequence, message: message, catalog, retry: retry, now: now)
                            if let outcome { outcomes.append(outcome) }
                            entries.append(entry)
                        }
                        action = pipeline.transferFinished(i, outcomes: outcomes)
                    }
                    if Task.isCancelled && !cancelled {
                        cancelled = true
                        if case .wait = action { action = pipeline.cancelled() }
                    }
                case let .claim(i, ids):
                    do {
                        action = pipeline.claimCommitted(i, claimed: try await store.apply(ids.map { .claim(outboxID: $0) }, now: clock()))
                    } catch {
                        action = pipeline.commitFailed(error)
                    }
                case .readUnsubscribes(let i):
                    // Read last, just before the transfer: an unsubscribe answered (journaled) after the claim still stops it.
                    let pending = store.pendingUnsubscribes()
                    action = pipeline.unsubscribesRead(i, pendingLeads: pending, at: clock())
                case let .transfer(i, ids):
                    let sending = Set(ids)
                    let messages = rendered[i]!.composed.filter { sending.contains($0.0.outboxID) }
                    transferring[i] = messages
                    tasks.addTask { .transferred(i, await transport.transfer(messages.map(\.2), perDomain: perDomain)) }
                    action = pipeline.transferStarted(i)
                case let .commit(results, thenClaim):
                    do {
                        let claims = thenClaim?.outboxIDs ?? []
                        let claimed = results.isEmpty && claims.isEmpty
                            ? [] : try await store.complete(results, thenClaim: claims, now: clock(), scoring: catalog.scoringContext)
                        action = pipeline.commitSucceeded(claimed: claimed)
                    } catch {
                        action = pipeline.commitFailed(error)
                    }
                case .done:
                    break loop
                case let .abort(error, keep, checkpoint):
                    // After a failed commit, what is delivered is still recorded: kept for the next tick to commit.
                    uncommitted += keep
                    // Failed commits on a full disk grow the WAL: give the space back (a busy writer would only make this wait).
                    if checkpoint { try? await store.checkpoint() }
                    failure = error
                    break loop
                }
                if Task.isCancelled && !cancelled, case .wait = action {
                    cancelled = true
                    action = pipeline.cancelled()
                }
            }
            tasks.cancelAll() // renderings nobody will transfer
        }
        report.entries += entries
        if let failure { throw failure }
    }

    /// What the delivery loop waits for: a group rendered, or a transfer back from the transport.
    enum PipelineEvent: Sendable {
        case rendered(Int, RenderedGroup)
        case transferred(Int, [DeliveryResult])
    }

    /// One transfer group, rendered.
    struct RenderedGroup: Sendable {
        var composed: [(DueSend, NurtureSequence, OutgoingMessage)] = []
        var failed: [DeliveryOutcome] = []
        var entries: [Report.Entry] = []
    }

    /// Renders one group; a template that fails is a failed send (committed with the group's results). Yields
    /// after each message: the delivery loop, woken by a transfer that came back, gets a thread at once to commit
    /// and hand the next group over, instead of waiting for whole groups to render (connections would idle).
    static func render(_ group: [(DueSend, NurtureSequence, Step)], composer: MessageComposer, catalog: Catalog, now: Date) async -> RenderedGroup {
        var g = RenderedGroup()
        for (d, sequence, step) in group {
            await Task.yield()
            do {
                g.composed.append((d, sequence, try composer.compose(d, sequence: sequence, step: step, catalog: catalog, date: now)))
            } catch {
                g.failed.append(.failed(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID,
                                        sequenceID: d.sequenceID, error: "\(error)", hardBounce: false,
                                        next: plan(after: d, in: sequence, resolvedAt: now, catalog)))
                g.entries.append(entry(.failed, d, now, "\(error)"))
            }
        }
        return g
    }

    static func zone(_ name: String, cache: inout [String: TimeZone]) -> TimeZone {
        if let zone = cache[name] { return zone }
        let zone = TimeZone(identifier: name) ?? .gmt
        cache[name] = zone
        return zone
    }

    /// A tenth of a second's worth: smooth pacing at low rates, a useful batch per tick at high ones. A cluster node's
    /// share holds a fifth: its ticks compete for the cores with the other nodes', and a token that arrives while the
    /// bucket is full is lost. All nodes bursting at once add at most a fifth of a second of the cluster's rate.
    static func burst(_ rate: Double, nodes: Int = 1) -> Double { max(1, rate / (nodes > 1 ? 5 : 10)) }

    private static func outcome(of result: DeliveryResult, for d: DueSend, sequence: NurtureSequence, message: OutgoingMessage,
                                _ catalog: Catalog, retry: RetryPolicy, now: Date) -> (DeliveryOutcome?, Report.Entry) {
        switch result {
        case .abandoned(let why):
            // No outcome: the send stays `sending` and is recovered as possibly sent when the daemon starts again.
            return (nil, Self.entry(.deferred, d, now, why))
        case .sent(let reply):
            var e = Self.entry(.sent, d, now, d.possiblySent ? "\(reply) (possibly sent before the restart)" : reply)
            e.subject = message.subject
            return (.sent(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: d.sequenceID, stepID: d.stepID,
                          reply: reply, links: message.links, next: Self.plan(after: d, in: sequence, resolvedAt: now, catalog),
                          variant: sequence.step(d.stepID).flatMap { VariantAssignment.variant(of: $0, sequenceID: sequence.id, leadKey: d.lead.email.key)?.id }), e)
        case .temporaryFailure(let error):
            if let at = retry.retryAt(attempts: d.attempts + 1, firstAttempt: d.firstAttemptAt ?? now, now: now, jitter: Double.random(in: 0...1)) {
                return (.deferred(outboxID: d.outboxID, retryAt: at, error: error),
                        Self.entry(.deferred, d, now, "\(error); retry at \(DateText.iso(at))"))
            }
            return (.failed(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: d.sequenceID,
                            error: error, hardBounce: false, next: Self.plan(after: d, in: sequence, resolvedAt: now, catalog)),
                    Self.entry(.failed, d, now, "gave up after \(retry.giveUpAfter): \(error)"))
        case let .permanentFailure(error, recipientRejected):
            return (.failed(outboxID: d.outboxID, enrollmentID: d.enrollmentID, leadID: d.leadID, sequenceID: d.sequenceID, error: error,
                            hardBounce: recipientRejected,
                            next: recipientRejected ? nil : Self.plan(after: d, in: sequence, resolvedAt: now, catalog)),
                    Self.entry(.failed, d, now, recipientRejected ? "hard bounce: \(error)" : error))
        }
    }

    /// The enrollment's next step, counted from when this one was resolved: a wait's or branch's decision, else a
    /// mail step's `then:` (a step an edit removed has none), else the next in the file.
    /// - Parameter decided: a decided wait's or branch's jump (`.some(nil)`: on to the next step in the file).
    static func plan(after d: DueSend, in sequence: NurtureSequence, resolvedAt: Date, _ catalog: Catalog, decided: Jump?? = nil) -> PlannedSend? {
        var visits = d.visits
        visits[d.stepID, default: 0] += 1
        let jump = decided ?? sequence.step(d.stepID)?.then
        guard let (next, visit) = StepPlanner.next(in: sequence, after: d.stepID, jump: jump, done: d.doneSteps, visits: visits) else { return nil }
        let due = StepPlanner.due(next, previousResolvedAt: resolvedAt, enrolledAt: d.enrolledAt, recontactAfter: nil)
        return PlannedSend(stepID: next.id, dueAt: due, messageDomain: MessageComposer.messageDomain(sequence, catalog), visit: visit,
                           waitUntil: StepPlanner.waitUntil(next, dueAt: due), version: sequence.version)
    }

    private static func entry(_ kind: Report.Entry.Kind, _ d: DueSend, _ at: Date, _ detail: String) -> Report.Entry {
        .init(kind: kind, at: at, email: d.lead.email.value, sequenceID: d.sequenceID, stepID: d.stepID, detail: detail, outboxID: d.outboxID, leadID: d.leadID)
    }
}
