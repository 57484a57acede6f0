import Foundation
import GRDB
import NurtureCore
import Synchronization

/// The HTTP side's storage. Every call runs GRDB's synchronous API on the store's own lanes: GRDB's async reads
/// hold a reader connection across an `await`, so under load they starved Swift's two cooperative threads and the
/// daemon froze (seen under wrk).
extension SQLiteStore {
    public func trackedMessage(_ outboxID: Int64) async throws -> TrackedMessage? {
        try await read { db in
            // A cached statement: compiling it per request (and GRDB's authorizer with it) was a tenth of the CPU.
            guard let row = try Row.fetchOne(try db.cachedStatement(sql: SQL.trackedMessage), arguments: [outboxID]),
                  let email = try? EmailAddress(validating: row["email"] as String) else { return nil }
            let fields = JSONText.decodeObject(row["fields"])
            return TrackedMessage(outboxID: row["id"], leadID: row["lead_id"], email: email, firstName: fields["first_name"],
                                  locale: row["locale"], sequenceID: row["sequence_id"], stepID: row["step_id"],
                                  sentAt: (row["sent_at"] as Int64?).map(Self.date),
                                  links: (row["links"] as String?).map(JSONText.decodeArray) ?? [], suppressed: row["suppressed"])
        }
    }

    public func recordEngagements(_ items: [TrackedEvent], burstWindow: TimeInterval, scoring: ScoringContext) async throws -> [Bool] {
        try await write { [self] db in
            let insert = try db.cachedStatement(sql: SQL.insertEngagement)
            return try items.map { e in
                let t = Self.millis(e.at)
                // An open scores once per message, a click once per link: a replayed pixel or link is kept as a
                // repeat, counted but not scored (2 000 replays of one pixel used to add 2 000 points).
                let earlier = try Int.fetchOne(try db.cachedStatement(sql: SQL.earlierEngagement),
                                               arguments: [e.message.outboxID, e.kind.rawValue, e.link ?? -1])
                let repeated = earlier == 1 || (earlier == 0 && e.machineReason != nil)
                var data: [String] = []
                if let link = e.link { data.append("\"link\":\(link)") }
                if let why = e.machineReason { data.append("\"why\":" + JSONText.quoted(why)) }
                if repeated { data.append("\"repeat\":true") }
                try insert.execute(arguments: [e.message.leadID, e.message.outboxID, e.message.sequenceID, e.message.stepID,
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
                try score(db, leadID: e.message.leadID, type: e.kind.rawValue, machine: machine,
                          cause: "\(machine ? "machine " : "")\(e.kind.rawValue) (\(e.message.sequenceID)/\(e.message.stepID))",
                          eventID: eventID, at: e.at, context: scoring)
                return machine
            }
        }
    }

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
