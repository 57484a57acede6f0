import Foundation
import NurtureCore

/// Rewrites an HTML part's links to signed click redirects and adds the open pixel, at send time. The original
/// targets are kept with the sent message, so a redirect never takes its destination from the request.
enum LinkTracker {
    /// - Parameters:
    ///   - track: whether a link target (entities decoded) is rewritten; others (unsubscribe, mailto:) stay.
    ///   - redirect: the URL replacing the target with this index.
    /// - Returns: the HTML and the distinct targets, by index.
    static func rewrite(_ html: String, track: (String) -> Bool, redirect: (Int) -> String) -> (html: String, links: [String]) {
        let bytes = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 512)
        var links: [String] = []
        var index: [String: Int] = [:]
        var i = 0, copied = 0
        while let at = findHref(bytes, from: i) {
            let quote = bytes[at]
            guard let end = bytes[(at + 1)...].firstIndex(of: quote) else { break }
            let target = decodeEntities(String(decoding: bytes[(at + 1)..<end], as: UTF8.self))
            i = end + 1
            // Token link indexes are 16-bit: past that many distinct targets, links stay as written.
            guard track(target), index[target] != nil || links.count < Int(UInt16.max) else { continue }
            let n: Int
            if let known = index[target] { n = known } else { n = links.count; links.append(target); index[target] = n }
            out += bytes[copied...at]
            // Escaped like any attribute value: the URL comes from configuration, not from the template.
            out += HTMLEscape.escaped(redirect(n)).utf8
            copied = end
        }
        out += bytes[copied...]
        return (String(decoding: out, as: UTF8.self), links)
    }

    /// Position of the opening quote of the next `href="…"` or `href='…'` attribute at or after `from`.
    private static func findHref(_ b: [UInt8], from: Int) -> Int? {
        var i = from
        while i + 6 < b.count {
            // "href" case-insensitively, preceded by white space, then optional spaces, "=", optional spaces, a quote.
            if b[i] | 0x20 == 0x68, b[i + 1] | 0x20 == 0x72, b[i + 2] | 0x20 == 0x65, b[i + 3] | 0x20 == 0x66,
               i > 0, b[i - 1] == 0x20 || b[i - 1] == 0x0A || b[i - 1] == 0x09 || b[i - 1] == 0x0D {
                var j = i + 4
                while j < b.count, b[j] == 0x20 { j += 1 }
                if j < b.count, b[j] == 0x3D {
                    j += 1
                    while j < b.count, b[j] == 0x20 { j += 1 }
                    if j < b.count, b[j] == 0x22 || b[j] == 0x27 { return j }
                }
            }
            i += 1
        }
        return nil
    }

    /// The entities Mustache and Markdown produce in attribute values.
    static func decodeEntities(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The 1×1 image just before the last `</body>` (or at the end). Byte-level: Foundation's string
    /// replacement here cost a quarter of the delivery path's CPU.
    static func addPixel(_ html: String, url: String) -> String {
        let pixel = "<img src=\"\(HTMLEscape.escaped(url))\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">"
        let bytes = Array(html.utf8)
        let close = Array("</body>".utf8)
        var at = bytes.count - close.count
        while at >= 0 {
            if bytes[at] == 0x3C, zip(bytes[at..<at + close.count], close).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) { break }
            at -= 1
        }
        guard at >= 0 else { return html + pixel }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + pixel.utf8.count)
        out += bytes[..<at]
        out += pixel.utf8
        out += bytes[at...]
        return String(decoding: out, as: UTF8.self)
    }
}
