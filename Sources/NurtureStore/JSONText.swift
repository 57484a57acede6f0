import Foundation

/// Compact, key-sorted JSON for field maps: deterministic text, so an unchanged re-import compares equal in SQL.
enum JSONText {
    static func object(_ fields: [String: String]) -> String {
        var out = "{"
        for (i, key) in fields.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            out += quoted(key) + ":" + quoted(fields[key]!)
        }
        return out + "}"
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func array(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ",") + "]" }

    static func decodeArray(_ text: String) -> [String] {
        guard let data = text.data(using: .utf8), let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return [] }
        return array.compactMap { $0 as? String }
    }

    static func decodeObject(_ text: String) -> [String: String] {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.compactMapValues { $0 as? String }
    }
}
