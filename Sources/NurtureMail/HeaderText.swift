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
        guard isPlainASCII(name), !needsEncoding(name) else { return encodedWords(name).joined(separator: " ") }
        let specials = Set("()<>[]:;@\\,.\"")
        if name.contains(where: { specials.contains($0) }) {
            let quoted = "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            // Escapes lengthen words: a quoted word too long to fold is encoded instead.
            return needsEncoding(quoted) ? encodedWords(name).joined(separator: " ") : quoted
        }
        return name
    }

    /// An unstructured value (Subject): ASCII kept as is, otherwise a sequence of encoded-words.
    static func unstructured(_ text: String, headerLength: Int) -> String {
        let clean = safe(text)
        if isPlainASCII(clean) && !needsEncoding(clean) { return clean }
        return encodedWords(clean).joined(separator: " ")
    }

    /// The longest run without a space kept as plain text: folding happens only at spaces, so a longer word
    /// would make a line past 78 (and, from lead data, past the 998-octet limit of RFC 5322).
    static let longestPlainWord = 60

    /// ASCII that still cannot go as is: it looks like an encoded-word (a reader would decode it), or it has a
    /// word too long to fold.
    static func needsEncoding(_ ascii: String) -> Bool {
        if ascii.contains("=?") { return true }
        var run = 0
        for byte in ascii.utf8 {
            run = byte == 0x20 ? 0 : run + 1
            if run > longestPlainWord { return true }
        }
        return false
    }

    /// `=?UTF-8?B?…?=` words of at most 64 characters, each holding whole characters: short enough that
    /// "Subject: " plus one word stays within 78 characters. A grapheme longer than one word (a letter with many
    /// combining marks) is split between code points, which RFC 2047 allows; nothing ever splits a code point.
    static func encodedWords(_ text: String) -> [String] {
        let limit = 39 // 39 bytes → 52 base64 characters + 12 of framing
        var words: [String] = []
        var chunk: [UInt8] = []
        func add(_ bytes: some Collection<UInt8>) {
            if chunk.count + bytes.count > limit, !chunk.isEmpty {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        for character in text {
            let bytes = Array(String(character).utf8)
            if bytes.count <= limit {
                add(bytes)
            } else {
                for scalar in character.unicodeScalars { add(Array(String(scalar).utf8)) }
            }
        }
        if !chunk.isEmpty { words.append(word(chunk)) }
        return words
    }

    private static func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?=" }
}
