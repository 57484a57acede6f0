import Mustache
import NurtureCore
import Synchronization

/// A Mustache template that swift-mustache renders once per pattern of present variables, with a numbered
/// marker in place of each value; a send then only fills the markers in. With string values a section depends
/// only on whether its value is present, so the output is swift-mustache's own, at a fraction of its cost on
/// the delivery path (where rendering was the largest cost). Values are never parsed as a template.
public final class CompiledTemplate: Sendable {
    let template: MustacheTemplate
    /// The variables the template can reach (roots of its tag names), in marker order.
    let names: [String]
    /// The source contains marker characters, or there are too many names for a mask: render directly.
    let direct: Bool
    private let skeletons = Mutex<[UInt64: Skeleton]>([:])

    static let open: Unicode.Scalar = "\u{E002}", close: Unicode.Scalar = "\u{E003}"

    init(_ source: String, names: some Sequence<String>) throws {
        template = try MustacheTemplate(string: source)
        self.names = Array(Set(names.filter { !$0.isEmpty })).sorted()
        direct = self.names.count > 64 || source.unicodeScalars.contains { $0 == Self.open || $0 == Self.close }
    }

    public func render(_ variables: [String: String]) -> String {
        if direct { return template.render(variables as [String: Any]) }
        var mask: UInt64 = 0
        for (i, name) in names.enumerated() where variables[name] != nil { mask |= 1 << UInt64(i) }
        let skeleton = skeletons.withLock { $0[mask] } ?? build(mask)
        return skeleton.fill { variables[names[$0]]! }
    }

    /// Renders with a marker for each present variable; an escaped site shows its marker escaped.
    private func build(_ mask: UInt64) -> Skeleton {
        var context: [String: Any] = [:]
        for (i, name) in names.enumerated() where mask & (1 << UInt64(i)) != 0 { context[name] = "\(Self.open)<\(i)>\(Self.close)" }
        let skeleton = Skeleton(parsing: template.render(context))
        skeletons.withLock { $0[mask] = skeleton }
        return skeleton
    }
}

/// Rendered output split into literal text and value sites.
struct Skeleton: Sendable {
    enum Piece: Sendable { case text(String), value(Int, escaped: Bool) }
    var pieces: [Piece] = []

    init(parsing rendered: String) {
        let bytes = Array(rendered.utf8)
        let open: [UInt8] = [0xEE, 0x80, 0x82], close: [UInt8] = [0xEE, 0x80, 0x83]
        let raw = (Array("<".utf8), Array(">".utf8)), escaped = (Array("&lt;".utf8), Array("&gt;".utf8))
        func matches(_ p: [UInt8], at i: Int) -> Bool { i + p.count <= bytes.count && bytes[i..<i + p.count].elementsEqual(p) }
        var text: [UInt8] = [], i = 0
        scan: while i < bytes.count {
            if matches(open, at: i) {
                for (form, isEscaped) in [(raw, false), (escaped, true)] where matches(form.0, at: i + 3) {
                    var j = i + 3 + form.0.count, number = 0, digits = 0
                    while j < bytes.count, (48...57).contains(bytes[j]) { number = number * 10 + Int(bytes[j] - 48); j += 1; digits += 1 }
                    guard digits > 0, matches(form.1, at: j), matches(close, at: j + form.1.count) else { continue }
                    if !text.isEmpty { pieces.append(.text(String(decoding: text, as: UTF8.self))); text.removeAll() }
                    pieces.append(.value(number, escaped: isEscaped))
                    i = j + form.1.count + close.count
                    continue scan
                }
            }
            text.append(bytes[i])
            i += 1
        }
        if !text.isEmpty { pieces.append(.text(String(decoding: text, as: UTF8.self))) }
    }

    func fill(_ value: (Int) -> String) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let t): out += t
            case let .value(i, escaped): if escaped { HTMLEscape.append(value(i), to: &out) } else { out += value(i) }
            }
        }
        return out
    }
}
