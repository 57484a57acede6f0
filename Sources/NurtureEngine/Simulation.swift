import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureSigning

/// `nurture simulate`: the daemon's own scheduler, store and rendering on a virtual clock, for one lead and one
/// sequence, with scripted events — so authors see delays, windows, conditions and throttling before going live.
public enum Simulation {
    /// An event the author expects, e.g. `clicked(welcome)@2d` (2 days after that step is sent) or `converted@5d`
    /// (5 days after the start), or at an absolute time (`converted@2026-12-01T10:00:00Z`).
    public struct ScriptedEvent: Sendable, Hashable {
        public var type: String
        public var step: String?
        public var offset: TimeSpan?
        public var absolute: Date?

        public var description: String { (step.map { "\(type == "click" ? "clicked" : "opened")(\($0))" } ?? type) }
    }

    public struct Line: Sendable, Encodable {
        public var at: Date
        public var kind: String
        public var step: String?
        public var detail: String
        public var subject: String?
    }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public static func parseEvent(_ text: String) throws -> ScriptedEvent {
        let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw Problem(description: "event '\(text)' must read like clicked(welcome)@2d or converted@5d") }
        var event = ScriptedEvent(type: parts[0])
        if let condition = Condition(parsing: parts[0]) {
            switch condition {
            case .clicked(let s): event = ScriptedEvent(type: "click", step: s)
            case .opened(let s): event = ScriptedEvent(type: "open", step: s)
            }
        } else if !Identifier.isName(parts[0]) {
            throw Problem(description: "event '\(parts[0])' must be clicked(STEP), opened(STEP) or an event name such as converted")
        }
        if let span = TimeSpan(parsing: parts[1]) {
            event.offset = span
        } else if let date = DateText.parse(parts[1], in: .gmt) {
            event.absolute = date
        } else {
            throw Problem(description: "bad time '\(parts[1])' in '\(text)': use a delay (2d) or an ISO 8601 date")
        }
        return event
    }

    /// What a simulation runs on: a scratch store of the daemon's kind, opened at a path.
    public typealias Store = SchedulerStore & EventStore & LeadsAPIStore & StoreLifecycle

    /// - Parameter openStore: opens a fresh store at the given path (the composition root knows which kind).
    /// - Parameter reentries: how many times a lead that may come back (`reenter`) is followed into another run.
    public static func run(catalog: Catalog, sequenceID: String, lead input: Lead, start: Date, events: [ScriptedEvent],
                           horizon: TimeSpan = .days(400), reentries: Int = 1,
                           openStore: @Sendable (String) async throws -> any Store) async throws -> [Line] {
        guard let sequence = catalog.sequence(sequenceID) else {
            throw Problem(description: "unknown sequence '\(sequenceID)'; known: \(catalog.sequences.map(\.sequence.id).joined(separator: ", "))")
        }
        var lead = input
        lead.persona = sequence.persona
        for event in events where event.step != nil && sequence.step(event.step!) == nil {
            throw Problem(description: "event \(event.description) names a step that sequence '\(sequenceID)' does not have")
        }
        guard sequence.entry.admits(lead) else {
            let missing = sequence.entry.require.filter { (lead.value(of: $0) ?? "").isEmpty }
            throw Problem(description: "the lead does not pass the entry gate of '\(sequenceID)'"
                          + (missing.isEmpty ? " (score or match filters)" : ": missing \(missing.joined(separator: ", "))"))
        }
        var only = catalog
        only.sequences = catalog.sequences.filter { $0.sequence.id == sequenceID }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-simulate-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try await openStore(folder + "/simulate.sqlite")
        let clock = ManualClock(start)
        let holder = CatalogHolder(only)
        let transport = MemoryTransport()
        let scheduler = Scheduler(store: store, transport: transport, catalog: holder,
                                  composer: MessageComposer(signer: TokenSigner(keys: [Data(repeating: 0x5A, count: 32)])))
        let recorder = EventRecorder(store: store, catalog: holder)
        _ = try await store.upsert([lead], now: start, scoring: only.scoringContext)

        var lines: [Line] = []
        var sentAt: [String: Date] = [:]
        var pending = events
        let end = start.addingTimeInterval(Double(horizon.seconds))
        func eventTime(_ e: ScriptedEvent) -> Date? {
            if let absolute = e.absolute { return absolute }
            if let step = e.step { return sentAt[step].map { $0.addingTimeInterval(Double(e.offset!.seconds)) } }
            return start.addingTimeInterval(Double(e.offset!.seconds))
        }
        var now = start
        try await TransportService.withRunning(transport) {
            for _ in 0..<10_000 {
                // Events that are due happen before the tick at the same instant.
                for e in pending.filter({ eventTime($0).map { $0 <= now } ?? false }) {
                    pending.removeAll { $0 == e }
                    let ends = try await recorder.record(NewEvent(email: lead.email, type: e.type, sequenceID: e.step == nil ? nil : sequenceID,
                                                            stepID: e.step, at: eventTime(e)!))
                    lines.append(Line(at: eventTime(e)!, kind: "event", step: e.step, detail: e.description))
                    if let goal = sequence.goal, goal.event == e.type,
                       let run = try await store.lead(lead.email)?.enrollments.last,
                       eventTime(e)!.timeIntervalSince(run.enrolledAt) <= Double(goal.within.seconds) {
                        let credited = lines.last { $0.kind == "sent" }?.step
                        lines.append(Line(at: eventTime(e)!, kind: "goal", step: credited,
                                          detail: "\(goal.event) within \(goal.within) of entering: a conversion" + (credited.map { ", credited to \($0)" } ?? "")))
                    }
                    for end in ends { lines.append(Line(at: now, kind: "exited", step: nil, detail: end.handoff ? "\(end.reason), handed to sales" : end.reason)) }
                }
                let report = try await scheduler.tick(now: now)
                for e in report.entries {
                    if e.kind == .sent { sentAt[e.stepID] = e.at }
                    let variant = e.kind == .sent ? sequence.step(e.stepID).flatMap {
                        VariantAssignment.variant(of: $0, sequenceID: sequence.id, leadKey: lead.email.key)
                    } : nil
                    lines.append(Line(at: e.at, kind: e.kind.rawValue, step: e.kind == .enrolled ? nil : e.stepID,
                                      detail: e.kind == .sent ? variant.map { "variant \($0.id)" } ?? "" : e.detail, subject: e.subject))
                }
                // The daemon's own decision, with no poll (nothing else adds leads here), and the scripted events.
                let wake = NextWake.after(report, nextDue: report.moreWork ? nil : try await store.nextDueAt(), now: now, poll: nil)
                var later = pending.compactMap(eventTime).filter { $0 > now }
                // Nothing is due once a run ended: a lead that may re-enter comes back after the cooldown (intake
                // looks once a minute).
                if wake == .idle, reentries > lines.filter({ $0.kind == "enrolled" }).count - 1, let after = sequence.reenterAfter,
                   let last = try await store.lead(lead.email)?.enrollments.last, last.state != .active, let ended = last.endedAt,
                   ReentryPolicy.mayEnter(sequence, past: PastEnrollment(active: false, endedAt: ended, endReason: last.endReason),
                                          now: ended.addingTimeInterval(Double(after.seconds))) {
                    let back = ended.addingTimeInterval(Double(after.seconds) + 60)
                    lines.append(Line(at: ended, kind: "ended", step: nil, detail: "\(last.endReason ?? "ended"); may re-enter from \(DateText.iso(back))"))
                    later.append(back)
                }
                guard let next = wake.earliest(with: later, now: now), next <= end,
                      next > now || wake == .now else { break }
                now = next
                clock.advance(to: now)
            }
        }
        await store.close()
        for e in pending {
            lines.append(Line(at: end, kind: "note", step: e.step, detail: "\(e.description) never happens: step \(e.step ?? "?") was not sent"))
        }
        return lines
    }

    /// One lead's path through the sequence, for the distribution over many: the steps sent, each decided wait or
    /// branch with where it went, skips and the end.
    public static func path(_ lines: [Line]) -> String {
        var parts: [String] = []
        for line in lines {
            switch line.kind {
            case "enrolled" where !parts.isEmpty: parts.append("re-entered")
            case "enrolled" where line.detail.contains("holdout"): parts.append("holdout")
            case "sent": parts.append((line.step ?? "?") + (line.detail.hasPrefix("variant ") ? "[\(line.detail.dropFirst(8))]" : ""))
            case "passed": parts.append("\(line.step ?? "?")→\(line.detail.components(separatedBy: "→ ").last ?? "?")")
            case "skipped" where !line.detail.hasPrefix("holdout"): parts.append("(\(line.step ?? "?") skipped)")
            case "goal": parts.append("goal")
            case "exited": parts.append("exit: " + line.detail)
            default: continue
            }
        }
        return parts.isEmpty ? "(nothing)" : parts.joined(separator: " → ")
    }
}
