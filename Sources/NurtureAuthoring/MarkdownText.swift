import Foundation

/// Turns authored Markdown into the plain-text part: readable as mail, links spelled out.
enum MarkdownText {
    static func plain(from markdown: String) -> String {
        var out: [String] = []
        for rawLine in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(rawLine)
            if line.hasPrefix("#") {
                line = String(line.drop { $0 == "#" }).trimmingCharacters(in: .whitespaces)
            }
            line = rewriteLinks(line)
            line = line.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "")
            out.append(line)
        }
        return out.joined(separator: "\n")
    }

    /// `[text](url)` → `text (url)`; `[url](url)` → `url`.
    static func rewriteLinks(_ line: String) -> String {
        var result = ""
        var rest = Substring(line)
        while let open = rest.firstIndex(of: "[") {
            guard let close = rest[open...].firstIndex(of: "]"),
                  rest.index(after: close) < rest.endIndex, rest[rest.index(after: close)] == "(",
                  let end = rest[close...].firstIndex(of: ")") else { break }
            let text = rest[rest.index(after: open)..<close]
            let url = rest[rest.index(close, offsetBy: 2)..<end]
            result += rest[..<open]
            result += text == url ? String(url) : "\(text) (\(url))"
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
