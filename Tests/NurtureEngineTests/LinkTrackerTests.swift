@testable import NurtureEngine
import Testing

struct LinkTrackerTests {
    @Test func rewritesWebLinksOnceEachAndKeepsTheRest() {
        let html = """
            <p><a href="https://example.com/a?x=1&amp;y=2">A</a> <a class="b" HREF='http://example.com/b'>B</a>
            <a href="https://example.com/a?x=1&amp;y=2">A again</a> <a href="mailto:hi@example.com">mail</a>
            <a href="https://t.example/u/TOKEN">unsubscribe</a> <img src="https://example.com/i.png"> data-href="https://x.example"</p>
            """
        let (out, links) = LinkTracker.rewrite(html, track: { ($0.hasPrefix("https://") || $0.hasPrefix("http://")) && !$0.hasPrefix("https://t.example/u/") },
                                               redirect: { "https://t.example/c/\($0)" })
        #expect(links == ["https://example.com/a?x=1&y=2", "http://example.com/b"])
        #expect(out.contains("<a href=\"https://t.example/c/0\">A</a>"))
        #expect(out.contains("HREF='https://t.example/c/1'>B</a>"))
        #expect(out.contains("<a href=\"https://t.example/c/0\">A again</a>"))
        #expect(out.contains("href=\"mailto:hi@example.com\""))
        #expect(out.contains("href=\"https://t.example/u/TOKEN\""))
        #expect(out.contains("<img src=\"https://example.com/i.png\">"))
        #expect(out.contains("data-href=\"https://x.example\"")) // not an href attribute
    }

    @Test func pixelGoesBeforeTheBodyEnd() {
        #expect(LinkTracker.addPixel("<html><body><p>x</p></BODY></html>", url: "https://t.example/o/T.gif")
            == "<html><body><p>x</p><img src=\"https://t.example/o/T.gif\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\"></BODY></html>")
        #expect(LinkTracker.addPixel("<p>x</p>", url: "u").hasSuffix("<img src=\"u\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">"))
    }
}

struct LinkEscapingTests {
    @Test func rewrittenLinksAndThePixelAreEscapedInTheirAttributes() {
        let (out, _) = LinkTracker.rewrite("<a href=\"https://example.com/\">A</a>", track: { _ in true },
                                           redirect: { "http://x/\"><script>/c/\($0)" })
        #expect(out == "<a href=\"http://x/&quot;&gt;&lt;script&gt;/c/0\">A</a>")
        let pixel = LinkTracker.addPixel("<p>x</p>", url: "http://x/\"><script>/o/T.gif")
        #expect(pixel.contains("src=\"http://x/&quot;&gt;&lt;script&gt;/o/T.gif\""))
        #expect(!pixel.contains("<script>"))
    }
}
