/// An inbound message as the classifier reads it: the MIME tree over the original bytes, after refusing only
/// what is not a message at all (the pipe's exit 65), so anything else gets a classification and is never lost.
struct InboundMessage: Sendable {
    let root: MIMEPart

    var header: InboundHeaderSection { root.header }

    static func parse(_ bytes: [UInt8]) throws(InboundFormatError) -> InboundMessage {
        var start = 0
        guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }) else {
            throw InboundFormatError("empty input: no message")
        }
        // An mbox "From " line, as Postfix's pipe (flag F), procmail and .forward deliveries may prepend.
        if bytes.starts(with: Array("From ".utf8)) {
            let lf = InboundHeaderSection.nextLF(bytes[...], from: 0)
            start = lf < bytes.count ? lf + 1 : bytes.count
        }
        let firstLine = bytes[start..<InboundHeaderSection.nextLF(bytes[...], from: start)]
        guard InboundHeaderSection.fieldNameEnd(firstLine) != nil else {
            throw InboundFormatError("not a message: the first line is not a header field (Name: value)")
        }
        var budget = MIMEPart.Budget()
        return InboundMessage(root: MIMEPart.parse(bytes[start...], budget: &budget))
    }
}
