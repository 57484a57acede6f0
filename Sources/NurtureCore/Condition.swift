/// A test on what a lead did with an earlier step, evaluated when a step falls due.
public enum Condition: Hashable, Sendable, CustomStringConvertible {
    case clicked(step: String)
    case opened(step: String)

    /// Parses `clicked(step)` or `opened(step)`.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: " ")
        guard trimmed.hasSuffix(")"), let open = trimmed.firstIndex(of: "(") else { return nil }
        let verb = trimmed[..<open].trimmingCharacters(in: " ")
        let arg = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)].trimmingCharacters(in: " ")
        guard Identifier.isStepID(arg) else { return nil }
        switch verb {
        case "clicked": self = .clicked(step: arg)
        case "opened": self = .opened(step: arg)
        default: return nil
        }
    }

    public var stepID: String {
        switch self {
        case .clicked(let s), .opened(let s): s
        }
    }

    public var description: String {
        switch self {
        case .clicked(let s): "clicked(\(s))"
        case .opened(let s): "opened(\(s))"
        }
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
