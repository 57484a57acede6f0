/// Rules for lead-supplied text, which may end up in headers: control characters are refused, never stripped.
public enum FieldValue {
    public static let maxLength = 1_000

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case controlCharacter(field: String)
        case tooLong(field: String)

        public var description: String {
            switch self {
            case .controlCharacter(let f): "field '\(f)' contains a control character (CR, LF, NUL, tab, …)"
            case .tooLong(let f): "field '\(f)' is longer than \(FieldValue.maxLength) characters"
            }
        }
    }

    /// Returns the value trimmed of surrounding spaces, or throws if it holds a control character.
    public static func clean(_ value: String, field: String) throws(Problem) -> String {
        if value.unicodeScalars.contains(where: isControl) { throw .controlCharacter(field: field) }
        let trimmed = value.trimmingCharacters(in: " ")
        guard trimmed.count <= maxLength else { throw .tooLong(field: field) }
        return trimmed
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
    }
}
