/// Quoted-printable (RFC 2045 §6.7) with CRLF line ends: any input line ending (LF, CR, CRLF) becomes a hard
/// CRLF break, encoded lines are at most 76 characters, and a leading "." or "From " is encoded so neither SMTP
/// dot-stuffing nor mbox quoting can alter the body. Works on raw bytes into a buffer sized for the worst case
/// (the hot path of delivery: a bounds-checked append per byte was its largest single cost).
public enum QuotedPrintable {
    public static func encode(_ text: String) -> String {
        var out: [UInt8] = []
        encode(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the encoding of `text` to `out`.
    public static func encode(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { input in
            // Worst case: every byte as "=XX" (3) plus a 3-byte soft break per 25 such bytes: under 4 per byte.
            let bound = input.count * 4 + 8
            let encoded = [UInt8](unsafeUninitializedCapacity: bound) { buffer, written in
                written = encode(input, into: buffer.baseAddress!)
            }
            out.append(contentsOf: encoded)
        }
    }

    @inline(__always) private static func hexDigit(_ n: UInt8) -> UInt8 { n < 10 ? 48 + n : 55 + n }

    private static func encode(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var o = 0
        var lineStart = 0, i = 0
        let count = input.count
        while i <= count {
            if i == count || input[i] == 13 || input[i] == 10 {
                o = encodeLine(input, lineStart, i, out, o)
                guard i < count else { break }
                out[o] = 13; out[o + 1] = 10; o += 2
                if input[i] == 13, i + 1 < count, input[i + 1] == 10 { i += 1 }
                lineStart = i + 1
            }
            i += 1
        }
        return o
    }

    /// By byte: 0 literal, 1 always encoded, 2 white space (literal unless it ends the line).
    private static let classes: [UInt8] = (0...255).map { b in
        switch b {
        case 0x20, 0x09: 2
        case 0x3D: 1
        case 33...126: 0
        default: 1
        }
    }

    @inline(__always)
    private static func encodeLine(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                                   _ out: UnsafeMutablePointer<UInt8>, _ o: Int) -> Int {
        var o = o
        var length = 0
        let startsWithFrom = end - start >= 5 && bytes[start] == 0x46 && bytes[start + 1] == 0x72 && bytes[start + 2] == 0x6F
            && bytes[start + 3] == 0x6D && bytes[start + 4] == 0x20
        var i = start
        classes.withUnsafeBufferPointer { classes in
            while i < end {
                let b = bytes[i]
                let last = i == end - 1
                var encoded: Bool
                switch classes[Int(b)] {
                case 0: encoded = false
                case 2: encoded = last                              // trailing white space would be stripped in transit
                default: encoded = true
                }
                // "." (SMTP dot-stuffing) or "From " (mbox quoting) at the start of a line.
                if i == start, b == 0x2E || (b == 0x46 && startsWithFrom) { encoded = true }
                let width = encoded ? 3 : 1
                // Keep room for the soft break "=" (76 characters including it).
                if length + width > (last ? 76 : 75) {
                    out[o] = 0x3D; out[o + 1] = 13; out[o + 2] = 10; o += 3
                    length = 0
                }
                if encoded {
                    out[o] = 0x3D; out[o + 1] = hexDigit(b >> 4); out[o + 2] = hexDigit(b & 0xF); o += 3
                } else {
                    out[o] = b; o += 1
                }
                length += width
                i += 1
            }
        }
        return o
    }
}
