import Foundation
import NurtureCore
import Synchronization

/// The HTTP side's storage on PostgreSQL: the same decisions as SQLiteStore+Tracking (repeats, bursts, machine
/// opens), taken inside the transaction that records the hit.
extension PostgresStore {
    public func trackedMessage(_ outboxID: Int64) async throws -> TrackedMessage? {
        try await read { tx in try await Self.trackedMessage(tx, outboxID) }
    }

    static func trackedMessage(_ tx: PostgresTransaction, _ outboxID: Int64) async throws -> TrackedMessage? {
        guard let row = try await tx.row(PostgresSQL.trackedMessage(outboxID)),
              let email = try? EmailAddress(validating: try row["email"] as String) else { return nil }
        let fields = JSONText.decodeObject(try row["fields"])
        return TrackedMessage(outboxID: try row["id"], leadID: try row["lead_id"], email: email, firstName: fields["first_name"],
                              locale: try row["locale"], sequenceID: try row["sequence_id"], stepID: try row["step_id"],
                              sentAt: (try row["sent_at"] as Int64?).map(Self.date),
                              links: (try row["links"] as String?).map(JSONText.decodeArray) ?? [], suppressed: try row["suppressed"])
    }

    public func recordEngagements(_ items: [TrackedEvent], burstWindow: TimeInterval, scoring: ScoringContext) async throws -> [Bool] {
        try await write { tx in
            var machine: [Bool] = []
            for item in items { machine.append(try await insertEngagement(tx, item, burstWindow: burstWindow, scoring: scoring)) }
            return machine
        }
    }

    public func record(_ hits: [TrackedHit], policy: MachineSignals.Policy, scoring: ScoringContext) async throws -> [Bool?] {
        try await write { tx in
            // A message opened many times in one batch is read once, and whether it was opened before is asked once.
            var messages: [Int64: TrackedMessage?] = [:], opened: [Int64: Int?] = [:]
            var results: [Bool?] = []
            for hit in hits {
                switch hit {
                case .event(let e):
                    results.append(try await insertEngagement(tx, e, burstWindow: policy.burstWindow, scoring: scoring))
                case .open(let outboxID, let at, let userAgent, let head):
                    let found: TrackedMessage?
                    if let known = messages[outboxID] {
                        found = known
                    } else {
                        found = try await Self.trackedMessage(tx, outboxID)
                        messages[outboxID] = .some(found)
                    }
                    guard let message = found else { // deleted or never sent: nothing recorded
                        results.append(nil)
                        continue
                    }
                    var why = MachineSignals.open(userAgent: userAgent, sentAt: message.sentAt, now: at, policy: policy)
                    if head { why = why ?? "HEAD request" }
                    let earlier: Int?
                    if let known = opened[outboxID] { earlier = known } else {
                        earlier = try await Self.earlierEngagement(tx, outboxID: outboxID, kind: .open, link: nil)
                    }
                    let machine = try await insertEngagement(tx, TrackedEvent(kind: .open, message: message, at: at, machineReason: why),
                                                             earlier: earlier, burstWindow: policy.burstWindow, scoring: scoring)
                    // What the next open of this message in the batch finds (opens are never re-flagged, unlike clicks).
                    opened[outboxID] = .some(SQLiteStore.isRepeat(earlier: earlier, machine: why != nil) ? earlier : (why == nil ? 1 : 0))
                    results.append(machine)
                }
            }
            return results
        }
    }

    /// One open or click, scored unless it repeats an earlier one; returns its final machine flag.
    /// - Parameter known: what `earlierEngagement` answers for this event, when the caller has it already.
    private func insertEngagement(_ tx: PostgresTransaction, _ e: TrackedEvent, earlier known: Int?? = nil, burstWindow: TimeInterval,
                                  scoring: ScoringContext) async throws -> Bool {
        let t = Self.millis(e.at)
        let earlier: Int?
        if let known { earlier = known } else { earlier = try await Self.earlierEngagement(tx, outboxID: e.message.outboxID, kind: e.kind, link: e.link) }
        let repeated = SQLiteStore.isRepeat(earlier: earlier, machine: e.machineReason != nil)
        var data: [String] = []
        if let link = e.link { data.append("\"link\":\(link)") }
        if let why = e.machineReason { data.append("\"why\":" + JSONText.quoted(why)) }
        if repeated { data.append("\"repeat\":true") }
        let eventID: Int64? = try await tx.row(PostgresSQL.insertEvent(
            lead: e.message.leadID, outbox: e.message.outboxID, sequence: e.message.sequenceID, step: e.message.stepID, type: e.kind.rawValue,
            machine: e.machineReason != nil, at: t, data: data.isEmpty ? nil : "{" + data.joined(separator: ",") + "}"))?["id"]
        var machine = e.machineReason != nil
        if repeated { return machine }
        if e.kind == .click, !machine {
            let since = t - Int64(burstWindow * 1000)
            let distinct = Int(try await tx.row(PostgresSQL.distinctLinksClicked(outbox: e.message.outboxID, since: since))?["n"] as Int64? ?? 0)
            if MachineSignals.isBurst(distinctLinksClicked: distinct, linkCount: e.message.links.count) {
                // Earlier clicks of the burst keep the points they were given; `nurture rescore` replays them as machine ones.
                try await tx.execute(PostgresSQL.flagBurst(outbox: e.message.outboxID, since: since))
                machine = true
            }
        }
        if !machine { try await tx.execute(PostgresSQL.wakeWaits(lead: e.message.leadID, now: t)) }
        try await score(tx, leadID: e.message.leadID, type: e.kind.rawValue, machine: machine,
                        cause: "\(machine ? "machine " : "")\(e.kind.rawValue) (\(e.message.sequenceID)/\(e.message.stepID))",
                        eventID: eventID, at: e.at, context: scoring)
        return machine
    }

    /// Whether the message already has this open or this link's click: nil none, 0 only machine ones, 1 a person's.
    static func earlierEngagement(_ tx: PostgresTransaction, outboxID: Int64, kind: TrackedEvent.Kind, link: Int?) async throws -> Int? {
        (try await tx.value(PostgresSQL.earlierEngagement(outbox: outboxID, type: kind.rawValue, link: Int64(link ?? -1)), "earlier") as Int64?)
            .map(Int.init)
    }

    /// False when the server does not answer `SELECT 1` within 0.9 s, so `/healthz` answers in time.
    public func isReachable() async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { [self] in (try? await read { tx in try await tx.row(PostgresSQL.ping) != nil }) ?? false }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(900))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    public func outboxDepth() async throws -> [String: Int] { try await outboxStatusCounts() }

    /// Outbox rows per status, for `/metrics`, `STATUS=` and tests.
    public func outboxStatusCounts() async throws -> [String: Int] {
        try await read { tx in
            var counts: [String: Int] = [:]
            for row in try await tx.rows(PostgresSQL.outboxStatusCounts) { counts[try row["status"]] = Int(try row["n"] as Int64) }
            return counts
        }
    }

    /// Message-IDs of sends that were in flight at a crash and were retried: each may exist twice downstream.
    public func possiblySentMessageIDs() async throws -> Set<String> {
        try await read { tx in Set(try await tx.rows(PostgresSQL.possiblySentMessageIDs).map { try $0["message_id"] as String }) }
    }

    /// Message-IDs of every send recorded as sent.
    public func sentMessageIDs() async throws -> [String] {
        try await read { tx in try await tx.rows(PostgresSQL.sentMessageIDs).map { try $0["message_id"] as String } }
    }

    // MARK: unsubscribes

    /// Commits the suppression, the end of every enrollment and the cancelled sends, flushed before the reply:
    /// PostgreSQL has no single writer to wait behind, so no journal is needed (SQLite's journals while its
    /// writer is busy). Idempotent.
    public func unsubscribe(outboxID: Int64, at: Date, via: String, scoring: ScoringContext) async throws -> UnsubscribeResult {
        let t = Self.millis(at)
        return try await write { tx in
            guard let row = try await tx.row(PostgresSQL.leadOfOutbox(outboxID)) else { return .unknownMessage }
            let leadID: Int64 = try row["lead_id"], key: String = try row["email_key"]
            if (try await tx.value(PostgresSQL.isSuppressed(key, erased: erasedKey(key)), "suppressed") as Bool?) == true { return .alreadyUnsubscribed }
            guard try await tx.count(PostgresSQL.suppress(key, reason: "unsubscribed", now: t)) > 0 else { return .alreadyUnsubscribed }
            let eventID: Int64? = try await tx.row(PostgresSQL.insertEvent(lead: leadID, outbox: outboxID, sequence: nil, step: nil,
                                                                            type: EventKind.unsubscribe.name, machine: false, at: t,
                                                                            data: "{\"via\":" + JSONText.quoted(via) + "}"))?["id"]
            try await score(tx, leadID: leadID, type: EventKind.unsubscribe.name, machine: false, cause: "unsubscribe (\(via))",
                            eventID: eventID, at: at, context: scoring)
            try await end(tx, EnrollmentEnd(enrollmentID: 0, leadID: leadID, reason: "unsubscribed", handoff: false, allOfLead: true), now: t)
            return .unsubscribed
        }
    }

    /// Nothing is ever journaled: each unsubscribe is committed before it is answered.
    public var hasJournaledUnsubscribes: Bool { false }

    @discardableResult
    public func applyJournaledUnsubscribes(scoring: ScoringContext) async throws -> Int { 0 }

    public func pendingUnsubscribes() -> Set<Int64> { [] }
}
