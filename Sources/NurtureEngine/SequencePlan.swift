import Foundation
import NurtureAuthoring
import NurtureCore

/// `nurture plan`: what reloading the files on disk would do to the leads already enrolled in one sequence, decided
/// by the same rules the scheduler applies (`StepPlanner`, `DispatchPolicy.exitRule`, `VariantAssignment`).
public struct SequencePlan: Sendable {
    /// What a change does to one enrollment.
    public enum Effect: String, Sendable, CaseIterable, Codable {
        /// Its waiting step is still there, in the same place among the steps both versions share.
        case kept
        /// Its waiting step is still there but elsewhere in the order: what follows it changes.
        case moved
        /// Its waiting step was removed: it is skipped when due, and the enrollment goes on to the next step.
        case skip
        /// The step it would get next carries a template it already received (a renamed step, a step moved back).
        case resend
        /// An exit rule (or the entry stage) of the new version ends the enrollment at its next step.
        case exit
        /// Its variant of an A/B-tested step changes.
        case reassign
    }

    public struct Group: Sendable, Hashable {
        public var stepID: String
        public var effect: Effect
        public var detail: String
        public var count: Int
    }

    public var sequenceID: String
    public var version: String
    /// Versions the enrollments run now, with how many run each ("" for those recorded before versions were).
    public var running: [String: Int]
    /// Steps added (+), removed (-), changed (~) between the version most enrollments run and the files on disk.
    public var stepChanges: [String]
    public var groups: [Group]
    /// Sends expected within 24 h and 7 d under the current plan and after the change (due times, before send
    /// windows and the fatigue throttle, which apply to both alike).
    public var sends: (day: (now: Int, after: Int), week: (now: Int, after: Int))

    public var changed: Bool { running.keys.contains { $0 != version } }
    public func count(_ e: Effect) -> Int { groups.filter { $0.effect == e }.reduce(0) { $0 + $1.count } }

    /// - Parameters:
    ///   - old: the recorded versions' sequences (version → sequence); a version missing here is judged on the new file alone.
    public static func make(new: NurtureSequence, old: [String: NurtureSequence], enrollments: [PlanEnrollment], now: Date) -> SequencePlan {
        var running: [String: Int] = [:]
        for e in enrollments { running[e.version ?? "", default: 0] += 1 }
        let main = running.filter { $0.key != new.version }.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        let changes = main.flatMap { old[$0] }.map { stepChanges(from: $0, to: new) } ?? []
        var tally: [Group: Int] = [:]
        var sends = (day: (now: 0, after: 0), week: (now: 0, after: 0))
        for e in enrollments {
            let before = e.version.flatMap { old[$0] }
            let (effect, detail) = judge(e, old: before, new: new)
            tally[Group(stepID: e.stepID ?? "(in flight)", effect: effect, detail: detail, count: 0), default: 0] += 1
            let removed = new.step(e.stepID ?? "") == nil
            func due(within horizon: TimeInterval, _ s: NurtureSequence, removed: Bool) -> Int {
                projected(e, in: s, removedCurrent: removed, until: now.addingTimeInterval(horizon))
            }
            sends.day.now += due(within: 86_400, before ?? new, removed: false)
            sends.week.now += due(within: 7 * 86_400, before ?? new, removed: false)
            if effect != .exit {
                sends.day.after += due(within: 86_400, new, removed: removed)
                sends.week.after += due(within: 7 * 86_400, new, removed: removed)
            }
        }
        let order = Dictionary(uniqueKeysWithValues: new.steps.enumerated().map { ($1.id, $0) })
        let groups = tally.map { g, n in Group(stepID: g.stepID, effect: g.effect, detail: g.detail, count: n) }
            .sorted { (order[$0.stepID] ?? Int.max, $0.stepID, $0.effect.rawValue, $0.detail) < (order[$1.stepID] ?? Int.max, $1.stepID, $1.effect.rawValue, $1.detail) }
        return SequencePlan(sequenceID: new.id, version: new.version, running: running, stepChanges: changes, groups: groups, sends: sends)
    }

    static func judge(_ e: PlanEnrollment, old: NurtureSequence?, new: NurtureSequence) -> (Effect, String) {
        if !new.entry.stages.contains(e.facts.stage) { return (.exit, "stage \(e.facts.stage.rawValue) is no longer admitted") }
        if let (reason, handoff) = DispatchPolicy.exitRule(of: new, events: e.events, score: e.facts.score, facts: e.facts) {
            return (.exit, handoff ? "\(reason): handed to sales" : reason)
        }
        guard let current = e.stepID else { return (.kept, "a step is being sent") }
        guard let step = new.step(current) else {
            let next = StepPlanner.next(in: new, after: current, jump: nil, done: e.done)?.step
            // Only what went out counts (the waiting step itself never did): each done step's template or variants'.
            let sent = Set(e.done.compactMap { (old ?? new).step($0) }.flatMap { [$0.template] + $0.variants.map(\.template) })
            if let next, next.flow.isMail, sent.contains(next.template) {
                return (.resend, "step removed; \(next.id) sends \(next.template) again")
            }
            return (.skip, "step removed; goes on to \(next?.id ?? "the end")")
        }
        if let old, let before = old.step(current), !before.variants.isEmpty, !step.variants.isEmpty,
           VariantAssignment.variant(of: before, sequenceID: old.id, leadKey: e.leadKey)?.id
            != VariantAssignment.variant(of: step, sequenceID: new.id, leadKey: e.leadKey)?.id {
            return (.reassign, "variant changes")
        }
        guard let old else { return (.kept, e.version == nil ? "version not recorded: judged on the new file" : "unchanged step") }
        let shared = Set(old.steps.map(\.id)).intersection(new.steps.map(\.id))
        let oldOrder = old.steps.map(\.id).filter(shared.contains), newOrder = new.steps.map(\.id).filter(shared.contains)
        if oldOrder.firstIndex(of: current) != newOrder.firstIndex(of: current) { return (.moved, "moved in the order") }
        let index = new.steps.firstIndex { $0.id == current }!
        let added = new.steps.enumerated().filter { old.step($0.element.id) == nil }
        let ahead = added.filter { $0.offset > index }.map(\.element.id), behind = added.filter { $0.offset < index }.map(\.element.id)
        var notes: [String] = []
        if !ahead.isEmpty { notes.append("will get new \(ahead.joined(separator: ", "))") }
        if !behind.isEmpty { notes.append("new \(behind.joined(separator: ", ")) is behind it: not sent") }
        if let before = old.step(current), before != step { notes.append("step edited") }
        return (.kept, notes.isEmpty ? "unchanged step" : notes.joined(separator: "; "))
    }

    /// Mail steps due by `until` from the waiting step on, following the file (a wait or branch ends the projection:
    /// its outcome is not known yet).
    static func projected(_ e: PlanEnrollment, in sequence: NurtureSequence, removedCurrent: Bool, until: Date) -> Int {
        guard let current = e.stepID, var at = e.dueAt else { return 0 }
        var n = 0, done = e.done, id = current, visits = 0
        if !removedCurrent {
            guard let step = sequence.step(current), step.flow.isMail else { return 0 }
            if at <= until { n += 1 }
        }
        while visits < 50, let next = StepPlanner.next(in: sequence, after: id, jump: sequence.step(id)?.then, done: done)?.step, next.flow.isMail {
            visits += 1
            done.insert(id)
            at = at.addingTimeInterval(Double(next.after.seconds))
            guard at <= until else { break }
            n += 1
            id = next.id
        }
        return n
    }

    /// `+ id`, `- id`, `~ id (what)` between two versions, in the new file's order then the removed ones.
    static func stepChanges(from old: NurtureSequence, to new: NurtureSequence) -> [String] {
        var out: [String] = []
        for s in new.steps {
            guard let before = old.step(s.id) else { out.append("+ \(s.id)"); continue }
            var what: [String] = []
            if before.after != s.after { what.append("after \(before.after) → \(s.after)") }
            if before.template != s.template { what.append("template \(before.template) → \(s.template)") }
            if before.variants != s.variants { what.append("variants") }
            if before.flow != s.flow || before.then != s.then || before.otherwise != s.otherwise { what.append("flow") }
            if before.skipIf != s.skipIf || before.onlyIf != s.onlyIf { what.append("conditions") }
            if before.transactional != s.transactional { what.append("class") }
            if !what.isEmpty { out.append("~ \(s.id) (\(what.joined(separator: ", ")))") }
        }
        for s in old.steps where new.step(s.id) == nil { out.append("- \(s.id)") }
        if old.exits != new.exits { out.append("~ exit rules") }
        if old.entry != new.entry { out.append("~ entry") }
        return out
    }
}
