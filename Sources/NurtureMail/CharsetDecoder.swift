/// Turns a MIME charset's bytes into text for the few charsets inbound reports and replies use; anything else, or
/// bytes a charset cannot hold, becomes U+FFFD so a wrong label can never stop a message from being classified.
enum CharsetDecoder {
    static func decode(_ bytes: some Collection<UInt8>, charset: String) -> String {
        switch normalized(charset) {
        case "utf-8", "utf8": return String(decoding: bytes, as: UTF8.self)
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1": return map(bytes) { Unicode.Scalar($0) }
        case "iso-8859-15", "iso8859-15", "latin-9", "latin9", "iso_8859-15": return map(bytes, latin9)
        case "windows-1252", "cp1252", "x-cp1252": return map(bytes, windows1252)
        default: return map(bytes) { $0 < 0x80 ? Unicode.Scalar($0) : replacement } // us-ascii and unknown charsets
        }
    }

    static let replacement: Unicode.Scalar = "\u{FFFD}"

    /// Lower-cased, without RFC 2231 language (`utf-8*en`) or quotes.
    static func normalized(_ charset: String) -> String {
        var s = charset.lowercased()
        if let star = s.firstIndex(of: "*") { s = String(s[..<star]) }
        return s.trimmingCharacters(in: [" ", "\"", "'"])
    }

    private static func map(_ bytes: some Collection<UInt8>, _ f: (UInt8) -> Unicode.Scalar) -> String {
        var view = String.UnicodeScalarView()
        for b in bytes { view.append(f(b)) }
        return String(view)
    }

    /// ISO 8859-15 differs from Latin-1 in eight places (the euro sign, Š š Ž ž Œ œ Ÿ).
    private static func latin9(_ b: UInt8) -> Unicode.Scalar {
        switch b {
        case 0xA4: "\u{20AC}"
        case 0xA6: "\u{160}"
        case 0xA8: "\u{161}"
        case 0xB4: "\u{17D}"
        case 0xB8: "\u{17E}"
        case 0xBC: "\u{152}"
        case 0xBD: "\u{153}"
        case 0xBE: "\u{178}"
        default: Unicode.Scalar(b)
        }
    }

    /// Windows-1252's 0x80–0x9F (five of them are undefined and become U+FFFD); the rest is Latin-1.
    private static let cp1252High: [UInt32] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    ]

    private static func windows1252(_ b: UInt8) -> Unicode.Scalar {
        (0x80...0x9F).contains(b) ? Unicode.Scalar(cp1252High[Int(b - 0x80)])! : Unicode.Scalar(b)
    }
}
