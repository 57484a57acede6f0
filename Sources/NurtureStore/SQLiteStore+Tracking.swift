import Foundation
import GRDB
import NurtureCore
import Synchronization

/// The HTTP side's storage. Every call runs GRDB's synchronous API on the store's own lanes: GRDB's async reads
/// hold a reader connection across an `await`, so under load they starved Swift's two cooperative threads and the
/// daemon froze (seen under wrk).
extension SQLiteStore {
    public func trackedMessage(_ outboxID: Int64) async throws -> TrackedMessage? {
        try await read { db in try Self.trackedMessage(db, outboxID) }
    }

    /// A cached statement: compiling it per request (and GRDB's authorizer with it) was a tenth of the CPU.
    static func trackedMessage(_ db: Database, _ outboxID: Int64) throws -> TrackedMessage? {
        guard let row = try Row.fetchOne(try db.cachedStatement(sql: SQL.trackedMessage), arguments: [outboxID]),
              let email = try? EmailAddress(validating: row["email"] as String) else { return nil }
        let fields = JSONText.decodeObject(row["fields"])
        return TrackedMessage(outboxID: row["id"], leadID: row["lead_id"], email: email, firstName: fields["first_name"],
                              locale: row["locale"], sequenceID: row["sequence_id"], stepID: row["step_id"],
                              sentAt: (row["sent_at"] as Int64?).map(Self.date),
                              links: (row["links"] as String?).map(JSONText.decodeArray) ?? [], suppressed: row["suppressed"])
    }

    /// What an open needs of its message, without its links, fields or suppression: decoding those once per batch
    /// was a tenth of the pixel's commit loop.
    static func openedMessage(_ db: Database, _ outboxID: Int64) throws -> TrackedMessage? {
        guard let row = try Row.fetchOne(try db.cachedStatement(sql: SQL.openedMessage), arguments: [outboxID]),
              let email = try? EmailAddress(validating: row["email"] as String) else { return nil }
        return TrackedMessage(outboxID: row["id"], leadID: row["lead_id"], email: email, firstName: nil, locale: nil,
                              sequenceID: row["sequence_id"], stepID: row["step_id"], sentAt: (row["sent_at"] as Int64?).map(Self.date),
                              links: [], suppressed: false)
    }

    public func recordEngagements(_ items: [TrackedEvent], burstWindow: TimeInterval, scoring: ScoringContext) async throws -> [Bool] {
        try await write { [self] db in
            try items.map { try insertEngagement(db, $0, burstWindow: burstWindow, scoring: scoring) }
        }
    }

    public func record(_ hits: [TrackedHit], policy: MachineSignals.Policy, scoring: ScoringContext) async throws -> [Bool?] {
        try await write { [self] db in try record(db, hits, policy: policy, scoring: scoring) }
    }

    /// The same transaction as the async `record`, queued on the writer lane; `completion` runs on its thread.
    public func record(_ hits: [TrackedHit], policy: MachineSignals.Policy, scoring: ScoringContext,
                       completion: @escaping @Sendable (Result<[Bool?], any Error>) -> Void) {
        lanes.writer.submit({ [self, pool] in
            completion(Result { try Self.typed { try pool.write { db in try record(db, hits, policy: policy, scoring: scoring) } } })
        }, rejected: { completion(.failure(StoreFailure.closed)) })
    }

    private func record(_ db: Database, _ hits: [TrackedHit], policy: MachineSignals.Policy, scoring: ScoringContext) throws -> [Bool?] {
        // A message opened many times in one batch is read once, and whether it was opened before is asked once.
        var messages: [Int64: TrackedMessage?] = [:], opened: [Int64: Int?] = [:]
        return try hits.map { hit -> Bool? in
            switch hit {
            case .event(let e):
                return try insertEngagement(db, e, burstWindow: policy.burstWindow, scoring: scoring)
            case .open(let outboxID, let at, let userAgent, let head):
                let found: TrackedMessage?
                if let known = messages[outboxID] {
                    found = known
                } else {
                    found = try Self.openedMessage(db, outboxID)
                    messages[outboxID] = .some(found)
                }
                guard let message = found else { return nil } // deleted or never sent: nothing recorded
                var why = MachineSignals.open(userAgent: userAgent, sentAt: message.sentAt, now: at, policy: policy)
                if head { why = why ?? "HEAD request" }
                let earlier = try opened[outboxID] ?? Self.earlierEngagement(db, outboxID: outboxID, kind: .open, link: nil)
                let machine = try insertEngagement(db, TrackedEvent(kind: .open, message: message, at: at, machineReason: why),
                                                   earlier: earlier, burstWindow: policy.burstWindow, scoring: scoring)
                // What the next open of this message in the batch finds (opens are never re-flagged, unlike clicks).
                opened[outboxID] = .some(Self.isRepeat(earlier: earlier, machine: why != nil) ? earlier : (why == nil ? 1 : 0))
                return machine
            }
        }
    }

    /// One open or click, scored unless it repeats an earlier one; returns its final machine flag.
    /// - Parameter known: what `earlierEngagement` answers for this event, when the caller has it already.
    private func insertEngagement(_ db: Database, _ e: TrackedEvent, earlier known: Int?? = nil, burstWindow: TimeInterval,
                                  scoring: ScoringContext) throws -> Bool {
        let t = Self.millis(e.at)
        let earlier = try known ?? Self.earlierEngagement(db, outboxID: e.message.outboxID, kind: e.kind, link: e.link)
        let repeated = Self.isRepeat(earlier: earlier, machine: e.machineReason != nil)
        var data: [String] = []
        if let link = e.link { data.append("\"link\":\(link)") }
        if let why = e.machineReason { data.append("\"why\":" + JSONText.quoted(why)) }
        if repeated { data.append("\"repeat\":true") }
        try db.cachedStatement(sql: SQL.insertEngagement).execute(arguments: [e.message.leadID, e.message.outboxID, e.message.sequenceID, e.message.stepID,
                                                                              e.kind.rawValue, e.machineReason == nil ? 0 : 1, t,
                                                                              data.isEmpty ? nil : "{" + data.joined(separator: ",") + "}"])
        let eventID = db.lastInsertedRowID
        var machine = e.machineReason != nil
        if repeated { return machine }
        if e.kind == .click, !machine {
            let since = t - Int64(burstWindow * 1000)
            let distinct = try Int.fetchOne(try db.cachedStatement(sql: SQL.distinctLinksClicked), arguments: [e.message.outboxID, since]) ?? 0
            if MachineSignals.isBurst(distinctLinksClicked: distinct, linkCount: e.message.links.count) {
                // Earlier clicks of the burst keep the points they were given; `nurture rescore` replays them as machine ones.
                try db.execute(sql: SQL.flagBurst, arguments: [e.message.outboxID, since])
                machine = true
            }
        }
        if !machine { try wakeWaits(db, leadID: e.message.leadID, now: t) }
        try score(db, leadID: e.message.leadID, type: e.kind.rawValue, machine: machine,
                  cause: "\(machine ? "machine " : "")\(e.kind.rawValue) (\(e.message.sequenceID)/\(e.message.stepID))",
                  eventID: eventID, at: e.at, context: scoring)
        return machine
    }

    /// Whether the message already has this open or this link's click: nil none, 0 only machine ones, 1 a person's.
    static func earlierEngagement(_ db: Database, outboxID: Int64, kind: TrackedEvent.Kind, link: Int?) throws -> Int? {
        try Int.fetchOne(try db.cachedStatement(sql: SQL.earlierEngagement), arguments: [outboxID, kind.rawValue, link ?? -1])
    }

    /// An open scores once per message, a click once per link: a replayed pixel or link is kept as a repeat, counted
    /// but not scored (2 000 replays of one pixel used to add 2 000 points); a machine's after a machine's repeats too.
    static func isRepeat(earlier: Int?, machine: Bool) -> Bool { earlier == 1 || (earlier == 0 && machine) }

    /// False when a read does not answer within 0.9 s (an exclusive lock held elsewhere): `/healthz` answers in time.
    /// The read runs on a lane of its own, so busy HTTP work cannot delay it.
    public func isReachable() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resumed = Mutex(false)
            let finish: @Sendable (Bool) -> Void = { answer in
                if resumed.withLock({ done in defer { done = true }; return !done }) { continuation.resume(returning: answer) }
            }
            lanes.ping.submit({ [pool] in finish((try? pool.read { db in try Int.fetchOne(db, sql: SQL.ping) }) == 1) }, rejected: { finish(false) })
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(900)) { finish(false) }
        }
    }

    public func outboxDepth() async throws -> [String: Int] {
        try await read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: SQL.outboxStatusCounts) { counts[row["status"]] = row["n"] }
            return counts
        }
    }
}

extension SQL {
    /// `trackedMessage` for an open: the same rows, only the columns an open event uses.
    static let openedMessage = """
        SELECT o.id, o.lead_id, o.sequence_id, o.step_id, o.sent_at, l.email
        FROM outbox o JOIN lead l ON l.id = o.lead_id
        WHERE o.id = ? AND o.status IN (\(OutboxStatus.sending.sql), \(OutboxStatus.sent.sql))
        """
    /// Whether the message already has this open or this link's click: NULL none, 0 only machine ones, 1 a person's.
    /// EXISTS stops at the first match (the first scored hit comes first in the index), so a replayed link costs the
    /// same at its 100 000th hit as at its second; `max()` over every earlier hit made the pixel quadratic.
    static let earlierEngagement = """
        SELECT CASE
          WHEN EXISTS (SELECT 1 FROM event WHERE outbox_id = ?1 AND type = ?2 AND machine = 0
                       AND coalesce(json_extract(data, '$.link'), -1) = ?3 AND json_extract(data, '$.repeat') IS NULL) THEN 1
          WHEN EXISTS (SELECT 1 FROM event WHERE outbox_id = ?1 AND type = ?2 AND machine = 1
                       AND coalesce(json_extract(data, '$.link'), -1) = ?3 AND json_extract(data, '$.repeat') IS NULL) THEN 0
        END
        """
}
