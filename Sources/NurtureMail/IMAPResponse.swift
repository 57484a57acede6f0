import Foundation

/// One server response as read off the wire: its text in pieces, with the literal (`{n}` then n raw bytes) that
/// follows each piece ending in a literal marker. Literals are read by count, never as lines, so a message body
/// line that looks like a tagged reply cannot end a command early.
struct IMAPResponse {
    /// Text pieces; `literals[i]` follows `segments[i]`.
    var segments: [String]
    var literals: [[UInt8]]

    /// The text with each literal left out (its marker stays).
    var text: String { segments.joined(separator: " ") }

    /// The size announced at the end of a piece (`{123}` or the non-synchronising `{123+}`), if any.
    static func literalSize(_ line: String) -> Int? {
        guard line.hasSuffix("}"), let open = line.lastIndex(of: "{") else { return nil }
        var digits = line[line.index(after: open)..<line.index(before: line.endIndex)]
        if digits.hasSuffix("+") { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// The literal that follows `name` (such as `BODY[]`) in a FETCH response, or nil when it is absent or NIL.
    func literal(after name: String) -> [UInt8]? {
        for (i, segment) in segments.enumerated() where i < literals.count {
            guard let open = segment.lastIndex(of: "{") else { continue }
            let before = segment[..<open].uppercased()
            if before.hasSuffix(name.uppercased() + " ") { return literals[i] }
        }
        return nil
    }

    /// The value of `UID n` in a FETCH response.
    var fetchUID: UInt32? {
        let words = segments.joined(separator: " ").uppercased().split(whereSeparator: { $0 == " " || $0 == "(" || $0 == ")" })
        guard let i = words.firstIndex(of: "UID"), i + 1 < words.count else { return nil }
        return UInt32(words[i + 1])
    }

    /// The number in a response code such as `[UIDVALIDITY 123]`.
    func code(_ name: String) -> String? {
        let text = text
        guard let range = text.range(of: "[" + name + " ", options: .caseInsensitive) else { return nil }
        let rest = text[range.upperBound...]
        guard let close = rest.firstIndex(of: "]") else { return nil }
        return String(rest[..<close])
    }
}
