import Yams

/// A place in a file; YAML nodes carry one, and template scans compute one.
public struct SourcePosition: Hashable, Sendable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static let start = SourcePosition(line: 1, column: 1)

    init(_ mark: Mark?) {
        self.init(line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// Shifts a position found in an embedded text (front matter, template body) to the enclosing file.
    public func offset(lines: Int) -> SourcePosition { SourcePosition(line: line + lines, column: column) }
}
