import Crypto
import Foundation
import NurtureCore

/// The unsubscribe pages, in English or French by the lead's locale. Static markup, escaped values, no script:
/// the confirmation works without JavaScript, and a GET never unsubscribes (link scanners fetch GETs).
enum UnsubscribePage {
    /// `confirm`'s choices: each form value with its signed CSRF token (`TokenPurpose.choice`).
    enum Kind { case confirm(token: String, choices: [(value: String, csrf: String)]), done, left, paused(until: Date), invalid, failed }

    struct Texts {
        var lang: String, confirmTitle: String, confirmBody: String, button: String, note: String
        var doneTitle: String, doneBody: String, invalidTitle: String, invalidBody: String, failedTitle: String, failedBody: String
        var otherChoices: String, leave: String, pause: String, leftTitle: String, leftBody: String, pausedTitle: String, pausedBody: String
    }

    static let english = Texts(
        lang: "en", confirmTitle: "Unsubscribe from %SENDER%?",
        confirmBody: "%GREETING%you will no longer receive emails from %SENDER% at %EMAIL%.",
        button: "Unsubscribe", note: "Nothing changes until you press the button.",
        doneTitle: "You are unsubscribed", doneBody: "%EMAIL% will not receive any more emails from %SENDER%.",
        invalidTitle: "This link is not valid", invalidBody: "It may have been copied incompletely. Use the link from the email itself.",
        failedTitle: "Please try again", failedBody: "We could not record your request just now. Nothing was lost; try again in a minute.",
        otherChoices: "Or, instead of unsubscribing:", leave: "Stop only this series of emails", pause: "Pause all emails for %DAYS% days",
        leftTitle: "You left this series", leftBody: "%EMAIL% will get no more emails of this series. Other emails from %SENDER% may still reach you.",
        pausedTitle: "Emails paused", pausedBody: "%EMAIL% will get no emails from %SENDER% until %UNTIL%; then they resume where they stopped.")

    static let french = Texts(
        lang: "fr", confirmTitle: "Se désabonner de %SENDER% ?",
        confirmBody: "%GREETING%vous ne recevrez plus les e-mails de %SENDER% à l’adresse %EMAIL%.",
        button: "Me désabonner", note: "Rien ne change tant que vous n’appuyez pas sur le bouton.",
        doneTitle: "Vous êtes désabonné", doneBody: "%EMAIL% ne recevra plus d’e-mails de %SENDER%.",
        invalidTitle: "Ce lien n’est pas valide", invalidBody: "Il a peut-être été copié en partie. Utilisez le lien de l’e-mail lui-même.",
        failedTitle: "Merci de réessayer", failedBody: "Votre demande n’a pas pu être enregistrée. Rien n’est perdu : réessayez dans une minute.",
        otherChoices: "Ou, sans vous désabonner :", leave: "Ne plus recevoir cette série d’e-mails", pause: "Suspendre les e-mails pendant %DAYS% jours",
        leftTitle: "Vous avez quitté cette série", leftBody: "%EMAIL% ne recevra plus les e-mails de cette série. D’autres e-mails de %SENDER% peuvent encore vous parvenir.",
        pausedTitle: "E-mails suspendus", pausedBody: "%EMAIL% ne recevra aucun e-mail de %SENDER% jusqu’au %UNTIL% ; ils reprendront ensuite là où ils s’étaient arrêtés.")

    static let style = "body{font-family:Helvetica,Arial,sans-serif;background:#f3f4f6;color:#1f2937;margin:0;padding:48px 16px}"
        + "main{max-width:480px;margin:0 auto;background:#fff;border-radius:6px;padding:32px}h1{font-size:22px;margin:0 0 16px}"
        + "button{font-size:16px;padding:10px 20px;border:0;border-radius:4px;background:#1d4ed8;color:#fff;cursor:pointer}"
        + "p.note{font-size:13px;color:#6b7280}"
        + "section{margin-top:28px;border-top:1px solid #e5e7eb;padding-top:16px}form.choice{margin:8px 0}"
        + "button.secondary{background:#fff;color:#1d4ed8;border:1px solid #1d4ed8;width:100%;text-align:left}"

    /// Allows exactly this page's own style sheet and nothing else: no script, no external resource, no framing.
    static let contentSecurityPolicy: String = {
        let hash = Data(SHA256.hash(data: Data(style.utf8))).base64EncodedString()
        return "default-src 'none'; style-src 'sha256-\(hash)'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }()

    static func texts(locale: String?) -> Texts { (locale ?? "").lowercased().hasPrefix("fr") ? french : english }

    /// - Parameter basePath: the path of `http.public_url`, so the form posts through the same proxy prefix as the link.
    static func render(_ kind: Kind, locale: String?, sender: String, email: String?, firstName: String?, basePath: String = "") -> String {
        let t = texts(locale: locale)
        func fill(_ s: String, until: String = "") -> String {
            let greeting = firstName.map { t.lang == "fr" ? "Bonjour \(escape($0)), " : "Hi \(escape($0)), " } ?? ""
            return escape(s).replacingOccurrences(of: "%SENDER%", with: escape(sender))
                .replacingOccurrences(of: "%EMAIL%", with: "<strong>\(escape(email ?? ""))</strong>")
                .replacingOccurrences(of: "%GREETING%", with: greeting)
                .replacingOccurrences(of: "%UNTIL%", with: escape(until))
        }
        let title: String, body: String
        switch kind {
        case let .confirm(token, choices):
            title = fill(t.confirmTitle)
            // The global unsubscribe stays first and the default (the RFC 8058 form); the other choices follow it.
            let others = choices.map { c -> String in
                let label = c.value == RecipientChoice.leaveSequence.formValue
                    ? t.leave : t.pause.replacingOccurrences(of: "%DAYS%", with: String(c.value.dropFirst("pause".count)))
                return """
                    <form class="choice" method="post" action="\(escape(basePath))/u/\(escape(token))/choice">
                    <input type="hidden" name="choice" value="\(escape(c.value))">
                    <input type="hidden" name="csrf" value="\(escape(c.csrf))">
                    <button class="secondary" type="submit">\(escape(label))</button>
                    </form>
                    """
            }.joined(separator: "\n")
            body = """
                <p>\(fill(t.confirmBody))</p>
                <form method="post" action="\(escape(basePath))/u/\(escape(token))">
                <input type="hidden" name="List-Unsubscribe" value="One-Click">
                <button type="submit">\(escape(t.button))</button>
                </form>
                <p class="note">\(escape(t.note))</p>
                """ + (others.isEmpty ? "" : "\n<section>\n<p>\(escape(t.otherChoices))</p>\n\(others)\n</section>")
        case .done: title = escape(t.doneTitle); body = "<p>\(fill(t.doneBody))</p>"
        case .left: title = escape(t.leftTitle); body = "<p>\(fill(t.leftBody))</p>"
        case .paused(let until): title = escape(t.pausedTitle); body = "<p>\(fill(t.pausedBody, until: Self.day(until, lang: t.lang)))</p>"
        case .invalid: title = escape(t.invalidTitle); body = "<p>\(escape(t.invalidBody))</p>"
        case .failed: title = escape(t.failedTitle); body = "<p>\(escape(t.failedBody))</p>"
        }
        return """
            <!DOCTYPE html>
            <html lang="\(t.lang)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex">
            <title>\(title)</title>
            <style>\(style)</style>
            </head>
            <body>
            <main>
            <h1>\(title)</h1>
            \(body)
            </main>
            </body>
            </html>

            """
    }

    static func escape(_ s: String) -> String { HTMLEscape.escaped(s) }

    /// A date the way a reader says it (`March 2, 2027`, `2 mars 2027`), in UTC: the page knows no zone of the reader's.
    static func day(_ date: Date, lang: String) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: lang == "fr" ? "fr_FR" : "en_US")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateStyle = .long
        f.timeStyle = .none
        return f.string(from: date)
    }
}

/// The choice form's body: `choice=leave|pause30|pause90&csrf=TOKEN`, form-urlencoded.
enum ChoiceBody {
    static func parse(_ body: [UInt8]) -> (choice: String, csrf: String)? {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if kv.count == 2, fields[kv[0]] == nil { fields[kv[0]] = kv[1] }
        }
        guard let choice = fields["choice"], let csrf = fields["csrf"] else { return nil }
        return (choice, csrf)
    }
}

/// The RFC 8058 one-click body: `List-Unsubscribe=One-Click`, form-urlencoded or multipart/form-data.
enum OneClickBody {
    static func isValid(contentType: String?, body: [UInt8]) -> Bool {
        let type = (contentType ?? "").lowercased()
        let text = String(decoding: body, as: UTF8.self)
        if type.hasPrefix("multipart/form-data") {
            guard let boundary = parameter("boundary", in: contentType ?? "") else { return false }
            for part in text.components(separatedBy: "--" + boundary).dropFirst() {
                guard let split = part.range(of: "\r\n\r\n") ?? part.range(of: "\n\n") else { continue }
                let head = part[..<split.lowerBound].lowercased(), value = part[split.upperBound...]
                if head.contains("name=\"list-unsubscribe\""), value.trimmingCharacters(in: .whitespacesAndNewlines) == "One-Click" { return true }
            }
            return false
        }
        // application/x-www-form-urlencoded (also what a missing or odd type most likely is).
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if kv.count == 2, kv[0] == "List-Unsubscribe", kv[1].trimmingCharacters(in: .whitespacesAndNewlines) == "One-Click" { return true }
        }
        return false
    }

    static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return kv[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }
}
