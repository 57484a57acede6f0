/// Quoted-printable (RFC 2045 §6.7) with CRLF line ends: any input line ending (LF, CR, CRLF) becomes a hard
/// CRLF break, encoded lines are at most 76 characters, and a leading "." or "From " is encoded so neither SMTP
/// dot-stuffing nor mbox quoting can alter the body.
public enum QuotedPrintable {
    static let hex = Array("0123456789ABCDEF".utf8)

    public static func encode(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + text.utf8.count / 8)
        let bytes = Array(text.utf8)
        var lineStart = 0
        var i = 0
        func flush(_ end: Int) {
            encodeLine(bytes[lineStart..<end], into: &out)
            out += [13, 10]
        }
        while i < bytes.count {
            if bytes[i] == 13 || bytes[i] == 10 {
                flush(i)
                if bytes[i] == 13, i + 1 < bytes.count, bytes[i + 1] == 10 { i += 1 }
                i += 1
                lineStart = i
            } else {
                i += 1
            }
        }
        if lineStart < bytes.count { encodeLine(bytes[lineStart...], into: &out) } else if out.count >= 2 { out.removeLast(2) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func encodeLine(_ line: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var length = 0
        let startsWithFrom = line.starts(with: Array("From ".utf8))
        for (offset, b) in line.enumerated() {
            let last = offset == line.count - 1
            let literal: Bool
            switch b {
            case 0x2E where offset == 0: literal = false            // "." at line start
            case 0x46 where offset == 0 && startsWithFrom: literal = false
            case 0x20, 0x09: literal = !last                        // trailing white space would be stripped in transit
            case 0x3D: literal = false
            case 33...126: literal = true
            default: literal = false
            }
            let piece: [UInt8] = literal ? [b] : [0x3D, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            // Keep room for the soft break "=" (76 characters including it).
            if length + piece.count > (last ? 76 : 75) {
                out += [0x3D, 13, 10]
                length = 0
            }
            out += piece
            length += piece.count
        }
    }
}
