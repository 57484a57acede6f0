import FuzzDriver
import NurtureMail

/// Inbound classifier with any bytes (the pipe and IMAP feed it whatever arrives). Invariants: it ends without
/// crashing; only bytes without a header section are a format error; no returned value holds CR or LF; every
/// referenced id is `<…>`; handles stay within their cap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let report = try? InboundClassifier.classify(bytes, envelopeRecipient: size % 2 == 0 ? nil : "bounces+1@bounces.nurture.example") else {
        return 0
    }
    let values = [report.subject, report.messageID].compactMap { $0 } + report.addresses + report.referencedMessageIDs + report.envelopeIDs
    for v in values { precondition(!v.contains("\r") && !v.contains("\n"), "CR or LF in \(v.debugDescription)") }
    for id in report.referencedMessageIDs { precondition(id.hasPrefix("<") && id.hasSuffix(">"), "id \(id.debugDescription)") }
    precondition(report.addresses.count <= 100 && report.referencedMessageIDs.count <= 100, "handles over their cap")
    if case .bounce(_, _, let diagnostic, let recipient) = report.kind {
        for v in [diagnostic, recipient].compactMap({ $0 }) { precondition(!v.contains("\r") && !v.contains("\n"), "CR or LF in \(v.debugDescription)") }
    }
    return 0
}

@_cdecl("FuzzInbound_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt { FuzzDriver.run(argc, argv, fuzz) }
