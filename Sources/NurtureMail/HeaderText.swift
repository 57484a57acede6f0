import Foundation

/// Header values: CR/LF can never get through, non-ASCII becomes RFC 2047 encoded-words split on character boundaries.
enum HeaderText {
    /// Replaces any line break or control character with a space: nothing from data can start a new header.
    static func safe(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    static func isPlainASCII(_ s: String) -> Bool { s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F } }

    /// A display name: as is when it is a plain atom sequence, quoted when it has specials, encoded when non-ASCII.
    static func phrase(_ name: String) -> String {
        guard isPlainASCII(name) else { return encodedWords(name).joined(separator: " ") }
        let specials = Set("()<>[]:;@\\,.\"")
        if name.contains(where: { specials.contains($0) }) {
            return "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return name
    }

    /// An unstructured value (Subject): ASCII kept as is, otherwise a sequence of encoded-words.
    static func unstructured(_ text: String, headerLength: Int) -> String {
        let clean = safe(text)
        if isPlainASCII(clean) && !clean.contains("=?") { return clean }
        return encodedWords(clean).joined(separator: " ")
    }

    /// `=?UTF-8?B?…?=` words of at most 64 characters, each holding whole characters only: short enough that
    /// "Subject: " plus one word stays within 78 characters.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39, !chunk.isEmpty { // 39 bytes → 52 base64 characters + 12 of framing
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(word(chunk)) }
        return words
    }

    private static func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?=" }
}
