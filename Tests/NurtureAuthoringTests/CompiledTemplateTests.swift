import Foundation
import Mustache
import NurtureCore
import Testing
@testable import NurtureAuthoring

/// The fast path must render exactly what swift-mustache renders: checked on the shipped layouts and templates
/// and on sources that exercise sections, inverted sections, comments and standalone lines, with hostile values.
struct CompiledTemplateTests {
    static let sources = [
        "Hi {{first_name}}, from {{company}}.",
        "{{#company}}\n  At {{company}} ({{.}})\n{{/company}}\n{{^company}}\nNo company\n{{/company}}\nBye {{first_name}}\n",
        "  {{! a comment }}\nline {{&first_name}} {{{company}}}\n{{#first_name}}{{#company}}both{{/company}}{{/first_name}}|{{company.name}}|",
        "{{#missing}}never{{/missing}}{{^missing}}absent{{/missing}} {{missing}}.",
        "\r\n{{#company}}\r\ncrlf {{company}}\r\n{{/company}}\r\n",
        "{{first_name}}{{first_name}}{{company}}",
    ]

    static let valueSets: [[String: String]] = [
        [:],
        ["first_name": "Ada", "company": "Acme"],
        ["first_name": "<b>\"Bob\" & 'co'</b>", "company": ""],
        ["first_name": "\u{E002}<0>\u{E003} {{company}} &lt;", "company": "Zoë 日本 🎉"],
        ["company": "only"],
    ]

    static func both(_ source: String, _ names: [String], _ values: [String: String]) throws -> (String, String) {
        let compiled = try CompiledTemplate(source, names: names)
        let reference = try MustacheTemplate(string: source)
        return (compiled.render(values), reference.render(values as [String: Any]))
    }

    @Test(arguments: sources)
    func rendersLikeSwiftMustache(_ source: String) throws {
        let names = ["first_name", "company", "missing"]
        for values in Self.valueSets {
            for pragma in ["", TemplateLoader.textPragma] {
                let (fast, reference) = try Self.both(pragma + source, names, values)
                #expect(fast == reference, "\(source.debugDescription) with \(values)")
                // Twice: the second render comes from the cached skeleton.
                #expect(try Self.both(pragma + source, names, values).0 == reference)
            }
        }
    }

    @Test func shippedLayoutsAndTemplatesRenderLikeSwiftMustache() throws {
        let directory = TemplateRenderingTests.repository + "/templates"
        let files = try FileManager.default.subpathsOfDirectory(atPath: directory).filter { $0.hasSuffix(".md") || $0.hasPrefix("_layout") }
        #expect(files.count >= 3)
        let values = ["first_name": "<i>Ada</i>", "company": "A & B", "email": "ada@example.com", "subject": "S \"q\"",
                      "preheader": "P", "content": "<p>body & {{first_name}}</p>", "unsubscribe_url": "https://x.example/u/T?a=1&b=2",
                      "postal_address": "1 Rue <X>", "locale": "fr", "whitepaper_title": "T'itle", "sender_name": "Léa"]
        for file in files {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            guard case .success(let tags) = MustacheScanner.scan(text) else { Issue.record("\(file) does not scan"); continue }
            let names = tags.map(\.root) + TemplateRenderer.frameNames
            for subset in [values, values.filter { $0.key.count % 2 == 0 }] {
                let (fast, reference) = try Self.both(text, names, subset)
                #expect(fast == reference, "\(file)")
            }
        }
    }

    @Test func markerCharactersInTheSourceFallBackToDirectRendering() throws {
        let source = "literal \u{E002}<0>\u{E003} then {{first_name}}"
        let compiled = try CompiledTemplate(source, names: ["first_name"])
        #expect(compiled.direct)
        #expect(compiled.render(["first_name": "Ada"]) == "literal \u{E002}<0>\u{E003} then Ada")
    }

    @Test func escapesEveryMarkupByteEvenBeforeACombiningMark() {
        var out = ""
        HTMLEscape.append("<\u{301}script>&\"'", to: &out)
        #expect(out == "&lt;\u{301}script&gt;&amp;&quot;&#39;")
    }
}

/// cmark replaced Ink: the shipped templates' HTML is the same as Ink 0.6.0 made it (Fixtures/ink-0.6.0/, captured
/// before the switch), up to white space between tags and how entities are spelled.
struct MarkdownSwitchTests {
    static func normalized(_ html: String) -> String {
        var s = html.trimmingCharacters(in: .whitespacesAndNewlines)
        s = s.replacingOccurrences(of: ">\\s+<", with: "><", options: .regularExpression)
        s = s.replacingOccurrences(of: "\\s+", with: " ", options: .regularExpression)
        for (entity, char) in [("&quot;", "\""), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")] {
            s = s.replacingOccurrences(of: entity, with: char)
        }
        return s
    }

    @Test func shippedTemplatesRenderAsInkRenderedThem() throws {
        let directory = TemplateRenderingTests.repository + "/templates"
        let golden = FixtureCorpusTests.fixtures + "/ink-0.6.0"
        // Templates written after the switch have no Ink rendering to compare with.
        let files = try FileManager.default.subpathsOfDirectory(atPath: directory).filter { $0.hasSuffix(".md") }.sorted()
            .filter { FileManager.default.fileExists(atPath: golden + "/" + $0.replacingOccurrences(of: "/", with: "_").dropLast(3) + ".html") }
        #expect(files.count >= 12)
        for file in files {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            var body = text.components(separatedBy: "\n---\n").dropFirst().joined(separator: "\n---\n")
            var i = 0
            while let r = body.range(of: "\\{\\{[^}]*\\}\\}", options: .regularExpression) {
                body.replaceSubrange(r, with: "nurturetag\(i)z")
                i += 1
            }
            let ink = try String(contentsOfFile: golden + "/" + file.replacingOccurrences(of: "/", with: "_").dropLast(3) + ".html", encoding: .utf8)
            #expect(Self.normalized(MarkdownHTML.html(from: body)) == Self.normalized(ink), "\(file)")
        }
    }
}
