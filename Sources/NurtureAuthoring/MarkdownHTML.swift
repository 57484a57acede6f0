import CCMark
import Foundation

/// Authored Markdown to HTML through cmark: linear in the input whatever its nesting (Ink took exponential time
/// on nested `[` and recursed without bound). Raw HTML is left out, as cmark does by default.
enum MarkdownHTML {
    static func html(from markdown: String) -> String {
        var utf8 = Array(markdown.utf8)
        let length = utf8.count
        utf8.append(0)
        guard let out = utf8.withUnsafeBufferPointer({ buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { nurture_cmark_to_html($0, length) }
        }) else { return "" }
        defer { free(out) }
        return String(cString: out)
    }
}
