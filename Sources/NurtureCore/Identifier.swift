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

    /// By UTF-8 byte: this runs for every imported row, and Character properties cost a grapheme walk each.
    private static func matches(_ s: String, extra: Character) -> Bool {
        let extraByte = extra.asciiValue!
        var count = 0
        for b in s.utf8 {
            count += 1
            guard count <= 64 else { return false }
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case extraByte where count > 1: continue
            default: return false
            }
        }
        return count > 0
    }
}
