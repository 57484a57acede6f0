/// Content-Transfer-Encoding decoding for the parts a classifier reads (reports, returned headers, bounce text):
/// lenient, as mail in the wild is, and linear in the input.
enum TransferDecoder {
    static func decode(_ bytes: ArraySlice<UInt8>, encoding: String?) -> [UInt8] {
        switch encoding?.lowercased() {
        case "base64": base64(bytes)
        case "quoted-printable": quotedPrintable(bytes)
        default: Array(bytes) // 7bit, 8bit, binary, and unknown encodings: as they are
        }
    }

    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { table[Int(c)] = UInt8(i) }
        table[Int(UInt8(ascii: "-"))] = 62 // the URL-safe alphabet, seen in the wild
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Skips anything outside the alphabet (line breaks, spaces, junk) and stops at padding.
    static func base64(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 / 4)
        var acc: UInt32 = 0, n = 0
        for b in bytes {
            if b == UInt8(ascii: "=") { break }
            let v = base64Values[Int(b)]
            if v == 0xFF { continue }
            acc = acc << 6 | UInt32(v)
            n += 1
            if n == 4 {
                out.append(UInt8(acc >> 16 & 0xFF)); out.append(UInt8(acc >> 8 & 0xFF)); out.append(UInt8(acc & 0xFF))
                acc = 0; n = 0
            }
        }
        if n == 2 { out.append(UInt8(acc >> 4 & 0xFF)) }
        if n == 3 { out.append(UInt8(acc >> 10 & 0xFF)); out.append(UInt8(acc >> 2 & 0xFF)) }
        return out
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x37
        case 0x61...0x66: b - 0x57
        default: nil
        }
    }

    /// RFC 2045 §6.7: `=XX`, soft line breaks (`=` before CRLF or LF, with trailing spaces); a stray `=` stays as is.
    static func quotedPrintable(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let b = bytes[i]
            guard b == UInt8(ascii: "=") else { out.append(b); i += 1; continue }
            if i + 2 < end, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l); i += 3; continue
            }
            var j = i + 1
            while j < end, bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
            if j < end, bytes[j] == 0x0D, j + 1 < end, bytes[j + 1] == 0x0A { i = j + 2; continue }
            if j < end, bytes[j] == 0x0A { i = j + 1; continue }
            if j == end { i = j; continue }
            out.append(b); i += 1
        }
        return out
    }
}
