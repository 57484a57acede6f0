import FuzzDriver
import Foundation
import NurtureCore
import NurtureMail

/// MIME builder and header encoder with any lead data. Invariants (RFC 5322 §2.1.1, RFC 2047 §2): every header
/// line ≤ 998 octets (≤ 78 in fact), every encoded-word ≤ 75 characters, no bare CR or LF, one of each header.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let parts = text.split(separator: "\u{1F}", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
    let name = parts[0], subject = parts.count > 1 ? parts[1] : parts[0], body = parts.count > 2 ? parts[2] : ""
    let m = MailMessage(fromName: name, from: try! EmailAddress(validating: "a@example.com"), toName: name,
                        to: try! EmailAddress(validating: "lead@example.com"), replyTo: nil, subject: subject,
                        date: Date(timeIntervalSince1970: 0), messageID: "<1@example.com>", unsubscribeURL: "https://x.example/u/T",
                        text: body, html: body)
    let bytes = MIMEBuilder.build(m)
    let end = bytes.indices.first { i in i + 3 < bytes.count && bytes[i...i + 3].elementsEqual([13, 10, 13, 10]) }!
    let head = Array(bytes[..<end])
    for (i, b) in head.enumerated() {
        if b == 10 { precondition(i > 0 && head[i - 1] == 13, "bare LF in the header") }
        if b == 13 { precondition(i + 1 < head.count && head[i + 1] == 10, "bare CR in the header") }
    }
    let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
    var names: [String] = []
    for line in lines {
        precondition(line.utf8.count <= 998, "header line of \(line.utf8.count) octets")
        precondition(line.utf8.count <= 78, "header line of \(line.utf8.count) octets: \(line)")
        for word in line.split(separator: " ") where word.hasPrefix("=?") { precondition(word.utf8.count <= 75, "encoded-word of \(word.utf8.count)") }
        if !line.hasPrefix(" "), let colon = line.firstIndex(of: ":") { names.append(String(line[..<colon])) }
    }
    precondition(names.count == Set(names).count, "a header appears twice: \(names)")
    return 0
}


@_cdecl("FuzzMIME_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt { FuzzDriver.run(argc, argv, fuzz) }
