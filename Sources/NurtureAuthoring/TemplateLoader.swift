import Foundation
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
    public static func parse(_ raw: String, name: String, file: String, sink: DiagnosticSink) -> EmailTemplate? {
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
        func scan(_ text: String, lineOffset: Int, inlineAt origin: SourcePosition?) -> [MustacheTag]? {
            switch MustacheScanner.scan(text, lineOffset: lineOffset, inlineAt: origin) {
            case .success(let tags):
                return tags
            case .failure(let f):
                sink.error(file, f.position.line, f.position.column, f.message)
                failed = true
                return nil
            }
        }
        let bodyTags = scan(body, lineOffset: bodyLineOffset, inlineAt: nil)
        uses += scan(subject, lineOffset: 0, inlineAt: r.position(subjectNode)) ?? []
        if let preheader, let node = preheaderNode { uses += scan(preheader, lineOffset: 0, inlineAt: r.position(node)) ?? [] }
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
    /// is not read as emphasis), then puts them back for Mustache to substitute with HTML escaping. The stand-ins
    /// are letters and digits, which cmark copies unchanged into text and link targets alike.
    static func markdownToHTML(_ body: String, tags: [MustacheTag]) -> String {
        var prefix = "nurturetag"
        while body.contains(prefix) { prefix += "x" }
        func standIn(_ index: Int) -> String { "\(prefix)\(index)z" }
        let scalars = Array(body.unicodeScalars)
        var protected = String.UnicodeScalarView()
        var cursor = 0
        for (index, tag) in tags.enumerated() {
            protected.append(contentsOf: scalars[cursor..<tag.range.lowerBound])
            protected.append(contentsOf: standIn(index).unicodeScalars)
            cursor = tag.range.upperBound
        }
        protected.append(contentsOf: scalars[cursor...])
        let html = MarkdownHTML.html(from: String(protected))
        guard !tags.isEmpty else { return html }
        // One pass over the output: each stand-in back to its tag's source.
        let originals = tags.map { String(String.UnicodeScalarView(scalars[$0.range])) }
        var out = ""
        var rest = Substring(html)
        while let found = rest.range(of: prefix) {
            out += rest[..<found.lowerBound]
            var digits = found.upperBound
            while digits < rest.endIndex, rest[digits].isASCII, rest[digits].isNumber { digits = rest.index(after: digits) }
            if digits > found.upperBound, digits < rest.endIndex, rest[digits] == "z", let n = Int(rest[found.upperBound..<digits]), n < originals.count {
                out += originals[n]
                rest = rest[rest.index(after: digits)...]
            } else {
                out += rest[found]
                rest = rest[found.upperBound...]
            }
        }
        return out + rest
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
