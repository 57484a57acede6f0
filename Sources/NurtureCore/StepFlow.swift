/// What a step does when it falls due: send mail, wait for a behaviour, or branch on a condition.
public enum StepFlow: Hashable, Sendable {
    case mail
    /// `wait_for:`: holds the enrollment until the behaviour happens (`then`) or `within` passes (`else`).
    case wait(WaitFor)
    /// `if:`: goes to `then` when the condition holds, else to `else`.
    case branch(FlowCondition)

    public var isMail: Bool { if case .mail = self { true } else { false } }
}

/// A step's `then:` / `else:` target.
public enum Jump: Hashable, Sendable, CustomStringConvertible {
    case step(String)
    /// The enrollment completes here.
    case exit

    public var description: String {
        switch self {
        case .step(let id): "goto \(id)"
        case .exit: "exit"
        }
    }
}

/// The behaviour a `wait_for:` step waits for, and for how long.
public struct WaitFor: Hashable, Sendable {
    public enum Behaviour: Hashable, Sendable, CustomStringConvertible {
        /// A custom event (`demo_requested`) recorded since the wait began.
        case event(String)
        /// A human open or click of an earlier step of this enrollment.
        case engaged(Condition)

        public var description: String {
            switch self {
            case .event(let name): name
            case .engaged(let c): c.description
            }
        }
    }

    public var behaviour: Behaviour
    public var within: TimeSpan

    public init(behaviour: Behaviour, within: TimeSpan) {
        self.behaviour = behaviour
        self.within = within
    }
}

/// One version of an A/B-tested step.
public struct Variant: Hashable, Sendable {
    public var id: String
    public var template: String
    /// Relative share of leads (weights need not add up to 100).
    public var weight: Int

    public init(id: String, template: String, weight: Int) {
        self.id = id
        self.template = template
        self.weight = weight
    }
}

/// `goal:`: the event a sequence works for, and how long after entering it still counts as its conversion.
public struct Goal: Hashable, Sendable {
    public var event: String
    public var within: TimeSpan
    /// A lead who reaches the goal leaves the sequence (`exit: false` keeps it in).
    public var exits: Bool

    public init(event: String, within: TimeSpan, exits: Bool = true) {
        self.event = event
        self.within = within
        self.exits = exits
    }
}
