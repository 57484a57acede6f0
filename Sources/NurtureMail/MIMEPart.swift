/// One MIME entity of an inbound message: its header, its raw body (a slice of the message, not copied), and the
/// entities inside it — multipart children, or the message a `message/rfc822` or `text/rfc822-headers` part returns.
/// Parsing is linear per level, nesting stops at `maxDepth` and the part count at a budget, so a hostile message
/// costs at most a few passes over its bytes.
struct MIMEPart: Sendable {
    var header: InboundHeaderSection
    var contentType: MIMEContentType
    /// Still transfer-encoded.
    var body: ArraySlice<UInt8>
    /// A multipart's parts, in order.
    var parts: [MIMEPart] = []
    /// The returned message of `message/rfc822` (or `message/global`), or the returned header of `text/rfc822-headers`.
    var embedded: [MIMEPart] = []
    /// What was wrong and forgiven: "no boundary parameter", "unterminated multipart", "nested deeper than 20"…
    var problems: [String] = []

    static let maxDepth = 20

    /// Mutable parse state shared by a message's whole tree.
    struct Budget { var parts = 10_000 }

    var transferEncoding: String? { header.text("content-transfer-encoding")?.lowercased() }

    /// The body without its transfer encoding, at most `limit` bytes of it (reports are small; the rest is not read).
    func decodedBody(limit: Int = 1 << 20) -> [UInt8] {
        TransferDecoder.decode(body.prefix(limit * 2), encoding: transferEncoding).prefix(limit).map { $0 }
    }

    static func parse(_ bytes: ArraySlice<UInt8>, depth: Int = 0, fallback: MIMEContentType = .textPlain, budget: inout Budget) -> MIMEPart {
        let (header, bodyStart) = InboundHeaderSection.parse(bytes)
        let contentType = MIMEContentType.parse(header.first("content-type"), fallback: fallback)
        var part = MIMEPart(header: header, contentType: contentType, body: bytes[bodyStart...])
        budget.parts -= 1
        guard depth < maxDepth else {
            if contentType.isMultipart || contentType.type == "message" { part.problems.append("nested deeper than \(maxDepth)") }
            return part
        }
        switch contentType.mimeType {
        case _ where contentType.isMultipart:
            guard let boundary = contentType.parameters["boundary"], !boundary.isEmpty else {
                part.problems.append("no boundary parameter")
                return part
            }
            let childFallback: MIMEContentType = contentType.subtype == "digest" ? .messageRFC822 : .textPlain
            let (ranges, terminated) = split(part.body, boundary: Array(("--" + boundary).utf8))
            if ranges.isEmpty { part.problems.append("boundary never found") }
            else if !terminated { part.problems.append("unterminated multipart") }
            for range in ranges {
                guard budget.parts > 0 else { part.problems.append("too many parts"); break }
                part.parts.append(parse(part.body[range], depth: depth + 1, fallback: childFallback, budget: &budget))
            }
        case "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers", "message/rfc822-headers":
            let encoding = part.transferEncoding
            if encoding == "base64" || encoding == "quoted-printable" { // not allowed on message/*, seen anyway
                let decoded = TransferDecoder.decode(part.body, encoding: encoding)
                part.embedded = [parse(decoded[...], depth: depth + 1, budget: &budget)]
            } else if !part.body.isEmpty {
                part.embedded = [parse(part.body, depth: depth + 1, budget: &budget)]
            }
        default:
            break
        }
        return part
    }

    /// The ranges of a multipart body's parts, and whether the close delimiter was found. A delimiter line is
    /// `--boundary`, optionally `--`, then only white space (RFC 2046 §5.1.1); the line break before it is its own.
    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> ([Range<Int>], terminated: Bool) {
        var ranges: [Range<Int>] = []
        var partStart: Int?
        var pos = body.startIndex
        let end = body.endIndex
        while pos < end {
            let lf = InboundHeaderSection.nextLF(body, from: pos)
            let next = lf < end ? lf + 1 : end
            if let close = delimiter(body[pos..<lf], boundary: boundary) {
                if let start = partStart {
                    var partEnd = pos
                    if partEnd > start, body[partEnd - 1] == 0x0A { partEnd -= 1 }
                    if partEnd > start, body[partEnd - 1] == 0x0D { partEnd -= 1 }
                    ranges.append(start..<partEnd)
                }
                if close { return (ranges, true) }
                partStart = next
            }
            pos = next
        }
        if let start = partStart { ranges.append(start..<end) }
        return (ranges, false)
    }

    /// nil when the line is not a delimiter; true for the close delimiter.
    private static func delimiter(_ line: ArraySlice<UInt8>, boundary: [UInt8]) -> Bool? {
        guard line.count >= boundary.count, line.starts(with: boundary) else { return nil }
        var i = line.startIndex + boundary.count
        var close = false
        if i + 1 < line.endIndex, line[i] == UInt8(ascii: "-"), line[i + 1] == UInt8(ascii: "-") { close = true; i += 2 }
        while i < line.endIndex {
            guard line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D else { return nil }
            i += 1
        }
        return close
    }

    /// This part and every part inside it, depth first; returned messages only when `intoReturned` (a report's own
    /// parts are what it says; a bounce of a bounce quotes another report inside).
    func allParts(intoReturned: Bool = false) -> [MIMEPart] {
        var out: [MIMEPart] = []
        func visit(_ p: MIMEPart) {
            out.append(p)
            for c in p.parts { visit(c) }
            if intoReturned { for e in p.embedded { visit(e) } }
        }
        visit(self)
        return out
    }
}
