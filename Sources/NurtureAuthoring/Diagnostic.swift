/// One problem found in an authored file, printed the way compilers do so editors can jump to it.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var file: String
    public var line: Int
    public var column: Int
    public var severity: Severity
    public var message: String

    public init(file: String, line: Int, column: Int, severity: Severity = .error, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    /// `file:line:column: error: message`
    public var description: String { "\(file):\(line):\(column): \(severity.rawValue): \(message)" }

    /// The same diagnostic with its path shown relative to `directory` when inside it, as compilers print them.
    public func relative(to directory: String) -> Diagnostic {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        guard file.hasPrefix(prefix) else { return self }
        var d = self
        d.file = String(file.dropFirst(prefix.count))
        return d
    }
}

/// Collects diagnostics while loaders keep going, so one run reports every problem rather than the first.
public final class DiagnosticSink: @unchecked Sendable {
    public private(set) var items: [Diagnostic] = []

    public init() {}

    public var hasErrors: Bool { items.contains { $0.severity == .error } }

    public func add(_ d: Diagnostic) { items.append(d) }

    public func error(_ file: String, _ line: Int, _ column: Int, _ message: String) {
        items.append(Diagnostic(file: file, line: line, column: column, severity: .error, message: message))
    }

    public func warning(_ file: String, _ line: Int, _ column: Int, _ message: String) {
        items.append(Diagnostic(file: file, line: line, column: column, severity: .warning, message: message))
    }

    /// Sorted by file then position, so output is stable and readable.
    public var sorted: [Diagnostic] {
        items.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
    }
}
