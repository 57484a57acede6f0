import Foundation
import Testing
import NurtureCore
@testable import NurtureAuthoring

/// Rendering substitutes lead data, escapes it in HTML, and never treats it as Markdown or as a template.
struct TemplateRenderingTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func catalog() throws -> Catalog {
        let sink = DiagnosticSink()
        let config = try #require(ConfigLoader.load(path: FixtureCorpusTests.fixtures + "/base/nurture.yaml", sink: sink))
        return try #require(CatalogLoader.load(config: config, sequenceFiles: [FixtureCorpusTests.fixtures + "/base/sequences/good.yaml"], sink: sink))
    }

    func render(_ fields: [String: String]) throws -> RenderedEmail {
        let c = try catalog()
        let template = try #require(c.templates["ok/hello"])
        return c.renderer.render(template, variables: fields.merging(["unsubscribe_url": "https://t.example/u/TOKEN", "postal_address": "1 Test Street"]) { a, _ in a })
    }

    @Test func substitutesAndEscapesInHTMLOnly() throws {
        let email = try render(["first_name": "Ada <script>alert(1)</script> & \"co\"", "company": "O'Reilly"])
        #expect(email.subject == "Hello Ada <script>alert(1)</script> & \"co\"")
        #expect(email.html.contains("Ada &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;"))
        #expect(!email.html.contains("<script>"))
        #expect(email.text.contains("Hi Ada <script>alert(1)</script> & \"co\" from O'Reilly,"))
    }

    @Test func leadDataIsNeverMarkdownNorTemplate() throws {
        let email = try render(["first_name": "**bold** {{email}} [x](javascript:alert(1))", "email": "ada@example.com"])
        #expect(email.html.contains("**bold** {{email}} [x](javascript:alert(1))"))
        #expect(!email.html.contains("<strong>bold"))
        #expect(!email.html.contains("href=\"javascript"))
        #expect(email.text.contains("Hi **bold** {{email}} [x](javascript:alert(1))"))
    }

    @Test func markdownBecomesHTMLAndReadableText() throws {
        let email = try render(["first_name": "Ada"])
        #expect(email.html.contains("<a href=\"https://example.com/guide\">the guide</a>"))
        #expect(email.text.contains("Read the guide (https://example.com/guide)."))
        #expect(email.html.contains("<a href=\"https://t.example/u/TOKEN\">Unsubscribe</a>"))
        #expect(email.text.contains("Unsubscribe: https://t.example/u/TOKEN"))
        #expect(email.html.contains("1 Test Street") && email.text.contains("1 Test Street"))
        #expect(email.preheader == "A short hello")
    }

    @Test func missingOptionalFieldDropsItsSection() throws {
        let email = try render(["first_name": "Ada"])
        #expect(email.text.contains("Hi Ada,"))
    }

    @Test func subjectIsAlwaysOneLine() {
        #expect(TemplateRenderer.oneLine(" Hello\r\nBcc: x@evil.example ") == "Hello Bcc: x@evil.example")
    }

    @Test func scannerReportsPositionsAndKinds() throws {
        let tags = try MustacheScanner.scan("a\n  {{x}} {{#s}}{{{y}}}{{/s}}{{! note }}").get()
        #expect(tags.map(\.kind) == [.variable, .section, .unescaped, .close, .comment])
        #expect(tags[0].position == SourcePosition(line: 2, column: 3))
        #expect(tags[2].name == "y")
    }

    @Test func scannerRejectsUnbalancedSectionsAndPartials() {
        for bad in ["{{#a}}x", "{{/a}}", "{{#a}}{{/b}}", "{{> partial}}", "{{=<% %>=}}", "{{a b}}", "{{x"] {
            guard case .failure = MustacheScanner.scan(bad) else {
                Issue.record("accepted \(bad)")
                continue
            }
        }
    }

    /// The shipped config, sequences and templates are valid, and every step renders for a sample lead.
    @Test func shippedCatalogValidatesAndEveryStepRenders() throws {
        let sink = DiagnosticSink()
        let config = try #require(ConfigLoader.load(path: Self.repository + "/nurture.example.yaml", sink: sink))
        let c = try #require(CatalogLoader.load(config: config, sink: sink))
        #expect(sink.items.isEmpty, "\(sink.items)")
        #expect(c.sequences.count >= 3)
        #expect(c.personas.count == c.sequences.count)
        let consent = Consent(source: "test", at: Date())
        for loaded in c.sequences {
            let seq = loaded.sequence
            var fields: [String: String] = [:]
            for f in config.fields { fields[f] = "Sample \(f)" }
            let lead = Lead(email: try EmailAddress(validating: "ada@example.com"), persona: seq.persona, fields: fields, consent: consent)
            for step in seq.steps where step.flow.isMail {
                let template = try #require(c.templates[step.template])
                let email = c.renderer.render(template, variables: c.variables(for: lead, sequence: seq, unsubscribeURL: "https://x.example/u/T"))
                #expect(!email.subject.isEmpty)
                #expect(email.html.contains("https://x.example/u/T") && email.text.contains("https://x.example/u/T"))
                #expect(email.html.contains(config.postalAddress.replacingOccurrences(of: "'", with: "&#39;")) || email.html.contains(config.postalAddress))
            }
        }
    }
}

extension TemplateRenderingTests {
    /// The example config's commented-out `handoff:` section is valid once uncommented, under the shipped sequences.
    @Test func shippedHandoffExampleIsValid() throws {
        let text = try String(contentsOfFile: Self.repository + "/nurture.example.yaml", encoding: .utf8)
        let dir = try ConfigDiscoveryTests.write(text.replacingOccurrences(of: "\nsequences: sequences\n", with: "\nsequences: \(Self.repository)/sequences\n")
            .replacingOccurrences(of: "\ntemplates: templates\n", with: "\ntemplates: \(Self.repository)/templates\n"))
        let sink = DiagnosticSink()
        let config = try #require(ConfigLoader.load(path: dir + "/nurture.yaml", sink: sink, environment: [:]), "\(sink.items)")
        #expect(CatalogLoader.load(config: config, sink: sink) != nil)
        #expect(sink.items.isEmpty, "\(sink.items)")
        #expect(config.handoff.outcomes[.won]?.enroll == "customer-onboarding")
        #expect(config.handoff.outcomes[.recycled]?.enroll == "cto-whitepaper")
        #expect(config.handoff.sla?.span == .businessDays(2) && config.handoff.sla?.timeZone == "Europe/Paris")
    }

    @Test func templateWithCRLFLineEndingsLoads() throws {
        let sink = DiagnosticSink()
        let t = TemplateLoader.parse("---\r\nsubject: Hi {{first_name}}\r\n---\r\nBody {{first_name}}\r\n", name: "crlf", file: "crlf.md", sink: sink)
        #expect(sink.items.isEmpty, "\(sink.items)")
        #expect(t?.subjectSource == "Hi {{first_name}}")
    }
}
