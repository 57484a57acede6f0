import Foundation
import Testing
import NurtureCore
@testable import NurtureAuthoring

/// Templates an attacker or a careless author writes: deep nesting, pathological Markdown, `{{.}}`, control
/// characters. Each gets a located error or renders in time linear in its size; none crashes.
struct HostileTemplateTests {
    static func parse(_ body: String) -> (EmailTemplate?, [Diagnostic]) {
        let sink = DiagnosticSink()
        let t = TemplateLoader.parse("---\nsubject: S\n---\n" + body, name: "x", file: "x.md", sink: sink)
        return (t, sink.items)
    }

    @Test(arguments: ["#", "^"])
    func tenThousandNestedSectionsGetALocatedErrorInsteadOfACrash(_ sigil: String) {
        let body = String(repeating: "{{\(sigil)company}}", count: 10_000) + "x" + String(repeating: "{{/company}}", count: 10_000)
        let (template, diagnostics) = Self.parse(body)
        #expect(template == nil)
        #expect(diagnostics.map(\.description) == ["x.md:4:\(12 * MustacheScanner.maxSectionDepth + 1): error: sections are nested more than 100 levels deep"])
    }

    @Test func nestingUpToTheLimitStillRenders() throws {
        let depth = MustacheScanner.maxSectionDepth
        let body = String(repeating: "{{#company}}", count: depth) + "at {{company}}" + String(repeating: "{{/company}}", count: depth)
        let template = try #require(Self.parse(body).0)
        #expect(template.html.render(["company": "Acme"]) == "<p>at Acme</p>\n")
    }

    @Test func dotIsRefusedWhereverItIs() {
        for body in ["{{.}}", "{{#company}}{{.}}{{/company}}", "{{#.}}x{{/.}}"] {
            #expect(Self.parse(body).1.first?.message.hasPrefix("'{{.}}' would insert the whole list of variables") == true, "\(body)")
        }
    }

    @Test(arguments: ["\u{0}", "\u{1B}[31m", "\u{7}", "\u{7F}"])
    func controlCharactersInABodyAreRefused(_ c: String) {
        let (template, diagnostics) = Self.parse("Hi\n\nring " + c + " ring\n")
        #expect(template == nil)
        #expect(diagnostics.first?.line == 6 && diagnostics.first?.column == 6)
        #expect(diagnostics.first?.message.hasPrefix("control character U+") == true)
    }

    @Test func secondaryLineNumbersCountFromTheFile() {
        let (_, diagnostics) = Self.parse("a\n{{#first_name}}\nb\n{{/company}}\n")
        #expect(diagnostics.map(\.description) == ["x.md:7:1: error: '{{/company}}' closes section 'first_name' opened at line 5"])
    }

    /// Best of three, in seconds.
    static func time(_ body: () -> Void) -> Double {
        (0..<5).map { _ in
            let start = ContinuousClock.now
            body()
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }.min()!
    }

    @Test func tenThousandNestedBracketsRenderAtOnce() throws {
        let template = try #require(Self.parse(String(repeating: "[", count: 10_000) + "x\n").0)
        #expect(template.html.render([:]) == "<p>" + String(repeating: "[", count: 10_000) + "x</p>\n")
    }

    @Test(arguments: ["[", "[a](", "*_", "> ", "- ", "`", "<a ", "![", "[x]: "])
    func markdownRenderingTimeIsLinearInTheInput(_ unit: String) {
        // Quadratic growth would make the 8× input take 64× as long, exponential far more; linear takes about 8×.
        // The gap leaves room for a loaded machine (CI on two cores): 4× against 16× once failed at 15.7× under load,
        // and 8× measured 25–37× (the best of several runs of a few milliseconds each) beside the cluster tests.
        let n = 10_000
        let small = String(repeating: unit, count: n) + "x\n", large = String(repeating: unit, count: 8 * n) + "x\n"
        let plain = String(repeating: "a", count: large.utf8.count) + "\n"
        let tSmall = Self.time { _ = MarkdownHTML.html(from: small) }
        let tLarge = Self.time { _ = MarkdownHTML.html(from: large) }
        let tPlain = Self.time { _ = MarkdownHTML.html(from: plain) }
        #expect(tLarge < 48 * tSmall + 0.01, "\(unit.debugDescription): \(tSmall) s for \(n), \(tLarge) s for \(8 * n)")
        // A constant-factor guard only (linearity is the line above): a quadratic blow-up at this size would be
        // thousands of times plain text, and the full suite on two cores once stretched 80 000 list items to 260×.
        #expect(tLarge < 1_000 * tPlain + 0.05, "\(unit.debugDescription): \(tLarge) s against \(tPlain) s for plain text of the same size")
    }

    @Test func mustacheTagsInLinkTargetsAndTextSurviveMarkdown() throws {
        let template = try #require(Self.parse("[Go](https://x.example/{{company}}?a=1&b=2) **{{first_name}}** `{{company}}`\n").0)
        #expect(template.html.render(["company": "a&b", "first_name": "<i>"])
            == "<p><a href=\"https://x.example/a&amp;b?a=1&amp;b=2\">Go</a> <strong>&lt;i&gt;</strong> <code>a&amp;b</code></p>\n")
    }

    @Test func rawHTMLInABodyIsLeftOut() throws {
        let template = try #require(Self.parse("a <script>alert(1)</script> b\n\n[x](javascript:alert(1))\n").0)
        let html = template.html.render([:])
        #expect(!html.contains("<script>") && !html.contains("javascript:"))
    }
}
