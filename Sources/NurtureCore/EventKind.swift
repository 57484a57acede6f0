/// What an event in the log is, in one place: which kinds Nurture records itself, which are a message's opens and
/// clicks (scored per message, matched by `opened(step)` conditions), which show interest (a human one ends a
/// lead's silence), and which are funnel events (`converted`, `demo_requested`…) that exit rules name. The CLI, the
/// API, scoring, the scheduler and every store ask here instead of keeping lists of their own.
public enum EventKind: Hashable, Sendable {
    case open, click, unsubscribe, bounce, handoff, inactivity, sent
    /// Read from inbound mail: a 4.x.x delivery report, a feedback-loop complaint, an automatic reply.
    case softBounce, complaint, autoReply
    /// Sales answered a hand-off (`handoff_accepted`, `handoff_won`, …): scored like any event (`scoring.points`).
    case salesAnswer(HandoffOutcome)
    /// The recipient's choices on the unsubscribe page: leave only one sequence, or pause nurture mail.
    case sequenceLeft, paused
    /// An answer from sales reset the engagement score here: a replay (`rescore`) starts again from zero too.
    case scoreReset
    /// Posted by the API or `nurture event`.
    case custom(String)

    public init(_ name: String) {
        switch name {
        case "open": self = .open
        case "click": self = .click
        case "unsubscribe": self = .unsubscribe
        case "bounce": self = .bounce
        case "handoff": self = .handoff
        case "inactivity": self = .inactivity
        case "sent": self = .sent
        case "soft_bounce": self = .softBounce
        case "complaint": self = .complaint
        case "auto_reply": self = .autoReply
        case "score_reset": self = .scoreReset
        case "sequence_left": self = .sequenceLeft
        case "paused": self = .paused
        default:
            if name.hasPrefix("handoff_"), let outcome = HandoffOutcome(rawValue: String(name.dropFirst("handoff_".count))) {
                self = .salesAnswer(outcome)
            } else {
                self = .custom(name)
            }
        }
    }

    /// As stored in the event log.
    public var name: String {
        switch self {
        case .open: "open"
        case .click: "click"
        case .unsubscribe: "unsubscribe"
        case .bounce: "bounce"
        case .handoff: "handoff"
        case .inactivity: "inactivity"
        case .sent: "sent"
        case .softBounce: "soft_bounce"
        case .complaint: "complaint"
        case .autoReply: "auto_reply"
        case .salesAnswer(let outcome): "handoff_\(outcome.rawValue)"
        case .scoreReset: "score_reset"
        case .sequenceLeft: "sequence_left"
        case .paused: "paused"
        case .custom(let name): name
        }
    }

    /// Names a caller cannot post: Nurture records these itself (and `machine_open`/`machine_click` are scoring keys).
    public static let reservedNames: Set<String> = Set<String>(["open", "click", "unsubscribe", "bounce", "handoff", "inactivity", "sent",
                                                    "soft_bounce", "complaint", "auto_reply", "machine_open", "machine_click", "score_reset",
                                                    "sequence_left", "paused"])
        .union(HandoffOutcome.allCases.map { "handoff_\($0.rawValue)" })

    /// A person's reply: read from inbound mail, and still postable by hand (a reply logged in the CRM).
    public static let replied = EventKind.custom("replied")

    /// A Net Promoter Score answer is recorded under its standard band, so exit rules, points and stats name it:
    /// `nps_promoter` (9–10), `nps_passive` (7–8), `nps_detractor` (0–6); nil for a value outside 0…10.
    public static func npsBand(_ value: Double) -> EventKind? {
        guard value >= 0, value <= 10, value == value.rounded() else { return nil }
        return .custom(value >= 9 ? "nps_promoter" : value >= 7 ? "nps_passive" : "nps_detractor")
    }

    /// What the recipient decided about their mail: the lead's consent history (`lead show`).
    public var isConsentChoice: Bool { self == .unsubscribe || self == .sequenceLeft || self == .paused }

    /// An open or a click of a message.
    public var isMessageEngagement: Bool { self == .open || self == .click }

    /// Whether a person's event of this kind says the lead is listening (and so ends its silence).
    public var showsInterest: Bool {
        switch self {
        case .open, .click, .custom: true
        case .unsubscribe, .bounce, .handoff, .inactivity, .sent, .softBounce, .complaint, .autoReply, .salesAnswer, .scoreReset, .sequenceLeft, .paused: false
        }
    }

    /// What `exit: on: NAME` rules see (`eventsSinceEnrollment`): funnel events, and Nurture's own (`on: inactivity`
    /// moves the unengaged out); opens and clicks are seen per step, through `opened(step)` conditions.
    public var triggersExitRules: Bool { !isMessageEngagement }
}
