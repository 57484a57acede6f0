import ArgumentParser
import Foundation
import NurtureAuthoring

/// `nurture validate`: the same loading the daemon does, reporting every problem as `file:line:column`.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the config, sequences and templates; print each problem as file:line:column.",
        discussion: "Exits 1 if any error is found. With PATHs, only those sequence files (or folders of them) are checked."
    )

    @OptionGroup var options: ConfigOption

    @Argument(help: "Sequence files or folders to check instead of the configured sequences folder.")
    var paths: [String] = []

    func run() throws {
        let path = try options.locate()
        let sink = DiagnosticSink()
        if let config = ConfigLoader.load(path: path, sink: sink) {
            let files = paths.isEmpty ? nil : expand(paths, sink: sink, config: config)
            _ = CatalogLoader.load(config: config, sequenceFiles: files, sink: sink)
        }
        for d in Terminal.displayed(sink) { print(d) }
        if sink.hasErrors { throw ExitCode(1) }
    }

    private func expand(_ paths: [String], sink: DiagnosticSink, config: NurtureConfig) -> [String] {
        paths.flatMap { path -> [String] in
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                return CatalogLoader.sequenceFilesIn(path, sink: sink, config: config)
            }
            return [path]
        }
    }
}
