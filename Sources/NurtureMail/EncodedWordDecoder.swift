/// RFC 2047 decoding of header text (Subject, display names): a subject is shown to operators and matched against
/// out-of-office patterns, so `=?utf-8?Q?R=C3=A9ponse?=` must read "Réponse" whatever the sender's mailer did.
enum EncodedWordDecoder {
    /// Decodes encoded-words (B and Q, any charset `CharsetDecoder` knows; others give U+FFFD), drops the white space
    /// between adjacent ones, reads raw 8-bit text as UTF-8, and turns every control character into a space.
    static func decode(_ raw: some Collection<UInt8>) -> String {
        let bytes = Array(raw)
        var out = ""
        var pendingBytes: [UInt8] = [], pendingCharset = ""
        var literalStart = 0
        var i = 0
        func flushPending() {
            if !pendingBytes.isEmpty || !pendingCharset.isEmpty { out += CharsetDecoder.decode(pendingBytes, charset: pendingCharset) }
            pendingBytes = []; pendingCharset = ""
        }
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "="), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "?"),
                  let word = parseWord(bytes, at: i) else { i += 1; continue }
            let literal = bytes[literalStart..<i]
            let onlySpace = literal.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
            if !(onlySpace && !pendingCharset.isEmpty) {
                flushPending()
                out += String(decoding: literal, as: UTF8.self)
            }
            if word.charset != pendingCharset { flushPending() }
            pendingCharset = word.charset
            pendingBytes += word.bytes
            i = word.end
            literalStart = i
        }
        flushPending()
        out += String(decoding: bytes[literalStart...], as: UTF8.self)
        return sanitized(out)
    }

    /// Control characters (CR, LF, NUL, tab…) become spaces, so a decoded value can never start a header line.
    static func sanitized(_ s: String) -> String {
        if !s.unicodeScalars.contains(where: isControl) { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.map { isControl($0) ? " " : $0 }))
    }

    static func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || (0x7F...0x9F).contains(u.value) }

    private struct Word { var charset: String; var bytes: [UInt8]; var end: Int }

    /// `=?charset?B|Q?text?=` at `start`: no white space inside, charset of at most 64 octets.
    private static func parseWord(_ b: [UInt8], at start: Int) -> Word? {
        var i = start + 2
        let charsetStart = i
        while i < b.count, b[i] != UInt8(ascii: "?"), i - charsetStart <= 64 {
            if b[i] <= 0x20 || b[i] >= 0x7F { return nil }
            i += 1
        }
        guard i < b.count, b[i] == UInt8(ascii: "?"), i > charsetStart, i + 2 < b.count, b[i + 2] == UInt8(ascii: "?") else { return nil }
        let charset = CharsetDecoder.normalized(String(decoding: b[charsetStart..<i], as: UTF8.self))
        let encoding = b[i + 1] | 0x20
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q") else { return nil }
        let textStart = i + 3
        var j = textStart
        // Encoded text holds no `?` (RFC 2047 §5): the scan stops at the first one, so trying every `=?` stays linear.
        while j < b.count, b[j] != UInt8(ascii: "?") {
            if b[j] <= 0x20 || b[j] >= 0x7F { return nil }
            j += 1
        }
        guard j + 1 < b.count, b[j + 1] == UInt8(ascii: "=") else { return nil }
        let text = b[textStart..<j]
        let decoded = encoding == UInt8(ascii: "b") ? TransferDecoder.base64(text) : q(text)
        return Word(charset: charset, bytes: decoded, end: j + 2)
    }

    /// RFC 2047 §4.2: `_` is a space, `=XX` an octet.
    private static func q(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == UInt8(ascii: "_") { out.append(0x20); i += 1 }
            else if c == UInt8(ascii: "="), i + 2 < text.endIndex, let h = TransferDecoder.hexValue(text[i + 1]),
                    let l = TransferDecoder.hexValue(text[i + 2]) { out.append(h << 4 | l); i += 3 }
            else { out.append(c); i += 1 }
        }
        return out
    }
}
