import Foundation

/// Names of custom events (`visited_pricing`, `demo_requested`, `converted`, …) posted by the API or `nurture event`.
public enum EventName {

    /// Why an event's time cannot be accepted, or nil: not before the lead existed, not in the future, each within
    /// `tolerance` (clock skew between systems). An event outside time would move a stage "before the lead existed"
    /// and make a replay of the log disagree with the live score.
    public static func timeProblem(_ at: Date, leadCreatedAt: Date, now: Date, tolerance: TimeSpan) -> String? {
        let slack = TimeInterval(tolerance.seconds)
        if at < leadCreatedAt.addingTimeInterval(-slack) {
            return "the event's time \(DateText.iso(at)) is before the lead was created (\(DateText.iso(leadCreatedAt)))"
        }
        if at > now.addingTimeInterval(slack) {
            return "the event's time \(DateText.iso(at)) is in the future (more than \(tolerance) ahead)"
        }
        return nil
    }

    /// Why a name cannot be used, or nil: 1–64 characters of a–z, 0–9 and `_`, starting with a letter.
    public static func problem(_ name: String) -> String? {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.unicodeScalars.count <= 64,
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
            return "an event name is 1 to 64 characters of a-z, 0-9 and _, starting with a letter"
        }
        if EventKind.reservedNames.contains(name) { return "'\(name)' is recorded by Nurture itself and cannot be posted" }
        return nil
    }
}
