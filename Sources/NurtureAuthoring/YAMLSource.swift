import Foundation
import Yams
import CYaml

/// Reads an authored YAML file defensively: bounded size, bounded nesting, bounded alias expansion, valid UTF-8.
public enum YAMLSource {
    /// Authored files are small; anything larger is a mistake or an attack.
    public static let maxBytes = 1 << 20
    public static let maxDepth = 64
    /// Nodes a reader may visit, aliases expanded; stops "billion laughs" files.
    public static let maxNodes = 100_000

    private static let configureLibYAML: Void = { yaml_set_max_nest_level(Int32(maxDepth)) }()

    /// Reads a file's text, or reports why it cannot be read.
    public static func readText(_ path: String, sink: DiagnosticSink) -> String? {
        let url = URL(fileURLWithPath: path)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            sink.error(path, 1, 1, "cannot read file: no such file")
            return nil
        }
        if let size = attributes[.size] as? Int, size > maxBytes {
            sink.error(path, 1, 1, "file is \(size) bytes; the limit is \(maxBytes) bytes (1 MiB)")
            return nil
        }
        // Found by fuzzing: Foundation's Data(contentsOf:) leaks a 4 KiB buffer per empty file (each reload).
        if attributes[.size] as? Int == 0 { return "" }
        guard let data = try? Data(contentsOf: url) else {
            sink.error(path, 1, 1, "cannot read file")
            return nil
        }
        // One line-ending convention for every later step ("\r\n" is a single Character in Swift).
        return decode(data, path: path, sink: sink)?.replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// Decodes UTF-8, naming the line and column of the first invalid byte.
    static func decode(_ data: Data, path: String, sink: DiagnosticSink) -> String? {
        if let text = String(validating: data, as: UTF8.self) {
            return text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        }
        var line = 1, column = 1
        var iterator = data.makeIterator()
        var decoder = UTF8()
        decoding: while case .scalarValue(let scalar) = decoder.decode(&iterator) {
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            continue decoding
        }
        sink.error(path, line, column, "file is not valid UTF-8")
        return nil
    }

    /// Parses one YAML document; nil (with a diagnostic) on syntax errors.
    public static func parse(_ text: String, path: String, lineOffset: Int = 0, sink: DiagnosticSink) -> Node? {
        _ = configureLibYAML
        do {
            // No implicit typing: readers convert scalars themselves (`Int(s.string)`, plain `null`). Yams' default
            // resolver ran regular expressions on every scalar for each duplicate-key check: two fifths of the CPU
            // time of loading a catalog.
            let root = try Yams.compose(yaml: text, .basic) ?? Node.mapping(.init([]))
            guard expandsWithinBudget(root) else {
                sink.error(path, 1 + lineOffset, 1, "file expands to more than \(maxNodes) YAML nodes once aliases are resolved (alias bomb?)")
                return nil
            }
            return root
        } catch let error as YamlError {
            let (position, message) = describe(error, text: text, lineOffset: lineOffset)
            sink.error(path, position.line + lineOffset, position.column, message)
        } catch {
            sink.error(path, 1 + lineOffset, 1, "cannot parse YAML: \(error)")
        }
        return nil
    }

    /// Libyaml reports a duplicate key at its first use; editors want the second, so look for the same key at the same indentation.
    static func secondOccurrence(of key: String, after first: SourcePosition, in text: String) -> SourcePosition? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line - 1 < lines.count else { return nil }
        let indent = String(repeating: " ", count: first.column - 1)
        for index in first.line..<lines.count {
            let line = lines[index]
            if line.hasPrefix(indent + key + ":") || line.hasPrefix(indent + "\"" + key + "\":") {
                return SourcePosition(line: index + 1, column: first.column)
            }
        }
        return nil
    }

    /// Walks the tree with aliases expanded, giving up after `maxNodes`: cheap for real files, bounded for bombs.
    static func expandsWithinBudget(_ root: Node) -> Bool {
        var stack = [root]
        var count = 0
        while let node = stack.popLast() {
            count += 1
            if count > maxNodes { return false }
            switch node {
            case .mapping(let m):
                for (k, v) in m { stack.append(k); stack.append(v) }
            case .sequence(let s):
                stack.append(contentsOf: s)
            default: break
            }
        }
        return true
    }

    /// - Parameter lineOffset: lines before `text` in its file, so line numbers inside messages count from the file too.
    static func describe(_ error: YamlError, text: String, lineOffset: Int = 0) -> (SourcePosition, String) {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            var message = "YAML syntax error: \(problem)"
            if problem.contains("Maximum nesting level") {
                message = "YAML nesting is deeper than \(maxDepth) levels"
            } else if let context {
                message += " (\(context.text) at line \(context.mark.line + lineOffset), column \(context.mark.column))"
            }
            return (SourcePosition(mark), message)
        case let .duplicatedKeysInMapping(duplicates, context):
            let first = SourcePosition(context.mark)
            let key = duplicates.first ?? ""
            let repeated = secondOccurrence(of: key, after: first, in: text) ?? first
            return (repeated, "duplicate key '\(key)' (first at line \(first.line + lineOffset))")
        case let .reader(problem, _, _, _):
            return (.start, "cannot read YAML: \(problem)")
        default:
            return (.start, "cannot parse YAML: \(error)")
        }
    }
}
