/// Quoted-printable (RFC 2045 §6.7) with CRLF line ends: any input line ending (LF, CR, CRLF) becomes a hard
/// CRLF break, encoded lines are at most 76 characters, and a leading "." or "From " is encoded so neither SMTP
/// dot-stuffing nor mbox quoting can alter the body. Works on bytes into one preallocated buffer (hot path).
public enum QuotedPrintable {
    static let hex = Array("0123456789ABCDEF".utf8)

    public static func encode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4 + 16)
        var lineStart = 0, i = 0
        while i <= bytes.count {
            if i == bytes.count || bytes[i] == 13 || bytes[i] == 10 {
                encodeLine(bytes, lineStart, i, into: &out)
                guard i < bytes.count else { break }
                out.append(13)
                out.append(10)
                if bytes[i] == 13, i + 1 < bytes.count, bytes[i + 1] == 10 { i += 1 }
                lineStart = i + 1
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func encodeLine(_ bytes: [UInt8], _ start: Int, _ end: Int, into out: inout [UInt8]) {
        var length = 0
        let startsWithFrom = end - start >= 5 && bytes[start] == 0x46 && bytes[start + 1] == 0x72 && bytes[start + 2] == 0x6F
            && bytes[start + 3] == 0x6D && bytes[start + 4] == 0x20
        var i = start
        while i < end {
            let b = bytes[i]
            let last = i == end - 1
            let literal: Bool
            switch b {
            case 0x2E where i == start: literal = false            // "." at line start
            case 0x46 where i == start && startsWithFrom: literal = false
            case 0x20, 0x09: literal = !last                        // trailing white space would be stripped in transit
            case 0x3D: literal = false
            case 33...126: literal = true
            default: literal = false
            }
            let width = literal ? 1 : 3
            // Keep room for the soft break "=" (76 characters including it).
            if length + width > (last ? 76 : 75) {
                out.append(0x3D)
                out.append(13)
                out.append(10)
                length = 0
            }
            if literal {
                out.append(b)
            } else {
                out.append(0x3D)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
            length += width
            i += 1
        }
    }
}
