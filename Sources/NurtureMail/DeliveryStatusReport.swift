/// The fields of a `message/delivery-status` body (RFC 3464 §2): one per-message block, then one block per
/// recipient, separated by empty lines. Reduced to one bounce by `outcome`, the failed recipient first.
struct DeliveryStatusReport: Sendable {
    struct Recipient: Sendable, Equatable {
        /// Lower-cased first word: failed, delayed, delivered, relayed, expanded; nil when absent.
        var action: String?
        /// The RFC 3463 code (`5.1.1`), nil when absent or unreadable.
        var status: String?
        var diagnostic: String?
        var finalRecipient: String?
        var originalRecipient: String?
    }

    var envelopeIDs: [String] = []
    var recipients: [Recipient] = []

    static func parse(_ body: [UInt8]) -> DeliveryStatusReport {
        var report = DeliveryStatusReport()
        var rest = body[...]
        while !rest.isEmpty {
            // Skip the empty lines between blocks (white space only counts as empty, as generators pad them).
            let lf = InboundHeaderSection.nextLF(rest, from: rest.startIndex)
            if rest[rest.startIndex..<lf].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                rest = rest[(lf < rest.endIndex ? lf + 1 : rest.endIndex)...]
                continue
            }
            let (block, next) = InboundHeaderSection.parse(rest)
            if block.isEmpty { // a line that is no field: skip it rather than stop
                rest = rest[(lf < rest.endIndex ? lf + 1 : rest.endIndex)...]
                continue
            }
            rest = rest[next...]
            if let envid = block.first("original-envelope-id") {
                let id = xtextDecoded(InboundHeaderSection.text(envid))
                if !id.isEmpty, !report.envelopeIDs.contains(id) { report.envelopeIDs.append(id) }
            }
            let isRecipient = ["final-recipient", "original-recipient", "action", "status"].contains { block.contains($0) }
            guard isRecipient else { continue }
            let action = block.text("action").flatMap { $0.split(separator: " ").first.map { $0.lowercased() } }
            report.recipients.append(Recipient(
                action: action,
                status: block.first("status").flatMap { statusCode(in: InboundHeaderSection.text($0)) },
                diagnostic: block.first("diagnostic-code").map(diagnostic),
                finalRecipient: block.first("final-recipient").flatMap(InboundAddressList.typedAddress),
                originalRecipient: block.first("original-recipient").flatMap(InboundAddressList.typedAddress)))
            if report.recipients.count >= 1_000 { break }
        }
        return report
    }

    /// What the report says about delivery: the first failed recipient, else the first delayed one; nil when none
    /// failed or was delayed. A recipient without Action is judged by its status class.
    func outcome() -> InboundReport.Kind {
        func failed(_ r: Recipient) -> Bool { r.action == "failed" || (r.action == nil && r.status?.first == "5") }
        func delayed(_ r: Recipient) -> Bool { r.action == "delayed" || (r.action == nil && r.status?.first == "4") }
        guard let r = recipients.first(where: failed) ?? recipients.first(where: delayed) else {
            guard let first = recipients.first else { return .unclassified(reason: "delivery status notification without a recipient block") }
            return .unclassified(reason: "delivery status notification with no failure (Action: \(first.action ?? "none"), Status: \(first.status ?? "none"))")
        }
        // The status, else the code in the diagnostic; a failure with neither is soft: unsure is never a hard bounce.
        let status = r.status ?? r.diagnostic.flatMap { Self.statusCode(in: $0) ?? Self.basicCode(in: $0) } ?? ""
        let permanent = failed(r) && status.first == "5"
        return .bounce(permanent: permanent, status: status, diagnostic: r.diagnostic, recipient: r.originalRecipient ?? r.finalRecipient)
    }

    /// The first `class.subject.detail` code (RFC 3463: class 2, 4 or 5; up to three digits each) not inside a
    /// longer number.
    static func statusCode(in text: String) -> String? {
        let b = Array(text.utf8)
        func digit(_ i: Int) -> Bool { i >= 0 && i < b.count && b[i] >= 0x30 && b[i] <= 0x39 }
        var i = 0
        while i < b.count {
            defer { i += 1 }
            guard b[i] == UInt8(ascii: "2") || b[i] == UInt8(ascii: "4") || b[i] == UInt8(ascii: "5"),
                  !digit(i - 1), i == 0 || b[i - 1] != UInt8(ascii: "."), i + 1 < b.count, b[i + 1] == UInt8(ascii: ".") else { continue }
            var j = i + 2, n1 = 0
            while digit(j), n1 < 4 { j += 1; n1 += 1 }
            guard (1...3).contains(n1), j < b.count, b[j] == UInt8(ascii: ".") else { continue }
            var k = j + 1, n2 = 0
            while digit(k), n2 < 4 { k += 1; n2 += 1 }
            guard (1...3).contains(n2), !(k < b.count && b[k] == UInt8(ascii: ".") && digit(k + 1)) else { continue }
            return String(decoding: b[i..<k], as: UTF8.self)
        }
        return nil
    }

    /// An SMTP reply code (`550`, `421`) as a status (`5.0.0`, `4.0.0`): for reports that give no RFC 3463 code.
    static func basicCode(in text: String) -> String? {
        let b = Array(text.utf8)
        func digit(_ i: Int) -> Bool { i >= 0 && i < b.count && b[i] >= 0x30 && b[i] <= 0x39 }
        var i = 0
        while i + 2 < b.count {
            defer { i += 1 }
            guard b[i] == UInt8(ascii: "4") || b[i] == UInt8(ascii: "5"), !digit(i - 1), digit(i + 1), digit(i + 2), !digit(i + 3),
                  i + 3 == b.count || [0x20, 0x2D, 0x3A, 0x09].contains(b[i + 3]) else { continue }
            return String(UnicodeScalar(b[i])) + ".0.0"
        }
        return nil
    }

    /// A Diagnostic-Code's words without its type (`smtp; 550 …` → `550 …`), white space collapsed, at most 1 000 characters.
    static func diagnostic(_ value: [UInt8]) -> String {
        var text = InboundHeaderSection.text(value)
        if let semi = text.firstIndex(of: ";"),
           text[..<semi].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), !text[..<semi].isEmpty {
            text = String(text[text.index(after: semi)...])
        }
        let collapsed = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        return String(collapsed.prefix(1_000))
    }

    /// RFC 3461 xtext: `+XX` is an octet.
    static func xtextDecoded(_ s: String) -> String {
        guard s.contains("+") else { return s }
        let b = Array(s.utf8)
        var out: [UInt8] = [], i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "+"), i + 2 < b.count, let h = TransferDecoder.hexValue(b[i + 1]), let l = TransferDecoder.hexValue(b[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else { out.append(b[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
