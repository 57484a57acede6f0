import Foundation

/// Finds Mustache tags with their positions, so template problems are reported at the right line and column.
///
/// Only the subset Nurture supports is accepted: variables, sections, inverted sections and comments.
/// Partials, pragmas and delimiter changes are refused, so a template's meaning is visible in the file itself.
public struct MustacheTag: Hashable, Sendable {
    public enum Kind: Sendable { case variable, unescaped, section, inverted, close, comment }
    public var kind: Kind
    /// The full dotted name (`company.name`); empty for comments.
    public var name: String
    public var position: SourcePosition
    /// Offsets of the whole tag (braces included) in the text's unicode scalars.
    public var range: Range<Int>

    /// The first component of the name: what must be a known variable.
    public var root: String { String(name.split(separator: ".").first ?? "") }
}

public enum MustacheScanner {
    public struct Failure: Error, Sendable {
        public var position: SourcePosition
        public var message: String
    }

    /// Sections nested deeper than this are refused: swift-mustache parses and renders sections recursively,
    /// so an author-controlled depth would be an author-controlled stack (10 000 levels crashed every command).
    public static let maxSectionDepth = 100

    /// - Parameters:
    ///   - lineOffset: lines before `text` in its file, so every line number (in messages too) counts from the file.
    ///   - inlineAt: where a one-line fragment (a front-matter value) sits: every position is reported there.
    public static func scan(_ text: String, lineOffset: Int = 0, inlineAt: SourcePosition? = nil) -> Result<[MustacheTag], Failure> {
        let s = Array(text.unicodeScalars)
        var tags: [MustacheTag] = []
        var open: [MustacheTag] = []
        var line = 1, column = 1, i = 0
        func advance(to end: Int) {
            while i < end {
                if s[i] == "\n" { line += 1; column = 1 } else { column += 1 }
                i += 1
            }
        }
        func here() -> SourcePosition { inlineAt ?? SourcePosition(line: line + lineOffset, column: column) }
        // Control characters other than tab and line breaks would be mailed verbatim (NUL, ESC, BEL): refuse them.
        if let bad = s.firstIndex(where: { ($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") || $0.value == 0x7F }) {
            advance(to: bad)
            return .failure(Failure(position: here(), message: "control character U+\(hex4(s[bad].value)) in the text; remove it"))
        }
        func find(_ needle: [Unicode.Scalar], from start: Int) -> Int? {
            var j = start
            while j + needle.count <= s.count {
                if s[j] == needle[0], Array(s[j..<j + needle.count]) == needle { return j }
                j += 1
            }
            return nil
        }
        while let start = find(["{", "{"], from: i) {
            advance(to: start)
            let position = here()
            let triple = start + 2 < s.count && s[start + 2] == "{"
            let closer: [Unicode.Scalar] = triple ? ["}", "}", "}"] : ["}", "}"]
            let innerStart = start + (triple ? 3 : 2)
            guard let end = find(closer, from: innerStart) else {
                return .failure(Failure(position: position, message: "unclosed Mustache tag"))
            }
            var inner = String(String.UnicodeScalarView(s[innerStart..<end]))
            let range = start..<(end + closer.count)
            var kind = MustacheTag.Kind.variable
            if triple {
                kind = .unescaped
            } else if let sigil = inner.first {
                switch sigil {
                case "&": kind = .unescaped
                case "#": kind = .section
                case "^": kind = .inverted
                case "/": kind = .close
                case "!": kind = .comment
                case ">", "<", "$", "%", "=":
                    return .failure(Failure(position: position, message: "Mustache partials, pragmas, blocks and delimiter changes are not supported in templates"))
                default: break
                }
                if kind != .variable { inner.removeFirst() }
            }
            let name = kind == .comment ? "" : inner.trimmingCharacters(in: .whitespaces)
            if kind != .comment, !isValidName(name) {
                return .failure(Failure(position: position, message: "bad Mustache tag '\(String(String.UnicodeScalarView(s[range])))': a variable name is letters, digits, '_' and '.'"))
            }
            if name == "." {
                return .failure(Failure(position: position, message: "'{{.}}' would insert the whole list of variables; name the variable, e.g. {{first_name}}"))
            }
            let tag = MustacheTag(kind: kind, name: name, position: position, range: range)
            switch kind {
            case .section, .inverted:
                guard open.count < maxSectionDepth else {
                    return .failure(Failure(position: position, message: "sections are nested more than \(maxSectionDepth) levels deep"))
                }
                open.append(tag)
            case .close:
                guard let last = open.popLast() else {
                    return .failure(Failure(position: position, message: "'{{/\(name)}}' closes a section that was never opened"))
                }
                guard last.name == name else {
                    return .failure(Failure(position: position, message: "'{{/\(name)}}' closes section '\(last.name)' opened at line \(last.position.line)"))
                }
            default: break
            }
            tags.append(tag)
            advance(to: range.upperBound)
        }
        if let unclosed = open.last {
            return .failure(Failure(position: unclosed.position, message: "section '\(unclosed.name)' is never closed"))
        }
        return .success(tags)
    }

    static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }

    static func isValidName(_ name: String) -> Bool {
        if name == "." { return true }
        guard !name.isEmpty, !name.hasPrefix("."), !name.hasSuffix("."), !name.contains("..") else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == "." }
    }
}
