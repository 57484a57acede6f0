/// Message-IDs in Message-ID, In-Reply-To and References, each as `<…>`: how a reply or a report names the message
/// it is about. Comments and phrases between them (old mailers) are skipped; an id over 998 octets is ignored.
enum MessageIDList {
    static func ids(_ value: some Collection<UInt8>) -> [String] {
        var out: [String] = []
        var current: [UInt8]?
        for b in value {
            if b == UInt8(ascii: "<") { current = [] }
            else if b == UInt8(ascii: ">") {
                if let id = current, !id.isEmpty, id.count <= 998, id.contains(UInt8(ascii: "@")) || !id.contains(0x20) {
                    out.append("<" + String(decoding: id, as: UTF8.self) + ">")
                }
                current = nil
            } else if b > 0x20, b != 0x7F, current != nil { current!.append(b) } // folding white space inside is dropped
        }
        return out
    }

    /// A message's own id: the first `<…>`, else a bare `left@right` as written (some mailers omit the brackets),
    /// bracketed so it compares with the ids we sent.
    static func own(_ value: [UInt8]?) -> String? {
        guard let value else { return nil }
        if let first = ids(value).first { return first }
        let bare = InboundHeaderSection.text(value)
        guard !bare.isEmpty, bare.utf8.count <= 998, bare.contains("@"), !bare.contains(" ") else { return nil }
        return "<" + bare + ">"
    }
}
