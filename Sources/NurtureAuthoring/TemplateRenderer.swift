import Foundation
import NurtureCore

/// What a template renders to for one lead: ready for the MIME builder.
public struct RenderedEmail: Hashable, Sendable {
    public var subject: String
    public var preheader: String
    public var text: String
    public var html: String
}

/// Renders compiled templates into the layouts. Lead data is only ever substituted, never parsed as a template,
/// and is HTML-escaped in the HTML part.
public struct TemplateRenderer: Sendable {
    public var layout: Layout

    public init(layout: Layout) { self.layout = layout }

    /// What a layout gets besides the lead's variables.
    static let frameNames = ["subject", "preheader", "content"]

    /// - Parameter variables: lead fields and engine values (`unsubscribe_url`, `postal_address`, …) by name.
    public func render(_ template: EmailTemplate, variables: [String: String]) -> RenderedEmail {
        let subject = Self.oneLine(template.subject.render(variables))
        let preheader = Self.oneLine(template.preheader?.render(variables) ?? "")
        var frame = variables
        frame["subject"] = subject
        frame["preheader"] = preheader
        frame["content"] = template.html.render(variables)
        let html = layout.html.render(frame)
        frame["content"] = template.text.render(variables)
        let text = layout.text.render(frame)
        return RenderedEmail(subject: subject, preheader: preheader, text: text, html: html)
    }

    /// Header text must be one line whatever the data held.
    static func oneLine(_ s: String) -> String {
        // Already one trimmed line (the usual case): no control characters, no space at either end.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }), s.utf8.first != 0x20, s.utf8.last != 0x20,
           !s.unicodeScalars.contains(where: { $0.properties.isWhitespace && $0 != " " }) { return s }
        // Characters, not bytes: "\r\n" is one Character, so test the property rather than comparing to "\n".
        return s.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }
}
