/// A persona's nurture sequence as authored: who may enter, when mail may go out, the steps, and what ends it.
public struct NurtureSequence: Hashable, Sendable {
    public var id: String
    public var persona: String
    public var name: String
    /// Higher wins when two sequences compete for the same lead's next slot.
    public var priority: Int
    public var sender: SenderIdentity?
    public var entry: EntryGate
    public var window: SendWindow
    public var steps: [Step]
    public var exits: [ExitRule]
    /// `goal:`: the conversion the sequence works for; reaching it within `within` of entering counts as converted.
    public var goal: Goal?
    /// `holdout:`: the share (0 ..< 1) of entering leads that are enrolled and counted but never mailed, for lift.
    public var holdout: Double = 0
    /// `reenter.after`: a lead whose enrollment completed or exited (never one who unsubscribed) may enter again
    /// this long after it ended; nil: a lead enters once.
    public var reenterAfter: TimeSpan?
    /// A content hash of the sequence's file and templates, set by the catalog: each enrollment records the version
    /// it was scheduled under, so `plan` and `lead show` can say which one a lead is on.
    public var version: String = ""

    public init(id: String, persona: String, name: String, priority: Int = 0, sender: SenderIdentity? = nil,
                entry: EntryGate = EntryGate(), window: SendWindow = .always, steps: [Step], exits: [ExitRule] = []) {
        self.id = id
        self.persona = persona
        self.name = name
        self.priority = priority
        self.sender = sender
        self.entry = entry
        self.window = window
        self.steps = steps
        self.exits = exits
    }

    public func step(_ id: String) -> Step? { steps.first { $0.id == id } }

    /// True when a step waits, branches or jumps: the enrollment then follows the file's gotos, not only its order.
    public var hasFlow: Bool { steps.contains { !$0.flow.isMail || $0.then != nil || $0.otherwise != nil } }
}

/// One step: a mail (which template, how long after the previous step, under which conditions), or a wait for a
/// behaviour or a branch on a condition, each going to a named step on either outcome.
public struct Step: Hashable, Sendable {
    public var id: String
    /// Counted from the previous step's actual send (the first step: from enrollment).
    public var after: TimeSpan
    /// The template a mail step sends (the first variant's when it has variants); empty for a wait or a branch.
    public var template: String
    /// Skip the step if any of these holds.
    public var skipIf: [Condition]
    /// Send the step only if one of these holds (empty: always).
    public var onlyIf: [Condition]
    /// Mail, wait or branch.
    public var flow: StepFlow = .mail
    /// Where a wait that saw its behaviour, or a branch whose condition holds, goes; for a mail step, where it goes
    /// once sent or skipped (nil: the next step in the file).
    public var then: Jump?
    /// Where a wait that timed out, or a branch whose condition does not hold, goes (nil: the next step in the file).
    public var otherwise: Jump?
    /// `variants:`: an A/B test; each lead gets one, chosen by a keyed hash of lead and step (empty: `template`).
    public var variants: [Variant] = []
    /// `class: transactional` (a requested download): exempt from the fatigue throttle and sunset, never from
    /// suppression.
    public var transactional = false

    public init(id: String, after: TimeSpan, template: String, skipIf: [Condition] = [], onlyIf: [Condition] = []) {
        self.id = id
        self.after = after
        self.template = template
        self.skipIf = skipIf
        self.onlyIf = onlyIf
    }
}

/// Who may enter a sequence: the seeds' point that nurturing only works on qualified leads.
public struct EntryGate: Hashable, Sendable {
    /// Lead fields that must be present and non-empty.
    public var require: [String]
    /// Minimum score to enter, if any.
    public var minScore: Double?
    /// Equality filters on lead fields; two sequences of one persona must differ on one of them.
    public var match: [String: String]
    /// `entry.min_fit`: minimum fit score (`scoring.fit`) to enter.
    public var minFit: Double?
    /// `entry.stage`: the stages a lead must be at to enter (and to stay: a lead that moves out of them leaves);
    /// prospects (lead, mql, sql) when not written, so a customer is never mailed prospect sequences again.
    public var stages: Set<LifecycleStage>

    public init(require: [String] = ["email"], minScore: Double? = nil, match: [String: String] = [:], minFit: Double? = nil,
                stages: Set<LifecycleStage> = LifecycleStage.prospects) {
        self.require = require
        self.minScore = minScore
        self.match = match
        self.minFit = minFit
        self.stages = stages
    }

    /// True when some lead could pass both gates (their filters never contradict each other).
    public func overlaps(_ other: EntryGate) -> Bool {
        // A lead is at one stage: gates for disjoint stages never admit the same lead at once.
        if stages.isDisjoint(with: other.stages) { return false }
        for (field, value) in match {
            if let theirs = other.match[field], theirs != value { return false }
        }
        return true
    }
}

/// What ends an enrollment: a named event or a score threshold, and whether the lead then goes to sales.
public struct ExitRule: Hashable, Sendable {
    public enum Trigger: Hashable, Sendable {
        case event(String)
        case scoreAtLeast(Double)
        /// `when:` over score, fit and stage (`fit >= 20 and score >= 50`).
        case condition(LeadCondition)
    }
    public enum Action: String, Hashable, Sendable {
        case exit
        case handoff
    }
    public var trigger: Trigger
    public var action: Action

    public init(trigger: Trigger, action: Action = .exit) {
        self.trigger = trigger
        self.action = action
    }
}

/// A From identity; sequences may override the configured one.
public struct SenderIdentity: Hashable, Sendable {
    public var name: String
    public var email: String
    public var replyTo: String?

    public init(name: String, email: String, replyTo: String? = nil) {
        self.name = name
        self.email = email
        self.replyTo = replyTo
    }
}
