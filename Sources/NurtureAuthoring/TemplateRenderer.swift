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

    /// - Parameter variables: lead fields and engine values (`unsubscribe_url`, `postal_address`, …) by name.
    public func render(_ template: EmailTemplate, variables: [String: String]) -> RenderedEmail {
        let context: [String: Any] = variables
        let subject = Self.oneLine(template.subject.render(context))
        let preheader = Self.oneLine(template.preheader?.render(context) ?? "")
        var frame: [String: Any] = variables
        frame["subject"] = subject
        frame["preheader"] = preheader
        frame["content"] = template.html.render(context)
        let html = layout.html.render(frame)
        frame["content"] = template.text.render(context)
        let text = layout.text.render(frame)
        return RenderedEmail(subject: subject, preheader: preheader, text: text, html: html)
    }

    /// Header text must be one line whatever the data held.
    static func oneLine(_ s: String) -> String {
        // Characters, not bytes: "\r\n" is one Character, so test the property rather than comparing to "\n".
        s.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }
}
