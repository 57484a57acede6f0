import Yams
import NurtureCore

/// Reads typed values out of a YAML tree, reporting wrong types and unknown keys at their source position.
///
/// Trees are size-checked by `YAMLSource.parse` first. Every accessor returns nil after reporting, so loaders keep going and one run shows every problem.
public final class NodeReader {
    public let file: String
    public let sink: DiagnosticSink
    private let lineOffset: Int

    public init(file: String, sink: DiagnosticSink, lineOffset: Int = 0) {
        self.file = file
        self.sink = sink
        self.lineOffset = lineOffset
    }

    public func position(_ node: Node) -> SourcePosition { SourcePosition(node.mark).offset(lines: lineOffset) }

    public func error(_ node: Node, _ message: String) {
        let p = position(node)
        sink.error(file, p.line, p.column, message)
    }

    public func warning(_ node: Node, _ message: String) {
        let p = position(node)
        sink.warning(file, p.line, p.column, message)
    }

    private func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let s): s.string.isEmpty || node.null != nil ? "nothing" : "a value ('\(s.string.prefix(40))')"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// A mapping with only the allowed keys; reports unknown and missing keys.
    public func mapping(_ node: Node, _ what: String, allowed: [String], required: [String] = []) -> [String: (key: Node, value: Node)]? {
        guard case .mapping(let map) = node else {
            error(node, "\(what) must be a mapping, found \(kind(node))")
            return nil
        }
        var out: [String: (key: Node, value: Node)] = [:]
        for (key, value) in map {
            guard case .scalar(let scalar) = key else {
                error(key, "keys in \(what) must be plain names")
                continue
            }
            if allowed.contains(scalar.string) {
                out[scalar.string] = (key, value)
            } else {
                error(key, "unknown key '\(scalar.string)' in \(what); expected one of: \(allowed.joined(separator: ", "))")
            }
        }
        for name in required where out[name] == nil {
            error(node, "\(what) is missing required key '\(name)'")
        }
        return out
    }

    /// A mapping of free-form names (e.g. scoring points, match filters) to nodes.
    public func freeMapping(_ node: Node, _ what: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let map) = node else {
            error(node, "\(what) must be a mapping, found \(kind(node))")
            return nil
        }
        var out: [(String, Node, Node)] = []
        for (key, value) in map {
            guard case .scalar(let scalar) = key else {
                error(key, "keys in \(what) must be plain names")
                continue
            }
            out.append((scalar.string, key, value))
        }
        return out
    }

    /// A non-empty scalar.
    public func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let s) = node, node.null == nil, !s.string.isEmpty else {
            error(node, "\(what) must be a text value, found \(kind(node))")
            return nil
        }
        if s.string.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }) {
            error(node, "\(what) contains a control character")
            return nil
        }
        return s.string
    }

    /// A scalar that must not contain a line break (names, ids, header text).
    public func singleLine(_ node: Node, _ what: String) -> String? {
        guard let s = string(node, what) else { return nil }
        if s.contains(where: { $0.isNewline || $0 == "\t" }) {
            error(node, "\(what) must fit on one line")
            return nil
        }
        return s
    }

    public func int(_ node: Node, _ what: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let s) = node, let value = Int(s.string) else {
            error(node, "\(what) must be a whole number, found \(kind(node))")
            return nil
        }
        if let range, !range.contains(value) {
            error(node, "\(what) must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
            return nil
        }
        return value
    }

    public func number(_ node: Node, _ what: String) -> Double? {
        guard case .scalar(let s) = node, let value = Double(s.string), value.isFinite else {
            error(node, "\(what) must be a number, found \(kind(node))")
            return nil
        }
        return value
    }

    public func bool(_ node: Node, _ what: String) -> Bool? {
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(node, "\(what) must be true or false, found \(kind(node))")
            return nil
        }
    }

    /// A list; a single scalar is accepted as a list of one when `scalarIsList` (e.g. `skip_if: clicked(x)`).
    public func list(_ node: Node, _ what: String, scalarIsList: Bool = false) -> [Node]? {
        switch node {
        case .sequence(let seq):
            return Array(seq)
        case .scalar where scalarIsList && node.null == nil:
            return [node]
        default:
            error(node, "\(what) must be a list, found \(kind(node))")
            return nil
        }
    }

    /// A duration such as `30m`, `2d`, `1w`, `1d12h`.
    public func timeSpan(_ node: Node, _ what: String) -> TimeSpan? {
        guard let text = string(node, what) else { return nil }
        switch TimeSpan.parse(text) {
        case .success(let span):
            return span
        case .failure(.tooLong):
            error(node, "duration '\(text)' for \(what) is longer than \(TimeSpan.maximum.seconds / 86_400) days (about ten years)")
            return nil
        case .failure(.malformed):
            error(node, "bad duration '\(text)' for \(what): write a number and a unit s, m, h, d or w (e.g. 30m, 3d, 1w, 1d12h)")
            return nil
        }
    }

    /// An IANA time zone name that this machine's time zone database knows.
    public func timeZone(_ node: Node, _ what: String) -> String? {
        guard let text = singleLine(node, what) else { return nil }
        guard TimeZones.isKnown(text) else {
            error(node, "unknown time zone '\(text)' for \(what): use an IANA name such as Europe/Paris or America/New_York")
            return nil
        }
        return text
    }
}

extension NodeReader {
    /// Day names as send windows write them (`mon` … `sun`), each once; `unknown` words the error for a bad name.
    func days(_ items: [Node], unknown: (String) -> String) -> Set<Weekday> {
        var days = Set<Weekday>()
        for item in items {
            guard let name = singleLine(item, "a day") else { continue }
            if let day = Weekday(rawValue: name.lowercased()) {
                if !days.insert(day).inserted { error(item, "day '\(name)' is listed twice") }
            } else {
                error(item, unknown(name))
            }
        }
        return days
    }
}
