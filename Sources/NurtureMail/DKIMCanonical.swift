/// RFC 6376 §3.4.2 and §3.4.4, the "relaxed" canonicalisations, over the bytes of a message whose lines end in CRLF.
enum DKIMCanonical {
    static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, sp: UInt8 = 0x20, tab: UInt8 = 0x09, colon: UInt8 = 0x3A

    /// One header field as the signature hashes it: lowercase name, unfolded, runs of white space made one space,
    /// none around the colon or at the end, then CRLF.
    static func header(_ field: ArraySlice<UInt8>, into out: inout [UInt8]) {
        guard let colonAt = field.firstIndex(of: colon) else { return }
        var name = field[field.startIndex..<colonAt]
        while let last = name.last, last == sp || last == tab { name = name.dropLast() }
        for byte in name { out.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte) }
        out.append(colon)
        var pendingSpace = false, started = false
        for byte in field[(colonAt + 1)...] {
            switch byte {
            case cr, lf: continue
            case sp, tab: pendingSpace = started
            default:
                if pendingSpace { out.append(sp) }
                pendingSpace = false
                started = true
                out.append(byte)
            }
        }
        out.append(cr)
        out.append(lf)
    }

    /// The body as the signature hashes it: runs of white space made one space, none at a line's end, no empty lines
    /// at the end, and a final CRLF unless the body is then empty. Lines without a tab, a double space or a trailing
    /// space (nearly all of an encoded body) are copied whole: this runs on every message signed.
    static func body(_ body: ArraySlice<UInt8>) -> [UInt8] {
        body.withUnsafeBufferPointer { src in
            var out: [UInt8] = []
            out.reserveCapacity(src.count + 2)
            var emptyLines = 0
            var collapsed: [UInt8] = []
            let n = src.count
            var i = 0
            while i < n {
                var j = i, clean = true, previousSpace = false
                while j < n {
                    let byte = src[j]
                    if byte == cr, j + 1 < n, src[j + 1] == lf { break }
                    if byte == tab || (byte == sp && previousSpace) { clean = false }
                    previousSpace = byte == sp
                    j += 1
                }
                let ended = j < n
                if previousSpace { clean = false }
                func take(_ line: UnsafeBufferPointer<UInt8>) {
                    if line.isEmpty {
                        if ended { emptyLines += 1 } // an empty last line without CRLF is no line
                        return
                    }
                    for _ in 0..<emptyLines { out.append(cr); out.append(lf) }
                    emptyLines = 0
                    out.append(contentsOf: line)
                    out.append(cr)
                    out.append(lf)
                }
                if clean {
                    take(UnsafeBufferPointer(rebasing: src[i..<j]))
                } else {
                    collapsed.removeAll(keepingCapacity: true)
                    var pendingSpace = false
                    for byte in src[i..<j] {
                        if byte == sp || byte == tab {
                            pendingSpace = true
                        } else {
                            if pendingSpace { collapsed.append(sp) }
                            pendingSpace = false
                            collapsed.append(byte)
                        }
                    }
                    collapsed.withUnsafeBufferPointer { take($0) }
                }
                i = ended ? j + 2 : n
            }
            return out
        }
    }

    /// The header fields of a message (each with its folding CRLFs, without the final one), and where the body starts.
    static func split(_ message: [UInt8]) -> (fields: [ArraySlice<UInt8>], body: Int) {
        var fields: [ArraySlice<UInt8>] = []
        var start = 0, i = 0
        while i + 1 < message.count {
            guard message[i] == cr, message[i + 1] == lf else { i += 1; continue }
            if i == start { return (fields, i + 2) } // an empty line: the header ends
            let next = i + 2
            if next < message.count, message[next] == sp || message[next] == tab { i = next; continue } // folded
            fields.append(message[start..<i])
            start = next
            i = next
        }
        if start < message.count { fields.append(message[start...]) }
        return (fields, message.count)
    }

    /// The field's name, lowercased, for choosing the fields a signature covers.
    static func name(_ field: ArraySlice<UInt8>) -> String {
        var name = field[field.startIndex..<(field.firstIndex(of: colon) ?? field.endIndex)]
        while let first = name.first, first == sp || first == tab { name = name.dropFirst() }
        while let last = name.last, last == sp || last == tab { name = name.dropLast() }
        return String(decoding: name.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
