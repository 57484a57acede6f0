import Foundation

/// RFC 3834 automatic responses and the out-of-office replies mailers send without saying so: a vacation message
/// must not count as the lead's reply (it would score and hand off a lead who is on a beach).
enum AutoReplyDetector {
    /// `.autoReply` when a header or the subject says so, else nil. `X-Auto-Response-Suppress` is not a signal:
    /// Outlook puts it on ordinary mail.
    static func detect(_ header: InboundHeaderSection, subject: String?) -> InboundReport.Kind? {
        let vacationSubject = subject.map(isOutOfOfficeSubject) ?? false
        let autoSubmitted = header.text("auto-submitted").flatMap { $0.split(separator: " ").first }.map {
            $0.lowercased().trimmingCharacters(in: [";"])
        }
        let precedence = header.text("precedence")?.lowercased().split(separator: " ").first.map(String.init)
        let autoreply = header.text("x-autoreply").map { $0.lowercased() != "no" } ?? false
        let autorespond = header.contains("x-autorespond")
        let byHeader = (autoSubmitted.map { !$0.isEmpty && $0 != "no" } ?? false) || autoreply || autorespond
            || ["auto_reply", "bulk", "junk", "list"].contains(precedence ?? "")
        guard byHeader || vacationSubject else { return nil }
        return .autoReply(outOfOffice: vacationSubject || autoreply)
    }

    /// Vacation subjects, in English and French (and a few other languages Outlook localises), case and accents
    /// ignored, anchored at the start so "Re: absent from the meeting" stays a reply.
    static func isOutOfOfficeSubject(_ subject: String) -> Bool {
        let s = normalized(subject)
        for prefix in prefixes where s.hasPrefix(prefix) {
            let rest = s.dropFirst(prefix.count)
            if prefix.hasSuffix(":") || rest.first.map({ !$0.isLetter && !$0.isNumber }) ?? true { return true }
        }
        // "Absent", "Absente : …", "Absent du bureau", "Absent jusqu'au 5 janvier" — not "Absent from the meeting?".
        for word in ["absente", "absent"] where s.hasPrefix(word) {
            let rest = s.dropFirst(word.count)
            if rest.isEmpty || rest.hasPrefix(":") || rest.hasPrefix(" :") || rest.hasPrefix(" du bureau") || rest.hasPrefix(" jusqu")
                || rest.hasPrefix(" - ") || rest.hasPrefix(" (") { return true }
        }
        return false
    }

    private static let prefixes = [
        "out of office", "out of the office", "ooo", "automatic reply", "auto reply", "auto-reply", "autoreply", "auto:",
        "auto response", "auto-response", "autoresponse", "automatic response", "on vacation", "vacation reply",
        "absence du bureau", "reponse automatique", "message d'absence", "je suis absente", "je suis absent", "notification d'absence",
        "hors du bureau",
        "automatische antwort", "abwesenheitsnotiz", "respuesta automatica", "fuera de la oficina", "risposta automatica",
    ]

    /// Lower-cased, accents and typographic apostrophes folded, white space collapsed.
    static func normalized(_ s: String) -> String {
        let folded = s.decomposedStringWithCanonicalMapping.unicodeScalars.filter { !(0x300...0x36F).contains($0.value) }
        let text = String(String.UnicodeScalarView(folded)).lowercased().replacingOccurrences(of: "\u{2019}", with: "'")
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\u{A0}" }).joined(separator: " ")
    }
}
