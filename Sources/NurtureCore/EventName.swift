/// Names of custom events (`visited_pricing`, `demo_requested`, `converted`, …) posted by the API or `nurture event`.
public enum EventName {
    /// Recorded by Nurture itself; a caller cannot post them.
    public static let reserved: Set<String> = ["sent", "open", "click", "unsubscribe", "bounce", "handoff", "machine_open", "machine_click"]

    /// Why a name cannot be used, or nil: 1–64 characters of a–z, 0–9 and `_`, starting with a letter.
    public static func problem(_ name: String) -> String? {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.unicodeScalars.count <= 64,
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
            return "an event name is 1 to 64 characters of a-z, 0-9 and _, starting with a letter"
        }
        if reserved.contains(name) { return "'\(name)' is recorded by Nurture itself and cannot be posted" }
        return nil
    }
}
