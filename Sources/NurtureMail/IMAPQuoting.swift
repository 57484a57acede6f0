/// Mailbox names as IMAP command arguments: modified UTF-7 for non-ASCII (RFC 3501 §5.1.3), then a quoted string.
/// Names are validated in `IMAPSettings`, so nothing here can carry CR, LF or another command into the dialogue.
enum IMAPQuoting {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    /// The name in modified UTF-7: printable ASCII as is (`&` as `&-`), runs of anything else as `&` + modified
    /// base64 of UTF-16BE + `-`.
    static func modifiedUTF7(_ name: String) -> String {
        var out: [UInt8] = []
        var run: [UInt16] = []
        func flush() {
            guard !run.isEmpty else { return }
            var bytes: [UInt8] = []
            for unit in run { bytes.append(UInt8(unit >> 8)); bytes.append(UInt8(unit & 0xFF)) }
            out.append(UInt8(ascii: "&"))
            var i = 0
            while i < bytes.count {
                let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
                let n = min(3, bytes.count - i)
                out.append(alphabet[Int(b0 >> 2)])
                out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
                if n > 1 { out.append(alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)]) }
                if n > 2 { out.append(alphabet[Int(b2 & 0x3F)]) }
                i += 3
            }
            out.append(UInt8(ascii: "-"))
            run = []
        }
        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                out.append(UInt8(scalar.value))
                if scalar == "&" { out.append(UInt8(ascii: "-")) }
            } else {
                run.append(contentsOf: Array(String(scalar).utf16))
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// The name as an IMAP quoted string (backslash and double quote escaped), encoded first.
    static func mailbox(_ name: String) -> String {
        var quoted = "\""
        for character in modifiedUTF7(name) {
            if character == "\\" || character == "\"" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }
}
