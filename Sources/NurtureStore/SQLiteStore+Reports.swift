import Foundation
import GRDB
import NurtureCore

/// `nurture rescore` and `nurture stats`.
extension SQLiteStore {
    /// Recomputes every lead's score from its event log under `rules` and returns the leads whose score or stage
    /// changed. Writes the new scores (with a ledger row saying so) unless `dryRun`; no hand-off or enrollment is
    /// triggered by a rescore, and stages only move forward. A pure replay: the stored score is decayed to `now`
    /// before comparing, so unchanged rules report no change. Leads go in chunks, so the write lock is held briefly
    /// (the daemon's commits, one-click unsubscribes among them, wait at most one chunk).
    public func rescore(rules: ScoringRules, now: Date, dryRun: Bool, chunk: Int = 200) async throws -> [RescoredLead] {
        var changed: [RescoredLead] = []
        var after: Int64 = 0
        while true {
            let from = after
            let (part, last): ([RescoredLead], Int64?) = dryRun
                ? try await read { [self] db in try rescore(db, after: from, limit: chunk, rules: rules, now: now, write: false) }
                : try await write { [self] db in try rescore(db, after: from, limit: chunk, rules: rules, now: now, write: true) }
            changed += part
            guard let last else { return changed }
            after = last
        }
    }

    /// One chunk of leads with ids above `after`; returns the changes and the last id seen (nil when none were left).
    private func rescore(_ db: Database, after: Int64, limit: Int, rules: ScoringRules, now: Date, write: Bool) throws -> ([RescoredLead], Int64?) {
        var changed: [RescoredLead] = []
        var last: Int64?
        let events = try db.cachedStatement(sql: SQL.eventsOfLeadForRescore)
        for lead in try Row.fetchAll(db, sql: SQL.leadsForRescore, arguments: [after, limit]) {
            let id: Int64 = lead["id"]
            last = id
            let log = try Row.fetchAll(events, arguments: [id]).map { r in
                (type: r["type"] as String, machine: (r["machine"] as Int64) != 0, at: Self.date(r["occurred_at"]))
            }
            let stored = Self.scoreState(lead)
            let subject = try FitUpdate.subject(email: lead["email"], persona: lead["persona"], fields: JSONText.decodeObject(lead["fields"]))
            let full = LeadScoring.rescore(log, stored: stored, lead: subject, matched: FitUpdate.matched(fromJSON: lead["fit_matched"]), until: now,
                                           rules: rules)
            if let line = full.line { changed.append(line) }
            guard write else { continue }
            if let fit = full.fit { try writeFit(db, id: id, fit, now: Self.millis(now)) }
            guard let r = full.engagement else { continue }
            let state = r.state, before = r.before
            try db.cachedStatement(sql: SQL.setScoreState).execute(arguments: [
                state.score, state.at.map(Self.millis), state.stage.rawValue, JSONText.array(state.fired.sorted().map { String($0) }), id,
            ])
            try db.cachedStatement(sql: SQL.insertLedgerEntry).execute(arguments: [
                id, Self.millis(now), state.score - before, state.score, LeadScoring.Rescore.cause, nil,
            ])
        }
        return (changed, last)
    }

    /// Leads stored and suppressed addresses per reason, read in one snapshot.
    public func totals() async throws -> StoreTotals {
        try await read { db in
            var suppressed: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: SQL.suppressionCounts) { suppressed[row["reason"]] = row["n"] }
            return StoreTotals(leads: try Int.fetchOne(db, sql: SQL.leadCount) ?? 0, suppressed: suppressed)
        }
    }

    public func stats(since: Date?) async throws -> [SequenceStats] {
        let from = since.map(Self.millis) ?? 0
        return try await read { db in
            var enrolled: [String: Int] = [:]
            var sides: [String: (heldOut: Int, converted: Int, holdoutConverted: Int)] = [:]
            for r in try Row.fetchAll(db, sql: SQL.enrollmentStats, arguments: [from]) {
                enrolled[r["sequence_id"]] = r["enrolled"]
                sides[r["sequence_id"]] = (r["held_out"] ?? 0, r["goal_converted"] ?? 0, r["holdout_converted"] ?? 0)
            }
            var steps: [String: [StepStats]] = [:]
            for r in try Row.fetchAll(db, sql: SQL.stepStats, arguments: ["since": from]) {
                var step = StepStats(
                    stepID: r["step_id"], sent: r["sent"] ?? 0, bounced: r["bounced"] ?? 0, uniqueOpens: r["opened"] ?? 0,
                    uniqueClicks: r["clicked"] ?? 0, clicks: r["clicks"] ?? 0, machineOpens: r["machine_opens"] ?? 0,
                    machineClicks: r["machine_clicks"] ?? 0, unsubscribes: r["unsubscribed"] ?? 0, softBounced: r["soft_bounced"] ?? 0,
                    complaints: r["complained"] ?? 0, replies: r["replied"] ?? 0, autoReplies: r["auto_replied"] ?? 0)
                step.variant = r["variant"]
                step.conversions = r["converted"] ?? 0
                steps[r["sequence_id"], default: []].append(step)
            }
            var toConvert: [String: [TimeInterval]] = [:], toHandoff: [String: [TimeInterval]] = [:]
            for r in try Row.fetchAll(db, sql: SQL.outcomesOfEnrollments, arguments: [from]) {
                let sequence: String = r["sequence_id"]
                if let ms = r["converted_after"] as Int64? { toConvert[sequence, default: []].append(Double(ms) / 1000) }
                if let ms = r["handed_off_after"] as Int64? { toHandoff[sequence, default: []].append(Double(ms) / 1000) }
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
