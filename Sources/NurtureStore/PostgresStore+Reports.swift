import Foundation
import NurtureCore

/// `nurture rescore` and `nurture stats` on PostgreSQL (the same replay and counts as SQLiteStore+Reports).
extension PostgresStore {
    /// Recomputes every lead's score from its event log under `rules`, in chunks of leads (each its own transaction),
    /// and returns the leads whose score or stage changed; writes unless `dryRun`.
    public func rescore(rules: ScoringRules, now: Date, dryRun: Bool, chunk: Int = 200) async throws -> [RescoredLead] {
        var changed: [RescoredLead] = []
        var after: Int64 = 0
        while true {
            let from = after
            let part: RescoreChunk
            if dryRun {
                part = try await read { tx in try await rescore(tx, after: from, limit: chunk, rules: rules, now: now, write: false) }
            } else {
                part = try await write { tx in try await rescore(tx, after: from, limit: chunk, rules: rules, now: now, write: true) }
            }
            changed += part.changed
            guard let last = part.last else { return changed }
            after = last
        }
    }

    private func rescore(_ tx: PostgresTransaction, after: Int64, limit: Int, rules: ScoringRules, now: Date, write: Bool) async throws -> RescoreChunk {
        var chunk = RescoreChunk()
        for lead in try await tx.rows(PostgresSQL.leadsForRescore(after: after, limit: Int64(limit))) {
            let id: Int64 = try lead["id"]
            chunk.last = id
            let log = try await tx.rows(PostgresSQL.eventsOfLeadForRescore(id)).map { r in
                (type: try r["type"] as String, machine: try r["machine"] as Bool, at: Self.date(try r["occurred_at"]))
            }
            let stored = try Self.scoreState(lead)
            let subject = try FitUpdate.subject(email: try lead["email"], persona: try lead["persona"], fields: JSONText.decodeObject(try lead["fields"]))
            let full = LeadScoring.rescore(log, stored: stored, lead: subject, matched: FitUpdate.matched(fromJSON: try lead["fit_matched"]),
                                           until: now, rules: rules)
            if let line = full.line { chunk.changed.append(line) }
            guard write else { continue }
            if let fit = full.fit { try await writeFit(tx, id: id, fit, now: Self.millis(now)) }
            guard let r = full.engagement else { continue }
            let state = r.state, before = r.before
            try await tx.execute(PostgresSQL.setScoreState(id, score: state.score, at: state.at.map(Self.millis), stage: state.stage.rawValue,
                                                           fired: JSONText.array(state.fired.sorted().map { String($0) })))
            try await tx.execute(PostgresSQL.insertLedgerEntry(lead: id, at: Self.millis(now), delta: state.score - before, scoreAfter: state.score,
                                                               cause: LeadScoring.Rescore.cause, event: nil))
        }
        return chunk
    }

    /// Leads stored and suppressed addresses per reason, read in one snapshot.
    public func totals() async throws -> StoreTotals {
        try await read { tx in
            var suppressed: [String: Int] = [:]
            for row in try await tx.rows(PostgresSQL.suppressionCounts) { suppressed[try row["reason"]] = Int(try row["n"] as Int64) }
            return StoreTotals(leads: Int(try await tx.row(PostgresSQL.leadCount)?["n"] as Int64? ?? 0), suppressed: suppressed)
        }
    }

    public func stats(since: Date?) async throws -> [SequenceStats] {
        let from = since.map(Self.millis) ?? 0
        return try await read { tx in
            var enrolled: [String: Int] = [:]
            var sides: [String: (heldOut: Int, converted: Int, holdoutConverted: Int)] = [:]
            for r in try await tx.rows(PostgresSQL.enrollmentStats(since: from)) {
                enrolled[try r["sequence_id"]] = Int(try r["enrolled"] as Int64)
                sides[try r["sequence_id"]] = (Int(try r["held_out"] as Int64), Int(try r["goal_converted"] as Int64), Int(try r["holdout_converted"] as Int64))
            }
            var steps: [String: [StepStats]] = [:]
            for r in try await tx.rows(PostgresSQL.stepStats(since: from)) {
                func n(_ column: String) throws -> Int { Int(try r[column] as Int64? ?? 0) }
                var step = StepStats(
                    stepID: try r["step_id"], sent: try n("sent"), bounced: try n("bounced"), uniqueOpens: try n("opened"),
                    uniqueClicks: try n("clicked"), clicks: try n("clicks"), machineOpens: try n("machine_opens"),
                    machineClicks: try n("machine_clicks"), unsubscribes: try n("unsubscribed"), softBounced: try n("soft_bounced"),
                    complaints: try n("complained"), replies: try n("replied"), autoReplies: try n("auto_replied"))
                step.variant = try r["variant"]
                step.conversions = try n("converted")
                steps[try r["sequence_id"], default: []].append(step)
            }
            var toConvert: [String: [TimeInterval]] = [:], toHandoff: [String: [TimeInterval]] = [:]
            for r in try await tx.rows(PostgresSQL.outcomesOfEnrollments(since: from)) {
                let sequence: String = try r["sequence_id"]
                if let ms = try r["converted_after"] as Int64? { toConvert[sequence, default: []].append(Double(ms) / 1000) }
                if let ms = try r["handed_off_after"] as Int64? { toHandoff[sequence, default: []].append(Double(ms) / 1000) }
            }
            return Set(enrolled.keys).union(steps.keys).sorted().map { id in
                var s = SequenceStats(sequenceID: id, enrolled: enrolled[id] ?? 0, converted: toConvert[id]?.count ?? 0,
                                      handedOff: toHandoff[id]?.count ?? 0, medianToConvert: SequenceStats.median(toConvert[id] ?? []),
                                      medianToHandoff: SequenceStats.median(toHandoff[id] ?? []), steps: StepStats.variantsTogether(steps[id] ?? []))
                (s.heldOut, s.goalConverted, s.holdoutConverted) = sides[id] ?? (0, 0, 0)
                return s
            }
        }
    }
}

/// One chunk of a rescore: what changed, and the last lead id seen (nil when none were left).
struct RescoreChunk: Sendable {
    var changed: [RescoredLead] = []
    var last: Int64?
}
