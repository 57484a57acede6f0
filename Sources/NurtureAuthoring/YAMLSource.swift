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
        guard let data = try? Data(contentsOf: url) else {
            sink.error(path, 1, 1, "cannot read file")
            return nil
        }
        return decode(data, path: path, sink: sink)
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
            return try Yams.compose(yaml: text) ?? Node.mapping(.init([]))
        } catch let error as YamlError {
            let (position, message) = describe(error)
            sink.error(path, position.line + lineOffset, position.column, message)
        } catch {
            sink.error(path, 1 + lineOffset, 1, "cannot parse YAML: \(error)")
        }
        return nil
    }

    static func describe(_ error: YamlError) -> (SourcePosition, String) {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            var message = "YAML syntax error: \(problem)"
            if problem.contains("Maximum nesting level") {
                message = "YAML nesting is deeper than \(maxDepth) levels"
            } else if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return (SourcePosition(mark), message)
        case let .duplicatedKeysInMapping(duplicates, context):
            return (SourcePosition(context.mark), "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in mapping")
        case let .reader(problem, _, _, _):
            return (.start, "cannot read YAML: \(problem)")
        default:
            return (.start, "cannot parse YAML: \(error)")
        }
    }
}
