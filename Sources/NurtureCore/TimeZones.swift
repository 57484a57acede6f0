import Foundation

/// IANA time zone checks shared by config, sequence and lead validation.
public enum TimeZones {
    /// True when the name is an IANA zone (`Europe/Paris`) this machine knows, or `UTC`.
    public static func isKnown(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { return false }
        return name == "UTC" || (name.contains("/") && TimeZone(identifier: name) != nil)
    }
}
