import Foundation
import Testing
@testable import NurtureAuthoring

/// Oversized, deeply nested and self-expanding files get a clear error, fast, without exhausting memory.
struct HostileInputTests {
    func write(_ name: String, _ data: Data) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    func load(_ path: String) -> [Diagnostic] {
        let sink = DiagnosticSink()
        _ = SequenceLoader.load(path: path, knownFields: ["email"], sink: sink)
        return sink.items
    }

    @Test func tenMegabyteFileIsRefusedBeforeParsing() throws {
        var text = "id: big\npersona: big\n# "
        text += String(repeating: "x", count: 10 * 1024 * 1024)
        let path = try write("big.yaml", Data(text.utf8))
        let d = load(path)
        #expect(d.count == 1)
        #expect(d.first?.description.hasPrefix("\(path):1:1: error: file is 10485783 bytes; the limit is 1048576 bytes") == true)
    }

    @Test func fiveThousandLevelsOfFlowNestingAreRefused() throws {
        let text = "id: deep\npersona: deep\nsteps: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        let path = try write("deep.yaml", Data(text.utf8))
        let d = load(path)
        #expect(d.map(\.message) == ["YAML nesting is deeper than \(YAMLSource.maxDepth) levels"])
        #expect(d.first?.line == 3)
    }

    @Test func deepBlockNestingIsRefused() throws {
        var text = "id: deep\npersona: deep\nsteps:\n"
        for i in 1...300 { text += String(repeating: " ", count: i) + "- \n" }
        let path = try write("deep-block.yaml", Data(text.utf8))
        #expect(load(path).map(\.message) == ["YAML nesting is deeper than \(YAMLSource.maxDepth) levels"])
    }

    @Test func billionLaughsIsRefused() throws {
        var lines = ["id: lol", "persona: lol", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for i in 1...9 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        lines.append("steps: *a9")
        let path = try write("lol.yaml", Data(lines.joined(separator: "\n").utf8))
        #expect(load(path).map(\.message) == ["file expands to more than \(YAMLSource.maxNodes) YAML nodes once aliases are resolved (alias bomb?)"])
    }

    @Test func modestAliasUseIsAllowed() throws {
        let text = """
            id: ok
            persona: ok
            steps:
              - &first {id: one, after: 0m, template: a/b}
              - {id: two, after: 1d, template: a/b}
            """
        let path = try write("alias.yaml", Data(text.utf8))
        #expect(load(path).isEmpty)
    }
}
