/// Log lines name leads by id, never by address: SMTP replies and errors often quote the recipient, so anything
/// shaped like an address is masked before it reaches the journal.
public enum LogRedaction {
    /// `text` with every `local@domain` replaced by `<address>`.
    public static func addresses(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "@")) else { return text }
        func isAddressByte(_ b: UInt8) -> Bool {
            switch b {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"),
                 UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "["),
                 UInt8(ascii: "]"), UInt8(ascii: "@"), 0x0D, 0x0A: false
            default: true
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "@") else { out.append(bytes[i]); i += 1; continue }
            var start = out.count
            while start > 0, isAddressByte(out[start - 1]) { start -= 1 }
            var end = i + 1
            while end < bytes.count, isAddressByte(bytes[end]) { end += 1 }
            if start == out.count || end == i + 1 { out.append(bytes[i]); i += 1; continue } // a lone '@' is no address
            out.removeSubrange(start...)
            out.append(contentsOf: Array("<address>".utf8))
            i = end
        }
        return String(decoding: out, as: UTF8.self)
    }
}
