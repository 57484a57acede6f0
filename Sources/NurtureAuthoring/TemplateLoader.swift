import Foundation
import Ink
import Mustache
import Yams

/// Loads `templates/<name>.md` (front matter + Markdown with Mustache variables) and the two layouts.
public enum TemplateLoader {
    public static let htmlLayoutName = "_layout.html"
    public static let textLayoutName = "_layout.txt"
    static let textPragma = "{{% CONTENT_TYPE: TEXT}}"

    /// Template names are relative paths without extension; no `..`, no hidden or layout files.
    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 200, !name.hasPrefix("/"), !name.hasSuffix("/"), !name.contains("//") else { return false }
        return name.split(separator: "/").allSatisfy { part in
            guard let first = part.first, first != "_", first != ".", first != "-" else { return false }
            return part.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "_" }
        }
    }

    public static func path(of name: String, in directory: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(name + ".md").path
    }

    /// Every template name under a folder (layouts and hidden files excluded), sorted.
    public static func allNames(in directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var names: [String] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".md") else { continue }
            let name = String(relative.dropLast(3))
            if !name.split(separator: "/").contains(where: { $0.hasPrefix("_") || $0.hasPrefix(".") }) { names.append(name) }
        }
        return names.sorted()
    }

    public static func load(name: String, directory: String, sink: DiagnosticSink) -> EmailTemplate? {
        let file = path(of: name, in: directory)
        guard let text = YAMLSource.readText(file, sink: sink) else { return nil }
        return parse(text, name: name, file: file, sink: sink)
    }

    /// Splits front matter from body, checks both, and compiles the subject, text and HTML forms.
    static func parse(_ raw: String, name: String, file: String, sink: DiagnosticSink) -> EmailTemplate? {
        let text = raw.replacingOccurrences(of: "\r\n", with: "\n")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == "---", let close = lines.dropFirst().firstIndex(of: "---") else {
            sink.error(file, 1, 1, "a template starts with front matter: a '---' line, 'subject: …', then another '---' line")
            return nil
        }
        let front = lines[1..<close].joined(separator: "\n")
        let body = lines[(close + 1)...].joined(separator: "\n")
        let bodyLineOffset = close + 1
        guard let root = YAMLSource.parse(front.isEmpty ? "{}" : front, path: file, lineOffset: 1, sink: sink) else { return nil }
        let r = NodeReader(file: file, sink: sink, lineOffset: 1)
        guard let m = r.mapping(root, "the front matter", allowed: ["subject", "preheader"], required: ["subject"]) else { return nil }
        guard let subjectNode = m["subject"]?.value, let subject = r.singleLine(subjectNode, "'subject'") else { return nil }
        let preheaderNode = m["preheader"]?.value
        let preheader = preheaderNode.flatMap { r.singleLine($0, "'preheader'") }

        var uses: [MustacheTag] = []
        var failed = false
        func scan(_ text: String, at origin: SourcePosition, lineOffset: Int, inline: Bool) -> [MustacheTag]? {
            switch MustacheScanner.scan(text) {
            case .success(let tags):
                return tags.map { tag in
                    var t = tag
                    t.position = inline ? origin : tag.position.offset(lines: lineOffset)
                    return t
                }
            case .failure(let f):
                let p = inline ? origin : f.position.offset(lines: lineOffset)
                sink.error(file, p.line, p.column, f.message)
                failed = true
                return nil
            }
        }
        let bodyTags = scan(body, at: .start, lineOffset: bodyLineOffset, inline: false)
        uses += scan(subject, at: r.position(subjectNode), lineOffset: 0, inline: true) ?? []
        if let preheader, let node = preheaderNode { uses += scan(preheader, at: r.position(node), lineOffset: 0, inline: true) ?? [] }
        uses += bodyTags ?? []
        for tag in uses where tag.kind == .unescaped {
            sink.error(file, tag.position.line, tag.position.column,
                       "'{{{\(tag.name)}}}' would insert data unescaped into HTML; write {{\(tag.name)}}")
            failed = true
        }
        guard !failed, let bodyTags else { return nil }
        do {
            let names = uses.map(\.root)
            return EmailTemplate(
                name: name, file: file, subjectSource: subject, preheaderSource: preheader, bodySource: body, uses: uses,
                subject: try CompiledTemplate(textPragma + subject, names: names),
                preheader: try preheader.map { try CompiledTemplate(textPragma + $0, names: names) },
                text: try CompiledTemplate(textPragma + MarkdownText.plain(from: body), names: names),
                html: try CompiledTemplate(markdownToHTML(body, tags: bodyTags), names: names)
            )
        } catch {
            sink.error(file, 1, 1, "cannot compile template: \(error)")
            return nil
        }
    }

    /// Converts Markdown to HTML while keeping Mustache tags out of Markdown's reach (so `{{first_name}}`
    /// is not read as emphasis), then puts them back for Mustache to substitute with HTML escaping.
    static func markdownToHTML(_ body: String, tags: [MustacheTag]) -> String {
        let scalars = Array(body.unicodeScalars)
        var protected = String.UnicodeScalarView()
        var cursor = 0
        for (index, tag) in tags.enumerated() {
            protected.append(contentsOf: scalars[cursor..<tag.range.lowerBound])
            protected.append(contentsOf: "\u{E000}\(index)\u{E001}".unicodeScalars)
            cursor = tag.range.upperBound
        }
        protected.append(contentsOf: scalars[cursor...])
        var html = MarkdownParser().html(from: String(protected))
        for (index, tag) in tags.enumerated().reversed() {
            let original = String(String.UnicodeScalarView(scalars[tag.range]))
            html = html.replacingOccurrences(of: "\u{E000}\(index)\u{E001}", with: original)
        }
        return html
    }

    /// Loads `_layout.html` and `_layout.txt`; a layout may use `{{{content}}}` unescaped, nothing else.
    public static func loadLayout(directory: String, sink: DiagnosticSink) -> Layout? {
        let htmlFile = URL(fileURLWithPath: directory).appendingPathComponent(htmlLayoutName).path
        let textFile = URL(fileURLWithPath: directory).appendingPathComponent(textLayoutName).path
        func load(_ file: String) -> (String, [MustacheTag])? {
            guard let text = YAMLSource.readText(file, sink: sink) else { return nil }
            switch MustacheScanner.scan(text) {
            case .success(let tags):
                var ok = true
                for tag in tags where tag.kind == .unescaped && tag.name != "content" {
                    sink.error(file, tag.position.line, tag.position.column, "only {{{content}}} may be unescaped in a layout; write {{\(tag.name)}}")
                    ok = false
                }
                if !tags.contains(where: { $0.name == "content" }) {
                    sink.error(file, 1, 1, "the layout never inserts the email body: add {{{content}}}")
                    ok = false
                }
                return ok ? (text, tags) : nil
            case .failure(let f):
                sink.error(file, f.position.line, f.position.column, f.message)
                return nil
            }
        }
        let html = load(htmlFile), text = load(textFile)
        guard let html, let text else { return nil }
        do {
            return Layout(htmlFile: htmlFile, textFile: textFile, htmlUses: html.1, textUses: text.1,
                          html: try CompiledTemplate(html.0, names: html.1.map(\.root) + TemplateRenderer.frameNames),
                          text: try CompiledTemplate(textPragma + text.0, names: text.1.map(\.root) + TemplateRenderer.frameNames))
        } catch {
            sink.error(htmlFile, 1, 1, "cannot compile layout: \(error)")
            return nil
        }
    }
}
