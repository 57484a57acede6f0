import FuzzDriver
import Foundation
import NurtureAuthoring

/// Sequence and config loaders (the first byte picks which). Invariants: no crash; nil only with an error;
/// every diagnostic located at line ≥ 1, column ≥ 1.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-fuzz-\(getpid()).yaml").path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let config = data[0] & 1 == 1
    FileManager.default.createFile(atPath: path, contents: Data(UnsafeBufferPointer(start: data + 1, count: size - 1)))
    let sink = DiagnosticSink()
    let loaded: Bool
    if config {
        loaded = ConfigLoader.load(path: path, sink: sink, environment: [:]) != nil
    } else {
        loaded = SequenceLoader.load(path: path, knownFields: ["email", "first_name", "company"], sink: sink) != nil
    }
    precondition(loaded || sink.hasErrors, "refused without an error")
    for d in sink.items { precondition(d.line >= 1 && d.column >= 1, "bad position \(d)") }
    return 0
}


@_cdecl("FuzzYAML_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt { FuzzDriver.run(argc, argv, fuzz) }
