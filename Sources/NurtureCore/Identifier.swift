/// The shapes of names authors may use, checked in one place so the CLI, loader and API agree.
public enum Identifier {
    /// Sequence and step ids: lowercase letters, digits and dashes, starting with a letter or digit.
    public static func isStepID(_ s: String) -> Bool {
        matches(s, extra: "-")
    }

    /// Personas, field names and event names: lowercase letters, digits and underscores.
    public static func isName(_ s: String) -> Bool {
        matches(s, extra: "_")
    }

    private static func matches(_ s: String, extra: Character) -> Bool {
        guard let first = s.first, s.count <= 64, first != extra else { return false }
        return s.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == extra }
    }
}
