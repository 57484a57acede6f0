import Foundation
import NurtureAuthoring

/// Output helpers: results on stdout, diagnostics and progress on stderr.
enum Terminal {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    static func stderr(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func report(_ sink: DiagnosticSink) {
        for d in displayed(sink) { stderr("\(d)\n") }
    }

    /// Sorted, with paths relative to the working directory.
    static func displayed(_ sink: DiagnosticSink) -> [Diagnostic] {
        let cwd = FileManager.default.currentDirectoryPath
        return sink.sorted.map { $0.relative(to: cwd) }
    }

    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }
}
