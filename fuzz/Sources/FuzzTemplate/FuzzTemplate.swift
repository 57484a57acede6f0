import FuzzDriver
import Foundation
import NurtureAuthoring
import NurtureCore

/// Template compiler, Markdown (cmark) and renderer. Invariants: no crash, a located error or a template;
/// lead data never parsed (a sentinel in the data never appears unescaped); time roughly linear in the size.
let layout: Layout = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-fuzz-layout-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try? "<html><body>{{{content}}}<a href=\"{{unsubscribe_url}}\">u</a> {{postal_address}}</body></html>\n"
        .write(toFile: dir + "/_layout.html", atomically: true, encoding: .utf8)
    try? "{{{content}}}\n{{unsubscribe_url}}\n{{postal_address}}\n".write(toFile: dir + "/_layout.txt", atomically: true, encoding: .utf8)
    return TemplateLoader.loadLayout(directory: dir, sink: DiagnosticSink())!
}()

let sentinel = "<zq9 {{first_name}} **b** [x](javascript:1)>"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return 0 }
    let started = ContinuousClock.now
    let sink = DiagnosticSink()
    let template = TemplateLoader.parse("---\nsubject: S {{first_name}}\n---\n" + text, name: "f", file: "f.md", sink: sink)
    if template == nil {
        precondition(sink.hasErrors, "no template and no error")
        for d in sink.items { precondition(d.line >= 1 && d.column >= 1, "bad position \(d)") }
    }
    if let template {
        let names = template.uses.map(\.root)
        var values: [String: String] = [:]
        for n in names { values[n] = sentinel }
        let email = TemplateRenderer(layout: layout).render(template, variables: values)
        precondition(!email.html.contains("<zq9"), "lead data reached the HTML unescaped")
        precondition(!email.subject.contains("\n") && !email.subject.contains("\r"), "subject is not one line")
    }
    // Linear: at most 50 µs per byte (ASan included) plus a fixed half second.
    let elapsed = ContinuousClock.now - started
    precondition(elapsed < .microseconds(50 * size) + .milliseconds(500), "\(elapsed) for \(size) bytes")
    return 0
}


@_cdecl("FuzzTemplate_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt { FuzzDriver.run(argc, argv, fuzz) }
