import Foundation
import NurtureCore
import Testing
@testable import NurtureMail

/// RFC 5322 §2.1.1 and RFC 2047 §2 for any lead data: no header line over 998 octets, no encoded-word over 75
/// characters, nothing that looks like an encoded-word left as plain text.
struct HeaderLimitTests {
    static func build(firstName: String, subject: String) throws -> String {
        let m = MailMessage(fromName: "Acme", from: try EmailAddress(validating: "a@example.com"), toName: firstName,
                            to: try EmailAddress(validating: "lead@example.com"), replyTo: nil, subject: subject,
                            date: Date(timeIntervalSince1970: 0), messageID: "<1@example.com>",
                            unsubscribeURL: "https://x.example/u/T", text: "t", html: "<p>h</p>")
        return String(decoding: MIMEBuilder.build(m), as: UTF8.self)
    }

    /// The header block's lines, and every encoded-word in them.
    static func check(_ message: String) -> (longestLine: Int, longestWord: Int) {
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        let lines = head.components(separatedBy: "\r\n")
        var word = 0
        for line in lines {
            for piece in line.split(separator: " ") where piece.contains("=?") { word = max(word, piece.utf8.count) }
        }
        return (lines.map(\.utf8.count).max() ?? 0, word)
    }

    @Test(arguments: [
        String(repeating: "a", count: 1_000),
        "e" + String(repeating: "\u{301}", count: 400),
        String(repeating: "日本", count: 300),
        String(repeating: "x", count: 5_000) + " " + String(repeating: "é", count: 2_000),
        String(repeating: "\"", count: 45) + String(repeating: "\\", count: 20), // quoting doubles these
    ])
    func headerLinesStayWithin998OctetsAndEncodedWordsWithin75(_ name: String) throws {
        let message = try Self.build(firstName: name, subject: "Hi " + name)
        let (line, word) = Self.check(message)
        #expect(line <= 998, "longest header line \(line)")
        #expect(line <= 78, "longest header line \(line)")
        #expect(word <= 75, "longest encoded-word \(word)")
    }

    @Test func asciiNameThatLooksLikeAnEncodedWordIsEncoded() throws {
        let message = try Self.build(firstName: "=?UTF-8?B?QmNjOg==?=", subject: "=?UTF-8?B?QmNjOg==?= hi")
        #expect(!message.contains("To: =?UTF-8?B?QmNjOg==?="))
        #expect(!message.contains("To: \"=?UTF-8?B?QmNjOg==?=\""))
        #expect(HeaderText.phrase("=?x?=").hasPrefix("=?UTF-8?B?"))
        #expect(!message.contains("Subject: =?UTF-8?B?QmNjOg==?= hi"))
    }

    @Test func aGraphemeOfManyCombiningMarksIsSplitBetweenCodePoints() {
        let words = HeaderText.encodedWords("e" + String(repeating: "\u{301}", count: 400))
        #expect(words.count > 1)
        for w in words {
            #expect(w.utf8.count <= 75)
            #expect(String(data: Data(base64Encoded: String(w.dropFirst(10).dropLast(2)))!, encoding: .utf8) != nil)
        }
    }
}
