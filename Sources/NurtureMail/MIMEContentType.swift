import Foundation

/// A Content-Type value read leniently (comments, quoted or bare parameters, RFC 2231 continuations): the
/// classifier decides on `type/subtype`, `report-type` and `boundary`, which report generators spell in many ways.
struct MIMEContentType: Sendable, Equatable {
    var type: String
    var subtype: String
    /// Lower-cased names; values as given (unquoted).
    var parameters: [String: String]

    var mimeType: String { type + "/" + subtype }
    var isMultipart: Bool { type == "multipart" }

    static let textPlain = MIMEContentType(type: "text", subtype: "plain", parameters: [:])
    static let messageRFC822 = MIMEContentType(type: "message", subtype: "rfc822", parameters: [:])

    /// An absent or unreadable value is `fallback` (text/plain, or message/rfc822 inside multipart/digest), as RFC 2045 says.
    static func parse(_ raw: [UInt8]?, fallback: MIMEContentType = .textPlain) -> MIMEContentType {
        guard let raw else { return fallback }
        let pieces = split(withoutComments(String(decoding: raw.prefix(16_384), as: UTF8.self)))
        guard let head = pieces.first else { return fallback }
        let typeParts = head.lowercased().split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard typeParts.count == 2, !typeParts[0].isEmpty, !typeParts[1].isEmpty,
              !typeParts[0].contains(" "), !typeParts[1].contains(" ") else { return fallback }
        var plain: [String: String] = [:]
        var sections: [String: [(Int, String, Bool)]] = [:]
        for piece in pieces.dropFirst() {
            guard let eq = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = unquote(piece[piece.index(after: eq)...].trimmingCharacters(in: .whitespaces))
            guard !name.isEmpty else { continue }
            if let star = name.firstIndex(of: "*") { // RFC 2231: name*=, name*0=, name*1*=
                let base = String(name[..<star])
                let rest = name[name.index(after: star)...]
                let extended = rest.hasSuffix("*") || rest.isEmpty
                let number = Int(rest.trimmingCharacters(in: ["*"])) ?? 0
                sections[base, default: []].append((number, value, extended))
            } else if plain[name] == nil {
                plain[name] = value
            }
        }
        for (name, parts) in sections where plain[name] == nil {
            plain[name] = parts.sorted { $0.0 < $1.0 }.enumerated().map { i, part in
                guard part.2 else { return part.1 }
                var v = Substring(part.1)
                if i == 0, let q = v.firstIndex(of: "'"), let q2 = v[v.index(after: q)...].firstIndex(of: "'") { v = v[v.index(after: q2)...] }
                return v.removingPercentEncoding ?? String(v)
            }.joined()
        }
        return MIMEContentType(type: typeParts[0], subtype: typeParts[1], parameters: plain)
    }

    /// Splits on `;` outside quoted strings.
    private static func split(_ s: String) -> [String] {
        var out: [String] = [], current = "", quoted = false, escaped = false
        for c in s {
            if escaped { current.append(c); escaped = false; continue }
            if quoted && c == "\\" { current.append(c); escaped = true; continue }
            if c == "\"" { quoted.toggle() }
            if c == ";" && !quoted { out.append(current); current = ""; continue }
            current.append(c)
        }
        out.append(current)
        return out.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// RFC 5322 comments `( … )`, nested, outside quoted strings.
    private static func withoutComments(_ s: String) -> String {
        guard s.contains("(") else { return s }
        var out = "", depth = 0, quoted = false, escaped = false
        for c in s {
            if escaped { if depth == 0 { out.append(c) }; escaped = false; continue }
            if c == "\\" && (quoted || depth > 0) { if depth == 0 { out.append(c) }; escaped = true; continue }
            if depth == 0 && c == "\"" { quoted.toggle() }
            if !quoted && c == "(" { depth += 1; continue }
            if !quoted && c == ")" && depth > 0 { depth -= 1; continue }
            if depth == 0 { out.append(c) }
        }
        return out
    }

    private static func unquote(_ s: String) -> String {
        guard s.hasPrefix("\"") else {
            // A bare value ends at white space (`boundary=abc report-type=x` with a missing `;`).
            return String(s.prefix { $0 != " " && $0 != "\t" })
        }
        var out = "", escaped = false
        for c in s.dropFirst() {
            if escaped { out.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "\"" { break }
            out.append(c)
        }
        return out
    }
}
