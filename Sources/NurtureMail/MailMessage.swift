import Foundation
import NurtureCore

/// A nurture email before encoding: addresses already validated, texts already rendered.
public struct MailMessage: Sendable {
    public var fromName: String
    public var from: EmailAddress
    public var toName: String?
    public var to: EmailAddress
    public var replyTo: EmailAddress?
    public var subject: String
    public var date: Date
    /// `<…@domain>`, stable per send so a retry carries the same id.
    public var messageID: String
    /// RFC 2369 / RFC 8058 one-click unsubscribe URL; nil for mail that is not nurturing (the hand-off to sales),
    /// which then carries no List-Unsubscribe headers at all.
    public var unsubscribeURL: String?
    /// RFC 2919 `List-ID`, `Name <sequence.domain>`: mail clients and filters group a sequence's messages by it.
    public var listID: (name: String, identifier: String)?
    public var text: String
    public var html: String

    public init(fromName: String, from: EmailAddress, toName: String?, to: EmailAddress, replyTo: EmailAddress?, subject: String,
                date: Date, messageID: String, unsubscribeURL: String?, listID: (name: String, identifier: String)? = nil, text: String, html: String) {
        self.fromName = fromName
        self.from = from
        self.toName = toName
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.date = date
        self.messageID = messageID
        self.unsubscribeURL = unsubscribeURL
        self.listID = listID
        self.text = text
        self.html = html
    }
}
